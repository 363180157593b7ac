"""Who may open the web admin and what they may do there: accounts with roles, argon2 passwords, server-side
sessions, bearer tokens for scripts, the audit log, and the limit on failed sign-ins.

No web framework here: the `coach users` / `coach tokens` commands and the pages share one set of rules, and every
change to an account or a token is audited in the same place whichever door it came through."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import delete, select

from kernel.errors import CoachError, NotFound
from kernel.store import as_utc, session, utcnow
from coach.store.models import Account, AdminSession, ApiToken, AuditEntry, Learner

# ld-admin may do everything; a manager sees their teams' aggregates and their own nudge schedules; a viewer reports
ROLES = ("ld-admin", "manager", "viewer")
ADMIN = "ld-admin"
MIN_PASSWORD = 12
TOKEN_PREFIX = "coach_"
SIGNED_IN, SIGN_IN_FAILED = "sign-in", "sign-in-failed"

_hasher = PasswordHasher()  # argon2id with the library's current recommended parameters
# the bases of the passwords every guessing list starts with, before digits and punctuation are added
_COMMON = {"password", "passwort", "wachtwoord", "qwerty", "qwertyuiop", "azerty", "letmein", "welcome", "admin",
           "administrator", "iloveyou", "changeme", "secret", "login", "abc", "abcdef", "monkey", "dragon",
           "sunshine", "football", "summer", "winter", "spring", "autumn", "learning", "coach"}


class AccountError(CoachError):
    """An account or token request that cannot be done as asked (unknown role, weak password, duplicate)."""


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s.]+", email):
        raise AccountError(f"{email!r} is not an e-mail address.")
    return email


def check_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: choose one of {', '.join(ROLES)}.")
    return role


def weak_password(password: str, email: str) -> str | None:
    """Why a password is too easy to guess, or None. Length over composition rules (NIST SP 800-63B)."""
    if not password:
        return "The password is empty."
    if len(password) < MIN_PASSWORD:
        return f"The password is too short: use at least {MIN_PASSWORD} characters (a few words are easiest)."
    if len(password) > 1024:
        return "The password is longer than 1024 characters."
    if len(set(password)) < 5:
        return "The password repeats too few characters."
    lowered, name = password.lower(), email.partition("@")[0].lower()
    if len(name) >= 3 and name in lowered:
        return "The password contains the e-mail's name."
    if re.sub(r"[^a-z]", "", lowered) in _COMMON or lowered in "01234567890123456789 qwertyuiopasdfghjklzxcvbnm":
        return "The password is one of the first that anyone guesses."
    return None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def _decoy_hash() -> str:
    """Checked when there is no password to check, so an unknown e-mail takes as long as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- accounts --------------------------------------------------------------------------------------------------------


def get_account(engine: Engine, *, email: str) -> Account | None:
    try:
        email = normalize_email(email)
    except AccountError:
        return None
    with session(engine) as db:
        return db.exec(select(Account).where(Account.email == email)).first()


def list_accounts(engine: Engine) -> list[Account]:
    with session(engine) as db:
        return list(db.exec(select(Account).order_by(Account.email)).all())


def add_account(engine: Engine, *, email: str, role: str, password: str | None, teams: list[str] = (),
                learner_id: str = "", actor: str, address: str = "cli") -> Account:
    """`password` None: single sign-on only (the account can never sign in with a password)."""
    email, role = normalize_email(email), check_role(role)
    if password is not None and (reason := weak_password(password, email)):
        raise AccountError(reason)
    if get_account(engine, email=email):
        raise AccountError(f"{email} already has an account: change it with `coach users set-role`.")
    account = Account(email=email, role=role, password_hash=hash_password(password) if password is not None else "",
                      teams=sorted(set(teams)), learner_id=learner_id)
    with session(engine) as db:
        db.add(account)
        db.commit()
        db.refresh(account)
    audit(engine, actor=actor, action="user-added", target=email, address=address,
          detail=f"role {role}" + ("" if password is not None else ", single sign-on only"))
    return account


def _existing(db, email: str) -> Account:
    account = db.exec(select(Account).where(Account.email == normalize_email(email))).first()
    if account is None:
        raise NotFound(f"No account for {email}: `coach users list` shows them.")
    return account


