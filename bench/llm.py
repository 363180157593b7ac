"""The model path against a real OpenAI-compatible server: latency, the budget, and why answers fall back.

    python -m bench.llm --base-url http://127.0.0.1:8080/v1 [--model NAME] [--budget 20] [--max-tokens 400]
                        [--concurrency 1] [--embedding-model minilm] [--rounds 1]

The sample content is ingested into a temporary coach, and the sample questions below (English and Dutch) are asked
through the product's answering path (`Coach.ask`, streaming). For each: the time to the first streamed text and to
the reply, and the exchange's outcome. As the bare baseline in the same run, each prompt the coach sent is sent again
straight to the server (same system and user text, same token limit, no deadline, no checks): the server's own
first-token and completion times. Reported: p50/p95 of both, the ratio, budget overruns (replies later than the
budget plus 1 s: must be 0), and fallbacks by cause. Progress on stderr; one JSON object last on stdout.

A server to try it on, as the tests use: `python -m tests.model_server` (llama.cpp's server from the xllamacpp
package, Gemma 3 270M) prints its base URL.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx
from sqlmodel import select

from bench.retrieval import percentiles
from coach.bootstrap import bootstrap
from coach.messages import IncomingMessage
from coach.settings import Settings
from coach.store.models import ModelExchange
from kernel.store import session

QUESTIONS = [
    "What is the mileage rate?",
    "How do I claim travel expenses?",
    "How do I report a phishing e-mail?",
    "How much training budget do I have?",
    "How do I give feedback to a colleague?",
    "What should I do in my first week?",
    "wat is het kilometertarief?",
    "hoe vraag ik een reiskostenvergoeding aan?",
    "mag ik thuiswerken vanuit Rotterdam?",
    "hoe geef ik feedback aan een collega?",
]
OVERRUN_MARGIN_S = 1.0
EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "content"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Recording:
    """The coach's ChatModel with every prompt it was given kept, to send the same ones to the server bare."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.prompts = inner, inner.name, []

    def complete(self, system, user, **kwargs):
        self.prompts.append((system, user))
        return self.inner.complete(system, user, **kwargs)


def raw(base_url: str, model: str, api_key: str, system: str, user: str, max_tokens: int) -> dict:
    """The server alone: one streamed completion of the same prompt, timed from the request."""
    # cache_prompt: llama.cpp would reuse the coach's evaluation of the same prompt (other servers ignore it)
    body = {"model": model, "stream": True, "max_tokens": max_tokens, "temperature": 0.0, "cache_prompt": False,
            "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}]}
    headers = {"Authorization": f"Bearer {api_key or 'not-needed'}"}
    started, first, tokens = time.monotonic(), None, 0
    with httpx.stream("POST", f"{base_url.rstrip('/')}/chat/completions", json=body, headers=headers,
                      timeout=600) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            choices = json.loads(line[6:]).get("choices") or [{}]
            if (choices[0].get("delta") or {}).get("content"):
                tokens += 1
                first = first or time.monotonic() - started
    return {"first_s": first, "total_s": time.monotonic() - started, "tokens": tokens}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--model", default="local")
    parser.add_argument("--api-key", default="")
    parser.add_argument("--budget", type=float, default=20.0)
    parser.add_argument("--max-tokens", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--embedding-model", choices=["e5", "minilm"], default="minilm")
    parser.add_argument("--rounds", type=int, default=1, help="times each question is asked")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(COACH_DATA_DIR=Path(folder), COACH_LOAD_SAMPLES=False, LLM_BASE_URL=args.base_url,
                            LLM_API_KEY=args.api_key, LLM_MODEL=args.model, LLM_BUDGET_S=args.budget,
                            LLM_MAX_TOKENS=args.max_tokens, LLM_CONCURRENCY=args.concurrency,
                            COACH_EMBEDDING_MODEL=args.embedding_model, COACH_QUESTIONS_PER_MINUTE=0)
        container = bootstrap(settings)
        log("ingesting the sample content")
        container.knowledge.ingest([EXAMPLES])
        writer = container.answerer.writer
        writer.model = recording = Recording(writer.model)
        rows = []
        asked = [q for _ in range(args.rounds) for q in QUESTIONS]
        for n, question in enumerate(asked, start=1):
            first: list[float] = []
            calls, started = len(recording.prompts), time.monotonic()
            reply = container.coach.ask(IncomingMessage(learner_id=f"bench-{n}", text=question, platform="cli",
                                                        channel="cli"),
                                        lambda text: first or first.append(time.monotonic() - started))
            total = time.monotonic() - started
            with session(container.engine) as db:
                exchange = db.exec(select(ModelExchange).order_by(ModelExchange.id.desc())).first()
            outcome = exchange.outcome if len(recording.prompts) > calls else "no model call"
            rows.append({"question": question, "first_s": first[0] if first else None, "total_s": total,
                         "mode": reply.mode, "outcome": outcome})
            log(f"[{n}/{len(asked)}] {total:5.1f} s {reply.mode:10} {outcome:12} {question}")
        log("the same prompts straight to the server, no deadline")
        bare = []
        for n, (system, user) in enumerate(recording.prompts, start=1):
            bare.append(raw(args.base_url, args.model, args.api_key, system, user, args.max_tokens))
            log(f"[{n}/{len(recording.prompts)}] {bare[-1]['total_s']:5.1f} s, {bare[-1]['tokens']} tokens")

    def stats(values: list) -> dict:
        values = [v * 1000 for v in values if v is not None]
        return percentiles(values) if values else {}
    coach_total, bare_total = stats([r["total_s"] for r in rows]), stats([b["total_s"] for b in bare])
    result = {
        "base_url": args.base_url, "model": args.model, "budget_s": args.budget, "max_tokens": args.max_tokens,
        "questions": len(rows),
        "coach_ms": {"first_text": stats([r["first_s"] for r in rows]), "reply": coach_total},
        "baseline": {"server_first_token_ms": stats([b["first_s"] for b in bare]),
                     "server_completion_ms": bare_total,
                     "server_tokens": percentiles([b["tokens"] for b in bare]) if bare else {}},
        "ratio": {"reply_p50_over_server_completion_p50":
                  round(coach_total["p50"] / bare_total["p50"], 2) if coach_total and bare_total else None},
        "budget_overruns": sum(r["total_s"] > args.budget + OVERRUN_MARGIN_S for r in rows),
        "outcomes": dict(Counter(r["outcome"] for r in rows)),
        "fallbacks": dict(Counter(r["outcome"] for r in rows if r["mode"] == "extractive")),
        "generated": sum(r["mode"] == "generated" for r in rows),
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
