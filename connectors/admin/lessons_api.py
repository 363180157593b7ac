"""The Lessons area's API for scripts and checks (bearer token, ld-admin): list lessons, approve or reject one.
Its own router because a page router checks a session's CSRF token, which a bearer-token request does not have."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from coach import accounts
from coach.lessons import catalog, editing
from coach.store.models import Account, Lesson
from kernel.store import as_utc
from connectors.admin.auth import actor_of, client_address, require_token
from connectors.admin.context import container_of
from connectors.admin.lessons import competency_ids, ordered

router = APIRouter(prefix="/api/admin/lessons", tags=["admin"])
ADMIN = Depends(require_token(accounts.ADMIN))
KEY = Path(max_length=120)


def public(lesson: Lesson) -> dict:
    return {"key": lesson.key, "title": lesson.title, "status": lesson.status, "origin": lesson.origin,
            "competencies": lesson.competencies, "audience": lesson.audience, "minutes": lesson.minutes,
            "updated_at": as_utc(lesson.updated_at).isoformat(), "editor": f"/admin/lessons/{lesson.key}"}


@router.get("")
def lessons(request: Request, status: str = Query("", pattern="^(|draft|approved|rejected)$"),
            account: Account = ADMIN) -> list[dict]:
    """Every lesson (or those of one status), drafts first."""
    found = catalog.listing(container_of(request).engine, status or None)
    return [public(lesson) for lesson in ordered(found)]


@router.post("/{key}/approve")
def approve(request: Request, key: str = KEY, account: Account = ADMIN) -> dict:
    """Approve (after the authoring rules' checks: 422 with the problems by field when it fails them)."""
    return _set_status(request, key, "approved")


@router.post("/{key}/reject")
def reject(request: Request, key: str = KEY, account: Account = ADMIN) -> dict:
    return _set_status(request, key, "rejected")


def _set_status(request: Request, key: str, status: str) -> dict:
    container = container_of(request)
    if catalog.get(container.engine, key) is None:
        raise HTTPException(404, f"No lesson {key!r}.")
    lesson, problems = editing.set_status(container.engine, key=key, status=status,
                                          competencies=competency_ids(container))
    if problems:
        raise HTTPException(422, {"message": "The lesson fails the authoring rules; fix it in its editor.",
                                  "problems": problems, "editor": f"/admin/lessons/{key}"})
    accounts.audit(container.engine, actor=actor_of(request), action=f"lesson-{status}", target=key,
                   address=client_address(request), detail=lesson.title)
    return public(lesson)
