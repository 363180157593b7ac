"""The web admin's Lessons area over HTTP, through the real app on SQLite and PostgreSQL: the list by status, the
editor under the authoring rules (errors by field), approve / reject (and what then reaches learners), uploads of
authored files, drafting from a source with a model on loopback, the bearer-token API, roles, CSRF and the audit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from coach import accounts
from coach.bootstrap import bootstrap
from kernel.errors import NotFound
from coach.learners import update_profile
from coach.lessons import catalog
from coach.lessons.authoring import load_lessons, parse_lesson
from coach.lessons.editing import LessonEdit, check
from kernel.store import session
from coach.store.models import Lesson, TeamFocus
from connectors.server import create_app
from tests.conftest import make_settings, write_content
from tests.integration.lesson_files import lesson_file, load_test_lessons
from tests.integration.admin_helpers import PASSWORD, browser, csrf, signed_in

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "lessons"


@pytest.fixture
def container(tmp_path, embedder, database_url):
    """The coach with the test lessons (approved), two drafts, one rejected lesson, and an account of each role."""
    built = bootstrap(make_settings(tmp_path, DATABASE_URL=database_url), embedder=embedder)
    for email, role in (("lea@example.com", "ld-admin"), ("max@example.com", "manager"),
                        ("vic@example.com", "viewer")):
        accounts.add_account(built.engine, email=email, role=role, password=PASSWORD, actor="test")
    load_test_lessons(built, tmp_path)
    for key, title, status in (("draft-vpn", "Connect to the VPN", "draft"),
                               ("draft-mfa", "Set up two-factor sign-in", "draft"),
                               ("old-expenses", "The old expenses form", "rejected")):
        text = lesson_file(key, title, "information-security" if key != "old-expenses" else "expenses")
        spec = parse_lesson(text, f"{key}.md", None)
        catalog.save(built.engine, [spec], status=status, origin="drafted" if status == "draft" else "authored")
    return built




def audited(container, action: str) -> list[tuple[str, str]]:
    return [(e.actor, e.target) for e in accounts.latest_audit(container.engine, action=action)]


def lesson_form(lesson: Lesson, **changes) -> dict:
    """The editor's form as a browser posts it for this lesson, with `changes` on top."""
    form = {"title": lesson.title, "body": lesson.body, "question": lesson.question,
            "option_text": [o["text"] for o in lesson.options],
            "option_feedback": [o.get("feedback", "") for o in lesson.options],
            "correct": str(lesson.correct), "explanation": lesson.explanation,
            "competencies": list(lesson.competencies), "audience": ", ".join(lesson.audience),
            "minutes": str(lesson.minutes), "sources": ", ".join(lesson.sources), "do": "save"}
    return {**form, **changes}


def test_every_example_lesson_survives_the_editor_unchanged():
    specs, problems = load_lessons(EXAMPLES)
    assert not problems and sorted(s.key for s in specs) == sorted(
        p.stem for p in EXAMPLES.glob("*.md") if p.name != "README.md")
    for spec in specs:
        lesson = Lesson(key=spec.key, title=spec.title, body=spec.body, competencies=list(spec.competencies),
                        audience=list(spec.audience), minutes=spec.minutes, question=spec.question,
                        options=[{"text": o.text, "feedback": o.feedback} for o in spec.options],
                        correct=spec.correct, explanation=spec.explanation, sources=list(spec.sources))
        assert check(spec.key, LessonEdit.of(lesson), None) == (spec, {})
    tricky = LessonEdit(title="Answer: yes", body="Text", question="Yes or no?", correct=1, explanation="Because.",
                        options=[("Yes", "Right: yes"), ("No", ""), ("null", "")])
    spec, found = check("tricky", tricky, None)
    assert not found and [o.text for o in spec.options] == ["Yes", "No", "null"] and spec.title == "Answer: yes"


