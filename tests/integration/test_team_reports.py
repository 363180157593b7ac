"""Managers see what their team asks about in aggregate only: small groups and rare topics stay hidden."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from coach import reports
from connectors.cli.main import app
from kernel.errors import Forbidden
from coach.learners import update_profile
from coach.needs import record


def test_team_needs_are_aggregates_with_small_groups_hidden(container):
    engine = container.engine
    for n in range(6):
        update_profile(engine, f"p{n}", team="Support")
        record(engine, learner_id=f"p{n}", channel="dm", platform="slack", question=f"secret question {n}",
               topics=["expenses"], answered=n < 3, confidence=0.5, sources=[])
    for n in range(2):
        record(engine, learner_id=f"p{n}", channel="dm", platform="slack", question="who handles phishing",
               topics=["information-security"], answered=True, confidence=0.9, sources=[])
    result = reports.team_needs(engine, "Support")
    assert result["people"] == 6 and [row["topic"] for row in result["topics"]] == ["expenses"]
    assert result["topics"][0] == {"topic": "expenses", "questions": 6, "people": 6, "answered": 0.5, "helpful": None}
    assert result["hidden_questions"] == 2  # two people asked about security: not enough to show
    assert "secret" not in json.dumps(result) and "phishing" not in json.dumps(result)

    update_profile(engine, "q1", team="Tiny")
    with pytest.raises(Forbidden):
        reports.team_needs(engine, "Tiny")


def test_only_the_teams_manager_sees_it_through_the_cli(tmp_path, monkeypatch):
    monkeypatch.setenv("COACH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COACH_LOAD_SAMPLES", "false")
    runner = CliRunner()
    runner.invoke(app, ["learners", "set", "boss", "--team", "Design", "--role", "manager"])
    runner.invoke(app, ["learners", "set", "other", "--team", "Support", "--role", "manager"])
    for n in range(5):
        runner.invoke(app, ["learners", "set", f"d{n}", "--team", "Design"])
    assert runner.invoke(app, ["team-needs", "Design", "--as", "boss", "--json"]).exit_code == 0
    refused = runner.invoke(app, ["team-needs", "Design", "--as", "other"])
    assert refused.exit_code == 2 and "manages Support, not Design" in refused.stderr


def test_managers_set_their_teams_focus_and_see_its_needs_in_chat(container):
    from coach.messages import IncomingMessage
    from kernel.store import session
    from coach.store.models import TeamFocus

    engine, coach = container.engine, container.coach
    update_profile(engine, "boss", team="Support", role="manager")
    for n in range(5):
        update_profile(engine, f"s{n}", team="Support")
        record(engine, learner_id=f"s{n}", channel="dm", platform="teams", question="q", topics=["expenses"],
               answered=True, confidence=0.9, sources=[])

    def say(text: str, who: str = "boss", public: bool = False):
        return coach.ask(IncomingMessage(learner_id=who, text=text, public=public))

    assert say("focus on customer conversations and feedback").text.startswith(
        "Support now focuses on Giving and receiving feedback, Customer conversations")
    with session(engine) as db:
        assert db.get(TeamFocus, "Support").competencies == ["customer-service", "feedback"]
    assert "I don't know juggling" in say("focus on juggling").text
    needs = say("What does my team ask about?", public=True)  # in a channel: answered to the manager alone
    assert needs.private and "**Expenses and travel**: 5 questions from 5 people" in needs.private.text
    assert say("focus on feedback", who="s1").mode != "service"  # not a manager: just a question
