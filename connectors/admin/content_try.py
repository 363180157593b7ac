""""Try it": the answer a learner of chosen audience groups would get, with what decided it, for L&D to check.

The question takes the same road as a learner's through `Coach.ask` (redacted first, placeholders left out of the
search, the same Answerer with the same retriever, abstention model and language model), except that the audience is
the one chosen here, and nothing is recorded about a learner: no need is logged (so no content gap), no rate limit
is counted, no micro-lesson is offered. A configured language model still records its exchange, as for every answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

from markupsafe import Markup, escape

from coach.answering import Answerer, Decision
from coach.coach import _PLACEHOLDER
from coach.messages import IncomingMessage, Reply
from knowledge.models import EVERYONE

MAX_QUESTION = 2000
TRY_LEARNER = "admin-try-it"  # never stored: no need is logged for it


@dataclass
class Trial:
    question: str  # as searched and shown: redacted of personal data
    groups: list[str]
    reply: Reply
    decision: Decision
    threshold: float
    redacted: bool = False
    cited: set[int] = field(default_factory=set)  # passage positions the answer cites


def try_question(container, question: str, groups: Sequence[str]) -> Trial:
    """Blocking (retrieval, embedding, maybe a language model): call it from a worker thread."""
    coach, answerer = container.coach, container.answerer
    text = question.strip()[:MAX_QUESTION]
    redacted = coach.redactor.redact(text).text
    searched = _PLACEHOLDER.sub(" ", redacted).strip() or redacted
    chosen = sorted({g for g in groups if g and g != EVERYONE})
    as_audience = Answerer(retriever=answerer.retriever, embed=answerer.embed, abstention=answerer.abstention,
                           groups_of=lambda _learner: chosen, writer=answerer.writer)
    decision, reply = as_audience.answer(IncomingMessage(learner_id=TRY_LEARNER, text=searched, channel="web",
                                                         platform="web"))
    chunk_ids = {c.chunk_id for c in reply.cited}
    cited = {n for n, p in enumerate(decision.passages) if p.chunk_id in chunk_ids}
    return Trial(question=redacted, groups=chosen, reply=reply, decision=decision,
                 threshold=answerer.abstention.threshold, redacted=redacted != text, cited=cited)


def answer_blocks(reply: Reply, anchor: str = "cite") -> list[tuple[str, Markup]]:
    """The answer text as ("quote" | "p", HTML) blocks, its [n] markers linked to the numbered sources below."""
    blocks = []
    for line in reply.text.splitlines():
        if not line.strip():
            continue
        quote = line.startswith("> ")
        html = re.sub(r"\[(\d+)\]", rf'<a href="#{anchor}-\1">[\1]</a>', str(escape(line[2:] if quote else line)))
        blocks.append(("quote" if quote else "p", Markup(html)))
    return blocks


def trial_json(trial: Trial) -> dict:
    """The API's view: the answer and its citations, the abstention confidence against its threshold with the
    signals it weighed, and every retrieved passage with its fused, dense (cosine) and keyword (BM25) scores."""
    reply, decision = trial.reply, trial.decision
    return {
        "question": trial.question, "groups": trial.groups or [EVERYONE], "answer": reply.text,
        "abstained": reply.abstained, "mode": reply.mode, "notice": reply.notice,
        "citations": [c.as_json() for c in reply.citations],
        "confidence": round(decision.probability, 4), "threshold": trial.threshold,
        "signals": {name: round(value, 4) for name, value in decision.features.items()},
        "passages": [{"rank": n + 1, "source_id": p.source_id, "chunk_id": p.chunk_id, "title": p.title,
                      "where": p.where, "audience": list(p.audience), "fused": round(p.score, 4),
                      "dense": None if p.dense is None else round(p.dense, 4),
                      "keyword": None if p.keyword is None else round(p.keyword, 4), "cited": n in trial.cited}
                     for n, p in enumerate(decision.passages)],
    }
