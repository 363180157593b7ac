"""A local OpenID Connect provider on 127.0.0.1 for the web admin's single sign-on: discovery document, JWKS, an
authorize endpoint that "signs in" `email` at once and redirects back with a code, and a token endpoint that checks
the client secret, the code, the redirect URI and PKCE (S256) before it issues an RS256 ID token with the nonce.

What it saw is recorded (`authorize_requests`, `token_requests`) and what it issues can be spoiled on purpose:
`sign_with` (a key its JWKS does not hold: a bad signature) and `claims` (override or add ID-token claims).
It runs in its own thread, like tests/fakes/bot_connector.py, because the app calls it from inside a request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

KEY_ID = "oidc-test-key"


def _b64(number: int) -> str:
    data = number.to_bytes((number.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class OidcProvider:
    def __init__(self, client_id: str = "coach-admin", client_secret: str = "provider-secret") -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.key = new_key()
        self.email = "lea@example.com"  # who is signed in at the provider
        self.claims: dict = {}  # merged into the next ID tokens (e.g. {"nonce": "other"}, {"email_verified": False})
        self.sign_with: rsa.RSAPrivateKey | None = None  # None: the published key
        self.authorize_requests: list[dict] = []
        self.token_requests: list[dict] = []
        self._codes: dict[str, dict] = {}
        self._lock = threading.Lock()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, payload: dict | None = None, headers: dict | None = None) -> None:
                data = json.dumps(payload).encode() if payload is not None else b""
                self.send_response(status)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", str(len(data)))
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                if parts.path == "/.well-known/openid-configuration":
                    self._send(200, provider.metadata())
                elif parts.path == "/jwks":
                    self._send(200, {"keys": [provider.jwk()]})
                elif parts.path == "/authorize":
                    status, headers, payload = provider.authorize(query)
                    self._send(status, payload, headers)
                else:
                    self._send(404, {"error": "not_found"})

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = {k: v[0] for k, v in parse_qs(body).items()}
                if urlsplit(self.path).path != "/token":
                    self._send(404, {"error": "not_found"})
                    return
                status, payload = provider.exchange(form, self.headers.get("Authorization", ""))
                self._send(status, payload)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.issuer = f"http://127.0.0.1:{self._server.server_port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "OidcProvider":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def metadata(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
                "scopes_supported": ["openid", "email", "profile"]}

    def jwk(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID, "n": _b64(numbers.n), "e": _b64(numbers.e)}

    def authorize(self, query: dict) -> tuple[int, dict, dict | None]:
        """Checks the request the way a real provider would, then redirects back with a one-time code."""
        self.authorize_requests.append(query)
        required = ("client_id", "redirect_uri", "response_type", "state", "nonce", "code_challenge")
        if any(not query.get(name) for name in required) or query["client_id"] != self.client_id \
                or query["response_type"] != "code" or query.get("code_challenge_method") != "S256" \
                or "openid" not in query.get("scope", "").split():
            return 400, {}, {"error": "invalid_request"}
        code = secrets.token_urlsafe(16)
        with self._lock:
            self._codes[code] = {"redirect_uri": query["redirect_uri"], "nonce": query["nonce"],
                                 "challenge": query["code_challenge"], "email": self.email}
        separator = "&" if "?" in query["redirect_uri"] else "?"
        location = query["redirect_uri"] + separator + urlencode({"code": code, "state": query["state"]})
        return 302, {"Location": location}, None

    def _client_ok(self, form: dict, authorization: str) -> bool:
        if authorization.lower().startswith("basic "):
            client_id, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
            client_id, secret = unquote(client_id), unquote(secret)
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        return client_id == self.client_id and secrets.compare_digest(secret, self.client_secret)

    def exchange(self, form: dict, authorization: str) -> tuple[int, dict]:
        self.token_requests.append(form)
        if not self._client_ok(form, authorization):
            return 401, {"error": "invalid_client"}
        with self._lock:
            grant = self._codes.pop(form.get("code", ""), None)  # one use only
        if form.get("grant_type") != "authorization_code" or grant is None \
                or form.get("redirect_uri") != grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        verifier = form.get("code_verifier", "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if not verifier or challenge != grant["challenge"]:
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        access_token = secrets.token_urlsafe(24)
        digest = hashlib.sha256(access_token.encode()).digest()
        claims = {"iss": self.issuer, "aud": self.client_id, "sub": f"sub-{grant['email']}", "email": grant["email"],
                  "email_verified": True, "nonce": grant["nonce"], "iat": now, "exp": now + 600,
                  "at_hash": base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode(), **self.claims}
        claims = {name: value for name, value in claims.items() if value is not None}  # None in `claims` drops one
        id_token = jwt.encode(claims, self.sign_with or self.key, algorithm="RS256", headers={"kid": KEY_ID})
        return 200, {"access_token": access_token, "token_type": "Bearer", "expires_in": 600, "id_token": id_token}
