"""`coach users ...` and `coach tokens ...`: who may open the web admin (/admin) and the bearer tokens of its API.
Part of the `coach` command (connectors/cli/main.py). Only the database is opened: no models, no index.

Passwords come from standard input (hidden when typed at a terminal, or piped: `printf '%s' "$PW" | coach users
add ...`), never from an option, which would end up in the shell history and the process list."""

from __future__ import annotations

import getpass
import json
import sys
from typing import Annotated, Optional

import typer

from connectors.cli.common import console, errors
from kernel.errors import CoachError, NotFound

users_app = typer.Typer(help="Web admin accounts: ld-admin (everything), manager (their teams), viewer (reports).",
                        no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens for the web admin's API (/api/admin/...), for scripts and checks.",
                         no_args_is_help=True)
ROLE_HELP = "ld-admin, manager or viewer."


def _engine():
    from coach.settings import Settings
    from kernel.store import make_engine
    from coach.store.db import migrate

    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    return engine


def _actor() -> str:
    """Who ran the command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def _fail(exc: CoachError, code: int = 2):
    errors.print(str(exc), markup=False)
    raise typer.Exit(code) from exc


def _read_password(confirm: bool = True) -> str:
    """Asked twice without echo at a terminal; otherwise the first line of standard input."""
    if sys.stdin is not None and sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if confirm and getpass.getpass("Password again: ") != password:
            errors.print("The two passwords differ; nothing changed.")
            raise typer.Exit(2)
        return password
    return (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\r\n")


@users_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="The person's e-mail (their sign-in name).")],
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    sso_only: Annotated[bool, typer.Option("--sso-only", help="No password: signs in by single sign-on only.")] = False,
    team: Annotated[Optional[list[str]], typer.Option("--team", "-t", help="A team a manager manages (repeatable).")] = None,
    learner: Annotated[str, typer.Option(help="The same person's learner id in chat (a manager's team comes with it).")] = "",
) -> None:
    """Add an account; the password is read from standard input (at least 12 characters)."""
    from coach import accounts

    try:
        accounts.normalize_email(email)  # both checked before a password is asked for
        accounts.check_role(role)
        password = None if sso_only else _read_password()
        account = accounts.add_account(_engine(), email=email, role=role, password=password, teams=team or [],
                                       learner_id=learner, actor=_actor())
    except CoachError as exc:
        _fail(exc)
    how = "single sign-on only" if sso_only else "password set"
    console.print(f"Added {account.email} as {account.role} ({how}).", markup=False, highlight=False)


@users_app.command("list")
def listing(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The accounts, their roles and teams (no password hashes)."""
    from coach import accounts

    rows = [{"email": a.email, "role": a.role, "sign_in": "password" if a.password_hash else "sso-only",
             "teams": a.teams, "learner_id": a.learner_id,
             "last_sign_in": a.last_sign_in_at.isoformat() if a.last_sign_in_at else None}
            for a in accounts.list_accounts(_engine())]
    if json_output:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        teams = f" teams {', '.join(row['teams'])}" if row["teams"] else ""
        console.print(f"{row['role']:9} {row['email']}  {row['sign_in']}{teams}  last sign-in "
                      f"{(row['last_sign_in'] or 'never')[:16]}", markup=False, highlight=False)
    if not rows:
        console.print("No accounts yet: `coach users add EMAIL --role ld-admin` creates the first.")


@users_app.command("remove")
def remove(email: Annotated[str, typer.Argument(help="The account's e-mail.")]) -> None:
    """Remove an account: its open sessions end at once and the tokens acting for it stop working."""
    from coach import accounts

    try:
        account = accounts.remove_account(_engine(), email=email, actor=_actor())
    except CoachError as exc:
        _fail(exc, 1)
    console.print(f"Removed {account.email}.", markup=False, highlight=False)


@users_app.command("set-role")
def set_role(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    role: Annotated[str, typer.Argument(help=ROLE_HELP)],
    team: Annotated[Optional[list[str]], typer.Option("--team", "-t", help="Replace the teams it manages (repeatable).")] = None,
    learner: Annotated[Optional[str], typer.Option(help="Link to this learner id in chat ('' unlinks).")] = None,
) -> None:
    """Change an account's role (and a manager's teams); open sessions get it at their next page."""
    from coach import accounts

    try:
        account = accounts.update_account(_engine(), email=email, role=role, teams=team, learner_id=learner,
                                          actor=_actor())
    except CoachError as exc:
        _fail(exc)
    teams = f", teams {', '.join(account.teams)}" if account.teams else ""
    console.print(f"{account.email} is {account.role}{teams}.", markup=False, highlight=False)


@users_app.command("set-password")
def set_password(
    email: Annotated[str, typer.Argument(help="The account's e-mail.")],
    sso_only: Annotated[bool, typer.Option("--sso-only", help="Remove the password: single sign-on only.")] = False,
) -> None:
    """Set a new password (from standard input); the account's open sessions end."""
    from coach import accounts

    try:
        engine = _engine()
        if accounts.get_account(engine, email=email) is None:
            raise NotFound(f"No account for {email}: `coach users list` shows them.")
        accounts.set_password(engine, email=email, password=None if sso_only else _read_password(), actor=_actor())
    except CoachError as exc:
        _fail(exc)
    console.print(f"{'Removed the password of' if sso_only else 'New password for'} {email}.", markup=False,
                  highlight=False)


@tokens_app.command("create")
def create(
    role: Annotated[str, typer.Option(help=ROLE_HELP)],
    name: Annotated[str, typer.Option(help="What it is for, e.g. 'nightly export'.")] = "",
    account: Annotated[str, typer.Option(help="Act for this account (required for a manager token: its teams).")] = "",
) -> None:
    """Create a token and print only the token (shown once; only its hash is kept)."""
    from coach import accounts

    try:
        _, secret = accounts.create_token(_engine(), role=role, name=name, account_email=account, actor=_actor())
    except CoachError as exc:
        _fail(exc)
    print(secret)


@tokens_app.command("list")
def tokens_list(json_output: Annotated[bool, typer.Option("--json")] = False) -> None:
    """The tokens: id, name, role, when made and last used (never the secret)."""
    from coach import accounts

    rows = [{"id": t.id, "name": t.name, "role": t.role, "created_by": t.created_by,
             "created_at": t.created_at.isoformat(), "last_used": t.last_used_at.isoformat() if t.last_used_at else None}
            for t in accounts.list_tokens(_engine())]
    if json_output:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        console.print(f"{row['id']}  {row['role']:9} {row['name'] or '-'}  made {row['created_at'][:16]} by "
                      f"{row['created_by']}, last used {(row['last_used'] or 'never')[:16]}", markup=False,
                      highlight=False)
    if not rows:
        console.print("No tokens: `coach tokens create --role ld-admin --name NAME` makes one.")


@tokens_app.command("revoke")
def revoke(token_id: Annotated[str, typer.Argument(help="The token's id (see `coach tokens list`).")]) -> None:
    """Revoke a token: calls with it are refused from now on."""
    from coach import accounts

    try:
        token = accounts.revoke_token(_engine(), token_id=token_id, actor=_actor())
    except CoachError as exc:
        _fail(exc, 1)
    console.print(f"Revoked {token.id} {token.name}".strip() + ".", markup=False, highlight=False)
