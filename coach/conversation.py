"""Turning a conversation into one standalone search query.

Without a language model, the best simple rewrite measured on the multi-turn set (mtrag) is the last user turn
followed by the two user turns before it: follow-ups such as "and for contractors?" keep their subject.
"""

from __future__ import annotations

from typing import Sequence

PREVIOUS_TURNS = 2


def standalone_query(user_turns: Sequence[str]) -> str:
    """`user_turns` oldest first; the last one is the question being asked now."""
    turns = [t.strip() for t in user_turns if t and t.strip()]
    if not turns:
        return ""
    return " ".join([turns[-1], *turns[-1 - PREVIOUS_TURNS : -1]])
