"""The Content gaps area's API for scripts and checks (bearer token, ld-admin only: the clusters hold redacted
learner questions, which managers and viewers do not see)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request

from coach import accounts
from coach.store.models import Account
from connectors.admin.auth import require_token
from connectors.admin.context import container_of

router = APIRouter(prefix="/api/admin/gaps", tags=["admin"])


@router.get("")
def gaps(request: Request, status: str = Query("all", pattern="^(open|closed|all)$",
                                               description="open, closed, or all (the default)"),
         days: int = Query(14, ge=1, le=365, description="The trend compares the last DAYS with the DAYS before."),
         account: Account = Depends(require_token(accounts.ADMIN))) -> list[dict]:
    """Content-gap clusters sorted by demand (most people, then most questions): id, label, topic, status,
    questions, open_questions, people, this_period, previous_period, trend, weekly, examples, first_seen, last_seen,
    closed_at, closed_by [{source_id, title, questions, closed_at}], lessons - as `coach gaps --json` prints them."""
    found = container_of(request).gaps.clusters(status=status, period_days=days)
    return [cluster.as_json() for cluster in found]
