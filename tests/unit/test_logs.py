"""The log lines `coach serve` and `coach worker` write: JSON objects with the request id, or text; errors counted."""

from __future__ import annotations

import json
import logging

import pytest

from kernel import logs, metrics
from kernel.tracing import bound


@pytest.fixture(autouse=True)
def restored_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


def test_json_lines_carry_the_request_id_and_extras_and_errors_are_counted(capsys):
    logs.configure("json", "INFO")
    errors_before = metrics.ERRORS.labels("coach.thing")._value.get()
    with bound("rid-123"):
        logging.getLogger("coach.thing").info("question %s", "answered", extra={"ms": 12})
        try:
            raise ValueError("boom")
        except ValueError:
            logging.getLogger("coach.thing.deep").exception("it failed")
    logging.getLogger("uvicorn.access").info("GET / 200")
    info, error, access = [json.loads(line) for line in capsys.readouterr().err.splitlines()]
    assert (info["message"], info["request_id"], info["ms"], info["level"]) == ("question answered", "rid-123", 12,
                                                                              "info")
    assert error["request_id"] == "rid-123" and "ValueError: boom" in error["error"]
    assert access["logger"] == "uvicorn.access" and "request_id" not in access
    assert metrics.ERRORS.labels("coach.thing")._value.get() == errors_before + 1


def test_text_lines_show_the_request_id_in_brackets(capsys):
    logs.configure("text", "INFO")
    with bound("rid-9"):
        logging.getLogger("coach.x").warning("slow")
    assert "WARNING coach.x [rid-9]: slow" in capsys.readouterr().err
