"""Engines, sessions and timestamps for every table (the core's and the knowledge base's share one database);
the schema itself is changed only by Alembic (coach/migrations/)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import delete, event
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, create_engine, select


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(when: datetime) -> datetime:
    """A datetime read back from the database: SQLite returns it naive, and it was stored in UTC."""
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # a connection the server (or a proxy) dropped is replaced before use; a server that does not answer is given
    # up on after 5 s instead of holding a thread; TCP keepalives find a half-open connection within a minute
    return create_engine(url, pool_pre_ping=True, connect_args={
        "connect_timeout": 5, "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10,
        "keepalives_count": 3})


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session(engine: Engine) -> Session:
    return Session(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """One use case's session: committed when the block ends normally, rolled back when it raises, closed either
    way. Services open one per use case, so a use case's changes land together or not at all, and callers never
    hold a live session (objects stay readable after the commit: `expire_on_commit=False`, as in `session`)."""
    with Session(engine, expire_on_commit=False) as db:
        try:
            yield db
            db.commit()
        except BaseException:
            db.rollback()
            raise


class KnowledgeState(SQLModel, table=True):
    """Key/value facts the core and the knowledge base keep: `corpus_version` (bumped on every change of the
    content), `embedder`, the parameters the content-gap clusters were made with."""

    key: str = Field(primary_key=True, max_length=100)
    value: str = ""


def keep_newest(db: Session, id_column, key_column, key, kept: int) -> None:
    """Delete the rows of `key` beyond its `kept` newest (by id): a bounded history per conversation or learner."""
    newest = select(id_column).where(key_column == key).order_by(id_column.desc()).limit(kept)
    db.exec(delete(id_column.class_).where(key_column == key, id_column.not_in(newest.scalar_subquery())))
