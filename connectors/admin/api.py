"""The web admin's API for scripts and checks: /api/admin/..., bearer tokens only (`coach tokens create`). Areas add
their own routes beside these with `Depends(require_token(...))`; this module holds what belongs to no area."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from coach import accounts
from coach.store.models import Account
from connectors.admin.auth import require_token
from connectors.admin.context import container_of

router = APIRouter(prefix="/api/admin", tags=["admin"])


@router.get("/me")
def me(request: Request, account: Account = Depends(require_token())) -> dict:
    """Who this token acts as: its role and the teams it may see (null: every team)."""
    return {"actor": request.state.actor, "email": account.email, "role": account.role,
            "teams": accounts.teams_of(container_of(request).engine, account)}


@router.get("/audit")
def audit_entries(request: Request, limit: int = Query(100, ge=1, le=1000), action: str = Query("", max_length=60),
                  account: Account = Depends(require_token(accounts.ADMIN))) -> list[dict]:
    """The latest audit entries, newest first (ld-admin only)."""
    entries = accounts.latest_audit(container_of(request).engine, limit=limit, action=action)
    return [entry.model_dump(mode="json", exclude={"id"}) for entry in entries]
