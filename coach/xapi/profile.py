"""Who and what the statements name: the actor as a stable pseudonym of the chat account (an HMAC of the learner
id under a key the deployment makes once and keeps in its database, so every replica agrees and the LRS cannot
reverse it), an e-mail only for learners the deployment maps on purpose, and activity ids under one base IRI."""

from __future__ import annotations

import csv
import hashlib
import hmac
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from sqlalchemy.engine import Engine

from coach.settings import Settings
from coach import deployment
from coach.xapi import vocabulary as v
from coach.xapi.statements import Account, Activity, Agent, Definition, Verb
from kernel.errors import CoachError

KEY_NAME = "xapi_pseudonym_key"


@dataclass(frozen=True)
class Profile:
    base: str  # activity ids start here (no trailing slash)
    key: bytes = field(repr=False)  # the pseudonym key
    include_question: bool = False
    mbox: dict[str, str] = field(default_factory=dict, repr=False)  # learner id -> e-mail, mapped on purpose
    batch: int = 200

    @classmethod
    def of(cls, engine: Engine, settings: Settings) -> "Profile":
        base = (settings.xapi_activity_base or (settings.public_url or "http://localhost:8000").rstrip("/")
                + "/xapi").rstrip("/")
        return cls(base=base, key=deployment.secret(engine, KEY_NAME), include_question=settings.xapi_include_question,
                   mbox=read_actor_map(settings.xapi_actor_map), batch=settings.xapi_batch)

    def actor(self, learner_id: str) -> Agent:
        if learner_id in self.mbox:
            return Agent(mbox="mailto:" + self.mbox[learner_id])
        home = v.PLATFORMS.get(v.platform_of(learner_id), ("", ""))[0] or self.base.rsplit("/xapi", 1)[0]
        return Agent(account=Account(homePage=home, name=self.pseudonym(learner_id)))

    def pseudonym(self, learner_id: str) -> str:
        return hmac.new(self.key, learner_id.encode(), hashlib.sha256).hexdigest()[:32]

    def coach(self) -> Agent:
        """The coach as an actor, for the statements it makes itself (voiding what a learner asked to forget)."""
        return Agent(name="Learning coach", account=Account(homePage=self.base, name="learning-coach"))

    def iri(self, *parts: str) -> str:
        return "/".join([self.base, *(quote(p, safe="") for p in parts)])

    def activity(self, kind: str, *parts: str, name: str = "", lang: str = "en", **definition) -> Activity:
        return Activity(id=self.iri(*parts), definition=Definition(type=kind, name={lang: name} if name else None,
                                                                   **definition))


def verb(name: str) -> Verb:
    iri, display = v.VERBS[name]
    return Verb(id=iri, display={"en-US": display})


def read_actor_map(path: Path | None) -> dict[str, str]:
    if path is None:
        return {}
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = [row for row in csv.reader(handle) if row and not row[0].startswith("#")]
    except OSError as exc:
        raise CoachError(f"XAPI_ACTOR_MAP: cannot read {path} ({exc.strerror}); give a CSV of `learner id,e-mail` "
                         "lines, or unset it to send pseudonyms only") from exc
    bad = [n for n, row in enumerate(rows, 1) if len(row) != 2 or "@" not in row[1]]
    if bad:
        raise CoachError(f"XAPI_ACTOR_MAP: line {bad[0]} of {path} is not `learner id,e-mail`")
    return {learner.strip(): email.strip() for learner, email in rows}
