"""Retrieval benchmark: the product's own ingestion and hybrid retrieval on an evaluation folder.

    python -m bench.retrieval --dataset ../shared/eval/covid_faq [--scale 50000]

Prints progress on stderr and one JSON object as its last line on stdout: recall@1/5/10 and MRR@10 for hybrid,
dense-only and keyword-only retrieval on the same index (and hybrid with reciprocal rank fusion, for comparison), query
latency, ingest time and peak memory, and the bare baselines measured in the same run (the embedding model alone, a
bare Chroma query) with their ratios.
`--questions FILE` asks only the questions listed there, in that file's wording (e.g. bench/data/questions_nl.jsonl:
the team's Dutch versions of clapnq and mtrag questions, with their ids; earlier conversation turns stay as the set
has them), to measure questions in one language against content in another. `--scale N` pads the base with synthetic
one-chunk passages up to N chunks, made of the sibling evaluation sets' sentences (see bench/padding.py for how their
vectors are made cheaply), to measure latency at size.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from bench.datasets import read_corpus, read_queries
from bench.padding import PaddingEmbedder, padding_corpora, padding_documents, read_sentences
from coach.bootstrap import bootstrap
from coach.settings import Settings
from knowledge.documents import ParsedDocument, Section
from knowledge.ingest import DocumentItem
from knowledge.metadata import SourceMeta

KS = (1, 5, 10)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def ingest(kb, items: list[DocumentItem], label: str, batch: int = 256) -> float:
    started = time.perf_counter()
    for start in range(0, len(items), batch):
        kb.ingestor.ingest_documents(items[start : start + batch])
        log(f"{label}: {min(start + batch, len(items))}/{len(items)} passages")
    return time.perf_counter() - started


def corpus_items(corpus: list[dict]) -> list[DocumentItem]:
    items = []
    for p in corpus:
        text = p["text"].strip()
        document = ParsedDocument(p.get("title") or "", "text", [Section(text)])
        digest = hashlib.sha256((p.get("title", "") + text).encode()).hexdigest()
        items.append(DocumentItem(key=p["_id"], document=document, meta=SourceMeta(), content_hash=digest))
    return items


def evaluate(kb, queries, mode: str) -> tuple[dict, list[float]]:
    """Chunks map back to their passage (source key); a passage counts once, at its best rank."""
    recalls = {k: [] for k in KS}
    mrr, latencies = [], []
    for q in queries:
        started = time.perf_counter()
        passages = kb.search(q.text, context=q.context, k=30, mode=mode)
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = list(dict.fromkeys(p.source_key for p in passages))[:10]
        for k in KS:
            recalls[k].append(len(q.gold & set(ranked[:k])) / len(q.gold))
        mrr.append(next((1 / (i + 1) for i, pid in enumerate(ranked) if pid in q.gold), 0.0))
    scores = {f"recall@{k}": round(float(np.mean(v)), 4) for k, v in recalls.items()}
    scores["mrr@10"] = round(float(np.mean(mrr)), 4)
    return scores, latencies


def percentiles(values: list[float]) -> dict:
    return {"p50": round(float(np.percentile(values, 50)), 2), "p95": round(float(np.percentile(values, 95)), 2)}


def baselines(kb, queries) -> dict:
    """The bare parts in the same run: the embedding model alone, and an unfiltered Chroma query."""
    embedder, collection = kb.retriever.embedder, kb.retriever.vectors.collection
    embed_ms, chroma_ms = [], []
    for q in queries:
        started = time.perf_counter()
        vector = embedder.embed_query(" ".join([q.text, *q.context]))
        embed_ms.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        collection.query(query_embeddings=[vector], n_results=kb.retriever.candidates, include=["distances"])
        chroma_ms.append((time.perf_counter() - started) * 1000)
    return {"embed_query_ms": percentiles(embed_ms), "chroma_query_ms": percentiles(chroma_ms)}


def reworded(queries: list, path: Path, dataset: str) -> list:
    """The queries listed in `path` for this set, each with the file's wording of the question asked now."""
    wording = {}
    with path.open(encoding="utf-8") as handle:
        for row in map(json.loads, filter(str.strip, handle)):
            if row["set"] == dataset:
                wording[row["_id"]] = row["text"]
    missing = set(wording) - {q.id for q in queries}
    if missing:
        raise SystemExit(f"{path}: ids not in {dataset}: {sorted(missing)[:5]}")
    return [replace(q, text=wording[q.id]) for q in queries if q.id in wording]


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", type=Path, required=True, help="folder with corpus.jsonl, queries.jsonl, qrels.tsv")
    parser.add_argument("--scale", type=int, default=0, help="pad the base to this many chunks")
    parser.add_argument("--questions", type=Path, help="JSONL of {set, _id, text}: ask these, in this wording")
    parser.add_argument("--embedding-model", choices=("minilm", "e5"), help="COACH_EMBEDDING_MODEL for this run")
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "learning-coach-bench",
                        help="where the padding sentences' embeddings are cached")
    args = parser.parse_args(argv)

    corpus, queries = read_corpus(args.dataset), read_queries(args.dataset)
    if args.questions:
        queries = reworded(queries, args.questions, args.dataset.name)
    scored = [q for q in queries if q.answerable]
    with tempfile.TemporaryDirectory(prefix="coach-bench-") as data_dir:
        model = {"COACH_EMBEDDING_MODEL": args.embedding_model} if args.embedding_model else {}
        settings = Settings(COACH_DATA_DIR=Path(data_dir), COACH_LOAD_SAMPLES=False, **model)
        container = bootstrap(settings)
        kb = container.knowledge
        ingest_s = ingest(kb, corpus_items(corpus), "ingest")
        chunks = corpus_chunks = kb.ingestor.vectors.count()
        result = {"dataset": args.dataset.name, "chunks": chunks, "passages": len(corpus), "queries": len(scored),
                  "embedder": kb.retriever.embedder.name}
        if args.questions:
            result["questions"] = args.questions.name
        if args.scale > chunks:
            corpora = padding_corpora(args.dataset)
            result["padding_from"] = [p.parent.name for p in corpora]
            sentences = read_sentences(corpora)
            log(f"padding: embedding {len(sentences)} distinct sentences (cached in {args.cache})")
            padder = PaddingEmbedder(kb.ingestor.embedder, sentences, args.cache)
            kb.ingestor.embedder = padder
            padding = padding_documents(padder, sentences, args.scale, settings.chunk_size)
            started = time.perf_counter()
            for start in range(0, len(padding), 1000):
                if kb.ingestor.vectors.count() >= args.scale:
                    break
                kb.ingestor.ingest_documents(padding[start : start + 1000])
                log(f"padding: {kb.ingestor.vectors.count()}/{args.scale} chunks")
            result["padding_ingest_s"] = round(time.perf_counter() - started, 1)
            kb.ingestor.embedder = padder.inner
            chunks = kb.ingestor.vectors.count()
            result["chunks"] = chunks
        kb.retriever.refresh()
        latencies: list[float] = []
        for mode in ("hybrid", "dense", "keyword"):
            log(f"evaluating {mode} on {len(scored)} queries")
            result[mode], mode_latencies = evaluate(kb, scored, mode)
            if mode == "hybrid":
                latencies = mode_latencies
        kb.retriever.fusion = "rrf"
        result["hybrid_rrf"], _ = evaluate(kb, scored, "hybrid")
        kb.retriever.fusion = settings.retrieval_fusion
        result["query_ms"] = percentiles(latencies)
        result["ingest_s"] = round(ingest_s, 2)
        result["ingest_passages_per_s"] = round(len(corpus) / ingest_s, 1)
        result["ingest_chunks_per_s"] = round(corpus_chunks / ingest_s, 1)
        result["baseline"] = baselines(kb, scored)
        base = result["baseline"]
        result["ratio"] = {
            "hybrid_p50_over_embed_p50": round(result["query_ms"]["p50"] / base["embed_query_ms"]["p50"], 2),
            "hybrid_p50_over_embed_plus_chroma_p50": round(
                result["query_ms"]["p50"] / (base["embed_query_ms"]["p50"] + base["chroma_query_ms"]["p50"]), 2),
        }
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
