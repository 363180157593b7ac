"""Lessons drafted by a language model from a source document or a cluster of content gaps, kept as drafts until
L&D approves them."""

from __future__ import annotations

import re
import time

from sqlalchemy.engine import Engine

import prompts
from coach.competencies import Framework
from kernel.errors import CoachError, ModelUnavailable, NotFound
from coach.gaps import report as gap_report
from coach.lessons import catalog
from coach.lessons.authoring import LessonError, parse_lesson
from coach.ports import ChatModel
from kernel.store import session
from coach.store.models import Lesson, ModelExchange

SOURCE_LIMIT = 12_000  # characters of the source the model reads (a lesson is one idea; the start is enough)
GAP_QUESTIONS = 10  # a content-gap cluster's distinct questions the model reads, most asked first
GAP_PASSAGES = 6  # passages the knowledge base has on them now
# MiniLM's cosine from which a passage is about a question (below, it is what the search found nearest); each
# embedding model's own is in coach/thresholds.json (`gap_relevant`)
GAP_RELEVANT = 0.4
NO_MODEL = ("Drafting lessons needs a language model: set LLM_BASE_URL (with LLM_API_KEY and LLM_MODEL) to any "
            "OpenAI-compatible endpoint. Without one, author lessons as Markdown (see examples/lessons/README.md) "
            "and load them with `coach lessons load`.")


class LessonDrafter:
    def __init__(self, *, model: ChatModel | None, knowledge, engine: Engine, framework: Framework, company: str,
                 budget_s: float = 60.0, relevant: float = GAP_RELEVANT) -> None:
        self.model, self.knowledge, self.engine, self.framework = model, knowledge, engine, framework
        self.company, self.budget_s, self.relevant = company, budget_s, relevant
        self.template = prompts.load("lesson_draft")
        self.gap_template = prompts.load("lesson_from_gap")

    def from_source(self, key_or_id: str) -> Lesson:
        """A draft lesson from one source (by id, key or path ending), saved with status `draft`."""
        if self.model is None:
            raise CoachError(NO_MODEL)
        found = self.knowledge.document(key_or_id)
        if found is None:
            raise NotFound(f"No source {key_or_id!r}: `coach sources` lists them.")
        source, text = found
        ids = [c.id for c in self.framework.competencies]
        system = self.template.render(company=self.company, competencies=", ".join(ids), title=source.title,
                                      text=text[:SOURCE_LIMIT])
        spec = self._write(self.template, system, f"draft from {source.title}", [source.id])
        return self._save(spec, f"draft-{spec.key}", tuple(source.audience), (source.key,))

    def draft_from_gap(self, cluster_id: str, audience: tuple[str, ...] = ("everyone",)) -> Lesson:
        """A draft lesson answering a content-gap cluster's questions (coach/gaps), from whatever the knowledge base
        now holds on them for `audience` (restricted content only reaches a lesson for its own audience); where
        the content lacks a fact, the model leaves a marked place for L&D. Saved as `draft-gap-<cluster id>`."""
        if self.model is None:
            raise CoachError(NO_MODEL)
        questions = gap_report.questions(self.engine, cluster_id, limit=GAP_QUESTIONS)
        if not questions:
            raise NotFound(f"No content-gap cluster {cluster_id!r}: `coach gaps --all` lists them.")
        passages = {}
        for question in questions[:3]:
            for passage in self.knowledge.search(question, groups=audience, k=3):
                if (passage.dense or 0.0) >= self.relevant:  # search always finds something: only what is close
                    passages.setdefault(passage.chunk_id, passage)
        chosen = sorted(passages.values(), key=lambda p: -p.score)[:GAP_PASSAGES]
        text = "\n\n".join(f"[{p.title}{' - ' + p.where if p.where else ''}]\n{p.text}" for p in chosen)
        ids = [c.id for c in self.framework.competencies]
        topic = ", ".join(dict.fromkeys(t for q in questions for t in self.framework.tag(q))) or "none"
        system = self.gap_template.render(
            company=self.company, competencies=", ".join(ids), topic=topic,
            questions="\n".join(f"- {q}" for q in questions), passages=text[:SOURCE_LIMIT] or "(none yet)")
        spec = self._write(self.gap_template, system, f"draft from content gap {cluster_id}",
                           [p.chunk_id for p in chosen])
        return self._save(spec, f"draft-gap-{cluster_id}", tuple(audience),
                          tuple(dict.fromkeys(p.source_key for p in chosen)))

    def _write(self, template, system: str, where: str, refs: list[str]):
        """The model's lesson, parsed and checked; every call recorded (refs: the sources or chunks it read)."""
        ids = {c.id for c in self.framework.competencies}
        started = time.monotonic()
        try:
            completion = self.model.complete(system, "Write the lesson now.", budget_s=self.budget_s)
        except ModelUnavailable as exc:
            self._record(template, refs, 0, 0, started, "unavailable")
            raise CoachError(f"The language model did not answer ({exc}); try again later.") from exc
        try:
            spec = parse_lesson(_front_matter_first(completion.text), where, ids)
        except LessonError as exc:
            self._record(template, refs, completion.input_tokens, completion.output_tokens, started, "malformed")
            raise CoachError(f"The model's draft was not a valid lesson ({exc}); try again, or author it by hand.") \
                from exc
        self._record(template, refs, completion.input_tokens, completion.output_tokens, started, "answered")
        return spec

    def _save(self, spec, key: str, audience: tuple[str, ...], sources: tuple[str, ...]) -> Lesson:
        key = _free_key(self.engine, key)
        spec = type(spec)(**{**spec.__dict__, "key": key, "audience": audience, "sources": sources})
        catalog.save(self.engine, [spec], status="draft", origin="drafted")
        return catalog.get(self.engine, key)

    def _record(self, template, refs: list[str], tokens_in: int, tokens_out: int, started: float,
                outcome: str) -> None:
        with session(self.engine) as db:
            db.add(ModelExchange(template=template.name, template_version=template.version,
                                 model=getattr(self.model, "name", ""), chunk_ids=refs,
                                 input_tokens=tokens_in, output_tokens=tokens_out,
                                 latency_ms=int((time.monotonic() - started) * 1000), outcome=outcome))
            db.commit()

def _front_matter_first(text: str) -> str:
    """Models like to wrap their answer in a code fence or a sentence: keep from the front matter on."""
    text = re.sub(r"^```[a-z]*\n|\n```\s*$", "", text.strip())
    start = text.find("---")
    return text[start:] if start >= 0 else text


def _free_key(engine: Engine, key: str) -> str:
    candidate, n = key, 2
    while catalog.get(engine, candidate) is not None:
        candidate, n = f"{key}-{n}", n + 1
    return candidate
