"""Ralph's LRS app with its file backend appending (../shared/notes/xapi.md: it opens its file in create mode and
takes one write ever otherwise). Served by uvicorn from Ralph's own venv: `uvicorn ralph_app:app`."""

from ralph.backends.data.base import BaseOperationType
from ralph.backends.lrs.fs import FSLRSBackend

FSLRSBackend.default_operation_type = BaseOperationType.APPEND

from ralph.api import app  # noqa: E402  (after the patch: the app builds its backend on import)

__all__ = ["app"]
