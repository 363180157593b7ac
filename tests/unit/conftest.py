"""The core with fakes at its ports (tests/unit/coach_rig.py): a migrated SQLite template per module, copied per test."""

from __future__ import annotations

import pytest

from tests.unit.coach_rig import build, migrated_template


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    return migrated_template(tmp_path_factory.mktemp("db"))


@pytest.fixture
def rig(template, tmp_path):
    built = build(template, tmp_path)
    yield built
    built.engine.dispose()
