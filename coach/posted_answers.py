"""Which chat message carries which answer: a rating a platform attaches to the message alone (Teams' thumbs up /
down under an answer) finds the need it rates in any app process, days later. Rows go with their need."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from kernel.store import session
from coach.store.models import PostedAnswer

log = logging.getLogger(__name__)


def remember(engine: Engine, *, platform: str, conversation: str, message_ids: Iterable[str], need_id: str) -> None:
    """`message_ids`: every id the platform may later name the message by (e.g. a stream's id and the final one)."""
    with session(engine) as db:
        try:
            for message_id in dict.fromkeys(m for m in message_ids if m):
                db.merge(PostedAnswer(key=_key(platform, conversation, message_id), need_id=need_id))
            db.commit()
        except IntegrityError:  # the need was deleted ("forget me") while its answer was on its way
            db.rollback()
            log.info("an answer's need is gone; its message is not remembered")


def need_of(engine: Engine, *, platform: str, conversation: str, message_id: str) -> str | None:
    with session(engine) as db:
        posted = db.get(PostedAnswer, _key(platform, conversation, message_id))
    return posted.need_id if posted else None


def _key(platform: str, conversation: str, message_id: str) -> str:
    """Conversation ids run to hundreds of characters; a message id is unique only within its conversation."""
    return hashlib.sha256("\n".join((platform, conversation, message_id)).encode()).hexdigest()
