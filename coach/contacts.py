"""Whom a learner can ask in person, and how to reach them: per competency (the framework's experts, or
COACH_HUMAN_CONTACT for that competency), per audience group, else the deployment's default.

COACH_HUMAN_CONTACT is either one contact ("#ask-learning") or `;`-separated entries, each `key=contact` for a
competency id or an audience group, and one without a key for everyone else:
`learning@acme.example; finance=#ask-finance or Priya Shah; rotterdam=Anouk (HR Rotterdam)`.
An e-mail address becomes a mailto link in the reply's Markdown; each surface makes it a way to reach them there
(Teams opens a chat with them).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

from kernel.errors import ConfigError

_KEY = re.compile(r"^\s*([\w.-]+)\s*=\s*(.+?)\s*$")
_EMAIL = re.compile(r"(?<![\w.+-])([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")


@dataclass(frozen=True)
class Contacts:
    default: str = ""
    by_key: dict[str, str] = field(default_factory=dict)  # competency id or audience group (lowercase) -> contact

    @classmethod
    def parse(cls, setting: str) -> "Contacts":
        default, by_key = "", {}
        for entry in filter(None, (part.strip() for part in (setting or "").split(";"))):
            if match := _KEY.match(entry):
                by_key[match[1].lower()] = match[2]
            elif default:
                raise ConfigError(f"COACH_HUMAN_CONTACT has two contacts without a key ({default!r} and {entry!r}): "
                                  "give the others a competency or audience, as in `finance=#ask-finance`")
            else:
                default = entry
        return cls(default, by_key)

    def find(self, topics: Sequence[str], groups: Iterable[str],
             experts: Callable[[str], Sequence[str]]) -> tuple[str, str]:
        """(the competency they know, or "", whom to ask, or "" for the default): the question's competencies
        first (this setting, then the framework's experts), then the learner's audience groups."""
        for topic in topics:
            if topic.lower() in self.by_key:
                return topic, self.by_key[topic.lower()]
            if named := experts(topic):
                return topic, " or ".join(named)
        for group in groups:
            if group.lower() in self.by_key:
                return "", self.by_key[group.lower()]
        return "", ""


def linked(contact: str) -> str:
    """The contact as Markdown: e-mail addresses as mailto links."""
    return _EMAIL.sub(lambda m: f"[{m[1]}](mailto:{m[1]})", contact)
