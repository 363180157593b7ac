"""Who is asking, and may they: the web admin's session cookie, CSRF tokens, and the role checks every admin route
depends on (pages: `require(...)`, API: `require_token(...)`).

The cookie (Starlette's SessionMiddleware: itsdangerous-signed, HttpOnly, SameSite=Lax, Secure under an https
COACH_PUBLIC_URL, path /admin) carries a random session id and the CSRF token; the session itself lives in the
database (coach/accounts.py), so signing out or removing an account ends it on the server. Lax rather than Strict
because the single sign-on callback arrives as a cross-site redirect and must find its state in the session.
"""

from __future__ import annotations

import os
import secrets
import time
from urllib.parse import urlsplit

from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse
from starlette.middleware.sessions import SessionMiddleware

from coach import accounts
from coach.store.models import Account
from connectors.admin.context import container_of

SESSION_COOKIE = "coach_admin"
LOGIN_PATH = "/admin/login"
HOME_PATH = "/admin"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_FIELD, CSRF_HEADER = "csrf_token", "x-csrf-token"
REQUEST_FILES_OF_MAX_SIZE = 10  # a request may carry this many files of the largest size allowed, plus form fields
_TOUCH_S = 60  # how often a used session's cookie is re-signed, which restarts its idle clock


class SignInRequired(Exception):
    """No (live) session: pages answer 303 to the sign-in page, which comes back to `next` afterwards."""

    def __init__(self, next_path: str = HOME_PATH) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class PageRefused(Exception):
    """A page request refused with a status and a sentence for the person (wrong role, bad CSRF token, 429)."""

    def __init__(self, status: int, message: str, headers: dict | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


# --- the cookie ------------------------------------------------------------------------------------------------------


def secret_key(settings) -> str:
    """ADMIN_SECRET_KEY, or a random key made once and kept (mode 0600) under the data folder, so restarts keep
    sign-ins. Created with O_EXCL: two processes starting together end up with the same key."""
    if settings.admin_secret_key:
        return settings.admin_secret_key.get_secret_value()
    path = settings.data_dir / "admin_secret.key"
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_text().strip()
            if len(key) >= 32:
                return key
            path.unlink(missing_ok=True)  # left empty by a crash between create and write
            continue
        with os.fdopen(fd, "w") as file:
            file.write(secrets.token_urlsafe(48))
        return path.read_text().strip()
    raise RuntimeError(f"Could not create the web admin's key in {path}: set ADMIN_SECRET_KEY instead.")


def add_session_cookie(app, settings) -> None:
    app.add_middleware(SessionMiddleware, secret_key=secret_key(settings), session_cookie=SESSION_COOKIE,
                       max_age=max(60, int(settings.admin_idle_minutes * 60)), path="/admin", same_site="lax",
                       https_only=settings.public_url.lower().startswith("https://"))


def client_address(request: Request) -> str:
    return request.client.host if request.client else ""


def csrf_token(request: Request) -> str:
    """The session's synchronizer token, made on first use; forms carry it as `csrf_token`, fetch/htmx as the
    X-CSRF-Token header (base.html puts it in a meta tag and static/admin.js adds the header)."""
    token = request.session.get("csrf")
    if not token:
        token = request.session["csrf"] = secrets.token_urlsafe(32)
    return token


async def csrf_protect(request: Request) -> None:
    """Router dependency of every admin page router (see `page_router`): an unsafe method without the session's
    token is refused with 403 before the route runs, so nothing changes."""
    if request.method not in UNSAFE_METHODS:
        return
    expected = request.session.get("csrf", "")
    sent = request.headers.get(CSRF_HEADER, "")
    content_type = request.headers.get("content-type", "")
    if expected and not sent and content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        if body_too_large(request):
            raise PageRefused(413, "This request is too large: send fewer files at once.")
        sent = (await request.form()).get(CSRF_FIELD, "")  # only read for a browser that has a session
    if not expected or not isinstance(sent, str) or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise PageRefused(403, "This form has expired or did not come from this site. Reload the page and try again.")


def body_too_large(request: Request) -> bool:
    """True when a request announces more than REQUEST_FILES_OF_MAX_SIZE files of the largest upload allowed
    (`COACH_MAX_UPLOAD_MB`), checked before the body is read, so a runaway upload is refused at its first byte."""
    most = container_of(request).settings.max_upload_bytes * REQUEST_FILES_OF_MAX_SIZE + 1024 * 1024
    try:
        return int(request.headers.get("content-length") or 0) > most
    except ValueError:
        return True


def safe_next(value: str | None) -> str:
    """Only a path inside the admin is a place to go back to after signing in (no open redirect)."""
    if not value:
        return HOME_PATH
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith(("//", "/\\")) or not (
            parts.path == HOME_PATH or parts.path.startswith(HOME_PATH + "/")) or parts.path.startswith(LOGIN_PATH):
        return HOME_PATH
    return value


# --- sessions --------------------------------------------------------------------------------------------------------


def signed_in(request: Request) -> Account | None:
    """The account of this browser's live session (read fresh, so a role change applies at once), or None."""
    if hasattr(request.state, "admin_account"):
        return request.state.admin_account
    account, session_id = None, request.session.get("sid")
    if session_id:
        account = accounts.session_account(container_of(request).engine, session_id=session_id)
        if account is None:
            request.session.clear()  # ended, expired or removed: drop the cookie too
        elif time.time() - request.session.get("seen", 0) > _TOUCH_S:
            request.session["seen"] = int(time.time())
    request.state.admin_account = account
    return account


def sign_in(request: Request, account: Account, how: str, next_path: str | None) -> RedirectResponse:
    """A fresh session (new id and CSRF token: no fixation) and on to `next_path` (checked by `safe_next`)."""
    settings = container_of(request).settings
    next_path = safe_next(next_path)
    request.session.clear()
    address = client_address(request)
    request.session["sid"] = accounts.begin_sign_in(container_of(request).engine, account=account,
                                                   hours=settings.admin_session_hours, address=address)
    request.session["seen"] = int(time.time())
    csrf_token(request)
    accounts.audit(container_of(request).engine, actor=account.email, action=accounts.SIGNED_IN, address=address,
                   detail=how)
    return RedirectResponse(next_path, status_code=303)


def sign_out(request: Request) -> None:
    account, session_id = signed_in(request), request.session.get("sid")
    if session_id:
        accounts.end_sign_in(container_of(request).engine, session_id=session_id)
    if account is not None:
        accounts.audit(container_of(request).engine, actor=account.email, action="sign-out",
                       address=client_address(request))
    request.session.clear()


# --- role checks -----------------------------------------------------------------------------------------------------


def permitted(role: str, roles: tuple[str, ...]) -> bool:
    """ld-admin may do everything; no roles named means any signed-in role."""
    return role == accounts.ADMIN or not roles or role in roles


def _checked(roles: tuple[str, ...]) -> tuple[str, ...]:
    for role in roles:
        accounts.check_role(role)
    return roles


def require(*roles: str):
    """A dependency for pages: the signed-in Account when its role is one of `roles` (ld-admin always passes).
    No session: 303 to the sign-in page; another role: a 403 page (and an audit entry); nothing runs either way.
    `request.state.actor` is then who to name in `accounts.audit`."""
    roles = _checked(roles)

    def check(request: Request) -> Account:
        account = signed_in(request)
        if account is None:
            raise SignInRequired(request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        if not permitted(account.role, roles):
            accounts.audit(container_of(request).engine, actor=account.email, action="access-denied",
                           target=request.url.path, address=client_address(request), detail=f"role {account.role}")
            raise PageRefused(403, f"Your role ({account.role}) cannot open this page.")
        request.state.account, request.state.actor = account, account.email
        return account

    check.admin_roles = roles  # marks a role check (see connectors/admin/__init__.py: verify_routes)
    return check


def require_token(*roles: str):
    """A dependency for /api/admin/...: the Account a bearer token acts as (Authorization: Bearer TOKEN). No or an
    unknown token: 401; another role: 403. No cookies are involved, so no CSRF token either."""
    roles = _checked(roles)

    def check(request: Request) -> Account:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        found = accounts.token_account(container_of(request).engine, secret=secret.strip()) \
            if scheme.lower() == "bearer" else None
        if found is None:
            challenge = 'Bearer realm="coach-admin"' + (', error="invalid_token"' if secret else "")
            raise HTTPException(401, "A valid bearer token is needed (`coach tokens create --role ROLE`).",
                                headers={"WWW-Authenticate": challenge})
        account, token = found
        if not permitted(account.role, roles):
            raise HTTPException(403, f"This token's role ({token.role}) may not do this.")
        request.state.account, request.state.actor = account, f"token:{token.name or token.id}"
        return account

    check.admin_roles = roles
    return check


def actor_of(request: Request) -> str:
    """Who to name in the audit log for this request (after a role check ran)."""
    return getattr(request.state, "actor", "") or "anonymous"