def test_the_list_shows_every_lesson_by_status_drafts_first(container):
    client = signed_in(container)
    page = client.get("/admin/lessons")
    assert page.status_code == 200 and 'href="/admin/lessons" aria-current="page"' in page.text
    keys = re.findall(r'<tr data-key="([^"]+)" data-status="([^"]+)"', page.text)
    assert [status for _, status in keys] == ["draft"] * 2 + ["approved"] * 4 + ["rejected"]
    assert {key for key, _ in keys[:2]} == {"draft-vpn", "draft-mfa"}
    row = re.search(r'<tr data-key="draft-vpn".*?</tr>', page.text, re.S).group(0)
    assert "information-security" in row and "drafted" in row and "<td>2</td>" in row
    assert "Draft (2)" in page.text and "Approved (4)" in page.text and "Rejected (1)" in page.text

    drafts = client.get("/admin/lessons?status=draft").text
    assert re.findall(r'data-status="([^"]+)"', drafts) == ["draft", "draft"]
    assert client.get("/admin/lessons?status=nonsense").status_code == 422
    assert "needs a language model" in page.text and 'action="/admin/lessons/draft"' not in page.text


def test_only_ld_admin_opens_lessons_and_forms_need_the_csrf_token(container):
    assert browser(container).get("/admin/lessons").headers["location"] == "/admin/login?next=/admin/lessons"
    for email in ("max@example.com", "vic@example.com"):
        client = signed_in(container, email)
        assert 'href="/admin/lessons"' not in client.get("/admin").text
        assert client.get("/admin/lessons").status_code == 403
        assert client.get("/admin/lessons/draft-vpn").status_code == 403
        token = csrf(client)
        assert client.post("/admin/lessons/draft-vpn/approve", data={"csrf_token": token}).status_code == 403
        edited = client.post("/admin/lessons/draft-vpn/edit", data={"csrf_token": token, "title": "Mine"})
        assert edited.status_code == 403
    admin = signed_in(container)
    assert admin.post("/admin/lessons/draft-vpn/approve").status_code == 403  # no CSRF token
    assert admin.post("/admin/lessons/draft-vpn/reject", data={"csrf_token": "forged"}).status_code == 403
    lesson = catalog.get(container.engine, "draft-vpn")
    assert lesson.status == "draft" and lesson.title == "Connect to the VPN"
    assert {actor for actor, _ in audited(container, "access-denied")} == {"max@example.com", "vic@example.com"}
    assert audited(container, "lesson-approved") == []
    assert admin.get("/admin/lessons/no-such-lesson").status_code == 404


