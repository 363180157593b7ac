"""The web admin's one-time message: shown once, cut to what a cookie holds, and read from an older cookie too."""

from __future__ import annotations

from types import SimpleNamespace

from connectors.admin.context import MAX_FLASH, flash, flashed


def test_a_message_is_shown_once_with_its_kind():
    request = SimpleNamespace(session={})
    flash(request, "Saved.")
    assert flashed(request) == {"flash": "Saved.", "flash_kind": "ok"}
    assert flashed(request) == {"flash": "", "flash_kind": ""}
    flash(request, "x" * 1000, "error")
    assert flashed(request) == {"flash": "x" * MAX_FLASH, "flash_kind": "error"}


def test_a_cookie_from_before_kinds_still_shows_its_message():
    request = SimpleNamespace(session={"flash": "Deleted."})
    assert flashed(request) == {"flash": "Deleted.", "flash_kind": "ok"}
