"""Answer benchmark: abstention and citations of the product's answering path on an evaluation folder.

    python -m bench.answers --dataset ../shared/eval/clapnq [--calibrate]

Uses `corpus_holdout.jsonl` / `queries_holdout.jsonl` when the folder has them (covid_faq: FAQs removed, so their
questions should be declined). Prints progress on stderr and one JSON object as its last line: abstention accuracy,
precision and recall (abstaining is the positive class) next to the majority-class rate, citation accuracy (share of
answered answerable questions citing a gold passage), end-to-end latency of the extractive path and, as its bare
baseline in the same run, the embedding model alone. `--calibrate` (with one or more `--dataset`) fits the abstention
model on the sets pooled, reports 5-fold cross-validated accuracy and, for each set, the accuracy of a model fitted on
the other sets only (how well the calibration transfers to content it has not seen), and writes the model fitted on
all of them to coach/abstention.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path


from bench.datasets import read_corpus, read_queries
from bench.retrieval import corpus_items, ingest, log, percentiles
from coach.abstention import AbstentionModel, fit, model_file
from coach.bootstrap import bootstrap
from coach.conversation import Turn
from coach.messages import IncomingMessage
from coach.settings import Settings


def message(q) -> IncomingMessage:
    # the bench's queries carry their context already composed; the answerer composes it again from history
    history = tuple(Turn("learner", c) for c in reversed(q.context))
    return IncomingMessage(learner_id="bench", text=q.text, history=history, channel="cli", platform="cli")


def scores(labels: list[bool], answered: list[bool]) -> dict:
    abstain = [not a for a in answered]
    should = [not l for l in labels]
    tp = sum(a and s for a, s in zip(abstain, should))
    accuracy = sum(a == l for a, l in zip(answered, labels)) / len(labels)
    return {
        "accuracy": round(accuracy, 4),
        "precision": round(tp / sum(abstain), 4) if sum(abstain) else 0.0,
        "recall": round(tp / sum(should), 4) if sum(should) else 0.0,
        "majority": round(max(sum(labels), len(labels) - sum(labels)) / len(labels), 4),
    }


def best_threshold(probabilities: list[float], labels: list[bool]) -> float:
    candidates = sorted(set(round(p, 4) for p in probabilities)) or [0.5]
    return max(candidates, key=lambda t: (sum((p >= t) == l for p, l in zip(probabilities, labels)), -abs(t - 0.5)))


def cross_validate(rows: list[dict], labels: list[bool], folds: int = 5, seed: int = 13) -> tuple[dict, list[bool]]:
    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    answered = [False] * len(rows)
    for fold in range(folds):
        test = set(order[fold::folds])
        train = [i for i in order if i not in test]
        weights, bias = fit([rows[i] for i in train], [labels[i] for i in train])
        model = AbstentionModel(weights, bias)
        threshold = best_threshold([model.probability(rows[i]) for i in train], [labels[i] for i in train])
        for i in test:
            answered[i] = model.probability(rows[i]) >= threshold
    return scores(labels, answered), answered


def run(dataset: Path, embedding_model: str | None = None) -> tuple[dict, list[dict], list[bool], str]:
    """Answer every labelled question of a set; (result, feature rows, labels, embedder name)."""
    holdout = (dataset / "queries_holdout.jsonl").exists()
    corpus = read_corpus(dataset, "corpus_holdout.jsonl" if holdout else "corpus.jsonl")
    queries = [q for q in read_queries(dataset, "queries_holdout.jsonl" if holdout else "queries.jsonl")
               if q.label is not None]
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as data_dir:
        model = {"COACH_EMBEDDING_MODEL": embedding_model} if embedding_model else {}
        container = bootstrap(Settings(COACH_DATA_DIR=Path(data_dir), COACH_LOAD_SAMPLES=False, **model))
        ingest(container.knowledge, corpus_items(corpus), "ingest")
        answerer = container.answerer
        container.knowledge.retriever.refresh()
        log(f"deciding {len(queries)} questions")
        decisions, replies, latencies, embed_ms = [], [], [], []
        for q in queries:
            started = time.perf_counter()
            decision, reply = answerer.answer(message(q))
            latencies.append((time.perf_counter() - started) * 1000)
            decisions.append(decision)
            replies.append(reply)
            started = time.perf_counter()
            container.knowledge.retriever.embedder.embed_query(q.text)
            embed_ms.append((time.perf_counter() - started) * 1000)
        embedder = container.knowledge.retriever.embedder.name
    labels = [bool(q.label) for q in queries]
    cited = []
    for q, d, reply in zip(queries, decisions, replies):
        if q.label and q.gold and not reply.abstained:
            keys = {p.source_id: p.source_key for p in d.passages}
            cited.append(bool(q.gold & {keys[c.source_id] for c in reply.cited}))
    result = {"dataset": dataset.name + ("/holdout" if holdout else ""), "mode": "extractive", "questions": len(queries),
              "abstention": scores(labels, [d.answered for d in decisions]),
              "citation_accuracy": round(sum(cited) / len(cited), 4) if cited else None,
              "latency_ms": percentiles(latencies), "baseline": {"embed_question_ms": percentiles(embed_ms)}}
    result["ratio"] = {"answer_p50_over_embed_p50": round(result["latency_ms"]["p50"] / result["baseline"]["embed_question_ms"]["p50"], 2)}
    result["own_calibration"] = recalibrated([d.features for d in decisions], labels)
    return result, [d.features for d in decisions], labels, embedder


def recalibrated(rows: list[dict], labels: list[bool], share: float = 0.3, rounds: int = 20, seed: int = 7) -> dict:
    """What a deployment would reach by calibrating on its own labelled questions (learners' feedback, L&D's gap
    review) instead of shipping the pooled model: fitted on `share` of the set, scored on the rest; the mean over
    `rounds` random splits."""
    rng, accuracies = random.Random(seed), []
    for _ in range(rounds):
        order = list(range(len(labels)))
        rng.shuffle(order)
        cut = int(share * len(order))
        model = fitted([rows[i] for i in order[:cut]], [labels[i] for i in order[:cut]])
        accuracies.append(sum(model.answers(rows[i]) == labels[i] for i in order[cut:]) / (len(order) - cut))
    return {"labelled_share": share, "rounds": rounds, "accuracy": round(sum(accuracies) / rounds, 4)}


def calibrate(runs: list[tuple[dict, list[dict], list[bool], str]]) -> dict:
    """Fit on all sets pooled; report pooled 5-fold CV and, per set, a model fitted on the other sets only."""
    rows = [r for _, set_rows, _, _ in runs for r in set_rows]
    labels = [l for _, _, set_labels, _ in runs for l in set_labels]
    names = [result["dataset"] for result, *_ in runs]
    report = {"calibrated_on": names, "pooled_cv": cross_validate(rows, labels)[0]}
    if len(runs) > 1:
        report["held_out_set"] = {}
        for n, (result, set_rows, set_labels, _) in enumerate(runs):
            others = [(r, l) for m, (_, rs, ls, _) in enumerate(runs) if m != n for r, l in zip(rs, ls)]
            model = fitted([r for r, _ in others], [l for _, l in others])
            report["held_out_set"][result["dataset"]] = scores(set_labels, [model.answers(r) for r in set_rows])
    model = replace(fitted(rows, labels), embedder=runs[0][3], fitted_on=" + ".join(names))
    model.save(model_file(model.embedder), **report)
    return report | {"calibrated": str(model_file(model.embedder))}


def fitted(rows: list[dict], labels: list[bool]) -> AbstentionModel:
    weights, bias = fit(rows, labels)
    model = AbstentionModel(weights, bias)
    return replace(model, threshold=best_threshold([model.probability(r) for r in rows], labels))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True, action="append",
                        help="an evaluation folder; repeat it to calibrate on several sets together")
    parser.add_argument("--calibrate", action="store_true",
                        help="fit the abstention model of the embedding model in use on the given sets (pooled, "
                             "cross-validated): coach/abstention.json, or coach/abstention.<model>.json for another")
    parser.add_argument("--embedding-model", choices=("minilm", "e5"), help="COACH_EMBEDDING_MODEL for this run")
    args = parser.parse_args(argv)
    runs = [run(dataset, args.embedding_model) for dataset in args.dataset]
    if args.calibrate:
        result = {"mode": "extractive", **calibrate(runs)}
    else:
        result = runs[0][0] if len(runs) == 1 else {"mode": "extractive", "sets": [r for r, *_ in runs]}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main(sys.argv[1:])
