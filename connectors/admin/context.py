"""The one way an admin route reaches what it calls: the container `mount` was given (settings, the engine the core
services take, the knowledge base, the coach, the drafter, the gaps), and the one-time message a page shows after a
redirect. Kept apart from the areas so that the auth module and every area share it without import cycles."""

from __future__ import annotations

from fastapi import Request

_FLASH = "flash"
MAX_FLASH = 400  # the message travels in the signed session cookie, which has room for little


def container_of(request: Request):
    return request.app.state.container


def flash(request: Request, message: str, kind: str = "ok") -> None:
    """A one-time message for the next page (after a redirect); `kind` "error" shows it as an alert."""
    request.session[_FLASH] = [kind, message[:MAX_FLASH]]


def flashed(request: Request) -> dict[str, str]:
    """The waiting message, taken (shown once), as the templates read it: `flash` and `flash_kind`."""
    waiting = request.session.pop(_FLASH, None) or ("", "")
    kind, message = ("ok", waiting) if isinstance(waiting, str) else waiting  # a cookie from before this shape
    return {"flash": message, "flash_kind": kind}
