"""Content-gap benchmark: how long the gap report and the re-check after an ingestion take with many open gaps.

    python -m bench.gaps [--questions 20000] [--wordings 100] [--people 400]

The world: `--questions` unanswered questions in the last 30 days (each one of `--wordings` phrasings about 20
topics, asked by `--people` learners), already embedded and stored as the coach stores them (`gapquestion`), on
SQLite in a temporary folder, with the sample content (examples/content) in the knowledge base and the real embedding model.

Measured, each against its bare baseline in the same run:
- `report_s`: the first `gaps.clusters()` (clusters every question from scratch, then builds the report), against
  `read_s`, reading the same stored vectors into numpy (the floor of any method that looks at them all).
- `report_again_s`: the second call (clusters kept; only the report is built).
- `ingest_with_gaps_s`: ingesting one document that answers one topic, which re-asks the open questions it may
  answer, against `ingest_alone_s`, the same ingestion with the gap hook off. `reasked` = questions asked again
  (distinct wordings), `closed` = questions the new content closed.
Prints progress, then one JSON object as its last line.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlmodel import select

from examples import CONTENT as SAMPLES

TOPICS = ["mileage", "parental leave", "the VPN", "a laptop refund", "conference travel", "the dentist plan",
          "bike lease", "a visa letter", "home office chairs", "the pension scheme", "jury duty", "a sabbatical",
          "the parking permit", "desk booking", "train first class", "hotel limits", "a second monitor",
          "the canteen card", "language courses", "a moving allowance"]
PHRASES = ["How do I get {}?", "who approves {}", "what is the policy on {}", "can I claim {} this year?",
           "{}: where do I apply?"]
ANSWER = ("# Mileage\nWhen you drive your own car to a client or customer for work, claim mileage in the expenses "
          "tool: 0.23 euros per kilometre. Add the trip's start and end address.\n")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--wordings", type=int, default=100)
    parser.add_argument("--people", type=int, default=400)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        result = run(Path(folder), args.questions, args.wordings, args.people)
    print(json.dumps(result))
    return result


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def build(folder: Path, name: str):
    from coach.bootstrap import bootstrap
    from coach.settings import Settings

    container = bootstrap(Settings(COACH_DATA_DIR=folder / name, COACH_LOAD_SAMPLES=False))
    container.knowledge.ingest([SAMPLES])
    return container


def seed(container, questions: int, wordings: int, people: int) -> list[str]:
    from coach.gaps import clustering
    from kernel.store import session
    from coach.store.models import GapQuestion, Need

    texts = [phrase.format(topic) for topic in TOPICS for phrase in PHRASES][:wordings]
    embedder = container.knowledge.ingestor.embedder
    vectors = embedder.embed_passages(texts)
    start = datetime.now(UTC) - timedelta(days=30)
    step = timedelta(days=29) / max(questions, 1)
    for begin in range(0, questions, 5_000):
        batch = range(begin, min(begin + 5_000, questions))
        with session(container.engine) as db:
            db.add_all(Need(id=f"{n:032x}", learner_id=f"slack:T1:U{n % people}", channel="dm", platform="slack",
                            question=texts[n % len(texts)], topics=[], answered=False, created_at=start + n * step)
                       for n in batch)
            db.commit()
            db.add_all(GapQuestion(need_id=f"{n:032x}", asked_at=start + n * step, model=embedder.name,
                                   vector=clustering.to_bytes(vectors[n % len(texts)])) for n in batch)
            db.commit()
        say(f"  {batch.stop}/{questions} questions stored")
    return texts


def read_vectors(container) -> float:
    from kernel.store import session
    from coach.store.models import GapQuestion

    started = time.perf_counter()
    with session(container.engine) as db:
        blobs = db.exec(select(GapQuestion.vector)).all()
    np.frombuffer(b"".join(blobs), dtype=np.float32)
    return time.perf_counter() - started


def ingest(container, folder: Path) -> float:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "mileage.md").write_text(ANSWER)
    started = time.perf_counter()
    container.knowledge.ingest([folder / "mileage.md"])
    return time.perf_counter() - started


def run(folder: Path, questions: int, wordings: int, people: int) -> dict:
    from kernel.store import session
    from coach.store.models import GapQuestion
    say(f"Content-gap benchmark: {questions} open questions, {wordings} wordings, {people} people")
    container = build(folder, "with-gaps")
    seed(container, questions, wordings, people)
    read_s = min(read_vectors(container) for _ in range(3))
    say("clustering and listing…")
    started = time.perf_counter()
    clusters = container.gaps.clusters()
    report_s = time.perf_counter() - started
    started = time.perf_counter()
    container.gaps.clusters()
    report_again_s = time.perf_counter() - started

    asked: list[str] = []
    retriever = container.answerer.retriever
    search = retriever.search
    retriever.search = lambda query, **kw: asked.append(query) or search(query, **kw)
    say("ingesting a document that answers one topic…")
    ingest_with_gaps_s = ingest(container, folder / "new")
    retriever.search = search
    with session(container.engine) as db:
        closed = len(db.exec(select(GapQuestion.need_id).where(GapQuestion.closed_at.is_not(None))).all())

    bare = build(folder, "alone")
    bare.knowledge.ingestor.listeners.clear()  # the same ingestion without the gap hook
    ingest_alone_s = ingest(bare, folder / "new-alone")
    return {"questions": questions, "clusters": len(clusters), "report_s": round(report_s, 2),
            "report_again_s": round(report_again_s, 2), "read_s": round(read_s, 3),
            "report_vs_read": round(report_s / read_s, 1), "ingest_with_gaps_s": round(ingest_with_gaps_s, 2),
            "ingest_alone_s": round(ingest_alone_s, 2),
            "ingest_ratio": round(ingest_with_gaps_s / ingest_alone_s, 2), "reasked": len(asked), "closed": closed}


if __name__ == "__main__":
    main()
