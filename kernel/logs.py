"""The log lines of `coach serve` and `coach worker`: text for a terminal, or one JSON object per line
(COACH_LOG_FORMAT=json) for a log pipeline. Either way each line carries the request id (kernel/tracing.py), and
errors are counted for /metrics (kernel/metrics.py). Uvicorn's own loggers go through the same handler."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from kernel.metrics import ErrorCounter
from kernel.tracing import request_id

_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id", "color_message"}


class RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        if record.request_id:
            line["request_id"] = record.request_id
        line |= {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s%(rid)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.rid = f" [{record.request_id}]" if record.request_id else ""
        return super().format(record)


def configure(format: str = "text", level: str = "INFO") -> None:  # noqa: A002 - the setting's name
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RequestId())
    handler.addFilter(ErrorCounter())
    handler.setFormatter(JsonFormatter() if format == "json" else TextFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # theirs, through the same handler
        logger = logging.getLogger(name)
        logger.handlers[:], logger.propagate, logger.disabled = [], True, False
        logger.setLevel(logging.NOTSET)
