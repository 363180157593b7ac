"""The web chat's conversation, kept per learner so that a reload (or a form post without JavaScript) shows it
again: the browser keeps nothing but its learner cookie. Slack and Teams keep their own history; the web has none.

What is kept is what the learner saw: their question, redacted as the needs log keeps it (a name or e-mail address
never reaches the database), or the label of the button they pressed, and the reply as the core made it. Only the
last KEPT turns are kept. It is personal data: part of the learner's export and deleted by "forget me"
(coach/coach.py, coach/self_service.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func
from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.messages import Action, Citation, Reply
from coach.redaction import Redactor
from coach.store.models import WebExchange
from kernel.store import keep_newest, session

KEPT = 30  # turns (a question or a button press, with its reply) kept per learner
SAID_CHARS = 2000  # a longer question is kept shortened: the core does not read past it either


@dataclass(frozen=True)
class Exchange:
    id: int
    kind: str  # ask | action
    said: str  # the redacted question, or the pressed button's label
    reply: Reply
    used: tuple[str, ...]  # kinds of this reply's buttons the learner has pressed since
    created_at: datetime


class Transcripts:
    def __init__(self, engine: Engine, redactor: Redactor) -> None:
        self.engine, self.redactor = engine, redactor

    def asked(self, learner_id: str, question: str, reply: Reply) -> Exchange:
        said = question.strip()
        shortened = len(said) > SAID_CHARS
        said = self.redactor.redact(said[:SAID_CHARS]).text + ("…" if shortened else "")
        return self._add(learner_id, "ask", said, reply)

    def pressed(self, learner_id: str, *, kind: str, value: str, reply: Reply, on: int | None = None) -> Exchange:
        """A button of exchange `on` was pressed: marked used there, and its label and reply join the
        conversation. Without `on` (or another learner's), the reply joins with no label."""
        label = ""
        with session(self.engine) as db:
            row = db.get(WebExchange, on) if on is not None else None
            if row is not None and row.learner_id == learner_id:
                label = next((a["label"] for a in row.reply.get("actions", [])
                              if a["kind"] == kind and a["value"] == value), "")
                if kind not in row.used:
                    row.used = [*row.used, kind]
                    db.add(row)
                    db.commit()
        return self._add(learner_id, "action", label, reply)

    def one(self, learner_id: str, exchange_id: int) -> Exchange | None:
        with session(self.engine) as db:
            row = db.get(WebExchange, exchange_id)
            return _exchange(row) if row is not None and row.learner_id == learner_id else None

    def recent(self, learner_id: str) -> list[Exchange]:
        """Oldest first."""
        with session(self.engine) as db:
            rows = db.exec(select(WebExchange).where(WebExchange.learner_id == learner_id)
                           .order_by(WebExchange.id.desc()).limit(KEPT)).all()
            return [_exchange(row) for row in reversed(rows)]

    def _add(self, learner_id: str, kind: str, said: str, reply: Reply) -> Exchange:
        with session(self.engine) as db:
            row = WebExchange(learner_id=learner_id, kind=kind, said=said, reply=reply_json(reply))
            db.add(row)
            db.flush()
            keep_newest(db, WebExchange.id, WebExchange.learner_id, learner_id, KEPT)
            db.commit()
            db.refresh(row)
            return _exchange(row)


def export(engine: Engine, learner_id: str) -> list[dict]:
    """The conversation as the learner's export shows it, oldest first."""
    with session(engine) as db:
        rows = db.exec(select(WebExchange).where(WebExchange.learner_id == learner_id)
                       .order_by(WebExchange.id)).all()
        return [{"at": row.created_at.isoformat(), "kind": row.kind, "said": row.said,
                 "reply": row.reply.get("text", "")} for row in rows]


def count(engine: Engine, learner_id: str) -> int:
    with session(engine) as db:
        return db.exec(select(func.count()).select_from(WebExchange)
                       .where(WebExchange.learner_id == learner_id)).one()


def forget(engine: Engine, learner_id: str) -> int:
    with session(engine) as db:
        deleted = db.exec(delete(WebExchange).where(WebExchange.learner_id == learner_id)).rowcount
        db.commit()
    return deleted


def reply_json(reply: Reply) -> dict:
    return {"text": reply.text, "abstained": reply.abstained, "mode": reply.mode, "notice": reply.notice,
            "need_id": reply.need_id, "language": reply.language,
            "citations": [{"n": c.n, "source_id": c.source_id, "chunk_id": c.chunk_id, "title": c.title,
                           "where": c.where, "link": c.link, "updated_at": c.updated_at.isoformat()}
                          for c in reply.citations],
            "actions": [{"kind": a.kind, "label": a.label, "value": a.value} for a in reply.actions]}


def reply_of(data: dict) -> Reply:
    return Reply(text=data.get("text", ""), abstained=bool(data.get("abstained")), mode=data.get("mode", "service"),
                 notice=data.get("notice", ""), need_id=data.get("need_id", ""), language=data.get("language", "en"),
                 citations=[Citation(**{**c, "updated_at": datetime.fromisoformat(c["updated_at"])})
                            for c in data.get("citations", [])],
                 actions=[Action(**a) for a in data.get("actions", [])])


def _exchange(row: WebExchange) -> Exchange:
    return Exchange(id=row.id, kind=row.kind, said=row.said, reply=reply_of(row.reply), used=tuple(row.used),
                    created_at=row.created_at)
