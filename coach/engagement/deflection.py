"""Questions the coach took off someone's desk: answered from the content and rated helpful by the asker
("deflected"), per competency, with an estimate of the time that saved.

The estimate is deflected questions x `minutes_per_question` (COACH_MINUTES_PER_QUESTION): the minutes one such
question would have cost the asker and whoever they would otherwise have asked. It assumes every deflected
question would have been asked of a person, and that the setting is right for the company; it is labelled an
estimate wherever it is shown. Unrated answers are not counted, so it leans low. Privacy as in questions.py: a
competency fewer than `min_group` people asked about is folded into "other topics".
"""

from __future__ import annotations

from collections import defaultdict

from coach.engagement.history import History
from coach.engagement.scope import Bucket, Scope, folded, share

OTHER = "(other)"


def per_competency(history: History, scope: Scope, minutes: float) -> tuple[list[dict], int, Bucket]:
    """The rows (most deflected first), how many competencies no row shows, and the period's questions in all
    (each question once, whatever its tags)."""
    buckets: dict[str, Bucket] = defaultdict(Bucket)
    everything = Bucket()
    for question in history.questions:
        if not scope.within(question.at) or not scope.keeps(question.topics):
            continue
        counts = {"questions": 1, "answered": int(question.answered),
                  "deflected": int(question.answered and question.helpful)}
        everything.add(question.learner_id, **counts)
        for topic in question.topics:
            if scope.keeps([topic]):
                buckets[topic].add(question.learner_id, **counts)
    rows, hidden = folded(buckets, scope, lambda key, b: row(key, b, scope, minutes), OTHER, "deflected")
    return rows, hidden, everything


def row(key: str, bucket: Bucket, scope: Scope, minutes: float) -> dict:
    c = bucket.counts
    return {"competency": key, "name": "other topics" if key == OTHER else scope.name(key),
            "questions": c["questions"], "answered": c["answered"], "deflected": c["deflected"],
            "deflected_share": share(c["deflected"], c["questions"]),
            "minutes_saved_estimate": round(c["deflected"] * minutes, 1), "people": len(bucket.people)}
