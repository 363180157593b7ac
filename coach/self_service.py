"""What a learner can say to the coach about themselves, in any connector: what do you know about me, forget me,
pause, resume, their lesson length and hours, help. Recognised before a message is treated as a question, and never
logged as a need."""

from __future__ import annotations

import re
from collections import Counter
from datetime import datetime

from sqlalchemy.engine import Engine

from coach import needs, transcripts
from coach.i18n import N_, _, ngettext
from coach.learners import update_profile
from coach.messages import Action, Reply

# each intent in each language the coach speaks; a phrase that is the same in both ("stop", "help") says no language
_INTENTS = {
    "en": {
        "export": re.compile(r"what (do|did) you (know|keep|store|have|remember) (about|on) me|"
                             r"^(show|export|see|download) (me )?(all )?my (data|profile|information|questions)$|"
                             r"^my data$"),
        "forget": re.compile(r"^(please )?(forget (about )?me|delete (all )?(my data|everything about me|my profile)|"
                             r"erase (all )?my data)( please)?$"),
        "pause": re.compile(r"^(pause|stop|unsubscribe|mute)( (nudges|reminders|lessons|messages))?$"),
        "resume": re.compile(r"^(resume|unpause|unmute|start again)( (nudges|reminders|lessons|messages))?$"),
        "lesson": re.compile(r"^(lesson|a lesson|(suggest|give me|start) a (micro )?lesson|"
                             r"what should i learn( next)?)$"),
        "help": re.compile(r"^(help|\?|what can you do|how does this work)$"),
        "preference": re.compile(r"^(i prefer |prefer |i want |make (my )?lessons )?(\d{1,2}) ?min(ute)?s?( long)?"
                                 r"( lessons?)?$|^(send (me )?|i want |only )?lessons (only )?(between|from) "
                                 r"(\d{1,2}) (and|to|until) (\d{1,2})$"),
        "language": re.compile(r"^(please )?(speak|talk|answer|reply|write)( to me)?( in)? (dutch|english)( please)?$|"
                               r"^(switch|change|set) (the |my )?language to (dutch|english)$|"
                               r"^(dutch|english) please$"),
    },
    "nl": {
        "export": re.compile(r"wat (weet|bewaar|onthoud|heb) (je|jij) (over|van) (mij|me)|"
                             r"^(toon|laat|bekijk|download|exporteer) (me |mij )?(al )?mijn (gegevens|profiel|vragen)"
                             r"( zien)?$|^mijn gegevens$"),
        "forget": re.compile(r"^(alsjeblieft |graag )?(vergeet (mij|me)|verwijder (al )?(mijn gegevens|alles over mij|"
                             r"mijn profiel)|wis (al )?mijn gegevens)( alsjeblieft| graag)?$"),
        "pause": re.compile(r"^(pauze|pauzeer|stop|afmelden|dempen)( (de )?(nudges|herinneringen|lessen|berichten))?$"),
        "resume": re.compile(r"^(hervat|ga (weer )?door|verder|start (weer|opnieuw))"
                             r"( (met )?(de )?(nudges|herinneringen|lessen|berichten))?$"),
        "lesson": re.compile(r"^(les|een les|(stel|geef) (me |mij )?een (micro ?)?les( voor)?|start een (micro ?)?les|"
                             r"wat (moet|zal|kan) ik (nu |hierna )?leren)$"),
        "help": re.compile(r"^(help|hulp|\?|wat (kun|kan) (je|jij)( doen)?|hoe werkt (dit|het))$"),
        "preference": re.compile(r"^(ik wil |maak (mijn )?)?(lessen van )?(\d{1,2}) ?min(uten|uut)?( lessen)?$|"
                                 r"^(stuur (me )?|ik wil |alleen )?lessen (alleen )?(tussen|van) (\d{1,2}) (en|tot) "
                                 r"(\d{1,2})( uur)?$"),
        "language": re.compile(r"^(spreek|praat|antwoord|schrijf)( met me| tegen me| met mij| tegen mij)?( in( het)?)? "
                               r"(nederlands|engels)( alsjeblieft| graag)?$|^(nederlands|engels) graag$|"
                               r"^(zet|verander|wijzig) (de |mijn )?taal (naar|op|in) (nederlands|engels)$"),
    },
}
_MINUTES = re.compile(r"(\d{1,2}) ?min")
_HOURS = re.compile(r"(\d{1,2}) (?:and|to|until|en|tot) (\d{1,2})")
_LANGUAGE_WORDS = {"dutch": "nl", "nederlands": "nl", "english": "en", "engels": "en"}

