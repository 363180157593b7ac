"""The recent turns of conversations whose platform cannot give them back (a Teams chat: the bot reads no history),
kept in the database so a follow-up ("and for contractors?") is understood whichever app process receives it.
Only questions that became needs are turns: their redacted text, and the opening of the coach's reply."""

from __future__ import annotations

import hashlib

from sqlalchemy.engine import Engine
from sqlmodel import select

from coach.conversation import PREVIOUS_QUESTIONS, REPLY_CHARS, Turn
from kernel.store import keep_newest, session
from coach.store.models import ConversationTurn, Need

KEPT = 2 * PREVIOUS_QUESTIONS  # question-and-reply pairs kept per conversation


def recent(engine: Engine, conversation: str) -> tuple[Turn, ...]:
    """Oldest first, as `IncomingMessage.history` takes them."""
    with session(engine) as db:
        rows = db.exec(select(Need.question, ConversationTurn.reply_opening)
                       .join(Need, Need.id == ConversationTurn.need_id)
                       .where(ConversationTurn.conversation == _key(conversation))
                       .order_by(ConversationTurn.id.desc()).limit(KEPT)).all()
    return tuple(turn for question, reply in reversed(rows)
                 for turn in (Turn("learner", question), Turn("coach", reply)))


def remember(engine: Engine, conversation: str, *, need_id: str, reply: str) -> None:
    key = _key(conversation)
    with session(engine) as db:
        db.add(ConversationTurn(conversation=key, need_id=need_id, reply_opening=reply[:REPLY_CHARS]))
        db.flush()
        keep_newest(db, ConversationTurn.id, ConversationTurn.conversation, key, KEPT)
        db.commit()


def _key(conversation: str) -> str:
    """Conversation ids run to hundreds of characters (Teams); the key is their digest."""
    return hashlib.sha256(conversation.encode()).hexdigest()
