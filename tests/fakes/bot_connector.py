"""A mock Microsoft Bot Framework connector service (the activity's `serviceUrl` points at it) that records every
activity the bot sends, answers `TeamsInfo.get_member` and proactive `create_conversation`, and can be told to fail
activity posts (e.g. 429 with Retry-After); plus a local OpenID/JWKS provider that signs incoming Bot Framework JWTs.

botbuilder's connector client (msrest) sends through `requests` in an executor and its JWKS refresh is blocking
`requests`, so both servers run in their own thread. msrest URL-encodes path arguments (`a:1` -> `a%3A1`); the mock
decodes them. Outgoing tokens: `FixedTokenCredentialFactory` below gives botbuilder a fixed bearer token without
contacting Microsoft's login host.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import time
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import unquote

import jwt
from botframework.connector.auth import (
    AppCredentials,
    MicrosoftAppCredentials,
    PasswordServiceClientCredentialFactory,
)
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"  # what Bot Framework channel tokens carry in `iss`
KEY_ID = "test-key"

_ERROR_CODES = {400: "BadArgument", 401: "Unauthorized", 403: "Forbidden", 404: "ConversationNotFound",
                412: "PreconditionFailed", 413: "MessageSizeTooBig", 429: "TooManyRequests"}


@dataclass
class Sent:
    path: str  # URL-decoded request path, e.g. /v3/conversations/a:1/activities/123 (/v3/conversations for create)
    conversation: str  # the conversation id from the path (URL-decoded); the new id for create_conversation
    reply_to: str  # the activity id replied to ("" for send_to_conversation, update and create_conversation)
    activity: dict  # the JSON body the bot sent
    token: str  # the bearer token of the Authorization header ("" if none)
    at: float  # time.monotonic() on arrival
    id: str  # the id the mock assigned and returned (for an update: the updated activity's id)
    method: str = "POST"  # "PUT" for update_activity


def _serve(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}/"


class _JSONHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def reply(self, status: int, payload: Any, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.end_headers()
        self.wfile.write(data)


class BotConnector:
    """Routes (Bot Connector REST API v3):
    POST /v3/conversations/{id}/activities            send_to_conversation -> 200 {"id": new}
    POST /v3/conversations/{id}/activities/{activity}  reply_to_activity    -> 200 {"id": new}
    PUT  /v3/conversations/{id}/activities/{activity}  update_activity      -> 200 {"id": activity} (method "PUT")
    POST /v3/conversations                             create_conversation  -> 200 {"id": "a:created-<n>", ...}
    GET  /v3/conversations/{id}/members/{user}         get_conversation_member (TeamsInfo.get_member)
    anything else: 404 with a JSON error, recorded nowhere.

    `failures` and `fail_when` apply to the two activity POSTs only; a failed post is not in `sent` but counts in
    `attempts`. msrest does not retry POSTs (urllib3 2 ignores its `method_whitelist`), so one failure = one error."""

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.failures: list[tuple[int, dict]] = []  # consumed in order by the next activity POSTs
        self.fail_when: Callable[[dict], tuple[int, dict] | None] | None = None
        self.created: list[dict] = []  # bodies of POST /v3/conversations
        self.members: dict[str, dict] = {}  # user id -> fields merged into the get_member answer
        self.attempts = 0  # every activity POST, failed or not
        self._ids = itertools.count(1)
        self._conversations = itertools.count(1)
        self._lock = threading.RLock()
        self.changed = threading.Condition(self._lock)
        connector = self

        class Handler(_JSONHandler):
            def _handle(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    self.reply(400, {"error": {"code": "BadSyntax", "message": "the body is not JSON"}})
                    return
                token = self.headers.get("Authorization", "")
                token = token[7:] if token[:7].lower() == "bearer " else token
                status, headers, payload = connector._handle(self.command, self.path.partition("?")[0], body, token)
                self.reply(status, payload, headers)

            do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

        self._server, self.base_url = _serve(Handler)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _new_id(self) -> str:
        return str(1700000000000 + next(self._ids))

    def _handle(self, method: str, raw_path: str, body: Any, token: str) -> tuple[int, dict, Any]:
        parts = [unquote(p) for p in raw_path.strip("/").split("/")]  # split before decoding: ids may hold %2F
        path = "/" + "/".join(parts)
        at = time.monotonic()
        if parts[:2] != ["v3", "conversations"] or not isinstance(body, dict):
            return self._not_found(method, path)
        rest = parts[2:]
        with self.changed:
            if method == "POST" and rest == []:
                return self._create_conversation(path, body, token, at)
            if len(rest) in (2, 3) and rest[1] == "activities" and method == "POST" and rest[-1] != "history":
                conversation, reply_to = rest[0], (rest[2] if len(rest) == 3 else "")
                self.attempts += 1
                failure = self.failures.pop(0) if self.failures else (self.fail_when and self.fail_when(body))
                if failure:
                    status, headers = failure
                    self.changed.notify_all()
                    code = _ERROR_CODES.get(status, "ServiceError")
                    return status, dict(headers), {"error": {"code": code, "message": f"injected failure {status}"}}
                activity_id = self._new_id()
                self._record(Sent(path, conversation, reply_to, body, token, at, activity_id))
                return 200, {}, {"id": activity_id}
            if len(rest) == 3 and rest[1] == "activities" and method == "PUT":
                self._record(Sent(path, rest[0], "", body, token, at, rest[2], method="PUT"))
                return 200, {}, {"id": rest[2]}
            if len(rest) == 3 and rest[1] == "members" and method == "GET":
                return 200, {}, self.member(rest[2])
        return self._not_found(method, path)

    def _create_conversation(self, path: str, body: dict, token: str, at: float) -> tuple[int, dict, Any]:
        self.created.append(body)
        conversation = f"a:created-{next(self._conversations)}"
        answer = {"id": conversation, "activityId": "", "serviceUrl": self.base_url}
        if isinstance(body.get("activity"), dict):
            answer["activityId"] = self._new_id()
            self._record(Sent(path, conversation, "", body["activity"], token, at, answer["activityId"]))
        self.changed.notify_all()
        return 200, {}, answer

    def _record(self, sent: Sent) -> None:
        self.sent.append(sent)
        self.changed.notify_all()

    @staticmethod
    def _not_found(method: str, path: str) -> tuple[int, dict, Any]:
        return 404, {}, {"error": {"code": "NotFound", "message": f"the mock connector has no {method} {path}"}}

    def member(self, user_id: str) -> dict:
        """What GET .../members/{user_id} answers: a Teams ChannelAccount, overridable via `members[user_id]`."""
        return {"id": user_id, "name": "Test User", "givenName": "Test", "surname": "User",
                "aadObjectId": str(uuid.uuid5(uuid.NAMESPACE_URL, user_id)), "email": "test.user@example.com",
                "userPrincipalName": "test.user@example.com", "tenantId": "test-tenant", "userRole": "user",
                **self.members.get(user_id, {})}

    # --- what the tests look at -------------------------------------------------------------------------------------

    def of(self, type_: str) -> list[Sent]:
        """Sent activities of one type ("message", "typing"), updates (method "PUT") included."""
        with self._lock:
            return [s for s in self.sent if s.activity.get("type") == type_]

    def wait_for(self, predicate: Callable[[list[Sent]], bool], timeout: float = 20) -> list[Sent]:
        """Waits until `predicate(sent)` is true (answers are made after the HTTP response, so they arrive later)."""
        with self.changed:
            if not self.changed.wait_for(lambda: predicate(self.sent), timeout=timeout):
                seen = [(s.method, s.activity.get("type"), s.conversation, s.reply_to, s.activity.get("text"))
                        for s in self.sent]
                raise AssertionError(f"the mock connector never saw it; attempts: {self.attempts}; sent: {seen}")
            return list(self.sent)


def _b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class OpenIdProvider:
    """Serves /.well-known/openid-configuration ({"issuer": ISSUER, "jwks_uri": base + "keys",
    "id_token_signing_alg_values_supported": ["RS256"]}) and /keys (a JWKS with one RSA public key, kid "test-key",
    "use": "sig", "kty": "RSA", "n", "e", and "endorsements": ["msteams"]) on 127.0.0.1 in its own thread.

    Each instance has its own port, hence its own metadata URL: botbuilder caches keys per URL for a day, class-wide.
    botbuilder allows 5 minutes of clock skew: an "expired" token needs expires_in < -300."""

    issuer = ISSUER

    def __init__(self, endorsements: tuple[str, ...] = ("msteams",)) -> None:
        self.key = self.generate_key()
        self.endorsements = list(endorsements)
        self.hits: list[str] = []  # paths requested (to see botbuilder's key refreshes)
        provider = self

        class Handler(_JSONHandler):
            def do_GET(self) -> None:
                path = self.path.partition("?")[0]
                provider.hits.append(path)
                if path == "/.well-known/openid-configuration":
                    self.reply(200, {"issuer": provider.issuer, "jwks_uri": provider.base_url + "keys",
                                     "id_token_signing_alg_values_supported": ["RS256"]})
                elif path == "/keys":
                    self.reply(200, {"keys": [provider.jwk()]})
                else:
                    self.reply(404, {"error": "not_found"})

        self._server, self.base_url = _serve(Handler)
        self.metadata_url = self.base_url + ".well-known/openid-configuration"

    @staticmethod
    def generate_key() -> rsa.RSAPrivateKey:
        """A fresh RSA key (pass it as `key=` to sign a token the provider does not know)."""
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)

    def jwk(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "kid": KEY_ID, "alg": "RS256", "n": _b64(numbers.n), "e": _b64(numbers.e),
                "endorsements": self.endorsements}

    def token(self, *, app_id: str, service_url: str, expires_in: int = 3600, key: rsa.RSAPrivateKey | None = None,
              kid: str = KEY_ID, issuer: str | None = None, audience: str | None = None) -> str:
        """An RS256 channel token as Teams sends it: claims aud (audience or app_id), iss, serviceurl, nbf, iat, exp."""
        now = int(time.time())
        claims = {"aud": audience if audience is not None else app_id, "iss": issuer or self.issuer,
                  "serviceurl": service_url, "nbf": now - 5, "iat": now - 5, "exp": now + expires_in}
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid})

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


# --- outgoing tokens without Microsoft's login host -----------------------------------------------------------------


class FixedTokenCredentials(AppCredentials):
    """Credentials that sign every connector call with `Bearer <token>` (no msal, no network)."""

    def __init__(self, app_id: str, token: str, oauth_scope: str | None = None) -> None:
        super().__init__(app_id=app_id, oauth_scope=oauth_scope)
        self.token = token

    def get_access_token(self, force_refresh: bool = False) -> str:
        return self.token


class FixedTokenCredentialFactory(PasswordServiceClientCredentialFactory):
    """Pass as `credential_factory=` (BotFrameworkAuthenticationFactory.create) or `credentials_factory=`
    (ConfigurationBotFrameworkAuthentication): incoming tokens must have aud == app_id; outgoing calls carry `token`."""

    def __init__(self, app_id: str, password: str = "", token: str = "test-outgoing-token") -> None:
        super().__init__(app_id, password)
        self.token = token

    async def create_credentials(self, app_id: str, oauth_scope: str, login_endpoint: str,
                                 validate_authority: bool) -> AppCredentials:
        if await self.is_authentication_disabled():
            return MicrosoftAppCredentials.empty()
        if not await self.is_valid_app_id(app_id):
            raise PermissionError(f"Invalid app_id {app_id!r}")
        return FixedTokenCredentials(app_id, self.token, oauth_scope)