def test_the_editor_checks_with_the_authoring_rules_and_shows_each_problem_by_its_field(container):
    client = signed_in(container)
    page = client.get("/admin/lessons/draft-vpn")
    assert page.status_code == 200 and 'value="Connect to the VPN"' in page.text
    assert re.search(r'id="correct-0" name="correct" value="0" checked', page.text)
    opened_at = re.search(r'name="opened_at" value="([^"]+)"', page.text).group(1)
    lesson = catalog.get(container.engine, "draft-vpn")

    bad = lesson_form(lesson, csrf_token=csrf(client), opened_at=opened_at, title="", body="x" * 2100,
                      option_text=["Yes", "yes", "", ""], option_feedback=["", "", "", ""], correct="3",
                      competencies=["information-security", "juggling"], audience="Bad Group!", minutes="40")
    refused = client.post("/admin/lessons/draft-vpn/edit", data=bad)
    assert refused.status_code == 422
    errors = dict(re.findall(r'<ul class="field-error" id="([a-z]+)-error">(.*?)</ul>', refused.text))
    assert set(errors) == {"title", "body", "options", "correct", "competencies", "audience", "minutes"}
    assert "more than 2,000" in errors["body"] and "unknown competency juggling" in errors["competencies"]
    assert "options 1 and 2 are the same" in errors["options"]
    assert errors["correct"] == "<li>Mark the option that is right.</li>"
    assert 'id="title" name="title" value="" maxlength="200" required aria-invalid="true"' in refused.text
    assert catalog.get(container.engine, "draft-vpn") == lesson  # nothing changed

    removed = client.post("/admin/lessons/draft-vpn/edit", data=lesson_form(
        lesson, csrf_token=csrf(client), opened_at=opened_at, correct="2", do="remove-0"))
    assert removed.status_code == 200 and "Save to keep the change" in removed.text
    assert 'value="The first way"' not in removed.text
    assert re.search(r'id="correct-1" name="correct" value="1" checked', removed.text)  # the mark follows its row
    assert catalog.get(container.engine, "draft-vpn") == lesson

    good = lesson_form(lesson, csrf_token=csrf(client), opened_at=opened_at, title="Connect to the VPN at home",
                       option_text=["Open the VPN app first", "Ask a colleague for their password", "", "Call IT"],
                       option_feedback=["Yes: it signs you in with your own account.", "Never share passwords.", "",
                                        ""], correct="3", audience="everyone, remote", minutes="")
    saved = client.post("/admin/lessons/draft-vpn/edit", data=good)
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/lessons/draft-vpn"
    after = catalog.get(container.engine, "draft-vpn")
    assert after.title == "Connect to the VPN at home" and after.status == "draft" and after.origin == "drafted"
    assert [o["text"] for o in after.options] == ["Open the VPN app first", "Ask a colleague for their password",
                                                  "Call IT"]
    assert after.correct == 2 and after.options[1]["feedback"] == "Never share passwords."
    assert after.audience == ["everyone", "remote"] and after.minutes == 1  # estimated from the words
    assert "Saved “Connect to the VPN at home” (draft)." in client.get("/admin/lessons/draft-vpn").text
    assert audited(container, "lesson-saved") == [("lea@example.com", "draft-vpn")]

    stale = client.post("/admin/lessons/draft-vpn/edit", data={**good, "title": "Someone else's change"})
    assert stale.status_code == 409 and "Someone else saved this lesson" in stale.text
    assert catalog.get(container.engine, "draft-vpn").title == "Connect to the VPN at home"

    download = client.get("/admin/lessons/draft-vpn/markdown")
    assert download.headers["content-disposition"] == 'attachment; filename="draft-vpn.md"'
    spec = parse_lesson(download.text, "draft-vpn.md", None)
    assert spec.title == after.title and spec.correct == 2 and spec.audience == ("everyone", "remote")


def test_an_approved_draft_reaches_learners_and_a_rejected_one_never_does(container):
    update_profile(container.engine, "sam", team="Support", timezone="Europe/Amsterdam")
    with session(container.engine) as db:
        db.add(TeamFocus(team="Support", competencies=["information-security"]))
        db.commit()
    lessons = container.coach.lessons

    def suggested() -> set[str]:
        return {s.key for s in lessons.suggest("sam", k=20)}

    assert {"draft-vpn", "draft-mfa"}.isdisjoint(suggested()) and "report-phishing" in suggested()
    client = signed_in(container)
    vpn = catalog.get(container.engine, "draft-vpn")
    approved = client.post("/admin/lessons/draft-vpn/edit", data=lesson_form(vpn, csrf_token=csrf(client),
                                                                             do="approve"))
    assert approved.status_code == 303 and approved.headers["location"] == "/admin/lessons"
    listed = client.get("/admin/lessons").text
    assert "Approved “Connect to the VPN”: learners can get it now." in listed
    assert '<tr data-key="draft-vpn" data-status="approved"' in listed
    assert client.post("/admin/lessons/draft-mfa/reject", data={"csrf_token": csrf(client)}).status_code == 303

    assert "draft-vpn" in suggested() and "draft-mfa" not in suggested()
    assert "Connect to the VPN" in lessons.start("sam", "draft-vpn").text
    with pytest.raises(NotFound):
        lessons.start("sam", "draft-mfa")
    assert client.post("/admin/lessons/report-phishing/reject", data={"csrf_token": csrf(client)}).status_code == 303
    assert "report-phishing" not in suggested()  # withdrawn
    assert audited(container, "lesson-approved") == [("lea@example.com", "draft-vpn")]
    assert {target for _, target in audited(container, "lesson-rejected")} == {"draft-mfa", "report-phishing"}

    with session(container.engine) as db:  # a draft from elsewhere that breaks the rules cannot be approved
        db.add(Lesson(key="draft-broken", title="Broken", body="Text", question="Which?", correct=0,
                      options=[{"text": "One"}, {"text": "Two"}], explanation="", status="draft", origin="gaps"))
        db.commit()
    refused = client.post("/admin/lessons/draft-broken/approve", data={"csrf_token": csrf(client)})
    assert refused.status_code == 422 and "cannot be approved yet" in refused.text
    assert "needs 3 to 6 choices, found 2" in refused.text and 'id="explanation-error"' in refused.text
    assert catalog.get(container.engine, "draft-broken").status == "draft" and "draft-broken" not in suggested()


