"""Reading an evaluation folder in the shape of ../shared/eval/ (corpus.jsonl, queries.jsonl, qrels.tsv)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from coach.conversation import Turn, retrieval_context


@dataclass
class Query:
    id: str
    text: str  # the question asked now
    context: list[str]  # earlier turns, as the product searches with them
    gold: set[str]
    answerable: bool  # answerable with gold passages: scored for retrieval
    label: bool | None = None  # does the content answer it? None when the set says "underspecified"


def read_corpus(folder: Path, name: str = "corpus.jsonl") -> list[dict]:
    with (folder / name).open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_queries(folder: Path, name: str = "queries.jsonl") -> list[Query]:
    qrels: dict[str, set[str]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    queries = []
    with (folder / name).open(encoding="utf-8") as handle:
        for line in filter(str.strip, handle):
            q = json.loads(line)
            answerability = q.get("answerability", "ANSWERABLE")
            label = None if answerability == "UNDERSPECIFIED" else bool(
                q.get("answerable", answerability in ("ANSWERABLE", "PARTIAL")))
            gold = (qrels.get(q["_id"], set()) | set(q.get("gold_passages") or [])) if label else set()
            question, context = _question_and_context(q)
            queries.append(Query(q["_id"], question, context, gold, bool(label) and bool(gold), label))
    return queries


def _question_and_context(q: dict) -> tuple[str, list[str]]:
    if "conversation" not in q:
        return q["text"], []
    turns = [Turn("learner" if t["speaker"] == "user" else "coach", t["text"]) for t in q["conversation"]]
    last = q.get("last_turn") or next((t.text for t in reversed(turns) if t.speaker == "learner"), "")
    if turns and turns[-1].speaker == "learner" and turns[-1].text.strip() == last.strip():
        turns = turns[:-1]
    return last, retrieval_context(turns)
