"""The company's LRS over HTTP (xAPI 1.0.3 statements resource) for the core's outbox sender: Basic auth, the
version header every request must carry, and each outcome told apart (stored, refused, away, or maybe stored)."""

from __future__ import annotations

import email.utils
import time
from datetime import datetime

import httpx

from coach.ports import LrsResult
from coach.xapi.sender import result_of

VERSION = "1.0.3"
HINTS = {401: "check XAPI_USERNAME and XAPI_PASSWORD", 403: "the LRS client may not write statements",
         404: "check XAPI_ENDPOINT: it is the LRS's xAPI base, the part before /statements"}


class HttpLrs:
    def __init__(self, endpoint: str, username: str = "", password: str = "", *, timeout_s: float = 30.0) -> None:
        self.url = endpoint.rstrip("/") + "/statements"
        self.client = httpx.AsyncClient(
            auth=httpx.BasicAuth(username, password) if username else None, timeout=timeout_s,
            headers={"X-Experience-API-Version": VERSION, "Content-Type": "application/json"})

    @classmethod
    def from_settings(cls, settings) -> "HttpLrs | None":
        if not settings.xapi_endpoint:
            return None
        return cls(settings.xapi_endpoint, settings.xapi_username, settings.xapi_password.get_secret_value())

    async def post(self, statements: list[dict]) -> LrsResult:
        try:
            response = await self.client.post(self.url, json=statements)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            return LrsResult(stored=False, reason=f"the LRS is unreachable ({type(exc).__name__})")
        except httpx.HTTPError as exc:  # sent, but no answer: it may hold them
            return LrsResult(stored=False, reason=f"no answer from the LRS ({type(exc).__name__})", reached=True)
        reason = "" if response.is_success else _reason(response)
        return result_of(response.status_code, reason, _retry_after(response.headers.get("Retry-After")))

    async def has(self, statement_id: str) -> bool | None:
        try:
            response = await self.client.get(self.url, params={"statementId": statement_id})
        except httpx.HTTPError:
            return None
        if response.status_code == 404:
            return False
        if not response.is_success:
            return None
        body = response.json()
        found = body if isinstance(body, list) else body.get("statements", [body]) if isinstance(body, dict) else []
        return any(isinstance(s, dict) and s.get("id") == statement_id for s in found)

    async def stored_since(self, since: datetime, pages: int) -> tuple[set[str], bool] | None:
        ids: set[str] = set()
        params: dict | None = {"since": since.isoformat(), "limit": 500, "format": "ids"}
        url = self.url
        try:
            for _ in range(pages):
                response = await self.client.get(url, params=params)
                if not response.is_success:
                    return None
                body = response.json()
                ids |= {s["id"] for s in body.get("statements", []) if isinstance(s, dict) and "id" in s}
                if not body.get("more"):
                    return ids, True
                url, params = str(httpx.URL(self.url).join(body["more"])), None
        except (httpx.HTTPError, ValueError):
            return None
        return ids, False

    async def answers(self) -> bool:
        try:
            response = await self.client.get(self.url.rsplit("/", 1)[0] + "/about", timeout=5)
        except httpx.HTTPError:
            return False
        return response.status_code < 500

    async def close(self) -> None:
        await self.client.aclose()


def _reason(response: httpx.Response) -> str:
    text = response.text.strip().replace("\n", " ")[:200]
    hint = HINTS.get(response.status_code, "")
    return "; ".join(filter(None, (f"{response.status_code} {response.reason_phrase}", text, hint)))


def _retry_after(value: str | None) -> float | None:
    """Retry-After in seconds or as an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        return max(0.0, email.utils.parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None
