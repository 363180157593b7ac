"""Reading an evaluation folder in the shape of ../shared/eval/ (corpus.jsonl, queries.jsonl, qrels.tsv)."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path

from coach.conversation import standalone_query


@dataclass
class Query:
    id: str
    text: str  # the standalone query the product would search with
    gold: set[str]
    answerable: bool


def read_corpus(folder: Path) -> list[dict]:
    with (folder / "corpus.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def read_queries(folder: Path) -> list[Query]:
    qrels: dict[str, set[str]] = {}
    with (folder / "qrels.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels.setdefault(row["query-id"], set()).add(row["corpus-id"])
    queries = []
    with (folder / "queries.jsonl").open(encoding="utf-8") as handle:
        for line in filter(str.strip, handle):
            q = json.loads(line)
            answerable = q.get("answerable", q.get("answerability", "ANSWERABLE") in ("ANSWERABLE", "PARTIAL"))
            gold = qrels.get(q["_id"], set())
            queries.append(Query(q["_id"], _query_text(q), gold, bool(answerable) and bool(gold)))
    return queries


def _query_text(q: dict) -> str:
    if "conversation" not in q:
        return q["text"]
    turns = [t["text"] for t in q["conversation"] if t["speaker"] == "user"]
    last = q.get("last_turn") or (turns[-1] if turns else "")
    if not turns or turns[-1].strip() != last.strip():
        turns.append(last)
    return standalone_query(turns)
