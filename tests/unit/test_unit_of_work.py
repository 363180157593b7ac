"""The unit of work commits a use case's changes together, or none of them."""

from __future__ import annotations

import pytest

from kernel.store import make_engine, session, unit_of_work
from coach.store.db import migrate
from coach.store.models import Learner


@pytest.fixture
def engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'coach.db'}")
    migrate(engine)
    return engine


def test_a_block_that_ends_normally_is_committed(engine):
    with unit_of_work(engine) as db:
        db.add(Learner(id="u1", display_name="Ana"))
        db.add(Learner(id="u2", display_name="Bo"))
    with session(engine) as db:
        assert db.get(Learner, "u1").display_name == "Ana" and db.get(Learner, "u2").display_name == "Bo"


def test_a_block_that_raises_changes_nothing(engine):
    with pytest.raises(RuntimeError), unit_of_work(engine) as db:
        db.add(Learner(id="u1", display_name="Ana"))
        db.flush()
        raise RuntimeError("the use case failed half-way")
    with session(engine) as db:
        assert db.get(Learner, "u1") is None


def test_objects_stay_readable_after_the_commit(engine):
    with unit_of_work(engine) as db:
        learner = Learner(id="u1", display_name="Ana")
        db.add(learner)
    assert learner.display_name == "Ana"  # not expired: no session is needed to read it
