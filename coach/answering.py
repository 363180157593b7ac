"""From a question to a reply: retrieve what this learner may see, decide whether it answers, and answer with citations."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

from coach.abstention import AbstentionModel, features
from coach.conversation import retrieval_context
from kernel.errors import ModelUnavailable
from coach.coverage import not_covered, stands_alone
from coach.extractive import Embed, Sentence, choose, quoted_table, score_sentences
from coach.generation import AnswerWriter, MalformedAnswer
from coach.i18n import N_, _, current
from coach.messages import Action, Citation, IncomingMessage, Reply
from coach.ports import Cancel
from kernel.ports import EVERYONE, Passage, Retrieval, Retriever

MAX_SOURCES = 5
_LIST_MARK = re.compile(r"^(\d+)([.)])(?=\s)")
FALLBACK_NOTICE = N_("The language model is not answering right now, so here are the relevant passages, quoted.")
# by why the model's answer is not shown (ModelUnavailable.outcome, or the check it failed)
FALLBACK_NOTICES = {
    "budget": N_("The language model took too long, so here are the relevant passages, quoted."),
    "busy": N_("The language model is busy with other questions, so here are the relevant passages, quoted."),
    "checked": N_("The language model's answer did not pass the coach's checks, so here are the relevant passages, "
                  "quoted."),
}
QUOTED_FROM = N_("From the learning content:")
# quoted in its own language: said briefly when that is not the one the learner is spoken to in
QUOTED_IN = {"en": N_("From the learning content, in English:"), "nl": N_("From the learning content, in Dutch:")}
PART_NOT_COVERED = N_("The learning content does not mention {what}, so I can't answer that part. Here is what it does "
                      "say:")
NOT_COVERED = N_("I couldn't find this in the learning content, so I won't guess. I've passed the question on to the "
                 "L&D team as a gap in the content. You can ask a person in the meantime.")


@dataclass
class Decision:
    """What the answering step saw and decided; kept for the needs log and the benchmarks."""

    context: list[str]
    passages: list[Passage]
    sentences: list[Sentence]
    features: dict[str, float]
    probability: float
    answered: bool
    question: str = ""  # the learner's own words, as judged (a follow-up with the turn it follows)
    not_covered: list[str] = field(default_factory=list)  # what the question names that the passages do not mention


class Answerer:
    """Extractive by default; with a language model configured, the model writes the answer from the same passages
    and may decline, and any model failure falls back to the extractive answer with a short notice."""

    def __init__(self, *, retriever: Retriever, embed: Embed, abstention: AbstentionModel,
                 groups_of: Callable[[str], Sequence[str]], writer: AnswerWriter | None = None) -> None:
        self.retriever, self.embed, self.abstention, self.groups_of = retriever, embed, abstention, groups_of
        self.writer = writer

    def retrieve(self, message: IncomingMessage, *, k: int = MAX_SOURCES) -> Retrieval:
        """What this learner may see for this question (in a channel or a shared conversation: `everyone` only)."""
        groups = [] if message.public or message.shared else self.groups_of(message.learner_id)
        return self.retriever.retrieve(message.text, context=retrieval_context(message.history), groups=groups, k=k)

    def retrieve_split(self, message: IncomingMessage) -> tuple[Retrieval, Retrieval]:
        """A channel question from a learner with audience groups, searched once over all they may read: what the
        channel may see (`everyone` passages) and the fuller set for the asker alone."""
        found = self.retrieve(replace(message, public=False), k=2 * MAX_SOURCES)
        public = [p for p in found.passages if EVERYONE in (a.lower() for a in p.audience)][:MAX_SOURCES]
        return (Retrieval(public, found.query_vector),
                Retrieval(found.passages[:MAX_SOURCES], found.query_vector))

    def decide(self, message: IncomingMessage, retrieval: Retrieval | None = None) -> Decision:
        context = retrieval_context(message.history)
        retrieval = retrieval or self.retrieve(message)
        passages = retrieval.passages
        # a follow-up ("and in the UK?") is judged with the turn it follows, as it was searched; a question that
        # stands on its own ("what is the per diem in the UK?" after the mileage rate) is judged alone
        follow_up = bool(context) and not stands_alone(message.text)
        question = " ".join([message.text, *context[:1]]) if follow_up else message.text
        vector = retrieval.query_vector if follow_up or not context else None  # None: the question is embedded
        sentences = score_sentences(question, passages[:3], self.embed, query_vector=vector)
        values = features(question, passages, sentences)
        probability = self.abstention.probability(values)
        decision = Decision(context, passages, sentences, values, probability, probability >= self.abstention.threshold,
                            question)
        if decision.answered:
            groups = [] if message.public or message.shared else self.groups_of(message.learner_id)
            quoted = [passages[i] for i in sorted({s.passage for s in choose(sentences)})] or passages[:1]
            decision.not_covered = not_covered(message.text, quoted,
                                               lambda words: self.retriever.mentions(words, groups=groups))
        return decision

    def answer(self, message: IncomingMessage, on_partial: Callable[[str], None] | None = None, *,
               retrieval: Retrieval | None = None, write: bool = True,
               cancel: Cancel | None = None) -> tuple[Decision, Reply]:
        """`on_partial` receives the answer text so far while a model writes it (connectors update a placeholder);
        `cancel` stops the model when the learner is gone. `write=False`: quoted even with a model configured."""
        decision = self.decide(message, retrieval)
        if not decision.answered:
            return decision, declined()
        if self.writer is None or not write:
            return decision, extractive_reply(decision)
        try:
            written = self.writer.write(message.text, decision.context[:1], decision.passages, on_partial, cancel)
        except ModelUnavailable as exc:
            notice = FALLBACK_NOTICES.get(exc.outcome, FALLBACK_NOTICE)
            return decision, replace(extractive_reply(decision), notice=_(notice))
        except MalformedAnswer:
            return decision, replace(extractive_reply(decision), notice=_(FALLBACK_NOTICES["checked"]))
        if written is None:  # the model's judgement: the passages do not answer it
            decision.answered = False
            return decision, declined()
        text, cited = written
        citations = [cite(n, decision.passages[n - 1]) for n in cited]
        return decision, Reply(text=text, citations=citations, actions=feedback_actions(), mode="generated")

    def ask(self, message: IncomingMessage) -> Reply:
        return self.answer(message)[1]


def declined() -> Reply:
    return Reply(text=_(NOT_COVERED), abstained=True, actions=[Action("ask_human", _("Ask a person"))])


def extractive_reply(decision: Decision) -> Reply:
    """The chosen units quoted with their [n] markers, in the passages' retrieval order: sentences as quotes, a
    table's rows as that table with its header. Only cited sources are listed, numbered as they are first cited."""
    chosen = sorted(choose(decision.sentences), key=lambda s: (s.passage, -s.score))
    order: list[int] = []
    blocks: list[str] = []
    tables_done: set[tuple[int, int]] = set()
    # two chunks of one source at one place (a page, a section) are one source to read
    place = {i: next(j for j, p in enumerate(decision.passages) if (p.source_id, p.where) == (q.source_id, q.where))
             for i, q in enumerate(decision.passages)}
    for sentence in chosen:
        if place[sentence.passage] not in order:
            order.append(place[sentence.passage])
        n = order.index(place[sentence.passage]) + 1
        if sentence.table is None:
            blocks.append(f"> {sentence.text} [{n}]")
            continue
        key = (sentence.passage, id(sentence.table))
        if key in tables_done:
            continue
        tables_done.add(key)
        rows = [c for c in chosen if c.passage == sentence.passage and c.table is sentence.table]
        passage = decision.passages[sentence.passage]
        headings = passage.locator.get("heading") or []
        caption = _LIST_MARK.sub(r"\1\\\2", headings[-1] if headings else passage.title)  # "5. Mileage" is no list
        blocks.append(f"{caption} [{n}]:\n\n{quoted_table(rows, decision.question)}")
    quoted_in = {decision.passages[i].language for i in order} - {""}
    opening = (_(QUOTED_IN[quoted_in.pop()]) if len(quoted_in) == 1 and quoted_in <= set(QUOTED_IN) - {current()}
               else _(QUOTED_FROM))
    if decision.not_covered:
        missing = " / ".join(f"*{what}*" for what in decision.not_covered)
        opening = _(PART_NOT_COVERED).format(what=missing)
    citations = [cite(n, decision.passages[i]) for n, i in enumerate(order, start=1)]
    return Reply(text="\n\n".join([opening, *blocks]), citations=citations, actions=feedback_actions(),
                 mode="extractive")


def cite(n: int, passage: Passage) -> Citation:
    return Citation(n=n, source_id=passage.source_id, chunk_id=passage.chunk_id, title=passage.title,
                    where=passage.where, link=passage.link, updated_at=passage.updated_at)


def feedback_actions() -> list[Action]:
    return [Action("helpful", _("Helpful")), Action("not_helpful", _("Not helpful")),
            Action("ask_human", _("Ask a person"))]
