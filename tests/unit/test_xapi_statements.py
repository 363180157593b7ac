"""The statement models refuse what an LRS would (so one bad statement never costs a batch), the actor is a stable
pseudonym unless the deployment maps an e-mail on purpose, and the LRS's Retry-After is read in both its forms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from pydantic import ValidationError

from coach.xapi.profile import Profile, read_actor_map
from coach.xapi.statements import Account, Activity, Agent, Score, Statement, Verb, timestamp
from connectors.lrs import _retry_after
from kernel.errors import CoachError

ID = "0b4b6a2e-4a2e-4f7f-9f5b-3b8b6b4f1e11"


def statement(**changes) -> Statement:
    values = dict(id=ID, actor=Agent(account=Account(homePage="https://slack.com", name="p")),
                  verb=Verb(id="http://adlnet.gov/expapi/verbs/asked", display={"en-US": "asked"}),
                  object=Activity(id="https://coach.example.com/xapi/questions/1"),
                  timestamp=timestamp(datetime(2026, 12, 4, 10, 0, tzinfo=UTC)))
    return Statement(**{**values, **changes})


def test_a_valid_statement_is_posted_as_the_spec_writes_it():
    assert statement().as_json() == {
        "id": ID, "actor": {"objectType": "Agent", "account": {"homePage": "https://slack.com", "name": "p"}},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/asked", "display": {"en-US": "asked"}},
        "object": {"objectType": "Activity", "id": "https://coach.example.com/xapi/questions/1"},
        "timestamp": "2026-12-04T10:00:00.000Z", "version": "1.0.3"}


@pytest.mark.parametrize("build", [
    lambda: statement(id="not-a-uuid"),
    lambda: statement(object=Activity(id="questions/1")),  # not an absolute IRI
    lambda: statement(timestamp="2026-12-04T10:00:00"),  # no time zone
    lambda: Agent(name="no identifier"),
    lambda: Agent(account=Account(homePage="https://slack.com", name="p"), mbox="mailto:a@example.com"),
    lambda: Agent(mbox="a@example.com"),  # an mbox is a mailto: IRI
    lambda: Score(scaled=1.5),
    lambda: Score(raw=3, min=0, max=1),
])
def test_what_an_lrs_would_refuse_is_refused_before_the_outbox(build):
    with pytest.raises(ValidationError):
        build()


def test_the_actor_is_a_stable_pseudonym_per_deployment_unless_mapped_on_purpose(tmp_path):
    one, other = Profile(base="https://c.example/xapi", key=b"k1"), Profile(base="https://c.example/xapi", key=b"k2")
    learner = "teams:tenant:aad-user"
    actor = one.actor(learner).model_dump(exclude_none=True)
    assert actor["account"]["homePage"] == "https://teams.microsoft.com" and "aad-user" not in str(actor)
    assert one.pseudonym(learner) == one.pseudonym(learner) != other.pseudonym(learner)
    assert one.actor("web-" + "a" * 32).account.homePage == "https://c.example"  # the web chat: the coach itself

    mapped = tmp_path / "actors.csv"
    mapped.write_text("# learner id,e-mail\nteams:tenant:aad-user, anna@example.com\n")
    profile = Profile(base="https://c.example/xapi", key=b"k1", mbox=read_actor_map(mapped))
    assert profile.actor(learner).mbox == "mailto:anna@example.com"
    assert profile.actor("slack:T1:U1").account is not None  # everyone else stays a pseudonym


def test_a_broken_actor_map_says_which_line_to_fix(tmp_path):
    mapped = tmp_path / "actors.csv"
    mapped.write_text("slack:T1:U1,a@example.com\nslack:T1:U2\n")
    with pytest.raises(CoachError, match="line 2"):
        read_actor_map(mapped)
    with pytest.raises(CoachError, match="cannot read"):
        read_actor_map(tmp_path / "missing.csv")


def test_retry_after_in_seconds_or_as_an_http_date():
    assert _retry_after("120") == 120.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)
    assert 85 <= _retry_after(later) <= 90
    assert _retry_after("soon") is None and _retry_after(None) is None
