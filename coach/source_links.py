"""Links to an answer's sources that go through the coach: opening one checks that the learner may still read the
source (an audience can change after the answer was given), records that they read it (an xAPI `experienced`),
then redirects to the original at its page, or to the coach's own page of the passage. Only when learning records
are on (`XAPI_ENDPOINT`); otherwise citations link straight to the source as before.

A link names its learner, so it is signed (HMAC under a key of the deployment's) and cannot be forged for another;
it carries no personal data beyond the platform's own user id, which the chat it is posted in already shows."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass, replace

from sqlalchemy.engine import Engine

from coach import deployment
from coach.messages import Reply

KEY_NAME = "source_links_key"
PATH = "/read/"


@dataclass(frozen=True)
class Opened:
    learner_id: str
    source_id: str
    chunk_id: str
    need_id: str
    where: str


class SourceLinks:
    def __init__(self, engine: Engine, public_url: str = "") -> None:
        self.key, self.base = deployment.secret(engine, KEY_NAME), public_url.rstrip("/")

    def track(self, reply: Reply, learner_id: str) -> Reply:
        citations = [replace(c, link=self.url(learner_id, c.source_id, c.chunk_id, reply.need_id, c.where))
                     for c in reply.citations]
        private = reply.private and self.track(reply.private, learner_id)
        return replace(reply, citations=citations, private=private)

    def url(self, learner_id: str, source_id: str, chunk_id: str, need_id: str, where: str) -> str:
        body = json.dumps([learner_id, source_id, chunk_id, need_id, where], separators=(",", ":")).encode()
        payload = base64.urlsafe_b64encode(body).rstrip(b"=").decode()
        return f"{self.base}{PATH}{payload}.{self._sign(payload)}"

    def opened(self, token: str) -> Opened | None:
        """The link's contents, or None when it was not made by this deployment (or was altered)."""
        payload, _dot, signature = token.rpartition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            return Opened(*map(str, fields))
        except (ValueError, TypeError):
            return None

    def _sign(self, payload: str) -> str:
        return hmac.new(self.key, payload.encode(), hashlib.sha256).hexdigest()[:32]
