"""The coach as every connector sees it: ask, rate an answer, see and delete what is kept about you."""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy.engine import Engine

from coach import needs
from coach.answering import Answerer, Decision
from coach.competencies import Framework
from coach.messages import IncomingMessage, Reply
from coach.redaction import Redactor


_PLACEHOLDER = re.compile(r"<[A-Z_]+>")


class Coach:
    def __init__(self, *, engine: Engine, answerer: Answerer, redactor: Redactor, framework: Framework) -> None:
        self.engine, self.answerer, self.redactor, self.framework = engine, answerer, redactor, framework

    def ask(self, message: IncomingMessage) -> Reply:
        """Personal data is redacted first: it never reaches the needs log, an embeddings endpoint or a model."""
        redacted = replace(message, text=self.redactor.redact(message.text).text,
                           history=tuple(replace(t, text=self.redactor.redact(t.text).text) for t in message.history))
        # placeholders such as <EMAIL> say nothing about the topic: searched without them, logged with them
        searched = replace(redacted, text=_PLACEHOLDER.sub(" ", redacted.text).strip() or redacted.text)
        decision, reply = self.answerer.answer(searched)
        need = self._log(redacted, decision, reply)
        return replace(reply, need_id=need.id)

    def feedback(self, *, need_id: str, learner_id: str, helpful: bool) -> None:
        needs.give_feedback(self.engine, need_id=need_id, learner_id=learner_id,
                            feedback="helpful" if helpful else "not_helpful")

    def export(self, learner_id: str) -> dict:
        return needs.export(self.engine, learner_id)

    def forget(self, learner_id: str) -> dict[str, int]:
        return needs.forget(self.engine, learner_id)

    def _log(self, message: IncomingMessage, decision: Decision, reply: Reply):
        question = message.text
        cited = {c.source_id for c in reply.cited}
        topics = self.framework.tag(question)
        for passage in decision.passages:
            if passage.source_id in cited:
                topics += [t for t in passage.competencies if t not in topics]
        return needs.record(self.engine, learner_id=message.learner_id, channel=message.channel,
                            platform=message.platform, question=question, topics=topics,
                            answered=not reply.abstained, confidence=decision.probability, sources=sorted(cited))
