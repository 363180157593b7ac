"""The web admin's foundation over HTTP, through the real app: sessions, sign-in limits, CSRF, roles, bearer tokens,
the account commands, single sign-on against a local OpenID provider, and the audit log behind all of them."""

from __future__ import annotations

import hashlib
import re
import stat
from datetime import timedelta

import httpx
import pytest
from fastapi import APIRouter, Depends
from fastapi.testclient import TestClient
from sqlmodel import select
from typer.testing import CliRunner

from coach import accounts
from coach.bootstrap import bootstrap
from connectors.cli.main import app as cli
from coach.learners import update_profile
from kernel.store import session
from coach.store.models import AdminSession, ApiToken, AuditEntry
from connectors.admin import AREAS, verify_routes
from connectors.admin.auth import require
from connectors.admin.shell import page_router
from connectors.server import create_app
from tests.conftest import make_settings
from tests.fakes.oidc_provider import OidcProvider, new_key
from tests.integration.admin_helpers import PASSWORD, browser, csrf_of, sign_in



@pytest.fixture
def container(tmp_path, embedder, database_url):
    """The coach on SQLite and on PostgreSQL, with one account of each role."""
    built = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url), embedder=embedder)
    for email, role in (("lea@example.com", "ld-admin"), ("max@example.com", "manager"),
                        ("vic@example.com", "viewer")):
        accounts.add_account(built.engine, email=email, role=role, password=PASSWORD, actor="test")
    return built





def actions(container, action: str) -> list[AuditEntry]:
    return accounts.latest_audit(container.engine, action=action)


def test_without_a_session_pages_go_to_sign_in_and_the_api_answers_401(container):
    client = browser(container)
    for path in ("/admin", "/admin/audit", "/admin/audit?action=sign-in"):
        answer = client.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/admin/login?next=/admin")
    client.cookies.set("coach_admin", "eyJzaWQiOiAieCJ9.forged.signature", path="/admin")
    assert client.get("/admin").status_code == 303
    assert client.post("/admin/logout").status_code == 403  # no CSRF token in a session that does not exist
    assert client.get("/api/admin/me").status_code == 401


def test_sign_in_with_a_password_and_out_again(container):
    client = browser(container)
    wrong = sign_in(client, "lea@example.com", "not the password at all")
    unknown = sign_in(client, "nobody@example.com", PASSWORD)
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong e-mail or password." in wrong.text and "Wrong e-mail or password." in unknown.text
    assert [e.actor for e in actions(container, "sign-in-failed")] == ["nobody@example.com", "lea@example.com"]

    answer = sign_in(client, "LEA@example.com ", next_path="/admin/audit")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/audit"
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/admin" in cookie and "secure" not in cookie
    home = client.get("/admin")
    assert home.status_code == 200 and "lea@example.com" in home.text and "Sources in the knowledge base" in home.text
    assert client.get("/admin/login").status_code == 303  # signed in already
    stolen = dict(client.cookies)

    assert client.post("/admin/logout", data={"csrf_token": csrf_of(home.text)}).headers["location"] == "/admin/login"
    assert client.get("/admin").status_code == 303
    replayed = browser(container)
    replayed.cookies.update(stolen)
    assert replayed.get("/admin").status_code == 303  # the session ended on the server, not just in the browser
    assert [e.detail for e in actions(container, "sign-in")] == ["password"]
    assert [e.actor for e in actions(container, "sign-out")] == ["lea@example.com"]
    assert sign_in(browser(container), "lea@example.com", next_path="https://evil.example/").headers["location"] \
        == "/admin"


def test_sessions_end_when_they_expire_or_the_account_goes(container):
    client = browser(container)
    sign_in(client, "lea@example.com")
    assert client.get("/admin").status_code == 200
    with session(container.engine) as db:
        for row in db.exec(select(AdminSession)).all():
            row.expires_at -= timedelta(days=1)
            db.add(row)
        db.commit()
    assert client.get("/admin").status_code == 303

    sign_in(client, "vic@example.com")
    assert client.get("/admin").status_code == 200
    accounts.remove_account(container.engine, email="vic@example.com", actor="test")
    assert client.get("/admin").status_code == 303


