"""Lessons drafted by a language model from a source document, kept as drafts until L&D approves them."""

from __future__ import annotations

import re
import time

from sqlalchemy.engine import Engine

import prompts
from coach.competencies import Framework
from coach.errors import CoachError, ModelUnavailable, NotFound
from coach.lessons import catalog
from coach.lessons.authoring import LessonError, parse_lesson
from coach.ports import ChatModel
from coach.store.db import session
from coach.store.models import Lesson, ModelExchange

SOURCE_LIMIT = 12_000  # characters of the source the model reads (a lesson is one idea; the start is enough)
NO_MODEL = ("Drafting lessons needs a language model: set LLM_BASE_URL (with LLM_API_KEY and LLM_MODEL) to any "
            "OpenAI-compatible endpoint. Without one, author lessons as Markdown (see examples/lessons/README.md) "
            "and load them with `coach lessons load`.")


class LessonDrafter:
    def __init__(self, *, model: ChatModel | None, knowledge, engine: Engine, framework: Framework, company: str,
                 budget_s: float = 60.0) -> None:
        self.model, self.knowledge, self.engine, self.framework = model, knowledge, engine, framework
        self.company, self.budget_s = company, budget_s
        self.template = prompts.load("lesson_draft")

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
        started = time.monotonic()
        try:
            completion = self.model.complete(system, "Write the lesson now.", budget_s=self.budget_s)
        except ModelUnavailable as exc:
            self._record(source.id, 0, 0, started, "unavailable")
            raise CoachError(f"The language model did not answer ({exc}); try again later.") from exc
        try:
            spec = parse_lesson(_front_matter_first(completion.text), f"draft from {source.title}", set(ids))
        except LessonError as exc:
            self._record(source.id, completion.input_tokens, completion.output_tokens, started, "malformed")
            raise CoachError(f"The model's draft was not a valid lesson ({exc}); try again, or author it by hand.") \
                from exc
        self._record(source.id, completion.input_tokens, completion.output_tokens, started, "answered")
        key = _free_key(self.engine, f"draft-{spec.key}")
        spec = type(spec)(**{**spec.__dict__, "key": key, "audience": tuple(source.audience),
                             "sources": (source.key,)})
        catalog.save(self.engine, [spec], status="draft", origin="drafted")
        return catalog.get(self.engine, key)

    def _record(self, source_id: str, tokens_in: int, tokens_out: int, started: float, outcome: str) -> None:
        with session(self.engine) as db:
            db.add(ModelExchange(template=self.template.name, template_version=self.template.version,
                                 model=getattr(self.model, "name", ""), chunk_ids=[source_id],
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
