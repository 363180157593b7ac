"""The web admin's Content gaps area over HTTP, through the real app on SQLite and PostgreSQL with the real embedding
model and Chroma: clusters by demand with their trend, examples and chart; closed clusters with the source that
closed them; drafting a lesson from a cluster (with a model on loopback, and without one); the bearer-token API; and
that only ld-admin gets in (the questions are learners' own words, redacted)."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from coach import accounts
from coach.lessons import catalog
from coach.lessons.drafting import NO_MODEL
from kernel.store import session
from coach.store.models import Lesson
from tests.fakes.openai_api import FakeOpenAI, Scripted
from tests.integration.lesson_files import lesson_file
from tests.integration.admin_helpers import PASSWORD, browser, csrf_of, signed_in
from tests.integration.test_gaps import ANNA, BEN, CHRIS, LEAVE, MILEAGE, MILEAGE_DOC, add_doc, ask, build

MILEAGE_LABEL, LEAVE_LABEL = MILEAGE[0][1], LEAVE[0][1]


def with_accounts(container):
    for email, role in (("lea@example.com", "ld-admin"), ("max@example.com", "manager"),
                        ("vic@example.com", "viewer")):
        accounts.add_account(container.engine, email=email, role=role, password=PASSWORD, teams=[], actor="test")
    return container


@pytest.fixture
def container(tmp_path, embedder, database_url):
    """Two open clusters: mileage (3 questions, 2 people) and parental leave (2 questions, 2 people)."""
    built = with_accounts(build(tmp_path, embedder, database_url))
    for learner, question in MILEAGE + LEAVE:
        assert ask(built, learner, question).abstained
    return built



def token(container, role: str) -> dict:
    owner = "max@example.com" if role == "manager" else ""  # a manager token acts for a manager account
    _, secret = accounts.create_token(container.engine, role=role, account_email=owner, actor="test")
    return {"Authorization": f"Bearer {secret}"}


def cluster_ids(html: str) -> list[str]:
    return re.findall(r'<li class="gap" id="gap-([0-9a-f]+)"', html)


def lesson_keys(container) -> list[str]:
    with session(container.engine) as db:
        return list(db.exec(select(Lesson.key)).all())


@pytest.mark.postgres
def test_only_ld_admin_gets_in(container):
    nobody = browser(container)
    assert nobody.get("/admin/gaps").headers["location"] == "/admin/login?next=/admin/gaps"
    assert nobody.post("/admin/gaps/0123456789abcdef/draft").status_code == 403  # no session, no CSRF token
    assert nobody.get("/api/admin/gaps").status_code == 401
    [first, *_] = container.gaps.clusters()
    for email in ("max@example.com", "vic@example.com"):
        client = signed_in(container, email)
        page = client.get("/admin")
        assert "/admin/gaps" not in page.text  # not in their navigation
        refused = client.get("/admin/gaps")
        assert refused.status_code == 403 and MILEAGE_LABEL not in refused.text
        posted = client.post(f"/admin/gaps/{first.id}/draft", data={"csrf_token": csrf_of(page.text)})
        assert posted.status_code == 403
    denied = [(e.actor, e.target) for e in accounts.latest_audit(container.engine, action="access-denied")]
    assert ("max@example.com", "/admin/gaps") in denied and ("vic@example.com", "/admin/gaps") in denied
    for role in ("manager", "viewer"):
        assert nobody.get("/api/admin/gaps", headers=token(container, role)).status_code == 403


@pytest.mark.postgres
def test_the_page_lists_clusters_by_demand_with_their_trend_and_chart(container, tmp_path):
    client = signed_in(container)
    html = client.get("/admin/gaps").text
    mileage, leave = container.gaps.clusters()
    assert cluster_ids(html) == [mileage.id, leave.id]  # most people, then most questions
    card = html[html.index(f'id="gap-{mileage.id}"'):html.index(f'id="gap-{leave.id}"')]
    assert f"“{MILEAGE_LABEL}”" in card and "“mileage claim for business trips”" in card
    assert "<dt>Questions</dt><dd>3</dd>" in card and "<dt>People</dt><dd>2</dd>" in card
    assert "Expenses and travel" in card and ">new<" in card
    spark = re.search(r'<svg class="spark"[^>]*role="img" aria-label="([^"]+)"', card).group(1)
    assert spark == "Questions per week over the last 8 weeks, oldest first: 0, 0, 0, 0, 0, 0, 0, 3"
    assert card.count("<rect ") == 8
    assert '<time datetime="' in card
    assert 'href="/admin/content/upload?topic=expenses"' in card
    assert 'action="/admin/gaps/' not in card and NO_MODEL in html  # no model: no drafting form, and why
    assert "Open (2)" in html and "Closed (0)" in html
    specs = json.loads(re.search(r'id="chart-specs">(.*?)</script>', html, re.S).group(1))
    values = specs["specs"]["gaps_over_time"]["data"]["values"]
    assert sum(v["questions"] for v in values if v["status"] == "Still open") == 5
    assert 'data-chart="gaps_over_time"' in html and '<caption id="weeks-caption">' in html
    for person in (ANNA, BEN, CHRIS):
        assert person not in html

    report = add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)  # new content closes the mileage gap
    source_id = report.outcomes[0].source_id
    closed = client.get("/admin/gaps?status=closed").text
    assert cluster_ids(closed) == [mileage.id] and "Closed by" in closed
    assert re.search(rf'<a href="/admin/content/sources/{source_id}">Mileage</a>: 3 questions, <time datetime="',
                     closed)
    assert cluster_ids(client.get("/admin/gaps").text) == [leave.id]
    everything = client.get("/admin/gaps?status=all&days=7")
    assert cluster_ids(everything.text) == [mileage.id, leave.id] and "Last 7 days" in everything.text
    assert client.get("/admin/gaps?status=forgotten").status_code == 422


def test_the_api_serves_the_clusters(container, tmp_path):
    api = browser(container)
    admin = token(container, "ld-admin")
    listed = api.get("/api/admin/gaps", headers=admin)
    assert listed.status_code == 200
    assert listed.json() == [c.as_json() for c in container.gaps.clusters(status="all")]
    assert [c["label"] for c in listed.json()] == [MILEAGE_LABEL, LEAVE_LABEL]
    assert not any(person in listed.text for person in (ANNA, BEN, CHRIS))
    add_doc(container, tmp_path, "mileage.md", MILEAGE_DOC)
    closed = api.get("/api/admin/gaps?status=closed", headers=admin).json()
    assert [(c["label"], c["status"], c["closed_by"][0]["title"]) for c in closed] == [
        (MILEAGE_LABEL, "closed", "Mileage")]
    assert [c["label"] for c in api.get("/api/admin/gaps?status=open", headers=admin).json()] == [LEAVE_LABEL]
    assert api.get("/api/admin/gaps?status=everything", headers=admin).status_code == 422


def test_drafting_without_a_model_says_what_is_needed(container):
    client = signed_in(container)
    [mileage, _] = container.gaps.clusters()
    token_ = csrf_of(client.get("/admin/gaps").text)  # the sign-out form's: there is no drafting form
    refused = client.post(f"/admin/gaps/{mileage.id}/draft", data={"csrf_token": token_})
    assert refused.status_code == 503 and NO_MODEL in refused.text and 'id="gaps-error"' in refused.text
    assert client.post(f"/admin/gaps/{mileage.id}/draft", data={"csrf_token": "forged"}).status_code == 403
    assert client.post("/admin/gaps/00000000deadbeef/draft", data={"csrf_token": token_}).status_code == 404
    assert not [key for key in lesson_keys(container) if key.startswith("draft-gap-")]
    assert accounts.latest_audit(container.engine, action="gap-lesson-drafted") == []


def test_draft_a_lesson_from_a_cluster_and_open_it_in_the_editor(tmp_path, embedder):
    with FakeOpenAI() as llm:
        llm.chat = [Scripted(lesson_file("ignored", "Claim mileage for client visits", "expenses"))]
        container = with_accounts(build(tmp_path, embedder, f"sqlite:///{tmp_path / 'gaps.db'}",
                                        LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test"))
        for learner, question in MILEAGE:
            ask(container, learner, question)
        [cluster] = container.gaps.clusters()
        client = signed_in(container)
        page = client.get("/admin/gaps").text
        assert f'action="/admin/gaps/{cluster.id}/draft"' in page and NO_MODEL not in page
        csrf = csrf_of(page)

        bad = client.post(f"/admin/gaps/{cluster.id}/draft", data={"csrf_token": csrf, "audience": "Team Leads!"})
        assert bad.status_code == 422 and "is not a valid audience" in bad.text and len(llm.requests) == 0

        answer = client.post(f"/admin/gaps/{cluster.id}/draft", data={"csrf_token": csrf, "audience": "managers"})
        assert answer.status_code == 303 and answer.headers["location"] == f"/admin/lessons/draft-gap-{cluster.id}"
        prompt = llm.requests[-1]["body"]["messages"][0]["content"]
        assert "- mileage claim for business trips" in prompt

        llm.chat = [Scripted("Sorry, I cannot write that.")]
        failed = client.post(f"/admin/gaps/{cluster.id}/draft", data={"csrf_token": csrf})
        assert failed.status_code == 502 and "not a valid lesson" in failed.text

    lesson = catalog.get(container.engine, f"draft-gap-{cluster.id}")
    assert lesson.status == "draft" and lesson.audience == ["managers"]
    assert catalog.published(container.engine) == []  # a draft reaches nobody until approved
    [entry] = accounts.latest_audit(container.engine, action="gap-lesson-drafted")
    assert (entry.actor, entry.target, entry.detail) == (
        "lea@example.com", lesson.key, f"from content gap {cluster.id}, for managers")
    assert [e.target for e in accounts.latest_audit(container.engine, action="gap-lesson-draft-failed")] == [cluster.id]
    listed = client.get("/admin/gaps").text
    assert f'<a href="/admin/lessons/{lesson.key}">{lesson.key}</a>' in listed