def update_account(engine: Engine, *, email: str, actor: str, address: str = "cli", role: str | None = None,
                   teams: list[str] | None = None, learner_id: str | None = None) -> Account:
    """Only what is given changes. A new role applies to the account's open sessions at their next request."""
    with session(engine) as db:
        account = _existing(db, email)
        changes = []
        if role is not None and role != account.role:
            changes.append(f"role {account.role} -> {check_role(role)}")
            account.role = role
        if teams is not None and sorted(set(teams)) != account.teams:
            account.teams = sorted(set(teams))
            changes.append(f"teams {', '.join(account.teams) or '-'}")
        if learner_id is not None and learner_id != account.learner_id:
            account.learner_id = learner_id
            changes.append(f"learner {learner_id or '-'}")
        db.add(account)
        db.commit()
    if changes:
        audit(engine, actor=actor, action="user-changed", target=account.email, address=address,
              detail="; ".join(changes))
    return account


def set_password(engine: Engine, *, email: str, password: str | None, actor: str, address: str = "cli") -> Account:
    """A new password (None: single sign-on only); every open session of the account ends."""
    with session(engine) as db:
        account = _existing(db, email)
        if password is not None and (reason := weak_password(password, account.email)):
            raise AccountError(reason)
        account.password_hash = hash_password(password) if password is not None else ""
        db.add(account)
        db.exec(delete(AdminSession).where(AdminSession.account_id == account.id))
        db.commit()
    audit(engine, actor=actor, action="user-password-set", target=account.email, address=address,
          detail="" if password is not None else "single sign-on only")
    return account


def remove_account(engine: Engine, *, email: str, actor: str, address: str = "cli") -> Account:
    """The account, its sessions (signed out at once) and the tokens that act for it."""
    with session(engine) as db:
        account = _existing(db, email)
        db.exec(delete(AdminSession).where(AdminSession.account_id == account.id))
        db.exec(delete(ApiToken).where(ApiToken.account_id == account.id))
        db.delete(account)
        db.commit()
    audit(engine, actor=actor, action="user-removed", target=account.email, address=address)
    return account


def authenticate(engine: Engine, *, email: str, password: str) -> Account | None:
    """The account when the password is right; None for a wrong password, an unknown e-mail or a single sign-on
    account alike, in about the same time (one argon2 verification each way)."""
    account = get_account(engine, email=email)
    stored = account.password_hash if account and account.password_hash else _decoy_hash()
    try:
        _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return None
    if account is None or not account.password_hash:
        return None
    if _hasher.check_needs_rehash(account.password_hash):  # parameters were raised since it was hashed
        with session(engine) as db:
            account.password_hash = hash_password(password)
            db.add(account)
            db.commit()
    return account


def teams_of(engine: Engine, account: Account) -> list[str] | None:
    """The teams an account may see aggregates of: None means every team (ld-admin); a viewer has none of its own.
    A manager's are those listed on the account plus the team of the learner it is linked to."""
    if account.role == ADMIN:
        return None
    if account.role != "manager":
        return []
    teams = set(account.teams)
    if account.learner_id:
        with session(engine) as db:
            learner = db.get(Learner, account.learner_id)
        if learner and learner.team:
            teams.add(learner.team)
    return sorted(teams)


def schedule_owners(account: Account) -> set[str]:
    """The `NudgeSchedule.owner` values that are this account's own: its e-mail and its learner id in chat."""
    return {account.email} | ({account.learner_id} if account.learner_id else set())


# --- sessions --------------------------------------------------------------------------------------------------------


def begin_sign_in(engine: Engine, *, account: Account, hours: float, address: str) -> str:
    """A signed-in admin session: its new id for the cookie (only its hash is stored); expired sessions are cleared
    on the way. Named for signing in rather than "session", which in this code base means a database session."""
    raw, now = secrets.token_urlsafe(32), utcnow()
    with session(engine) as db:
        db.exec(delete(AdminSession).where(AdminSession.expires_at < now))
        db.add(AdminSession(id=_hash_secret(raw), account_id=account.id, expires_at=now + timedelta(hours=hours),
                            address=address[:64]))
        stored = db.get(Account, account.id)
        stored.last_sign_in_at = now
        db.add(stored)
        db.commit()
    return raw


def session_account(engine: Engine, *, session_id: str) -> Account | None:
    """The account of a live session; None when it ended, expired, or its account was removed."""
    with session(engine) as db:
        row = db.get(AdminSession, _hash_secret(session_id))
        if row is None or as_utc(row.expires_at) <= utcnow():
            return None
        return db.get(Account, row.account_id)


def end_sign_in(engine: Engine, *, session_id: str) -> None:
    with session(engine) as db:
        db.exec(delete(AdminSession).where(AdminSession.id == _hash_secret(session_id)))
        db.commit()


# --- bearer tokens ---------------------------------------------------------------------------------------------------


