"""The app server: one FastAPI app that hosts every connector (the web chat, Slack, Teams)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from connectors import web
from connectors.deliveries import Deliveries
from connectors.slack.routes import mount as mount_slack
from connectors.teams.routes import mount as mount_teams


@asynccontextmanager
async def lifespan(app: FastAPI):
    """Connectors register what must start with the server (Socket Mode, clean-ups) and stop with it."""
    for start in app.state.on_start:
        await start()
    yield
    for stop in app.state.on_stop:
        await stop()


def create_app(container, teams_credentials=None) -> FastAPI:
    """`teams_credentials`: how outgoing Teams calls get a token (default: the app id and password from settings)."""
    app = FastAPI(title="Learning coach", docs_url="/api/docs", redoc_url=None, lifespan=lifespan)
    app.state.container, app.state.on_start, app.state.on_stop = container, [], []
    app.state.deliveries = Deliveries()  # proactive messages through every connector mounted below

    @app.get("/healthz")
    def healthz() -> dict:
        return {"status": "ok", "sources": len(container.knowledge.sources())}

    app.include_router(web.router)
    mount_slack(app, container)
    mount_teams(app, container, teams_credentials)
    return app
