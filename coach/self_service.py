"""What a learner can say to the coach about themselves, in any connector: what do you know about me, forget me,
pause, resume, their lesson length and hours, help. Recognised before a message is treated as a question, and never
logged as a need."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from sqlalchemy.engine import Engine

from coach import needs
from coach.learners import update_profile
from coach.messages import Action, Reply

_INTENTS = {
    "export": re.compile(r"what (do|did) you (know|keep|store|have|remember) (about|on) me|"
                         r"^(show|export|see|download) (me )?(all )?my (data|profile|information|questions)$|^my data$"),
    "forget": re.compile(r"^(please )?(forget (about )?me|delete (all )?(my data|everything about me|my profile)|"
                         r"erase (all )?my data)( please)?$"),
    "pause": re.compile(r"^(pause|stop|unsubscribe|mute)( (nudges|reminders|lessons|messages))?$"),
    "resume": re.compile(r"^(resume|unpause|unmute|start again)( (nudges|reminders|lessons|messages))?$"),
    "lesson": re.compile(r"^(lesson|a lesson|(suggest|give me|start) a (micro )?lesson|what should i learn( next)?)$"),
    "help": re.compile(r"^(help|\?|what can you do|how does this work)$"),
    "preference": re.compile(r"^(i prefer |prefer |i want |make (my )?lessons )?(\d{1,2}) ?min(ute)?s?( long)?( lessons?)?$|"
                             r"^(send (me )?|i want |only )?lessons (only )?(between|from) (\d{1,2}) (and|to|until) (\d{1,2})$"),
}
_MINUTES = re.compile(r"(\d{1,2}) ?min")
_HOURS = re.compile(r"(\d{1,2}) (?:and|to|until) (\d{1,2})")

HELP = ("Ask me a question about your work and I'll answer from the company's learning content, with sources. "
        "You can also say:\n- *what should I learn next?* for a short micro-lesson picked for you\n"
        "- *5 minute lessons* or *lessons between 9 and 12* to set your lesson length and hours\n"
        "- *what do you know about me* to see what I keep about you\n"
        "- *forget me* to delete it all\n- *pause* / *resume* to stop or restart nudges and lessons")
RECENT = 10
# asked in a channel, what concerns the learner is answered to them alone
ANSWERED_PRIVATELY = Reply(text="I've answered you privately.", mode="service")


def intent_of(text: str) -> str | None:
    normal = normalize(text)
    return next((name for name, pattern in _INTENTS.items() if pattern.search(normal)), None)


def normalize(text: str) -> str:
    normal = re.sub(r"[^\w\s?]", "", text.lower()).strip()
    return re.sub(r"\s+", " ", normal).rstrip("?").strip() or normal


def set_preference(engine: Engine, learner_id: str, normal: str) -> Reply:
    """"5 minute lessons", "lessons between 9 and 12": the learner's own lesson length and hours."""
    learner = update_profile(engine, learner_id)
    preferences = dict(learner.preferences or {})
    if m := _MINUTES.search(normal):
        preferences["lesson_minutes"] = max(1, min(30, int(m[1])))
        said = f"lessons of about {preferences['lesson_minutes']} minutes"
    else:
        start, end = (int(h) for h in _HOURS.search(normal).groups())
        if not 0 <= start < end <= 24:
            return Reply(text="I need two hours of the day, earliest first, e.g. *lessons between 9 and 12*.",
                         mode="service")
        preferences["hours"] = [start, end]
        said = f"lessons and reviews between {start}:00 and {end}:00 (your time)"
    update_profile(engine, learner_id, preferences=preferences)
    return Reply(text=f"Done: {said}. Say *what do you know about me* to see all your settings.", mode="service")


def respond(engine: Engine, learner_id: str, intent: str, text: str = "", now: datetime | None = None) -> Reply:
    if intent == "preference":
        return set_preference(engine, learner_id, normalize(text))
    if intent == "export":
        return Reply(text=describe(needs.export(engine, learner_id, now)), mode="service",
                     actions=[Action("forget", "Forget me")])
    if intent == "forget":
        kept = needs.export(engine, learner_id)
        if keeps_nothing(kept):
            return Reply(text="I keep nothing about you: there is nothing to forget.", mode="service")
        return Reply(text=f"This deletes your profile, the {len(kept['questions'])} question(s) I keep from you, "
                          "your lesson progress and where I can message you, for good. Are you sure?", mode="service",
                     actions=[Action("forget_confirm", "Yes, forget me"), Action("cancel", "Cancel")])
    if intent in ("pause", "resume"):
        update_profile(engine, learner_id, paused=intent == "pause")
        if intent == "pause":
            return Reply(text="Paused: I won't send you nudges or lessons until you say *resume*. "
                              "You can still ask me anything.", mode="service", actions=[Action("resume", "Resume")])
        return Reply(text="Welcome back: nudges and lessons are on again.", mode="service")
    return Reply(text=HELP, mode="service")


def forget(engine: Engine, learner_id: str) -> Reply:
    deleted = needs.forget(engine, learner_id)
    return Reply(text=f"Done: I deleted your profile and {deleted['questions']} question(s). "
                      "I keep nothing about you now.", mode="service")


def keeps_nothing(kept: dict) -> bool:
    return not (kept["profile"] or kept["questions"] or kept["reachable_in"] or kept["lessons"]["lessons_done"])


def describe(kept: dict) -> str:
    """The export as a learner reads it in chat; the complete record is `Coach.export` (JSON)."""
    profile, questions = kept["profile"], kept["questions"]
    if keeps_nothing(kept):
        return "I keep nothing about you yet."
    lines = ["Here is what I keep about you:"]
    if profile:
        shown = [f"{label}: {profile[key]}" for key, label in
                 (("display_name", "name"), ("role", "role"), ("team", "team"), ("timezone", "time zone"),
                  ("language", "language")) if profile.get(key)]
        if profile.get("groups"):
            shown.append("audience groups: " + ", ".join(profile["groups"]))
        if profile.get("preferences"):
            shown.append("preferences: " + ", ".join(f"{k} {v}" for k, v in profile["preferences"].items()))
        shown.append("nudges: " + ("paused" if profile.get("paused") else "on"))
        lines.append("- Profile: " + "; ".join(shown))
    topics = Counter(t for q in questions for t in q["topics"])
    lines.append(f"- {len(questions)} question(s), personal details removed"
                 + (f"; topics: {', '.join(t for t, _ in topics.most_common(8))}" if topics else ""))
    for q in questions[-RECENT:][::-1]:
        status = "answered" if q["answered"] else "not in the content"
        lines.append(f"  - {q['created_at'][:10]}: {q['question']} ({status})")
    lessons = kept["lessons"]
    if lessons["lessons_done"]:
        answers = lessons["quiz_answers"]
        lines.append(f"- {len(lessons['lessons_done'])} micro-lesson(s) done ({answers['right']} quiz answer(s) right, "
                     f"{answers['wrong']} wrong)" + (f"; due for review now: {', '.join(lessons['due_now'])}"
                                                     if lessons["due_now"] else
                                                     f"; next review {lessons['next_review'][:10]}"))
    if kept["reachable_in"]:
        lines.append("- Where I can message you: " + ", ".join(kept["reachable_in"]))
    lines.append("Say *forget me* to delete all of it.")
    return "\n".join(lines)