def test_authored_lesson_files_upload_with_a_result_per_file(container):
    client = signed_in(container)
    changed = lesson_file("report-phishing", "Report phishing within the hour", "information-security")
    files = [("files", ("expenses-mileage.md", lesson_file("mileage", "Claim mileage", "expenses"), "text/markdown")),
             ("files", ("report-phishing.md", changed, "text/markdown")),
             ("files", ("training-budget.md", lesson_file("training-budget", "Spend your training budget",
                                                          "learning-and-development"), "text/markdown")),
             ("files", ("broken.md", lesson_file("broken", "Broken", "expenses").replace("answer: 1", "answer: 9"),
                        "text/markdown")),
             ("files", ("again.md", lesson_file("mileage", "Claim mileage twice", "expenses"), "text/markdown")),
             ("files", ("../../etc/evil.md", lesson_file("evil-path", "Path", "expenses"), "text/markdown")),
             ("files", ("slides.pdf", b"%PDF-1.4", "application/pdf")),
             ("files", ("huge.md", "x" * 40_000, "text/markdown"))]
    page = client.post("/admin/lessons/upload", data={"csrf_token": csrf(client)}, files=files)
    assert page.status_code == 200
    rows = re.findall(r'<tr class="outcome-(\w+)"><td>([^<]+)</td>.*?<td>(.*?)</td></tr>', page.text, re.S)
    results = {name: (outcome, reason) for outcome, name, reason in rows}
    assert {name: outcome for name, (outcome, _) in results.items()} == {
        "expenses-mileage.md": "added", "report-phishing.md": "updated", "training-budget.md": "unchanged",
        "broken.md": "refused", "again.md": "refused", "evil.md": "added", "slides.pdf": "refused",
        "huge.md": "refused"}
    assert "answer 9 is out of range" in results["broken.md"][1]
    assert "id mileage is already used by expenses-mileage.md" in results["again.md"][1]
    assert "not a lesson file" in results["slides.pdf"][1] and "more than" in results["huge.md"][1]
    assert "added 2, updated 1, unchanged 1, refused 4" in page.text
    assert catalog.get(container.engine, "mileage").status == "approved"  # authored lessons are live on load
    assert catalog.get(container.engine, "mileage").title == "Claim mileage"
    assert catalog.get(container.engine, "report-phishing").title == "Report phishing within the hour"
    assert catalog.get(container.engine, "broken") is None and catalog.get(container.engine, "evil-path")
    assert len(audited(container, "lesson-uploaded")) == 8

    nothing = client.post("/admin/lessons/upload", data={"csrf_token": csrf(client)},
                          files=[("files", ("", b"", "application/octet-stream"))])
    assert nothing.status_code == 400 and "Choose one or more lesson files" in nothing.text
    assert client.post("/admin/lessons/upload", files=files[:1]).status_code == 403  # no CSRF token


