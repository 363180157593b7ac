"""Meeting a learner is one core call (`Coach.meet`): a learner the coach first meets after start-up has their name
taken out of questions at once, whoever asks, in Teams as in Slack; and another app process (a replica on the same
database) learns the name from the database."""

from __future__ import annotations

from coach.bootstrap import bootstrap
from coach.messages import IncomingMessage
from coach.needs import needs_of
from tests.conftest import make_settings
from tests.integration.teams_helpers import personal_message
from tests.integration.test_teams import answers, connector, learner, start  # noqa: F401


def test_a_teams_learner_met_after_start_up_has_their_name_redacted_from_the_needs_log(tmp_path, embedder, connector):
    http, container = start(tmp_path, embedder)
    with http:
        # Riley writes for the first time while the server runs: Teams gives the name with the message
        http.post("/api/messages", json=personal_message(connector.base_url, "Riley Jones here: how do I report "
                                                                             "phishing?", who="riley"))
        http.post("/api/messages", json=personal_message(
            connector.base_url, "How do I report phishing? Riley Jones forwarded me a strange mail.", who="sam"))
        assert len(answers(connector)) == 2
    logged = [n.question for who in ("riley", "sam") for n in needs_of(container.engine, learner(who))]
    assert len(logged) == 2 and all("Riley" not in q and "Jones" not in q for q in logged), logged
    assert all("<PERSON>" in q for q in logged)
    assert container.coach.export(learner("riley"))["profile"]["display_name"] == "Riley Jones"


def test_another_process_on_the_same_database_learns_the_names_it_did_not_meet(tmp_path, embedder):
    settings = make_settings(tmp_path)
    one, other = bootstrap(settings, embedder=embedder), bootstrap(settings, embedder=embedder)
    other.coach.directory.check_every_s = 0  # checked before every question (10 s by default)
    assert one.coach.meet("slack:T1:U9", name="Marieke van der Berg", timezone="Europe/Amsterdam", locale="nl-NL")
    assert not one.coach.meet("slack:T1:U9", name="Marieke van der Berg")  # met already

    other.coach.ask(IncomingMessage(learner_id="slack:T1:U2", text="Can Marieke van der Berg approve my budget?"))
    [need] = needs_of(other.engine, "slack:T1:U2")
    assert "Marieke" not in need.question and "Berg" not in need.question
    profile = other.coach.export("slack:T1:U9")["profile"]
    assert (profile["timezone"], profile["language"]) == ("Europe/Amsterdam", "nl")