def test_failed_sign_ins_are_limited_per_account_and_per_address(container):
    client = browser(container, "10.0.0.1")
    for _ in range(5):
        assert sign_in(client, "lea@example.com", "guess-guess-guess").status_code == 401
    held = sign_in(client, "lea@example.com")  # the right password no longer helps
    assert held.status_code == 429 and "Try again in 15 minutes." in held.text
    assert 840 < int(held.headers["retry-after"]) <= 900
    elsewhere = browser(container, "10.0.0.2")
    assert sign_in(elsewhere, "lea@example.com").status_code == 429  # per account, from any address
    assert sign_in(elsewhere, "max@example.com").status_code == 303  # other accounts are not held

    spraying = browser(container, "10.0.0.3")
    for n in range(5):
        assert sign_in(spraying, f"guess{n}@example.com", "guess-guess-guess").status_code == 401
    assert sign_in(spraying, "vic@example.com").status_code == 429  # per address, whichever account

    with session(container.engine) as db:  # a quarter of an hour later
        for entry in db.exec(select(AuditEntry).where(AuditEntry.action == "sign-in-failed")).all():
            entry.at -= timedelta(minutes=16)
            db.add(entry)
        db.commit()
    assert sign_in(client, "lea@example.com").status_code == 303


def test_forms_without_the_sessions_csrf_token_change_nothing(container):
    client = browser(container)
    client.get("/admin/login")
    form = {"email": "lea@example.com", "password": PASSWORD, "next": ""}
    assert client.post("/admin/login", data=form).status_code == 403
    refused = client.post("/admin/login", data={**form, "csrf_token": "made-up"})
    assert refused.status_code == 403 and "did not come from this site" in refused.text
    assert actions(container, "sign-in") == [] and client.get("/admin").status_code == 303

    sign_in(client, "lea@example.com")
    assert client.post("/admin/logout").status_code == 403
    assert client.post("/admin/logout", headers={"X-CSRF-Token": "made-up"}).status_code == 403
    page = client.get("/admin")
    assert page.status_code == 200  # still signed in
    token = re.search(r'<meta name="csrf-token" content="([^"]+)">', page.text).group(1)
    assert client.post("/admin/logout", headers={"X-CSRF-Token": token}).status_code == 303  # htmx / fetch
    assert client.get("/admin").status_code == 303


def test_each_role_sees_and_opens_only_its_own(container):
    update_profile(container.engine, "U-MAX", role="manager", team="design")
    accounts.update_account(container.engine, email="max@example.com", learner_id="U-MAX", teams=["support"],
                            actor="test")
    admin = browser(container)
    sign_in(admin, "lea@example.com")
    assert 'href="/admin/audit"' in admin.get("/admin").text and admin.get("/admin/audit").status_code == 200

    for email in ("max@example.com", "vic@example.com"):
        client = browser(container)
        sign_in(client, email)
        home = client.get("/admin")
        assert home.status_code == 200 and 'href="/admin/audit"' not in home.text
        refused = client.get("/admin/audit")
        assert refused.status_code == 403 and "cannot open this page" in refused.text
    denied = actions(container, "access-denied")
    assert {(e.actor, e.target) for e in denied} == {("max@example.com", "/admin/audit"),
                                                     ("vic@example.com", "/admin/audit")}
    manager_home = browser(container)
    sign_in(manager_home, "max@example.com")
    text = manager_home.get("/admin").text
    assert "People in design" in text and "People in support" in text and "Your nudge schedules" in text

    viewer = browser(container)
    sign_in(viewer, "vic@example.com")
    assert "fewer than 5 people asked" in viewer.get("/admin").text
    accounts.update_account(container.engine, email="vic@example.com", role="ld-admin", actor="test")
    assert viewer.get("/admin/audit").status_code == 200  # the new role applies at the next request


