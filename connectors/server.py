"""The app server: one FastAPI app that hosts every connector (the web chat, Slack, Teams)."""

from __future__ import annotations

from contextlib import asynccontextmanager

from fastapi import FastAPI

from connectors import http_errors, ops, policies, web
from connectors.background import keep_running
from connectors.admin import mount as mount_admin
from connectors.deliveries import Deliveries
from connectors.security_headers import SecurityHeaders
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
    app = FastAPI(title="Learning coach", docs_url=None, redoc_url=None, openapi_url=None,  # connectors/admin/schema.py
                  lifespan=lifespan)
    app.state.container, app.state.on_start, app.state.on_stop = container, [], []
    app.state.deliveries = Deliveries()  # proactive messages through every connector mounted below

    @app.get("/healthz")
    def healthz() -> dict:
        """The process is up (whatever its database does: that is /readyz's question); the sources, when it can."""
        try:
            return {"status": "ok", "sources": container.knowledge.count()}
        except Exception:
            return {"status": "ok"}

    ops.mount(app, container)  # /readyz, /metrics, request ids
    app.include_router(web.router)
    app.add_middleware(SecurityHeaders, paths=web.PATHS)  # the admin's mount adds its own
    http_errors.install(app)  # error bodies stay small
    app.include_router(policies.router)
    mount_admin(app, container)
    mount_slack(app, container)
    mount_teams(app, container, teams_credentials)
    if container.settings.run_worker:
        host_worker(app, container)
    return app


def host_worker(app: FastAPI, container) -> None:
    """The app server also sends nudges, through the connectors mounted above; while another worker dispatches for
    this deployment, it stands by and takes over when that one stops."""
    from coach.nudges.worker import run_dispatcher
    from connectors.lrs import HttpLrs

    settings = container.settings
    keep_running(app, lambda: run_dispatcher(
        container.engine, settings.data_dir, app.state.deliveries, settings.nudges_per_day,
        sync_s=settings.worker_sync_s, lrs=HttpLrs.from_settings(settings), xapi_batch=settings.xapi_batch))
