"""The coach as every connector sees it: ask, rate an answer, see and delete what is kept about you."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from datetime import datetime
from typing import Callable

from sqlalchemy.engine import Engine

from coach import conversation_turns, learner_page, managers, needs, self_service, transcripts
from coach.answering import Answerer, Decision
from coach.competencies import Framework
from coach.contacts import Contacts, linked
from coach.directory import Address, Directory
from coach.i18n import N_, _, speaking
from coach.lessons.service import Lessons
from coach.messages import IncomingMessage, Reply
from coach.ports import Cancel
from coach.rate_limit import SLOW_DOWN, RateLimiter
from coach.source_links import SourceLinks
from coach.redaction import Redactor
from kernel import metrics
from kernel.language import written_in
from kernel.store import utcnow


log = logging.getLogger(__name__)
_PLACEHOLDER = re.compile(r"<[A-Z_]+>")
MAX_QUESTION_CHARS = 2000
TOO_LONG = N_("That is more than I can read in one question (over {limit} characters). Please ask it in a shorter "
              "message; you can ask a follow-up after it.")


class Coach:
    def __init__(self, *, engine: Engine, answerer: Answerer, redactor: Redactor, framework: Framework,
                 human_contact: str = "", rate: RateLimiter | None = None,
                 clock: Callable[[], datetime] = utcnow, find_source: Callable[[str], object] | None = None,
                 min_group: int = 5, source_links: SourceLinks | None = None) -> None:
        """`source_links`: when learning records are on, the sources of a learner's own answers open through the
        coach (coach/source_links.py)."""
        self.source_links = source_links
        self.engine, self.answerer, self.redactor, self.framework = engine, answerer, redactor, framework
        self.contacts = Contacts.parse(human_contact)
        self.rate, self.min_group = rate or RateLimiter(0), min_group
        self.lessons = Lessons(engine, framework, self.contacts.default, clock, find_source)
        self.directory = Directory(engine, redactor)

    def meet(self, learner_id: str, *, name: str | None = None, timezone: str | None = None,
             locale: str | None = None, address: Address | None = None) -> bool:
        """What a connector learnt about a learner it meets (see coach/directory.py); True when they are new."""
        return self.directory.meet(learner_id, name=name, timezone=timezone, locale=locale, address=address)

    def knows(self, learner_id: str) -> bool:
        return self.directory.knows(learner_id)

    def language_of(self, learner_id: str) -> str:
        """The language to say things in to this learner outside a reply (a welcome, a Home tab, a nudge): the one
        they chose, else the one they last wrote in, else their platform's."""
        return self.directory.language_of(learner_id)

    def ask(self, message: IncomingMessage, on_partial: Callable[[str], None] | None = None,
            cancel: Cancel | None = None) -> Reply:
        """Personal data is redacted first: it never reaches the needs log, an embeddings endpoint or a model.

        What a learner says about themselves ("what do you know about me", "forget me", "pause", "help", "speak
        Dutch") is handled here, is not a learning need and is not logged. `on_partial` receives the answer so far
        while a model writes; `cancel`, once set (the learner's request went away), stops the model. The reply is said in the learner's language (Directory.language_for).
        """
        intent = self_service.intent_of(message.text)
        said_in = intent[1] if intent else written_in(message.text)
        language = (self_service.chosen_language(message.text) if intent and intent[0] == "language" else
                    self.directory.language_for(message.learner_id, said_in=said_in, locale=message.locale))
        started, outcome = time.perf_counter(), "failed"
        try:
            with speaking(language):
                reply = self._ask(message, intent[0] if intent else None, on_partial, cancel)
            outcome = "service" if reply.mode == "service" else "abstained" if reply.abstained else "answered"
            return reply
        finally:
            seconds, platform = time.perf_counter() - started, message.platform or "unknown"
            metrics.QUESTIONS.labels(platform, outcome).inc()
            metrics.ANSWER_SECONDS.labels(platform).observe(seconds)
            log.info("question %s in %d ms", outcome, seconds * 1000,  # never what was asked
                     extra={"platform": platform, "outcome": outcome, "ms": round(seconds * 1000)})

    def _ask(self, message: IncomingMessage, intent: str | None,
             on_partial: Callable[[str], None] | None, cancel: Cancel | None) -> Reply:
        if (role_intent := managers.intent_of(message.text)) and (reply := managers.respond(
                self.engine, self.framework, message.learner_id, role_intent, message.text, self.min_group)):
            return to_asker(reply, message)
        if intent:
            reply = (self.lessons.suggestion_reply(message.learner_id) if intent == "lesson"
                     else self_service.respond(self.engine, message.learner_id, intent, message.text,
                                             self.lessons.clock()))
            return to_asker(reply, message)
        if len(message.text) > MAX_QUESTION_CHARS:  # not searched, not logged: said so, in the learner's language
            return Reply(text=_(TOO_LONG).format(limit=MAX_QUESTION_CHARS), mode="service")
        if not self.rate.allow(message.learner_id):
            return Reply(text=_(SLOW_DOWN), mode="service")
        self.directory.refresh_names()
        if message.conversation and not message.history:
            message = replace(message, history=conversation_turns.recent(self.engine, message.conversation))
        redacted = replace(message, text=self.redactor.redact(message.text).text,
                           history=tuple(replace(t, text=self.redactor.redact(t.text).text) for t in message.history))
        # placeholders such as <EMAIL> say nothing about the topic: searched without them, logged with them
        searched = replace(redacted, text=_PLACEHOLDER.sub(" ", redacted.text).strip() or redacted.text)
        decision, reply = self._answer(searched, on_partial, cancel)
        need = self._log(redacted, decision, reply.private or reply)
        if message.conversation:
            conversation_turns.remember(self.engine, message.conversation, need_id=need.id, reply=reply.text)
        reply = self._point_of_need(with_need(reply, need.id), message, need.topics)
        if self.source_links:  # a channel's answer is read by others too: only what the asker alone gets
            if not message.public:
                reply = self.source_links.track(reply, message.learner_id)
            elif reply.private:
                reply = replace(reply, private=self.source_links.track(reply.private, message.learner_id))
        return reply

    def _answer(self, message: IncomingMessage, on_partial: Callable[[str], None] | None,
                cancel: Cancel | None) -> tuple[Decision, Reply]:
        if not (message.public and not message.shared and self.answerer.groups_of(message.learner_id)):
            return self.answerer.answer(message, on_partial, cancel=cancel)
        # the channel sees the `everyone` answer; what only this learner may read goes to them alone, quoted
        # (searched once for both; one model call at most, for the answer the channel reads)
        public, whole = self.answerer.retrieve_split(message)
        decision, reply = self.answerer.answer(message, on_partial, retrieval=public, cancel=cancel)
        if {p.source_id for p in whole.passages} - {p.source_id for p in public.passages}:
            fuller_decision, fuller = self.answerer.answer(replace(message, public=False), retrieval=whole,
                                                           write=False)
            if not fuller.abstained and {c.source_id for c in fuller.cited} - {c.source_id for c in reply.cited}:
                return fuller_decision, replace(reply, private=fuller)
        return decision, reply

    def _point_of_need(self, reply: Reply, message: IncomingMessage, topics: list[str]) -> Reply:
        """The micro-lesson on the question's topic, offered under the answer; and, when the learner keeps asking
        about one topic, a person to ask. Said privately when the question was asked in a channel."""
        stuck = self.lessons.stuck_on_questions(message.learner_id, topics)
        lesson = self.lessons.for_need(message.learner_id, topics, everyone_only=message.shared)
        if not stuck and not lesson:
            return reply
        if message.public and not reply.private:
            return replace(reply, private=Reply(text=stuck or _("A micro-lesson on this, for you:"), mode="service",
                                                actions=[lesson] if lesson else []))
        target = reply.private or reply
        target = replace(target, text=target.text + (f"\n\n{stuck}" if stuck else ""),
                         actions=target.actions + ([lesson] if lesson else []))
        return replace(reply, private=target) if reply.private else target

    def act(self, learner_id: str, kind: str, value: str = "") -> Reply:
        """A button the learner pressed under a reply (`Action.kind` and `.value` as the reply carried them),
        answered in the learner's language."""
        with speaking(self.language_of(learner_id)):
            return self._act(learner_id, kind, value)

    def _act(self, learner_id: str, kind: str, value: str) -> Reply:
        if kind in ("helpful", "not_helpful"):
            self.feedback(need_id=value, learner_id=learner_id, helpful=kind == "helpful")
            return Reply(text=_("Thanks: your feedback helps L&D improve the content."), mode="service")
        if kind == "forget_confirm":
            return self_service.forget(self.engine, learner_id)
        if kind in ("forget", "pause", "resume", "export"):
            return self_service.respond(self.engine, learner_id, kind, now=self.lessons.clock())
        if kind == "ask_human":
            return self._person(learner_id, value)
        if kind == "lesson":
            return self.lessons.start(learner_id, value)
        if kind == "answer":
            return self.lessons.answer(learner_id, value)
        if kind == "cancel":
            return Reply(text=_("Cancelled: nothing was changed."), mode="service")
        raise ValueError(f"unknown action {kind!r}")

    def contact(self) -> str:
        """Whom to ask for a person when nothing more specific is known (COACH_HUMAN_CONTACT's default), in the
        language being spoken when it is the coach's own default."""
        return self.contacts.default or _("the L&D team")

    def _person(self, learner_id: str, need_id: str) -> Reply:
        """"Ask a person" under an answer: who knows the question's competency (or serves the learner's audience),
        and how to reach them."""
        topics = needs.topics_of(self.engine, need_id=need_id, learner_id=learner_id)
        topic, who = self.contacts.find(topics, self.answerer.groups_of(learner_id) or [], self.framework.experts)
        gaps = _("Questions the content could not answer reach L&D as content gaps.")
        if who and topic:
            text = _("For {topic}, ask {who}: they can help you in person.").format(
                topic=self.framework.name(topic).lower(), who=linked(who))
        else:
            text = _("For a person who knows this, ask {contact}.").format(contact=linked(who or self.contact()))
        return Reply(text=f"{text} {gaps}", mode="service")

    def feedback(self, *, need_id: str, learner_id: str, helpful: bool, note: str = "") -> None:
        """`note`: what the learner says was missing or wrong; redacted like a question."""
        needs.give_feedback(self.engine, need_id=need_id, learner_id=learner_id,
                            feedback="helpful" if helpful else "not_helpful",
                            note=self.redactor.redact(note[:2000]).text if note.strip() else None)

    def page(self, learner_id: str) -> learner_page.LearnerPage:
        """The learner's own page: due reviews, suggestions with their reason, recent questions, what is kept."""
        return learner_page.page(self.lessons, learner_id, self.lessons.clock())

    def export(self, learner_id: str) -> dict:
        return {**needs.export(self.engine, learner_id, self.lessons.clock()),
                "web_conversation": transcripts.export(self.engine, learner_id)}

    def forget(self, learner_id: str) -> dict[str, int]:
        return {**needs.forget(self.engine, learner_id),
                "web_conversation": transcripts.forget(self.engine, learner_id)}

    def _log(self, message: IncomingMessage, decision: Decision, reply: Reply):
        question = message.text
        cited = {c.source_id for c in reply.cited}
        topics = self.framework.tag(question)
        for passage in decision.passages:
            if passage.source_id in cited:
                topics += [t for t in passage.competencies if t not in topics]
        return needs.record(self.engine, learner_id=message.learner_id, channel=message.channel,
                            platform=message.platform, question=question, topics=topics,
                            answered=not reply.abstained, confidence=decision.probability, sources=sorted(cited),
                            not_covered=[] if reply.abstained else decision.not_covered)  # from the redacted text


def to_asker(reply: Reply, message: IncomingMessage) -> Reply:
    """A reply about the learner themselves: asked in a channel, it goes to them alone."""
    return Reply(text=_(self_service.ANSWERED_PRIVATELY), mode="service", private=reply) if message.public else reply


def with_need(reply: Reply, need_id: str) -> Reply:
    """The need id on the reply and on its buttons (a button press names the answer it rates)."""
    private = reply.private and with_need(reply.private, need_id)
    return replace(reply, need_id=need_id, private=private, actions=[replace(a, value=need_id) for a in reply.actions])
