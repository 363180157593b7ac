"""What crosses the boundary between a connector and the core: a question in, a reply out."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from coach.conversation import Turn
from coach.i18n import current

ChannelKind = Literal["dm", "channel", "thread", "web", "cli"]


@dataclass(frozen=True)
class IncomingMessage:
    learner_id: str
    text: str
    channel: ChannelKind = "dm"
    history: tuple[Turn, ...] = ()  # earlier turns of this thread / conversation, oldest first
    locale: str = ""  # what the platform says the learner reads (Teams, the browser); "": it does not say
    platform: str = "web"  # web | cli | slack | teams
    public: bool = False  # others will read the reply (a channel): only content for `everyone` may be used
    # people of another organisation are in the conversation (a Slack Connect channel): nothing beyond `everyone`
    # content reaches it in any form, not even privately (no fuller answer, no offer of a restricted lesson)
    shared: bool = False
    # a conversation whose platform gives no history back (e.g. "teams:<conversation id>"): the core keeps its
    # recent turns, so `history` is read from there when empty
    conversation: str = ""


@dataclass(frozen=True)
class Citation:
    n: int  # the [n] in the answer text
    source_id: str
    chunk_id: str
    title: str
    where: str  # page / slide / section / timestamp
    link: str
    updated_at: datetime

    def as_json(self) -> dict:
        return {"n": self.n, "source_id": self.source_id, "title": self.title, "locator": self.where,
                "link": self.link, "updated_at": self.updated_at.isoformat()}


@dataclass(frozen=True)
class Action:
    kind: Literal["helpful", "not_helpful", "lesson", "answer", "ask_human", "forget", "forget_confirm", "cancel",
                  "pause", "resume", "export"]
    label: str
    value: str = ""  # what the core needs back when the learner picks it (e.g. the need id being rated)


@dataclass
class Reply:
    text: str
    citations: list[Citation] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    abstained: bool = False
    mode: Literal["extractive", "generated", "service"] = "extractive"  # service: about the learner, not content
    notice: str = ""  # e.g. "The language model did not answer in time; here are the relevant passages."
    need_id: str = ""
    # for a public question: the fuller answer from content only this learner may see, to be sent to them privately
    private: Reply | None = None
    # the language the reply is said in (the one spoken when it was made, coach/i18n.py): a connector renders its own
    # chrome around it in the same one
    language: str = field(default_factory=current)

    @property
    def cited(self) -> list[Citation]:
        """The sources the answer text cites with [n]; the rest are related reading."""
        return [c for c in self.citations if f"[{c.n}]" in self.text]
