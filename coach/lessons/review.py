"""Spaced review with FSRS (package `fsrs`): a right quiz answer is Good, a wrong one Again; no within-minutes
learning steps (a chat is not a flashcard app); the next review falls on one of the learner's working days, inside
their preferred hours, in their time zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler

WORKING_DAYS = (0, 1, 2, 3, 4)  # Monday..Friday
HOURS = (9, 17)  # the review may be offered from 9:00 until 17:00, local time
_scheduler = Scheduler(learning_steps=(), relearning_steps=(), enable_fuzzing=False)


@dataclass(frozen=True)
class Window:
    """When a learner wants lessons: which weekdays (0 = Monday) and which hours, in which time zone."""

    timezone: str = "UTC"
    days: tuple[int, ...] = WORKING_DAYS
    hours: tuple[int, int] = HOURS

    @classmethod
    def of(cls, timezone: str, preferences: dict) -> "Window":
        days = tuple(sorted({int(d) for d in preferences.get("days", WORKING_DAYS) if 0 <= int(d) <= 6}))
        start, end = preferences.get("hours", HOURS)
        return cls(timezone or "UTC", days or WORKING_DAYS, (int(start), int(end)))


def review(card: dict | None, correct: bool, at: datetime, window: Window = Window()) -> tuple[dict, dict, datetime]:
    """The card after this answer (a new card for a first attempt), the review log entry, and when the next review
    is due, moved into the learner's window. Cards and logs are FSRS's own dicts, kept for later optimisation."""
    current = Card.from_dict(card) if card else Card(due=at)
    updated, log = _scheduler.review_card(current, Rating.Good if correct else Rating.Again, review_datetime=at)
    due = into_window(updated.due, window)
    updated.due = due
    return updated.to_dict(), log.to_dict(), due


def retrievability(card: dict, at: datetime) -> float:
    """How likely the learner still remembers it now (FSRS's forgetting curve)."""
    return _scheduler.get_card_retrievability(Card.from_dict(card), current_datetime=at)


def day_start(when: datetime, timezone: str) -> datetime:
    """Midnight of `when`'s day in this time zone (the learner's "today")."""
    return when.astimezone(ZoneInfo(timezone or "UTC")).replace(hour=0, minute=0, second=0, microsecond=0)


def into_window(when: datetime, window: Window) -> datetime:
    """The first moment at or after `when` on one of the window's days and inside its hours (UTC out)."""
    zone = ZoneInfo(window.timezone)
    local = when.astimezone(zone)
    start = time(window.hours[0])
    end = time.max if window.hours[1] >= 24 else time(window.hours[1])  # 24: until midnight
    for _ in range(8):
        if local.weekday() in window.days:
            if local.time() < start:
                return local.replace(hour=start.hour, minute=0, second=0, microsecond=0).astimezone(when.tzinfo)
            if local.time() < end:
                return when
        local = (local + timedelta(days=1)).replace(hour=start.hour, minute=0, second=0, microsecond=0)
        when = local.astimezone(when.tzinfo)
    return when
