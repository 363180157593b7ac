"""The Nudges area's API for scripts and checks (bearer token): a manager token lists the schedules of the manager
account it acts for, an ld-admin token every schedule; a viewer token is refused."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from coach.nudges import forms, schedules
from coach.store.models import Account, NudgeSchedule
from kernel.store import as_utc, utcnow
from coach.services.nudges import visible
from connectors.admin.auth import require_token
from connectors.admin.context import container_of

router = APIRouter(prefix="/api/admin/nudges", tags=["admin"])


def public(schedule: NudgeSchedule) -> dict:
    upcoming = None if schedule.paused else schedules.next_time(schedule, utcnow())
    return {"id": schedule.id, "owner": schedule.owner, "description": forms.describe(schedule),
            "message": schedule.message, "lesson_key": schedule.lesson_key, "team": schedule.team,
            "learners": list(schedule.learners), "channel": schedule.channel, "recurrence": schedule.recurrence,
            "timezone": schedule.timezone, "zone_mode": schedule.zone_mode, "paused": schedule.paused,
            "next": upcoming.isoformat() if upcoming else None,
            "created_at": as_utc(schedule.created_at).isoformat()}


@router.get("")
def nudges(request: Request, account: Account = Depends(require_token("manager"))) -> list[dict]:
    return [public(schedule) for schedule in visible(container_of(request).engine, account)]