HELP = N_("Ask me a question about your work and I'll answer from the company's learning content, with sources. "
          "You can also say:\n- *what should I learn next?* for a short micro-lesson picked for you\n"
          "- *5 minute lessons* or *lessons between 9 and 12* to set your lesson length and hours\n"
          "- *what do you know about me* to see what I keep about you\n"
          "- *forget me* to delete it all\n- *pause* / *resume* to stop or restart nudges and lessons\n"
          "- *speak Dutch* / *speak English* to choose the language I use")
RECENT = 10
# asked in a channel, what concerns the learner is answered to them alone
ANSWERED_PRIVATELY = N_("I've answered you privately.")


def intent_of(text: str) -> tuple[str, str | None] | None:
    """(intent, the language it was said in, or None when the phrase is the same in both), or None."""
    normal = normalize(text)
    said = {language: next((name for name, pattern in intents.items() if pattern.search(normal)), None)
            for language, intents in _INTENTS.items()}
    found = [(intent, language) for language, intent in said.items() if intent]
    if not found:
        return None
    intent = found[0][0]
    return intent, found[0][1] if len(found) == 1 else None


def normalize(text: str) -> str:
    normal = re.sub(r"[^\w\s?]", "", text.lower()).strip()
    return re.sub(r"\s+", " ", normal).rstrip("?").strip() or normal


def chosen_language(text: str) -> str:
    """The language a "speak Dutch" / "spreek Engels" names."""
    return next(code for word, code in _LANGUAGE_WORDS.items() if word in normalize(text).split())


def set_preference(engine: Engine, learner_id: str, normal: str) -> Reply:
    """"5 minute lessons", "lessons between 9 and 12": the learner's own lesson length and hours."""
    learner = update_profile(engine, learner_id)
    preferences = dict(learner.preferences or {})
    if m := _MINUTES.search(normal):
        preferences["lesson_minutes"] = max(1, min(30, int(m[1])))
        said = _("Done: lessons of about {minutes} minutes.").format(minutes=preferences["lesson_minutes"])
    else:
        start, end = (int(h) for h in _HOURS.search(normal).groups())
        if not 0 <= start < end <= 24:
            return Reply(text=_("I need two hours of the day, earliest first, e.g. *lessons between 9 and 12*."),
                         mode="service")
        preferences["hours"] = [start, end]
        said = _("Done: lessons and reviews between {start}:00 and {end}:00 (your time).").format(start=start, end=end)
    update_profile(engine, learner_id, preferences=preferences)
    return Reply(text=said + " " + _("Say *what do you know about me* to see all your settings."), mode="service")


def set_language(engine: Engine, learner_id: str, language: str) -> Reply:
    """"speak Dutch": the learner's own choice, which wins over their platform's locale and the questions' language.
    Said in the language chosen (the caller speaks it)."""
    learner = update_profile(engine, learner_id)
    update_profile(engine, learner_id, language=language,
                   preferences={**(learner.preferences or {}), "language": language})
    return Reply(text=_("From now on I'll speak English with you. Say *spreek Nederlands* to switch to Dutch."),
                 mode="service")


def respond(engine: Engine, learner_id: str, intent: str, text: str = "", now: datetime | None = None) -> Reply:
    if intent == "preference":
        return set_preference(engine, learner_id, normalize(text))
    if intent == "language":
        return set_language(engine, learner_id, chosen_language(text))
    if intent == "export":
        return Reply(text=describe(needs.export(engine, learner_id, now), transcripts.count(engine, learner_id)),
                     mode="service",
                     actions=[Action("forget", _("Forget me"))])
    if intent == "forget":
        kept = needs.export(engine, learner_id)
        if keeps_nothing(kept) and not transcripts.count(engine, learner_id):
            return Reply(text=_("I keep nothing about you: there is nothing to forget."), mode="service")
        count = len(kept["questions"])
        return Reply(text=ngettext("This deletes your profile, the {count} question I keep from you, your lesson "
                                   "progress and where I can message you, for good. Are you sure?",
                                   "This deletes your profile, the {count} questions I keep from you, your lesson "
                                   "progress and where I can message you, for good. Are you sure?",
                                   count).format(count=count), mode="service",
                     actions=[Action("forget_confirm", _("Yes, forget me")), Action("cancel", _("Cancel"))])
    if intent in ("pause", "resume"):
        update_profile(engine, learner_id, paused=intent == "pause")
        if intent == "pause":
            return Reply(text=_("Paused: I won't send you nudges or lessons until you say *resume*. "
                                "You can still ask me anything."), mode="service",
                         actions=[Action("resume", _("Resume"))])
        return Reply(text=_("Welcome back: nudges and lessons are on again."), mode="service")
    return Reply(text=_(HELP), mode="service")


