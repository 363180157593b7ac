"""The sample company's content and lessons behind the web chat, built once per test module (ingesting them takes
a while); each test's browser or TestClient is a learner of its own (its own cookie), so tests share it safely."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from coach.bootstrap import bootstrap
from coach.lessons import catalog
from coach.lessons.authoring import load_lessons
from tests.conftest import _SETTING_PREFIXES, REPO, make_settings

MILEAGE = "How much is mileage reimbursed per kilometre?"
ANSWER = re.compile(r"\d+p per mile|EUR 0\.23 per k")  # what the sample policy and FAQ say about it


def sample_container(folder: Path, embedder):
    with pytest.MonkeyPatch.context() as env:  # the autouse clean environment is per test: the same, here
        for name in list(os.environ):
            if name.startswith(_SETTING_PREFIXES):
                env.delenv(name)
        shutil.copytree(REPO / "examples" / "content", folder / "content")
        # every test's client is a learner of its own, all from one address: as many as an office behind one proxy
        container = bootstrap(make_settings(folder, COACH_WEB_QUESTIONS_PER_MINUTE_PER_ADDRESS=0), embedder=embedder)
        container.knowledge.ingest([folder / "content"])
        specs, problems = load_lessons(REPO / "examples" / "lessons",
                                       {c.id for c in container.coach.framework.competencies})
        assert not problems, problems
        catalog.save(container.engine, specs)
        return container
