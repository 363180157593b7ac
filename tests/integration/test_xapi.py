"""Learning records in a real LRS: what a learner does in the web chat arrives in Ralph (persistent, real Basic
auth) as valid xAPI 1.0.3 statements, sent by the app's own worker; with the LRS down they wait in the outbox and
arrive once it is back; a crash mid-send neither loses nor doubles one; "forget me" voids what was sent (checked
in Learning Locker's spec-strict xapi-statements, which implements voiding)."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from coach import accounts
from coach.messages import IncomingMessage
from coach.store.models import XapiStatement
from coach.nudges import ledger
from coach.xapi import outbox, sender
from connectors.lrs import HttpLrs
from connectors.server import create_app
from kernel.store import session, utcnow
from tests.fakes.delivery import RecordingDelivery
from tests.integration.admin_helpers import PASSWORD, csrf_of, signed_in
from tests.integration.xapi_helpers import coach_for, ralph, strict_lrs, wait_for  # noqa: F401 (fixtures)

ADL = "http://adlnet.gov/expapi/verbs/"
PHISHING = "How do I report a phishing e-mail?"


class Recording:
    """The real HTTP adapter, with every statement id it posted and what the LRS answered (a fake that records)."""

    def __init__(self, lrs: HttpLrs) -> None:
        self.lrs, self.posted, self.acknowledged, self.looked_up = lrs, [], set(), []

    async def post(self, statements):
        result = await self.lrs.post(statements)
        ids = [s["id"] for s in statements]
        self.posted += ids
        if result.stored:
            self.acknowledged |= set(ids)
        return result

    async def has(self, statement_id):
        self.looked_up.append(statement_id)
        return await self.lrs.has(statement_id)

    def __getattr__(self, name):  # looking up (has, stored_since, answers) as the adapter does
        return getattr(self.lrs, name)


def ask(container, learner="web-" + "a" * 32, text=PHISHING):
    return container.coach.ask(IncomingMessage(learner_id=learner, text=text, channel="web", platform="web"))


def drain(container, lrs) -> None:
    async def run():
        client = lrs if hasattr(lrs, "post") else HttpLrs(lrs.endpoint, lrs.username, lrs.password)
        await sender.resolve_doubts(container.engine, client)
        while (await sender.send_batch(container.engine, client, 50))[0]:
            pass
    asyncio.run(run())


def by_verb(statements) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for s in statements:
        found.setdefault(s["verb"]["id"].rsplit("/", 1)[-1], []).append(s)
    return found


def test_a_question_and_a_lesson_in_the_web_chat_reach_the_lrs_through_the_apps_worker(tmp_path, embedder, ralph):
    container = coach_for(tmp_path, embedder, ralph, COACH_RUN_WORKER=True)
    with TestClient(create_app(container), base_url="http://coach.test") as browser:
        reply = browser.post("/api/ask", json={"question": PHISHING}).json()
        learner = browser.cookies["coach_learner"]
        assert not reply["abstained"]
        need_id = reply["need_id"]
        browser.post("/api/action", data={"kind": "helpful", "value": need_id})
        browser.post("/api/action", data={"kind": "lesson", "value": "report-phishing"})
        browser.post("/api/action", data={"kind": "answer", "value": "report-phishing:1"})
        wanted = {"asked", "rated", "launched", "answered", "completed"}
        got = wait_for(lambda: wanted <= set(by_verb(ralph.statements())) and ralph.statements(), timeout_s=60)
    assert got, f"only {sorted(by_verb(ralph.statements()))} arrived; outbox: {outbox.status(container.engine)}"
    verbs = by_verb(got)
    for s in got:  # the actor is a pseudonym on the platform's home page, never the learner id or an e-mail
        assert s["actor"]["account"]["homePage"] == "http://coach.test" and "mbox" not in s["actor"]
        assert re.fullmatch(r"[0-9a-f]{32}", s["actor"]["account"]["name"]) and learner not in str(s)
        assert s["verb"]["id"].startswith((ADL, "http://id.tincanapi.com/verb/"))
        assert s["object"]["id"].startswith("http://coach.test/xapi/") and s["version"] == "1.0.3"
    asked = verbs["asked"][0]
    assert asked["object"]["id"] == f"http://coach.test/xapi/questions/{need_id}"
    assert asked["result"]["success"] is True and "phishing" not in str(asked).lower()  # no question text by default
    assert {a["id"] for a in asked["context"]["contextActivities"]["grouping"]} == {
        "http://coach.test/xapi/competencies/information-security"}
    assert verbs["rated"][0]["result"]["response"] == "helpful"
    assert verbs["rated"][0]["context"]["statement"]["id"] == asked["id"]
    launched, completed = verbs["launched"][0], verbs["completed"][0]
    assert launched["object"]["id"] == completed["object"]["id"] == "http://coach.test/xapi/lessons/report-phishing"
    assert launched["context"]["registration"] == completed["context"]["registration"]
    assert completed["result"]["completion"] is True and re.fullmatch(r"PT\d+S", completed["result"]["duration"])
    answered = verbs["answered"][0]
    assert answered["object"]["definition"]["interactionType"] == "choice"
    assert answered["result"]["response"] == "b" and answered["result"]["success"] == (
        answered["object"]["definition"]["correctResponsesPattern"] == ["b"])
    assert outbox.status(container.engine)["counts"]["queued"] == 0


def test_with_the_lrs_down_statements_wait_with_the_reason_and_arrive_once_it_is_back(tmp_path, embedder, ralph):
    container = coach_for(tmp_path, embedder, ralph)
    ralph.stop()
    ask(container)
    drain(container, ralph)
    status = outbox.status(container.engine)
    assert status["counts"]["queued"] == 1 and status["counts"]["sent"] == 0
    assert "unreachable" in status["reasons"][0]["reason"]
    with session(container.engine) as db:  # backing off: not due again at once
        assert db.exec(select(XapiStatement)).one().next_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
        row = db.exec(select(XapiStatement)).one()
        row.next_at = utcnow()
        db.add(row)
        db.commit()
    ralph.start()
    drain(container, ralph)
    assert outbox.status(container.engine)["counts"]["sent"] == 1
    assert [s["verb"]["id"] for s in ralph.statements()] == [ADL + "asked"]


@pytest.mark.parametrize("posted_before_the_crash", [True, False])
@pytest.mark.parametrize("in_flight", [3, 30])  # looked up one by one; in what the LRS stored since
def test_a_crash_mid_send_neither_loses_nor_doubles_a_statement(tmp_path, embedder, ralph, posted_before_the_crash,
                                                                in_flight):
    container = coach_for(tmp_path, embedder, ralph)
    for n in range(in_flight):
        ask(container, learner=f"web-{n:032x}")
    claimed = outbox.claim(container.engine, 100)  # a sender took them ... and died
    assert len(claimed) == in_flight
    if posted_before_the_crash:  # ... after the LRS had stored them, before it recorded that
        httpx.post(ralph.endpoint + "statements", json=[r.statement for r in claimed],
                   auth=(ralph.username, ralph.password), headers={"X-Experience-API-Version": "1.0.3"}
                   ).raise_for_status()
    recording = Recording(HttpLrs(ralph.endpoint, ralph.username, ralph.password))
    drain(container, recording)  # the lease has not run out: another sender leaves them alone
    assert recording.posted == []
    with session(container.engine) as db:
        for row in db.exec(select(XapiStatement)).all():
            row.lease_until = utcnow()
            db.add(row)
        db.commit()
    drain(container, recording)
    assert recording.posted == ([] if posted_before_the_crash else [r.id for r in claimed])
    assert len(recording.looked_up) == (in_flight if in_flight <= sender.FEW else 0)
    assert outbox.status(container.engine)["counts"]["sent"] == in_flight
    assert sorted(s["id"] for s in ralph.statements()) == sorted(r.id for r in claimed)


def test_a_statement_the_lrs_refuses_is_set_aside_and_the_rest_of_its_batch_still_goes(tmp_path, embedder, ralph):
    container = coach_for(tmp_path, embedder, ralph)
    ask(container)
    ask(container, text="How much training budget do I have?")
    with session(container.engine) as db:
        first = db.exec(select(XapiStatement).order_by(XapiStatement.created_at)).first()
    other = {**first.statement, "verb": {"id": ADL + "answered", "display": {"en-US": "answered"}}}
    httpx.post(ralph.endpoint + "statements", json=[other], auth=(ralph.username, ralph.password)).raise_for_status()
    drain(container, ralph)  # the LRS holds another statement with the first one's id: a 409 for that one only
    status = outbox.status(container.engine)
    assert status["counts"] == {"queued": 0, "sending": 0, "sent": 1, "failed": 1}
    assert "409" in status["reasons"][0]["reason"]

    # L&D sees it in the admin, and queues it again from there (a manager may not)
    for email, role in (("lea@example.com", "ld-admin"), ("max@example.com", "manager")):
        accounts.add_account(container.engine, email=email, role=role, password=PASSWORD, teams=[], actor="test")
    assert signed_in(container, "max@example.com").get("/admin/learning-records").status_code == 403
    admin = signed_in(container)
    page = admin.get("/admin/learning-records").text
    assert "Differing statements already exist" in page and first.id in page
    admin.post("/admin/learning-records/retry", data={"csrf_token": csrf_of(page)})
    assert outbox.status(container.engine)["counts"]["queued"] == 1
    assert "1 failed statement queued again" in admin.get("/admin/learning-records").text


def test_wrong_credentials_keep_statements_queued_and_say_what_to_check(tmp_path, embedder, ralph):
    container = coach_for(tmp_path, embedder, ralph, XAPI_PASSWORD="wrong")
    ask(container)
    drain(container, HttpLrs(ralph.endpoint, ralph.username, "wrong"))
    status = outbox.status(container.engine)
    assert status["counts"]["queued"] == 1 and "XAPI_PASSWORD" in status["reasons"][0]["reason"]


def test_forget_me_drops_what_was_never_sent_and_voids_what_was(tmp_path, embedder, strict_lrs):
    container = coach_for(tmp_path, embedder, strict_lrs)
    learner = "web-" + "b" * 32
    ask(container, learner)
    drain(container, strict_lrs)
    sent = [s["id"] for s in strict_lrs.statements()]
    ask(container, learner, "How much training budget do I have?")  # never sent
    container.coach.forget(learner)
    with session(container.engine) as db:
        rows = db.exec(select(XapiStatement)).all()
    assert [(r.verb, r.learner_id, r.ref) for r in rows] == [("voided", "", sent[0])]
    assert "account" in rows[0].statement["actor"] and "web-" not in str(rows[0].statement)
    drain(container, strict_lrs)
    with strict_lrs.client() as client:
        assert client.get("statements", params={"statementId": sent[0]}).status_code == 404
        assert client.get("statements", params={"voidedStatementId": sent[0]}).json()["id"] == sent[0]
    # the voided statement leaves the LRS's answers; only the voiding one, which names it, is still listed
    assert [s["verb"]["id"] for s in strict_lrs.statements(verb=ADL + "asked")] == [ADL + "voided"]


def test_a_source_opened_from_an_answer_is_checked_recorded_and_opened(tmp_path, embedder, ralph):
    container = coach_for(tmp_path, embedder, ralph)
    app = create_app(container)
    browser = TestClient(app, base_url="http://coach.test")
    reply = browser.post("/api/ask", json={"question": "How much training budget do I have?"}).json()
    link = reply["citations"][0]["link"]
    assert link.startswith("http://coach.test/read/")
    opened = browser.get(link.removeprefix("http://coach.test"), follow_redirects=False)
    assert opened.status_code == 303 and re.match(r"/read/[^/]+/passage#chunk-", opened.headers["location"])
    page = browser.get(opened.headers["location"].split("#")[0])
    assert page.status_code == 200 and "1,200 euros" in page.text
    with session(container.engine) as db:
        read = db.exec(select(XapiStatement).where(XapiStatement.verb == "experienced")).one()
    assert read.statement["object"]["id"].startswith("http://coach.test/xapi/sources/")
    assert read.statement["context"]["contextActivities"]["parent"][0]["id"].endswith(reply["need_id"])
    forged = link.rsplit(".", 1)[0] + "." + "0" * 32
    assert browser.get(forged.removeprefix("http://coach.test")).status_code == 404

    # a link made for someone outside a source's audience opens nothing and records nothing
    salary = container.knowledge.search("merit budget salary review", k=1, groups=["managers"])[0]
    token = container.coach.source_links.url("web-" + "c" * 32, salary.source_id, salary.chunk_id, "", "")
    assert browser.get(token.removeprefix("http://coach.test")).status_code == 404
    with session(container.engine) as db:
        assert len(db.exec(select(XapiStatement).where(XapiStatement.verb == "experienced")).all()) == 1


def test_nudges_their_effect_and_spaced_reviews_as_statements_on_sqlite_and_postgresql(tmp_path, embedder,
                                                                                        strict_lrs, database_url):
    """A nudge sent is `received`; the learner's next activity within a day marks it `interacted` once; a quiz
    answered again later is a spaced review (`answered` in the review category), not a second completion. The
    spec-strict LRS takes every one of them."""
    container = coach_for(tmp_path, embedder, strict_lrs, DATABASE_URL=database_url)
    learner = "slack:T1:U1"
    reply = container.coach.act(learner, "lesson", "report-phishing")
    asyncio.run(ledger.deliver(container.engine, RecordingDelivery(), key="s1:slack:T1:U1:2026-12-04T09:00:00+00:00",
                               learner_id=learner, reply=reply))
    container.coach.act(learner, "answer", "report-phishing:0")
    container.coach.act(learner, "answer", "report-phishing:1")  # later: a spaced review
    ask(container, learner)
    drain(container, strict_lrs)
    assert outbox.status(container.engine)["counts"] == {"queued": 0, "sending": 0, "sent": 7, "failed": 0}
    verbs = by_verb(strict_lrs.statements())
    assert sorted((v, len(s)) for v, s in verbs.items()) == [
        ("answered", 2), ("asked", 1), ("completed", 1), ("interacted", 1), ("launched", 1), ("receive", 1)]
    received, interacted = verbs["receive"][0], verbs["interacted"][0]
    assert received["object"]["id"] == "http://coach.test/xapi/nudges/schedules/s1"
    assert received["actor"]["account"]["homePage"] == "https://slack.com"
    assert interacted["object"]["id"] == received["object"]["id"]
    first, review = sorted(verbs["answered"], key=lambda s: s["timestamp"])
    assert "category" not in first["context"]["contextActivities"] and first["context"].get("registration")
    assert review["context"]["contextActivities"]["category"][0]["id"] == "http://coach.test/xapi/categories/spaced-review"
    assert interacted["context"]["statement"]["id"] == first["id"]  # the activity that followed the nudge