def forget(engine: Engine, learner_id: str) -> Reply:
    deleted = needs.forget(engine, learner_id)["questions"]
    transcripts.forget(engine, learner_id)  # the web chat's conversation
    return forgotten(deleted)


def forgotten(deleted: int) -> Reply:
    """What "Yes, forget me" says once done (`deleted`: the questions deleted)."""
    return Reply(text=ngettext("Done: I deleted your profile and {count} question. I keep nothing about you now.",
                               "Done: I deleted your profile and {count} questions. I keep nothing about you now.",
                               deleted).format(count=deleted), mode="service")


def keeps_nothing(kept: dict) -> bool:
    return not (kept["profile"] or kept["questions"] or kept["reachable_in"] or kept["lessons"]["lessons_done"])


_PROFILE_LABELS = (("display_name", N_("name")), ("role", N_("role")), ("team", N_("team")),
                   ("timezone", N_("time zone")), ("language", N_("language")))


def describe(kept: dict, web_turns: int = 0) -> str:
    """The export as a learner reads it in chat; the complete record is `Coach.export` (JSON). `web_turns`: how
    many turns of the web chat's conversation are kept."""
    profile, questions = kept["profile"], kept["questions"]
    if keeps_nothing(kept) and not web_turns:
        return _("I keep nothing about you yet.")
    lines = [_("Here is what I keep about you:")]
    if profile:
        shown = [f"{_(label)}: {profile[key]}" for key, label in _PROFILE_LABELS if profile.get(key)]
        if profile.get("groups"):
            shown.append(_("audience groups: {groups}").format(groups=", ".join(profile["groups"])))
        if profile.get("preferences"):
            shown.append(_("preferences: {preferences}").format(
                preferences=", ".join(f"{k} {v}" for k, v in profile["preferences"].items())))
        shown.append(_("nudges: paused") if profile.get("paused") else _("nudges: on"))
        lines.append(_("- Profile: {profile}").format(profile="; ".join(shown)))
    topics = Counter(t for q in questions for t in q["topics"])
    count = len(questions)
    asked = ngettext("- {count} question, personal details removed", "- {count} questions, personal details removed",
                     count).format(count=count)
    if topics:
        asked += "; " + _("topics: {topics}").format(topics=", ".join(t for t, _n in topics.most_common(8)))
    lines.append(asked)
    for q in questions[-RECENT:][::-1]:
        status = _("answered") if q["answered"] else _("not in the content")
        lines.append(f"  - {q['created_at'][:10]}: {q['question']} ({status})")
    lessons = kept["lessons"]
    if lessons["lessons_done"]:
        answers, done = lessons["quiz_answers"], len(lessons["lessons_done"])
        line = ngettext("- {count} micro-lesson done ({right} quiz answer(s) right, {wrong} wrong)",
                        "- {count} micro-lessons done ({right} quiz answer(s) right, {wrong} wrong)",
                        done).format(count=done, right=answers["right"], wrong=answers["wrong"])
        if lessons["due_now"]:
            line += "; " + _("due for review now: {lessons}").format(lessons=", ".join(lessons["due_now"]))
        else:
            line += "; " + _("next review {date}").format(date=lessons["next_review"][:10])
        lines.append(line)
    if web_turns:
        lines.append(ngettext("- {count} turn of our conversation in the web chat, so it is there when you come back",
                              "- {count} turns of our conversation in the web chat, so they are there when you come "
                              "back", web_turns).format(count=web_turns))
    if kept["reachable_in"]:
        lines.append(_("- Where I can message you: {places}").format(places=", ".join(kept["reachable_in"])))
    lines.append(_("Say *forget me* to delete all of it."))
    return "\n".join(lines)
