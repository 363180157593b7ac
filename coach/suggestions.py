"""Which micro-lesson a learner should take next, and why in one line: ranked from what the needs log says about
them (topics asked about, questions the content could not answer, quizzes missed), reviews falling due, their team's
focus competencies, what colleagues ask about, what they already mastered and how long they like a lesson to be. Pure: the caller gathers
the signals (see `coach.lessons.service`), the simulation in bench/personalization.py feeds its own."""

from __future__ import annotations

from dataclasses import dataclass, field

from coach.i18n import _, ngettext

# how much one signal weighs against another; tuned on bench/personalization.py, not on a test
W_ASKED = 1.0  # a question on the lesson's competency in the window
W_UNANSWERED = 1.5  # ... that the content could not answer (a gap the coach could not close by answering)
W_WRONG = 2.0  # a quiz on the competency answered wrongly
W_DUE = 1.5  # due for review (due reviews also arrive as their own daily nudge, so they need not crowd out gaps)
W_FOCUS = 1.5  # the team's focus competency
W_POPULAR = 0.5  # what colleagues ask about most (share of the most-asked competency, 0..1): a company-wide prior
W_TOO_LONG = 1.0  # longer than the learner likes (per extra 5 minutes)


@dataclass(frozen=True)
class LessonInfo:
    key: str
    title: str
    competencies: tuple[str, ...]
    minutes: int = 3


@dataclass(frozen=True)
class LearnerSignals:
    asked: dict[str, int] = field(default_factory=dict)  # competency -> questions asked in the window
    unanswered: dict[str, int] = field(default_factory=dict)  # competency -> of those, not answered by the content
    wrong: dict[str, int] = field(default_factory=dict)  # competency -> quiz answers that were wrong, recently
    due: dict[str, int] = field(default_factory=dict)  # lesson key -> days since it was last practised (due now)
    done: frozenset[str] = frozenset()  # lessons practised and not due: nothing to gain today
    focus: tuple[str, ...] = ()  # the team's focus competencies, set by its manager
    popular: dict[str, float] = field(default_factory=dict)  # competency -> colleagues' questions, 1.0 = most asked
    preferred_minutes: int | None = None
    names: dict[str, str] = field(default_factory=dict)  # competency id -> name, for the reasons


@dataclass(frozen=True)
class Suggestion:
    key: str
    title: str
    score: float
    reason: str


def rank(lessons: list[LessonInfo], signals: LearnerSignals, k: int = 3) -> list[Suggestion]:
    """The k best lessons for this learner, best first; lessons with no reason at all are not suggested."""
    scored = []
    for lesson in lessons:
        if lesson.key in signals.done and lesson.key not in signals.due:
            continue
        parts = _parts(lesson, signals)
        score = sum(weight for weight, _ in parts)
        if lesson.key not in signals.due and signals.preferred_minutes and lesson.minutes > signals.preferred_minutes:
            score -= W_TOO_LONG * (1 + (lesson.minutes - signals.preferred_minutes) // 5)
        if parts and score > 0:  # a review says so; otherwise the strongest reason
            reason = parts[0][1] if lesson.key in signals.due else max(parts, key=lambda part: part[0])[1]
            scored.append(Suggestion(lesson.key, lesson.title, round(score, 3), reason))
    scored.sort(key=lambda s: (-s.score, s.title))
    return scored[:k]


def _parts(lesson: LessonInfo, s: LearnerSignals) -> list[tuple[float, str]]:
    """(weight, reason) of each signal that speaks for this lesson."""
    parts: list[tuple[float, str]] = []
    if lesson.key in s.due:
        days = s.due[lesson.key]
        parts.append((W_DUE, ngettext("due for review: you last practised it {count} day ago",
                                      "due for review: you last practised it {count} days ago",
                                      days).format(count=days)))
    for c in lesson.competencies:
        name = s.names.get(c, c)
        asked, unanswered, wrong = s.asked.get(c, 0), s.unanswered.get(c, 0), s.wrong.get(c, 0)
        if asked:
            why = _("because you asked about {topic} {times} recently ({unanswered} the content could not answer)") \
                if unanswered else _("because you asked about {topic} {times} recently")
            parts.append((W_ASKED * asked + W_UNANSWERED * unanswered,
                          why.format(topic=name.lower(), times=_times(asked), unanswered=unanswered)))
        if wrong:
            parts.append((W_WRONG * wrong, _("because a quiz on {topic} did not go well").format(topic=name.lower())))
        if c in s.focus:
            parts.append((W_FOCUS, _("{competency} is a focus of your team").format(competency=name)))
        if s.popular.get(c):
            parts.append((W_POPULAR * s.popular[c],
                          _("{topic} is what colleagues ask about most").format(topic=name.lower())))
    return parts


def _times(n: int) -> str:
    """How often, to say in a reason: "once", "twice", "3 times"."""
    if n in (1, 2):
        return _("once") if n == 1 else _("twice")
    return ngettext("{count} time", "{count} times", n).format(count=n)