def test_bearer_tokens_for_the_api(container):
    api = TestClient(create_app(container))
    assert api.get("/api/admin/me").headers["www-authenticate"] == 'Bearer realm="coach-admin"'
    bad = api.get("/api/admin/me", headers={"Authorization": "Bearer coach_not-a-token"})
    assert bad.status_code == 401 and 'error="invalid_token"' in bad.headers["www-authenticate"]

    _, viewer = accounts.create_token(container.engine, role="viewer", name="dashboard", actor="test")
    admin_token, admin = accounts.create_token(container.engine, role="ld-admin", name="checks", actor="test")
    as_viewer = {"Authorization": f"Bearer {viewer}"}
    assert api.get("/api/admin/me", headers=as_viewer).json() == {
        "actor": "token:dashboard", "email": "token:dashboard", "role": "viewer", "teams": []}
    assert api.get("/api/admin/audit", headers=as_viewer).status_code == 403
    entries = api.get("/api/admin/audit", headers={"Authorization": f"Bearer {admin}"}).json()
    assert {"token-created", "user-added"} <= {e["action"] for e in entries}

    with session(container.engine) as db:
        stored = db.exec(select(ApiToken)).all()
    assert {t.secret_hash for t in stored} == {hashlib.sha256(s.encode()).hexdigest() for s in (viewer, admin)}
    assert all(secret not in repr(t.model_dump()) for t in stored for secret in (viewer, admin))

    with pytest.raises(accounts.AccountError, match="manager account"):
        accounts.create_token(container.engine, role="manager", actor="test")
    accounts.update_account(container.engine, email="max@example.com", teams=["support"], actor="test")
    _, manager = accounts.create_token(container.engine, role="manager", account_email="max@example.com",
                                       actor="test")
    me = api.get("/api/admin/me", headers={"Authorization": f"Bearer {manager}"}).json()
    assert me["email"] == "max@example.com" and me["teams"] == ["support"] and me["actor"].startswith("token:")

    accounts.revoke_token(container.engine, token_id=admin_token.id, actor="test")
    assert api.get("/api/admin/audit", headers={"Authorization": f"Bearer {admin}"}).status_code == 401
    accounts.remove_account(container.engine, email="max@example.com", actor="test")
    assert api.get("/api/admin/me", headers={"Authorization": f"Bearer {manager}"}).status_code == 401


def test_accounts_and_tokens_from_the_command_line(tmp_path, embedder, database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()

    def coach(*args: str, stdin: str | None = None):
        return runner.invoke(cli, list(args), input=stdin)

    added = coach("users", "add", "Ann@Example.com", "--role", "ld-admin", stdin=PASSWORD + "\n")
    assert added.exit_code == 0 and "Added ann@example.com as ld-admin" in added.stdout
    for stdin, reason in (("\n", "empty"), ("short\n", "too short"), ("Password1234!\n", "first that anyone")):
        weak = coach("users", "add", "bob@example.com", "--role", "viewer", stdin=stdin)
        assert weak.exit_code == 2 and reason in weak.stderr
    unknown = coach("users", "add", "bob@example.com", "--role", "boss")
    assert unknown.exit_code == 2 and "Unknown role 'boss'" in unknown.stderr
    assert coach("users", "add", "ann@example.com", "--role", "viewer", stdin=PASSWORD + "\n").exit_code == 2
    assert coach("users", "add", "sso@example.com", "--role", "viewer", "--sso-only").exit_code == 0
    assert coach("users", "set-role", "sso@example.com", "manager", "--team", "design").exit_code == 0
    listed = coach("users", "list", "--json").stdout
    assert '"sign_in": "sso-only"' in listed and '"teams": [\n      "design"' in listed and "argon2" not in listed

    created = coach("tokens", "create", "--role", "ld-admin", "--name", "nightly")
    assert created.exit_code == 0 and re.fullmatch(r"coach_[A-Za-z0-9_-]{43}\n", created.stdout)
    secret = created.stdout.strip()
    assert secret not in coach("tokens", "list").stdout and "nightly" in coach("tokens", "list").stdout

    container = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url), embedder=embedder)
    client = browser(container)
    assert sign_in(client, "ann@example.com").status_code == 303 and client.get("/admin").status_code == 200
    assert sign_in(browser(container), "sso@example.com", "").status_code == 401  # single sign-on only
    api = TestClient(create_app(container))
    assert api.get("/api/admin/me", headers={"Authorization": f"Bearer {secret}"}).json()["role"] == "ld-admin"

    token_id = accounts.list_tokens(container.engine)[0].id
    assert coach("tokens", "revoke", token_id).exit_code == 0
    assert api.get("/api/admin/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert coach("users", "remove", "ann@example.com").exit_code == 0
    assert client.get("/admin").status_code == 303
    assert coach("users", "remove", "ann@example.com").exit_code == 1
    logged = {(e.action, e.target.split(" ")[0]) for e in accounts.latest_audit(container.engine)}
    assert {("user-added", "ann@example.com"), ("user-changed", "sso@example.com"), ("token-created", token_id),
            ("token-revoked", token_id), ("user-removed", "ann@example.com")} <= logged
    assert all(e.actor.startswith("cli") for e in accounts.latest_audit(container.engine, action="user-added"))


@pytest.fixture
def provider():
    with OidcProvider() as running:
        yield running


def sso_container(tmp_path, embedder, database_url, provider):
    built = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url, ADMIN_OIDC_ISSUER=provider.issuer,
                                    ADMIN_OIDC_CLIENT_ID=provider.client_id,
                                    ADMIN_OIDC_CLIENT_SECRET=provider.client_secret,
                                    ADMIN_OIDC_LABEL="Sign in with Entra ID"), embedder=embedder)
    accounts.add_account(built.engine, email="lea@example.com", role="ld-admin", password=None, actor="test")
    return built


