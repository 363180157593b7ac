"""What an operator's load balancer, orchestrator and Prometheus ask of a process: `/healthz` (the process is up),
`/readyz` (it can serve: its database, vector store and model endpoints answer; 503 with what does not), `/metrics`
(kernel/metrics.py); and the HTTP middleware that gives every request an id (kept from the caller's X-Request-Id
when sane, sent back in the response) and counts it.

The app server mounts all three; `coach worker` serves them on COACH_WORKER_PORT (`worker_app`)."""

from __future__ import annotations

import asyncio
import time
from typing import Callable

import httpx
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from coach import inbox
from kernel import metrics
from kernel.tracing import accepted, bound

CHECK_TIMEOUT_S = 3.0
Check = Callable[[], object]


def checks(container, *, vectors: bool = True) -> dict[str, Check]:
    """What must answer for this process to serve: the database always; the vector store for the app server;
    the model and embeddings endpoints when configured (an OpenAI-compatible server lists its models)."""
    settings, found = container.settings, {}

    def database() -> None:
        with container.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    found["database"] = database
    if vectors:
        found["vector_store"] = container.knowledge.vector_count
    for name, base, key in (("model", settings.llm_base_url, settings.llm_api_key),
                            ("embeddings", settings.embeddings_base_url, settings.embeddings_api_key)):
        if base:
            found[name] = _models_listed(base, key.get_secret_value())
    return found


def _models_listed(base_url: str, api_key: str) -> Check:
    def listed() -> None:
        response = httpx.get(f"{base_url.rstrip('/')}/models", timeout=CHECK_TIMEOUT_S,
                             headers={"Authorization": f"Bearer {api_key}"} if api_key else {})
        if response.status_code in (401, 403):
            raise RuntimeError(f"refused the API key ({response.status_code})")
        if response.status_code in (500, 502, 503, 504):  # reachable, not serving (a server without a model list
            raise RuntimeError(f"answered {response.status_code}")  # answers 404 or 501: it is there)
    return listed


async def readiness(found: dict[str, Check]) -> tuple[bool, dict]:
    """Every check at once, each within CHECK_TIMEOUT_S (a server that accepts and never answers is not ready)."""
    async def run(check: Check) -> dict:
        started = time.perf_counter()
        try:
            await asyncio.wait_for(asyncio.to_thread(check), CHECK_TIMEOUT_S)
            outcome = {"ok": True}
        except TimeoutError:
            outcome = {"ok": False, "error": f"no answer within {CHECK_TIMEOUT_S:g} s"}
        except Exception as exc:
            outcome = {"ok": False, "error": (str(exc).splitlines() or [type(exc).__name__])[0][:200]}
        return outcome | {"ms": round((time.perf_counter() - started) * 1000)}

    results = dict(zip(found, await asyncio.gather(*(run(c) for c in found.values()))))
    return all(r["ok"] for r in results.values()), results


def router(found: dict[str, Check], extra: Callable[[], dict] = dict) -> APIRouter:
    routes = APIRouter()

    @routes.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        ready, results = await readiness(found)
        return JSONResponse({"status": "ready" if ready else "unready", "checks": results, **extra()},
                            status_code=200 if ready else 503)

    @routes.get("/metrics", include_in_schema=False)
    def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return routes


def queue_depths(container) -> Callable[[], dict[str, int]]:
    from coach.xapi import outbox

    def read() -> dict[str, int]:
        depths = {"inbox": inbox.pending(container.engine)}
        if container.settings.xapi_endpoint:
            counts = outbox.status(container.engine)["counts"]
            depths["xapi_outbox"] = counts["queued"] + counts["sending"]
        return depths
    return read


class RequestIds:
    """Pure ASGI (a streamed answer is not buffered): the request id bound for the whole request, and its count
    and latency by route template (never the raw path: ids in paths would make unbounded labels)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        started, status = time.perf_counter(), [500]
        with bound(accepted(given)) as rid:
            async def sending(message) -> None:
                if message["type"] == "http.response.start":
                    status[0] = message["status"]
                    message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
                    metrics.HTTP_SECONDS.labels(_route(scope)).observe(time.perf_counter() - started)
                await send(message)

            try:
                await self.app(scope, receive, sending)
            finally:
                metrics.HTTP_REQUESTS.labels(scope["method"], _route(scope), f"{status[0] // 100}xx").inc()


def _route(scope) -> str:
    route = scope.get("route")
    return getattr(route, "path", None) or "unmatched"


def mount(app: FastAPI, container) -> None:
    app.add_middleware(RequestIds)
    app.include_router(router(checks(container)))
    metrics.watch_depths(queue_depths(container))


def worker_app(container, state: Callable[[], str]) -> FastAPI:
    """The worker's own small server: up, ready (its database answers), and whether it dispatches or stands by
    (`state`: standing_by, dispatching, stopped)."""
    app = FastAPI(title="Learning coach worker", docs_url=None, redoc_url=None, openapi_url=None)
    app.add_middleware(RequestIds)

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "worker": state()}

    app.include_router(router(checks(container, vectors=False), lambda: {"worker": state()}))
    metrics.watch_depths(queue_depths(container))
    return app
