"""Alembic environment: runs against the engine the coach built (see coach/store/db.py:migrate)."""

from alembic import context
from sqlalchemy import text
from sqlmodel import SQLModel

import coach.store.models  # noqa: F401  (registers the tables)
import knowledge.models  # noqa: F401

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    engine = config.attributes["engine"]
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # replicas starting together migrate one after the other
            connection.execute(text("SELECT pg_advisory_xact_lock(7263550121)"))
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            # APScheduler's job store keeps its own table (`coach worker` creates it): not ours to migrate
            include_object=lambda obj, name, type_, reflected, compare_to: name != "apscheduler_jobs",
        )
        context.run_migrations()


run_migrations_online()