def single_sign_on(client: TestClient, next_path: str = "") -> httpx.Response:
    """The browser's round trip: the app -> the provider's authorize endpoint -> back to the app's callback."""
    start = client.get("/admin/login/sso", params={"next": next_path} if next_path else None)
    assert start.status_code == 302, start.text
    back = httpx.get(start.headers["location"], follow_redirects=False)
    assert back.status_code == 302, back.text
    return client.get(back.headers["location"])


def test_single_sign_on_end_to_end(tmp_path, embedder, database_url, provider):
    container = sso_container(tmp_path, embedder, database_url, provider)
    client = browser(container)
    assert "Sign in with Entra ID" in client.get("/admin/login").text
    done = single_sign_on(client, "/admin/audit")
    assert done.status_code == 303 and done.headers["location"] == "/admin/audit"
    assert client.get("/admin/audit").status_code == 200
    sent = provider.authorize_requests[0]
    assert sent["code_challenge_method"] == "S256" and sent["nonce"] and sent["state"]
    assert sent["redirect_uri"] == "http://testserver/admin/login/sso/callback"
    assert provider.token_requests[0]["code_verifier"]
    assert [e.detail for e in actions(container, "sign-in")] == ["single sign-on"]


def test_single_sign_on_refuses_strangers_and_forged_tokens(tmp_path, embedder, database_url, provider):
    container = sso_container(tmp_path, embedder, database_url, provider)
    provider.email = "mallory@example.com"
    stranger = single_sign_on(browser(container))
    assert stranger.status_code == 403 and "mallory@example.com has no account" in stranger.text

    provider.email = "lea@example.com"
    for spoiled in ({"sign_with": new_key()}, {"claims": {"nonce": "replayed"}}, {"claims": {"aud": "another-app"}},
                    {"claims": {"iss": "https://impostor.example"}}):
        provider.sign_with, provider.claims = spoiled.get("sign_with"), spoiled.get("claims", {})
        client = browser(container)
        forged = single_sign_on(client)
        assert forged.status_code == 401 and "could not be verified" in forged.text, spoiled
        assert client.get("/admin").status_code == 303
    provider.sign_with, provider.claims = None, {"email_verified": False}
    assert single_sign_on(browser(container)).status_code == 403

    provider.claims = {}
    client = browser(container)
    start = client.get("/admin/login/sso")
    back = httpx.get(start.headers["location"], follow_redirects=False).headers["location"]
    tampered = client.get(re.sub(r"state=[^&]+", "state=forged", back))
    assert tampered.status_code == 401 and client.get("/admin").status_code == 303
    refusals = actions(container, "sign-in-refused")
    assert len(refusals) == 7 and refusals[-1].actor == "mallory@example.com" and actions(container, "sign-in") == []


def test_the_cookie_key_is_kept_and_the_cookie_secure_under_https(tmp_path, embedder):
    container = bootstrap(make_settings(tmp_path), embedder=embedder)
    accounts.add_account(container.engine, email="lea@example.com", role="ld-admin", password=PASSWORD, actor="t")
    first = browser(container)
    sign_in(first, "lea@example.com")
    key_file = tmp_path / "data" / "admin_secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text()) >= 32
    restarted = browser(container)  # a new app from the same data folder
    restarted.cookies.update(dict(first.cookies))
    assert restarted.get("/admin").status_code == 200

    https = bootstrap(make_settings(tmp_path, COACH_PUBLIC_URL="https://coach.example.com",
                                    ADMIN_SECRET_KEY="k" * 40), embedder=embedder)
    answer = sign_in(browser(https), "lea@example.com")
    assert "secure" in answer.headers["set-cookie"].lower()
    other_key = browser(https)
    other_key.cookies.update(dict(first.cookies))
    assert other_key.get("/admin").status_code == 303


def test_an_admin_route_without_a_role_check_or_csrf_check_is_refused_at_start():
    loose = page_router()

    @loose.post("/admin/loose")
    def changes_something():
        return "changed"

    with pytest.raises(RuntimeError, match="/admin/loose checks no role"):
        verify_routes([loose])

    unchecked = APIRouter()

    @unchecked.post("/admin/unchecked")
    def no_csrf(account=Depends(require("ld-admin"))):
        return "changed"

    with pytest.raises(RuntimeError, match="without the CSRF check"):
        verify_routes([unchecked])
    verify_routes([area.router for area in AREAS])  # the shell's own routes pass
