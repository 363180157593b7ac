"""The people the coach has met. Every connector records a learner it meets through `Directory.meet` (name, time
zone, locale, where to reach them), which teaches the redactor the name at once: a name the coach knows is taken
out of questions, the needs log and model prompts from the learner's first message on.

Names learnt by another process (another app replica, the CLI's `coach learners set --name`) reach this one's
redactor too: before redacting, the directory compares a cheap fingerprint of the learners' names in the database
(how many, how long in all) at most every `check_every_s` and reloads them when it changed.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy.engine import Engine

from coach import addresses, i18n, learners
from coach.redaction import Redactor

log = logging.getLogger(__name__)

CHECK_EVERY_S = 10.0


@dataclass(frozen=True)
class Address:
    """How to reach a learner proactively on a platform: `kind` personal (their chat with the coach) or member
    (met in a channel: enough to open one); `reference` the platform's own conversation reference."""

    platform: str
    kind: str
    reference: dict


class Directory:
    def __init__(self, engine: Engine, redactor: Redactor, *, check_every_s: float = CHECK_EVERY_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.engine, self.redactor, self.check_every_s, self.clock = engine, redactor, check_every_s, clock
        self._fingerprint: tuple[int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self.refresh_names(force=True)

    def knows(self, learner_id: str) -> bool:
        return learners.find(self.engine, learner_id) is not None

    def language_of(self, learner_id: str) -> str:
        return learners.language_of(self.engine, learner_id)

    def language_for(self, learner_id: str, *, said_in: str | None, locale: str | None) -> str:
        """The language to answer a message in: the learner's own choice ("speak Dutch"), else the language the
        message is clearly written in (remembered, so nudges and lessons follow it), else the platform's locale (the
        browser's, Teams'), else the profile's."""
        learner = learners.find(self.engine, learner_id)
        if chosen := learners.chosen_language(learner):
            return chosen
        if said_in in i18n.LANGUAGES:
            if learner is not None and learner.language != said_in:
                learners.update_profile(self.engine, learner_id, language=said_in)
            return said_in
        return i18n.supported(locale) or i18n.supported(learner.language if learner else None) or i18n.LANGUAGES[0]

    def meet(self, learner_id: str, *, name: str | None = None, timezone: str | None = None,
             locale: str | None = None, address: Address | None = None) -> bool:
        """Record what a connector learnt about a learner (None or "": nothing new); True when the coach had not met
        them before. The locale is kept only for a new learner: what they choose later ("speak Dutch") wins."""
        known = learners.find(self.engine, learner_id)
        if timezone and not learners.valid_timezone(timezone):
            log.warning("ignoring the unknown time zone %r of %s", timezone, learner_id)
            timezone = None
        name = name if name and (known is None or name != known.display_name) else None
        timezone = timezone if timezone and (known is None or timezone != known.timezone) else None
        language = None  # "nl-NL", "nl_NL" -> "nl"
        if locale and known is None:
            language = locale.replace("_", "-").split("-")[0].lower() or None
        if known is None or name or timezone:
            learners.update_profile(self.engine, learner_id, display_name=name, timezone=timezone,
                                    language=language)
        if name:  # at once, before this learner's first question is redacted
            self.redactor.add_names([name])
        if address:
            addresses.remember(self.engine, platform=address.platform, kind=address.kind, key=learner_id,
                               reference=address.reference, learner_id=learner_id)
        return known is None

    def refresh_names(self, *, force: bool = False) -> None:
        """Reload the learners' names when another process changed them (checked at most every check_every_s)."""
        now = self.clock()
        with self._lock:
            if not force and now - self._checked < self.check_every_s:
                return
            self._checked = now
            fingerprint = learners.names_fingerprint(self.engine)
            if fingerprint != self._fingerprint:
                self.redactor.add_names(learners.display_names(self.engine))
                self._fingerprint = fingerprint

