"""Cosine thresholds per embedding model: the values tuned for MiniLM, carried to another model so that a threshold
stands in the same place between unrelated and related pairs, whatever the model.

    python -m bench.thresholds [--dataset ../shared/eval/clapnq] [--questions 200] [--write]

Pairs from the evaluation set, each embedded by each model in its query / passage form:
- question -> its gold passage (`gold`) and question -> a random other passage (`random`);
- question -> another question of the set (`apart`: different questions).
Models spread cosines very differently (MiniLM: unrelated pairs near 0, answering ones near 0.7; e5: 0.75 and 0.89),
and MiniLM's thresholds sit outside the pairs they separate (0.3 keeps every gold pair, 0.4 lets no random one
through), so matching shares of pairs would pin them to a sample's extremes. Each threshold is carried by the affine
map that sends MiniLM's median unrelated pair and median gold pair onto the other model's:
- `gap_plausible` (coach/gaps/closing.py: below it a new chunk cannot be what answers an open question) and
  `gap_relevant` (coach/lessons/drafting.py: from it a passage is about a question) between `random` and `gold`;
- `gap_similarity` (coach/gaps/clustering.py, COACH_GAP_SIMILARITY: questions this alike share a cluster) between
  `apart` and `gold`.
Reported for each: the share of gold pairs kept and of random (or apart) pairs let through, for both models.

`answer_support` (coach/answer_checks.py: a model's answer sentence needs a sentence of its cited passages this
alike) is measured on each model itself, not carried: the set's reference answers, written by people from the gold
passage, split into sentences; each sentence's best cosine with the gold passage's sentences (`supported`) and with a
random passage's (`unsupported`). The threshold lies midway between the supported sentences' 3rd percentile and the
unsupported ones' 97th: these reference answers copy their passage closely, where a model paraphrases or translates
it (a Dutch sentence from an English passage scores ~0.90-0.94 on e5, unrelated ones ~0.74-0.79).
Prints progress on stderr and one JSON object last on stdout: per model the pair statistics, the thresholds and the
rates they hold. `--write` stores the thresholds in coach/thresholds.json, which the product reads
(coach/thresholds.py).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np

from bench.datasets import read_corpus, read_queries
from coach import answer_checks, thresholds
from knowledge.embeddings import E5Embedder, MiniLMEmbedder

REFERENCE = MiniLMEmbedder.name  # the model the product's thresholds were tuned on
UNRELATED = {"gap_plausible": "random", "gap_relevant": "random", "gap_similarity": "apart"}
SUPPORT_KEPT = 0.97


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def pairs(folder: Path, n: int, seed: int = 7) -> tuple[list[str], list[str], list[str]]:
    """Questions, their first gold passage, and a random passage that is not gold for them."""
    corpus = {doc["_id"]: doc for doc in read_corpus(folder)}
    queries = [q for q in read_queries(folder) if q.answerable and not q.context]
    rng = random.Random(seed)
    chosen = rng.sample(queries, min(n, len(queries)))
    ids = list(corpus)
    questions, gold, other = [], [], []
    for query in chosen:
        passage = corpus[sorted(query.gold)[0]]
        stranger = corpus[next(i for i in iter(lambda: rng.choice(ids), None) if i not in query.gold)]
        questions.append(query.text)
        gold.append(f"{passage.get('title', '')}\n{passage['text']}")
        other.append(f"{stranger.get('title', '')}\n{stranger['text']}")
    return questions, gold, other


def cosines(embedder, questions: list[str], gold: list[str], other: list[str]) -> dict[str, np.ndarray]:
    started = time.monotonic()
    q = np.stack([embedder.embed_query(text) for text in questions])
    g, o = embedder.embed_passages(gold), embedder.embed_passages(other)
    log(f"{embedder.name}: {3 * len(questions)} texts embedded in {time.monotonic() - started:.0f} s")
    upper = np.triu_indices(len(questions), k=1)
    return {"gold": np.einsum("ij,ij->i", q, g), "random": np.einsum("ij,ij->i", q, o), "apart": (q @ q.T)[upper]}


def answer_sentences(folder: Path, n: int, seed: int = 11) -> tuple[list[str], list, list]:
    """Sentences of the reference answers, each with its gold passage and a random other passage."""
    corpus = {doc["_id"]: doc for doc in read_corpus(folder)}
    rows = [json.loads(line) for line in (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r.get("answers") and r.get("gold_passages")]
    rng = random.Random(seed)
    ids = list(corpus)
    claims, gold, other = [], [], []

    passages = {}

    def passage(doc: dict):  # one object per passage (answer_checks.evidence_of reads its text only)
        return passages.setdefault(doc["_id"], SimpleNamespace(text=doc["text"]))
    for row in rng.sample(rows, min(n, len(rows))):
        stranger = next(i for i in iter(lambda: rng.choice(ids), None) if i not in row["gold_passages"])
        for claim in answer_checks.sentences(row["answers"][0]):
            claims.append(claim)
            gold.append(passage(corpus[row["gold_passages"][0]]))
            other.append(passage(corpus[stranger]))
    return claims, gold, other


def support_cosines(embedder, claims: list[str], gold: list, other: list) -> dict[str, np.ndarray]:
    """Each claim's best cosine with the sentences of its gold passage and of its random one (each passage's
    sentences embedded once)."""
    started = time.monotonic()
    evidence = {id(p): answer_checks.evidence_of(p) for p in [*gold, *other]}
    flat = [s for key in evidence for s in evidence[key]]
    vectors = embedder.embed_passages([*claims, *flat])
    claim_vectors, rows, at = vectors[:len(claims)], {}, len(claims)
    for key, sentences in evidence.items():
        rows[key] = vectors[at:at + len(sentences)]
        at += len(sentences)
    values = {kind: np.array([float((rows[id(p)] @ v).max()) for v, p in zip(claim_vectors, passages)])
              for kind, passages in (("supported", gold), ("unsupported", other))}
    log(f"{embedder.name}: {len(claims)} answer sentences against {len(flat)} passage sentences in "
        f"{time.monotonic() - started:.0f} s")
    return values


def rate(values: np.ndarray, threshold: float) -> float:
    return float(np.mean(values >= threshold))


def carried(threshold: float, source: dict[str, np.ndarray], target: dict[str, np.ndarray], unrelated: str) -> float:
    """`threshold` on the source model's cosines, at the same place between the medians of unrelated and gold pairs
    on the target model's."""
    (s0, s1), (t0, t1) = ((float(np.median(m[unrelated])), float(np.median(m["gold"]))) for m in (source, target))
    return t0 + (threshold - s0) * (t1 - t0) / (s1 - s0)


