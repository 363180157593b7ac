"""Whether learning goes where the business wants it: per team and week, the share of its learning activity on the
competencies its manager set as the team's focus (TeamFocus, `coach team-focus`).

Learning activity is every question asked (its competency tags), every lesson completed (the first quiz answer,
the lesson's competencies) and every spaced review; one counts as on focus when any of its competencies is one of
the team's. The focus kept is the current one (managers change it; no history of it is kept), applied to every
week. A team without a focus is not in the table, and the competency filter does not narrow it (a share of one
competency's activity would always be all of it). A (team, week) row is shown only when at least `min_group`
different people of the team were active that week.
"""

from __future__ import annotations

from collections import defaultdict

from coach.engagement.history import History
from coach.engagement.scope import UNTAGGED, Bucket, Scope, share, visible, week


def per_team_week(history: History, scope: Scope) -> tuple[list[dict], int]:
    firsts: set[tuple[str, str]] = set()
    events: list[tuple[str, object, tuple[str, ...]]] = []
    for attempt in history.attempts:  # in time order
        if (attempt.learner_id, attempt.lesson_key) not in firsts:
            firsts.add((attempt.learner_id, attempt.lesson_key))
            events.append((attempt.learner_id, attempt.at, history.competencies(attempt.lesson_key)))
    events += [(learner_id, at, history.competencies(key)) for learner_id, key, at in history.reviews]
    events += [(q.learner_id, q.at, tuple(t for t in q.topics if t != UNTAGGED)) for q in history.questions]
    buckets: dict[tuple[str, str], Bucket] = defaultdict(Bucket)
    for learner_id, at, competencies in events:
        team = history.teams.get(learner_id, "")
        focus = set(history.focus.get(team, ()))
        if not focus or not scope.within(at):
            continue
        buckets[(team, week(at))].add(learner_id, activities=1, on_focus=int(bool(focus & set(competencies))))
    return visible(buckets, scope, lambda key, b: {
        "team": key[0], "week": key[1], "focus": ", ".join(scope.name(c) for c in history.focus[key[0]]),
        "activities": b.counts["activities"], "on_focus": b.counts["on_focus"],
        "on_focus_share": share(b.counts["on_focus"], b.counts["activities"]), "people": len(b.people)})