def create_token(engine: Engine, *, role: str, name: str = "", account_email: str = "", actor: str,
                 address: str = "cli") -> tuple[ApiToken, str]:
    """The stored token and its secret, which is shown once and never kept. A manager token must act for a manager
    account (its teams and schedules); other roles may act for an account too."""
    role, account = check_role(role), None
    if account_email:
        account = get_account(engine, email=account_email)
        if account is None:
            raise NotFound(f"No account for {account_email}: `coach users list` shows them.")
    if role == "manager" and (account is None or account.role != "manager"):
        raise AccountError("A manager token acts for a manager account: add --account EMAIL of one.")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(id=secrets.token_hex(4), name=name.strip()[:100], role=role,
                     account_id=account.id if account else None, secret_hash=_hash_secret(secret), created_by=actor)
    with session(engine) as db:
        db.add(token)
        db.commit()
    audit(engine, actor=actor, action="token-created", target=f"{token.id} {token.name}".strip(), address=address,
          detail=f"role {role}" + (f", for {account.email}" if account else ""))
    return token, secret


def list_tokens(engine: Engine) -> list[ApiToken]:
    with session(engine) as db:
        return list(db.exec(select(ApiToken).order_by(ApiToken.created_at)).all())


def revoke_token(engine: Engine, *, token_id: str, actor: str, address: str = "cli") -> ApiToken:
    with session(engine) as db:
        token = db.get(ApiToken, token_id)
        if token is None:
            raise NotFound(f"No token {token_id}: `coach tokens list` shows them.")
        db.delete(token)
        db.commit()
    audit(engine, actor=actor, action="token-revoked", target=f"{token.id} {token.name}".strip(), address=address)
    return token


def token_account(engine: Engine, *, secret: str) -> tuple[Account, ApiToken] | None:
    """Who a bearer token acts as: an unsaved Account with the token's role (and the teams and e-mail of the account
    it acts for, if any); None for an unknown or revoked token. The hash lookup compares no secret byte by byte."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    now = utcnow()
    with session(engine) as db:
        token = db.exec(select(ApiToken).where(ApiToken.secret_hash == _hash_secret(secret))).first()
        if token is None:
            return None
        owner = db.get(Account, token.account_id) if token.account_id is not None else None
        if token.account_id is not None and owner is None:
            return None
        if token.last_used_at is None or now - as_utc(token.last_used_at) > timedelta(minutes=1):
            token.last_used_at = now
            db.add(token)
            db.commit()
    acting = Account(email=owner.email if owner else f"token:{token.name or token.id}", role=token.role,
                     teams=list(owner.teams) if owner else [], learner_id=owner.learner_id if owner else "")
    return acting, token


# --- audit log and the sign-in limit ---------------------------------------------------------------------------------


def audit(engine: Engine, *, actor: str, action: str, target: str = "", address: str = "", detail: str = "") -> None:
    """Record an admin action. Pages call it for every change they make; pass redacted text only."""
    with session(engine) as db:
        db.add(AuditEntry(actor=actor[:254], action=action[:60], target=target[:300], address=address[:64],
                          detail=detail[:500]))
        db.commit()


def latest_audit(engine: Engine, *, limit: int = 100, action: str = "") -> list[AuditEntry]:
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit)
    if action:
        query = query.where(AuditEntry.action == action)
    with session(engine) as db:
        return list(db.exec(query).all())


def sign_in_wait(engine: Engine, *, email: str, address: str, failures: int, window: timedelta) -> timedelta | None:
    """How long until another password may be tried for this e-mail from this address; None: now. Counted from the
    audit log: `failures` failed sign-ins within `window` for the e-mail (since its last success) or from the
    address (any e-mail) hold further tries until the oldest that counts leaves the window."""
    if failures <= 0:
        return None
    now = utcnow()
    since = now - window
    email = email.strip().lower()[:254]
    failed = select(AuditEntry.at).where(AuditEntry.action == SIGN_IN_FAILED).order_by(AuditEntry.at)
    with session(engine) as db:
        last_ok = db.exec(select(func.max(AuditEntry.at)).where(AuditEntry.action == SIGNED_IN,
                                                                 AuditEntry.actor == email)).first()
        start = max(since, as_utc(last_ok)) if last_ok else since
        counted = [db.exec(failed.where(AuditEntry.actor == email, AuditEntry.at > start)).all()]
        if address:
            counted.append(db.exec(failed.where(AuditEntry.address == address[:64], AuditEntry.at > since)).all())
    waits = [as_utc(times[len(times) - failures]) + window - now for times in counted if len(times) >= failures]
    return max(waits) if waits else None
