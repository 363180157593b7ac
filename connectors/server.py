"""The app server: one FastAPI app that hosts every connector (web page now; Slack and Teams join it later)."""

from __future__ import annotations

from fastapi import FastAPI

from connectors import web


def create_app(container) -> FastAPI:
    app = FastAPI(title="Learning coach", docs_url="/api/docs", redoc_url=None)
    app.state.container = container

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "sources": len(container.knowledge.sources())}

    app.include_router(web.router)
    return app