def test_a_draft_from_a_source_waits_in_the_editor(tmp_path, embedder):
    from tests.fakes.openai_api import FakeOpenAI, Scripted

    draft = lesson_file("ignored", "Report phishing within the hour", "information-security")
    with FakeOpenAI() as llm:
        llm.chat = [Scripted("Here is the lesson:\n```markdown\n" + draft + "```")]
        container = bootstrap(make_settings(tmp_path, LLM_BASE_URL=llm.base_url, LLM_API_KEY="sk-test"),
                              embedder=embedder)
        accounts.add_account(container.engine, email="lea@example.com", role="ld-admin", password=PASSWORD,
                             actor="test")
        container.knowledge.ingest([write_content(tmp_path / "content")])
        source = container.knowledge.find("security.txt")
        client = signed_in(container)
        page = client.get("/admin/lessons")
        assert f'<option value="{source.id}">How to report phishing (text)</option>' in page.text
        drafted = client.post("/admin/lessons/draft", data={"csrf_token": csrf(client), "source": source.id})
        assert drafted.status_code == 303, drafted.text
        key = drafted.headers["location"].removeprefix("/admin/lessons/")
        editor = client.get(f"/admin/lessons/{key}").text
        missing = client.post("/admin/lessons/draft", data={"csrf_token": csrf(client), "source": "nope"})
    assert key.startswith("draft-") and missing.status_code == 404 and "No source" in missing.text
    assert "Drafted “Report phishing within the hour”" in editor and 'value="The first way"' in editor
    lesson = catalog.get(container.engine, key)
    assert lesson.status == "draft" and lesson.origin == "drafted" and catalog.published(container.engine) == []
    assert f'<tr data-key="{key}" data-status="draft"' in client.get("/admin/lessons").text
    assert audited(container, "lesson-drafted") == [("lea@example.com", key)]


def test_without_a_model_drafting_says_what_to_set(container):
    client = signed_in(container)
    answer = client.post("/admin/lessons/draft", data={"csrf_token": csrf(client), "source": "anything"})
    assert answer.status_code == 503 and "Drafting lessons needs a language model: set LLM_BASE_URL" in answer.text


def test_the_lessons_api_for_scripts(container):
    api = TestClient(create_app(container))
    _, admin = accounts.create_token(container.engine, role="ld-admin", name="checks", actor="test")
    _, viewer = accounts.create_token(container.engine, role="viewer", name="dash", actor="test")
    accounts.update_account(container.engine, email="max@example.com", teams=["Support"], actor="test")
    _, manager = accounts.create_token(container.engine, role="manager", account_email="max@example.com", actor="t")
    as_admin = {"Authorization": f"Bearer {admin}"}

    assert api.get("/api/admin/lessons").status_code == 401
    for token in (viewer, manager):
        bearer = {"Authorization": f"Bearer {token}"}
        assert api.get("/api/admin/lessons", headers=bearer).status_code == 403
        assert api.post("/api/admin/lessons/draft-vpn/approve", headers=bearer).status_code == 403
    assert api.post("/api/admin/lessons/draft-vpn/approve").status_code == 401
    assert catalog.get(container.engine, "draft-vpn").status == "draft"

    listed = api.get("/api/admin/lessons", headers=as_admin).json()
    assert [lesson["status"] for lesson in listed][:3] == ["draft", "draft", "approved"] and len(listed) == 7
    vpn = next(lesson for lesson in listed if lesson["key"] == "draft-vpn")
    assert vpn["origin"] == "drafted" and vpn["competencies"] == ["information-security"]
    assert vpn["editor"] == "/admin/lessons/draft-vpn" and vpn["minutes"] == 2
    assert [lesson["key"] for lesson in api.get("/api/admin/lessons?status=rejected", headers=as_admin).json()] == [
        "old-expenses"]

    approved = api.post("/api/admin/lessons/draft-vpn/approve", headers=as_admin)
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    assert api.post("/api/admin/lessons/draft-mfa/reject", headers=as_admin).json()["status"] == "rejected"
    assert api.post("/api/admin/lessons/nope/approve", headers=as_admin).status_code == 404
    with session(container.engine) as db:
        db.add(Lesson(key="draft-broken", title="", body="Text", question="Which?", options=[], explanation="",
                      status="draft", origin="gaps"))
        db.commit()
    broken = api.post("/api/admin/lessons/draft-broken/approve", headers=as_admin)
    assert broken.status_code == 422 and set(broken.json()["detail"]["problems"]) >= {"title", "options"}
    assert catalog.get(container.engine, "draft-broken").status == "draft"
    assert audited(container, "lesson-approved") == [("token:checks", "draft-vpn")]
    assert audited(container, "lesson-rejected") == [("token:checks", "draft-mfa")]