def summary(values: np.ndarray) -> dict:
    return {name: round(float(np.quantile(values, q)), 3) for name, q in (("p05", .05), ("p50", .5), ("p95", .95))}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", type=Path, default=Path("../shared/eval/clapnq"))
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--write", action="store_true", help="store the thresholds in coach/thresholds.json")
    args = parser.parse_args(argv)
    texts = pairs(args.dataset, args.questions)
    log(f"{len(texts[0])} questions from {args.dataset.name}")
    reference = thresholds.for_embedder(REFERENCE)
    claims = answer_sentences(args.dataset, args.questions)
    embedders = (MiniLMEmbedder(), E5Embedder())
    measured = {embedder.name: cosines(embedder, *texts) for embedder in embedders}
    support = {embedder.name: support_cosines(embedder, *claims) for embedder in embedders}
    result: dict = {"dataset": args.dataset.name, "questions": len(texts[0]), "models": {}}
    for name, values in measured.items():
        chosen = {key: round(reference[key] if name == REFERENCE else
                             carried(reference[key], measured[REFERENCE], values, unrelated), 3)
                  for key, unrelated in UNRELATED.items()}
        chosen["answer_support"] = round((float(np.quantile(support[name]["supported"], 1 - SUPPORT_KEPT)) +
                                          float(np.quantile(support[name]["unsupported"], SUPPORT_KEPT))) / 2, 3)
        result["models"][name] = {
            "pairs": {kind: summary(v) for kind, v in (values | support[name]).items()},
            "thresholds": chosen,
            "gold_kept": {key: round(rate(values["gold"], chosen[key]), 3) for key in UNRELATED} |
            {"answer_support": round(rate(support[name]["supported"], chosen["answer_support"]), 3)},
            "unrelated_passed": {key: round(rate(values[unrelated], chosen[key]), 4)
                                 for key, unrelated in UNRELATED.items()} |
            {"answer_support": round(rate(support[name]["unsupported"], chosen["answer_support"]), 4)},
        }
    if args.write:
        thresholds.save({name: model["thresholds"] for name, model in result["models"].items()},
                        fitted_on=f"{args.dataset.name}, {len(texts[0])} questions (python -m bench.thresholds)")
        log(f"written to {thresholds.FILE}")
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
