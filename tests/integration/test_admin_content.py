"""The admin's Content area over HTTP through the real app: upload (page and API), the sources list, one source
(re-tag, replace, delete), "Try it", and who may do any of it. Real database (SQLite and PostgreSQL where the SQL
differs), real Chroma, the real embedding model."""

from __future__ import annotations

import io
import zipfile

import pytest
from fastapi.testclient import TestClient
from fpdf import FPDF
from sqlalchemy import func
from sqlmodel import select

from coach import accounts
from coach.bootstrap import bootstrap
from kernel.store import session
from coach.store.models import Need
from connectors.server import create_app
from tests.conftest import BUDGET, PHISHING, SALARY, make_settings
from tests.integration.admin_helpers import PASSWORD, browser, csrf_of, sign_in
from tests.integration.test_knowledge_base import state

MD = "text/markdown"
MILEAGE = "Mileage is reimbursed at 0.23 euro per kilometre driven with your own car for business trips."


def build(tmp_path, embedder, **settings):
    built = bootstrap(make_settings(tmp_path, **settings), embedder=embedder)
    for email, role in (("lea@example.com", "ld-admin"), ("max@example.com", "manager"),
                        ("vic@example.com", "viewer")):
        accounts.add_account(built.engine, email=email, role=role, password=PASSWORD, actor="test")
    return built


@pytest.fixture
def site(tmp_path, embedder, database_url):
    """On SQLite and on PostgreSQL: one account of each role."""
    return build(tmp_path, embedder, DATABASE_URL=database_url)


@pytest.fixture
def lite(tmp_path, embedder):
    """SQLite only, for what does not depend on the database's SQL."""
    return build(tmp_path, embedder)


def admin(container) -> tuple[TestClient, str]:
    client = browser(container)
    assert sign_in(client, "lea@example.com").status_code == 303
    return client, csrf_of(client.get("/admin/content/upload").text)


def api(container, role: str = "ld-admin") -> TestClient:
    _, secret = accounts.create_token(container.engine, role=role, name=f"{role}-script", actor="test",
                                      account_email="max@example.com" if role == "manager" else "")
    return TestClient(create_app(container), headers={"Authorization": f"Bearer {secret}"})


def pdf_bytes(text: str = MILEAGE) -> bytes:
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def zipped(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def leftovers(container) -> list:
    return [p for p in (container.settings.data_dir / "uploads").rglob("*") if p.is_file()]


def by_title(container) -> dict:
    return {s.title: s for s in container.knowledge.sources()}


def test_upload_many_files_with_audience_tags_and_owner_through_the_plain_form(site):
    client, token = admin(site)
    form = {"csrf_token": token, "audience": "Managers, sales", "competencies": ["learning-and-development",
                                                                                 "expenses"], "owner": "ld@example.com"}
    files = [("files", ("budget.md", BUDGET.encode(), MD)), ("files", ("C:\\fakepath\\mileage.pdf", pdf_bytes(),
                                                                        "application/pdf"))]
    page = client.post("/admin/content/upload", data=form, files=files)
    assert page.status_code == 200 and page.text.count('<span class="badge added">added</span>') == 2
    budget, mileage = by_title(site)["Training budget"], by_title(site)["Mileage"]
    assert budget.key == "upload:budget.md" and mileage.key == "upload:mileage.pdf" and mileage.doc_type == "pdf"
    assert budget.audience == ["managers", "sales"] and budget.owner == "ld@example.com"
    assert budget.competencies == ["learning-and-development", "expenses"]
    assert "3.5" not in str(site.knowledge.search("training budget per year"))  # managers-only: not for everyone
    assert site.knowledge.search("training budget per year", groups=["sales"])[0].title == "Training budget"

    again = client.post("/admin/content/upload", data=form, files=[
        ("files", ("budget.md", BUDGET.encode(), MD)),
        ("files", ("mileage.pdf", pdf_bytes(MILEAGE.replace("0.23", "0.30")), "application/pdf"))])
    assert 'badge unchanged">unchanged' in again.text and 'badge updated">updated' in again.text
    assert "0.30" in site.knowledge.search("mileage euro per kilometre", groups=["sales"])[0].text
    assert leftovers(site) == [] and len(site.knowledge.sources()) == 2
    logged = [(e.action, e.target.split(" ", 1)[1]) for e in accounts.latest_audit(site.engine)
              if e.action.startswith("source-")]
    assert logged == [("source-updated", "mileage.pdf"), ("source-added", "mileage.pdf"),
                      ("source-added", "budget.md")]
    assert all(e.actor == "lea@example.com" for e in accounts.latest_audit(site.engine, action="source-added"))


def test_a_lesson_file_is_pointed_to_the_lessons_area(lite):
    lesson = "---\ntitle: SBI\ncompetency: feedback\nquestion: What does S stand for?\noptions: [Situation, Style]\n" \
             "answer: 0\nexplanation: Situation comes first.\n---\nDescribe the situation first.\n"
    result = api(lite).post("/api/admin/sources", files=[("files", ("sbi.md", lesson.encode(), MD))]).json()
    assert result["files"][0]["status"] == "refused" and "under Lessons" in result["files"][0]["reason"]
    assert lite.knowledge.sources() == []


def test_the_page_script_gets_one_result_per_file_as_json_and_csrf_is_checked(lite):
    client, token = admin(lite)
    upload = [("files", ("budget.md", BUDGET.encode(), MD))]
    assert client.post("/admin/content/upload", files=upload).status_code == 403
    assert client.post("/admin/content/upload", files=upload, data={"csrf_token": "made-up"}).status_code == 403
    assert client.post("/admin/content/upload", files=upload, headers={"X-CSRF-Token": "made-up"}).status_code == 403
    assert lite.knowledge.sources() == []
    answer = client.post("/admin/content/upload", files=upload, data={"competencies": "nonsense"},
                         headers={"Accept": "application/json", "X-CSRF-Token": token})
    assert answer.status_code == 422 and "Unknown competency nonsense" in answer.json()["detail"]
    assert client.post("/admin/content/upload", data={"csrf_token": token}).status_code == 422
    done = client.post("/admin/content/upload", files=upload, data={"audience": "sales"},
                       headers={"Accept": "application/json", "X-CSRF-Token": token}).json()
    assert done["summary"]["added"] == 1 and done["files"][0]["file"] == "budget.md"
    assert done["files"][0]["chunks"] >= 1 and len(done["files"][0]["source_id"]) == 32


def test_every_content_page_and_api_route_is_for_ld_admins_only(lite):
    added = api(lite).post("/api/admin/sources", files=[("files", ("budget.md", BUDGET.encode(), MD))]).json()
    source_id = added["files"][0]["source_id"]
    before = state(lite.knowledge)
    pages = ["/admin/content", "/admin/content/upload", "/admin/content/try", f"/admin/content/sources/{source_id}",
             f"/admin/content/sources/{source_id}/delete"]
    posts = ["/admin/content/upload", "/admin/content/try", f"/admin/content/sources/{source_id}/tags",
             f"/admin/content/sources/{source_id}/replace", f"/admin/content/sources/{source_id}/delete"]
    stranger = browser(lite)
    for path in pages:
        assert stranger.get(path).status_code == 303
    for email in ("max@example.com", "vic@example.com"):
        client = browser(lite)
        sign_in(client, email)
        token = csrf_of(client.get("/admin").text)
        for path in pages:
            assert client.get(path).status_code == 403, path
        for path in posts:
            refused = client.post(path, data={"csrf_token": token, "audience": "x", "question": "budget?"},
                                  files=[("files", ("a.md", b"# A\ntext", MD)), ("file", ("a.md", b"# A\nx", MD))])
            assert refused.status_code == 403 and "cannot open this page" in refused.text, path
        assert 'href="/admin/content"' not in client.get("/admin").text
    routes = [("get", "/api/admin/sources"), ("get", f"/api/admin/sources/{source_id}"),
              ("delete", f"/api/admin/sources/{source_id}"), ("patch", f"/api/admin/sources/{source_id}"),
              ("post", f"/api/admin/sources/{source_id}/replace"), ("post", "/api/admin/try"),
              ("post", "/api/admin/sources")]
    anonymous = TestClient(create_app(lite))
    for role in ("viewer", "manager"):
        client = api(lite, role)
        for method, path in routes:
            kwargs = {"json": {"audience": "x", "question": "q"}} if method in ("patch",) or "try" in path else {
                "files": [("files", ("a.md", b"# A\ntext", MD)), ("file", ("a.md", b"# A\ntext", MD))]
            } if method == "post" else {}
            assert getattr(client, method)(path, **kwargs).status_code == 403, (role, path)
            assert getattr(anonymous, method)(path, **kwargs).status_code == 401, path
    assert state(lite.knowledge) == before and len(lite.knowledge.sources()) == 1
    assert {e.actor for e in accounts.latest_audit(lite.engine, action="access-denied")} == {
        "max@example.com", "vic@example.com"}


def test_list_search_filter_sort_and_pages(site):
    script = api(site)
    script.post("/api/admin/sources", data={"audience": "managers", "competencies": "people-management",
                                            "owner": "reward@example.com"},
                files=[("files", ("salary.md", SALARY.encode(), MD))])
    script.post("/api/admin/sources", data={"competencies": "learning-and-development, expenses"},
                files=[("files", ("budget.md", BUDGET.encode(), MD)),
                       ("files", ("phish_ing.txt", PHISHING.encode(), "text/plain"))])
    listed = script.get("/api/admin/sources").json()
    assert [s["title"] for s in listed][0] in {"Training budget", "How to report phishing"}  # newest first
    salary = next(s for s in listed if s["title"] == "Salary review")
    assert set(salary) >= {"id", "title", "type", "audience", "competencies", "chunks", "updated_at", "owner"}
    assert salary["audience"] == ["managers"] and salary["owner"] == "reward@example.com" and salary["chunks"] >= 1

    def titles(**params) -> list[str]:
        return [s["title"] for s in script.get("/api/admin/sources", params=params).json()]

    assert titles(q="SALARY") == ["Salary review"] and titles(q="phish_") == ["How to report phishing"]
    assert titles(q="upload:budget") == ["Training budget"] and titles(q="%") == []
    assert titles(type="text", sort="title", dir="asc") == ["How to report phishing"]
    assert titles(audience="managers") == ["Salary review"]
    assert titles(audience="everyone", sort="title", dir="asc") == ["How to report phishing", "Training budget"]
    assert titles(competency="expenses", sort="title", dir="asc") == ["How to report phishing", "Training budget"]
    assert titles(competency="expense") == [] and titles(sort="chunks", dir="asc", limit=1, offset=0)
    assert titles(sort="title", dir="asc") == ["How to report phishing", "Salary review", "Training budget"]

    client, _ = admin(site)
    page = client.get("/admin/content", params={"audience": "managers", "sort": "title", "dir": "asc"})
    assert page.status_code == 200 and "Salary review" in page.text and "Training budget" not in page.text
    assert 'aria-sort="ascending"' in page.text and "1 source matching" in page.text
    assert "reward@example.com" in page.text and '<option value="people-management">' in page.text
    assert client.get("/admin/content?sort=secret").status_code == 422


def test_the_list_pages_through_many_sources(lite, monkeypatch):
    from connectors.admin import content

    monkeypatch.setattr(content, "PER_PAGE", 2)
    api(lite).post("/api/admin/sources", files=[("files", (f"note-{n}.md", f"# Note {n}\nText {n}.".encode(), MD))
                                                for n in range(5)])
    client, _ = admin(lite)
    first = client.get("/admin/content?sort=title&dir=asc")
    assert "page 1 of 3" in first.text and "Note 0" in first.text and "Note 2" not in first.text
    last = client.get("/admin/content?sort=title&dir=asc&page=3")
    assert "Note 4" in last.text and 'rel="prev"' in last.text and 'rel="next"' not in last.text


def test_open_a_source_re_tag_it_replace_it_and_delete_it(lite):
    client, token = admin(lite)
    client.post("/admin/content/upload", data={"csrf_token": token},
                files=[("files", ("mileage.pdf", pdf_bytes(), "application/pdf"))])
    source = by_title(lite)["Mileage"]
    page = client.get(f"/admin/content/sources/{source.id}")
    assert page.status_code == 200 and "p. 1" in page.text and "0.23 euro per kilometre" in page.text
    assert client.get("/admin/content/sources/" + "0" * 32).status_code == 404

    embedded = []
    inner = lite.knowledge.ingestor.embedder
    lite.knowledge.ingestor.embedder = type("Counting", (), {
        "name": inner.name, "embed_query": inner.embed_query,
        "embed_passages": lambda self, texts: embedded.extend(texts) or inner.embed_passages(texts)})()
    saved = client.post(f"/admin/content/sources/{source.id}/tags", data={
        "csrf_token": token, "audience": "managers", "competencies": ["expenses"], "owner": "finance@example.com"})
    assert saved.status_code == 303 and embedded == []  # re-tagged without embedding anything again
    shown = client.get(saved.headers["location"]).text
    assert "audience everyone -&gt; managers" in shown and "finance@example.com" in shown
    assert lite.knowledge.search("mileage per kilometre") == []
    assert lite.knowledge.search("mileage per kilometre", groups=["managers"])[0].source_id == source.id
    flags = lite.knowledge.ingestor.vectors.collection.get(where={"source_id": source.id}, include=["metadatas"])
    assert flags["metadatas"] and all(m.get("aud:managers") and "aud:everyone" not in m for m in flags["metadatas"])
    retagged = accounts.latest_audit(lite.engine, action="source-retagged")[0]
    assert retagged.target.startswith(source.id) and "owner - -> finance@example.com" in retagged.detail
    refused_tag = client.post(f"/admin/content/sources/{source.id}/tags", data={"csrf_token": token,
                                                                                 "audience": "Not A Group!"})
    assert "not a valid audience" in client.get(refused_tag.headers["location"]).text

    broken = client.post(f"/admin/content/sources/{source.id}/replace", data={"csrf_token": token},
                         files=[("file", ("new.pdf", pdf_bytes()[:200], "application/pdf"))])
    assert "current version stays" in client.get(broken.headers["location"]).text
    assert "0.23" in lite.knowledge.search("mileage", groups=["managers"])[0].text
    replaced = client.post(f"/admin/content/sources/{source.id}/replace", data={"csrf_token": token},
                           files=[("file", ("mileage-2027.pdf", pdf_bytes(MILEAGE.replace("0.23", "0.31")),
                                            "application/pdf"))])
    assert "Replaced with mileage-2027.pdf" in client.get(replaced.headers["location"]).text
    now = lite.knowledge.find(source.id)
    assert now.key == source.key and now.audience == ["managers"] and now.owner == "finance@example.com"
    assert "0.31" in lite.knowledge.search("mileage", groups=["managers"])[0].text
    assert [e.action for e in accounts.latest_audit(lite.engine) if e.action.startswith("source-")][:2] == [
        "source-replaced", "source-refused"]

    confirm = client.get(f"/admin/content/sources/{source.id}/delete")
    assert confirm.status_code == 200 and "Delete this source" in confirm.text and lite.knowledge.find(source.id)
    gone = client.post(f"/admin/content/sources/{source.id}/delete", data={"csrf_token": token})
    assert gone.status_code == 303 and "Deleted Mileage" in client.get("/admin/content").text
    assert lite.knowledge.find(source.id) is None and lite.knowledge.ingestor.vectors.count() == 0
    assert accounts.latest_audit(lite.engine, action="source-deleted")[0].actor == "lea@example.com"
    assert client.post(f"/admin/content/sources/{source.id}/delete", data={"csrf_token": token}).status_code == 404


def test_the_api_for_one_source(lite):
    script = api(lite)
    added = script.post("/api/admin/sources", files=[("files", ("mileage.pdf", pdf_bytes(), "application/pdf"))])
    source_id = added.json()["files"][0]["source_id"]
    detail = script.get(f"/api/admin/sources/{source_id}").json()
    assert detail["title"] == "Mileage" and detail["chunk_count"] == len(detail["chunks"]) >= 1
    assert detail["chunks"][0]["where"] == "p. 1" and detail["chunks"][0]["locator"]["page"] == 1
    assert script.get("/api/admin/sources/nope").status_code == 404

    patched = script.patch(f"/api/admin/sources/{source_id}", json={"competencies": ["expenses"]}).json()
    assert patched["competencies"] == ["expenses"] and patched["audience"] == ["everyone"]
    assert patched["changes"] == ["competencies - -> expenses"]
    assert script.patch(f"/api/admin/sources/{source_id}", json={"competencies": "astrology"}).status_code == 422
    assert script.patch(f"/api/admin/sources/{source_id}", json={"audience": ["sales"], "owner": "fin"}).json()[
        "audience"] == ["sales"]
    replaced = script.post(f"/api/admin/sources/{source_id}/replace",
                           files=[("file", ("m.pdf", pdf_bytes(MILEAGE + " Parking is refunded too."),
                                            "application/pdf"))]).json()
    assert replaced["status"] == "updated" and replaced["source_id"] == source_id
    assert lite.knowledge.find(source_id).competencies == ["expenses"]
    assert script.post(f"/api/admin/sources/{source_id}/replace", files=[
        ("file", ("a.md", b"# A\nx", MD)), ("file", ("b.md", b"# B\ny", MD))]).status_code == 422

    assert script.delete(f"/api/admin/sources/{source_id}").json()["deleted"] == source_id
    assert script.delete(f"/api/admin/sources/{source_id}").status_code == 404
    actors = {e.actor for e in accounts.latest_audit(lite.engine) if e.action.startswith("source-")}
    assert actors == {"token:ld-admin-script"}


def test_try_it_answers_as_the_chosen_audience_and_records_nothing(tmp_path, embedder):
    container = build(tmp_path, embedder, COACH_QUESTIONS_PER_MINUTE=1)
    script = api(container)
    script.post("/api/admin/sources", data={"audience": "managers"},
                files=[("files", ("salary.md", SALARY.encode(), MD))])
    script.post("/api/admin/sources", files=[("files", ("mileage.pdf", pdf_bytes(), "application/pdf"))])
    question = "How much is mileage reimbursed per kilometre? Mail me at ann@example.com"
    for _ in range(3):  # a rate limit of one question a minute does not apply
        tried = script.post("/api/admin/try", json={"question": question}).json()
        assert not tried["abstained"] and tried["citations"][0]["title"] == "Mileage"
    assert "ann@example.com" not in tried["question"] and "<EMAIL>" in tried["question"]
    assert tried["confidence"] >= tried["threshold"] and set(tried["signals"]) == {"dense", "keyword", "sentence",
                                                                                   "coverage", "second"}
    best = tried["passages"][0]
    assert best["cited"] and best["title"] == "Mileage" and best["dense"] > 0 and best["fused"] > 0

    merit = "What is the merit budget in the salary review?"
    everyone = script.post("/api/admin/try", json={"question": merit}).json()
    assert all(p["title"] != "Salary review" for p in everyone["passages"])
    managers = script.post("/api/admin/try", json={"question": merit, "groups": ["managers"]}).json()
    assert managers["passages"][0]["title"] == "Salary review" and managers["groups"] == ["managers"]

    client, token = admin(container)
    page = client.post("/admin/content/try", data={"csrf_token": token, "question": merit, "groups": ["managers"]})
    assert page.status_code == 200 and "Salary review" in page.text and "Keyword (BM25)" in page.text
    assert 'href="#cite-1"' in page.text or "would not answer" in page.text
    assert client.post("/admin/content/try", data={"csrf_token": token, "question": " "}).status_code == 422
    assert client.post("/admin/content/try", data={"question": merit}).status_code == 403
    with session(container.engine) as db:
        assert db.exec(select(func.count()).select_from(Need)).one() == 0  # no need, so no content gap either


def test_listeners_hear_once_per_upload_of_what_changed(lite):
    heard = []
    lite.knowledge.ingestor.listeners.append(lambda outcomes: heard.append(sorted(o.status for o in outcomes)))
    script = api(lite)
    files = [("files", ("budget.md", BUDGET.encode(), MD)), ("files", ("phishing.txt", PHISHING.encode(), "text/plain"))]
    script.post("/api/admin/sources", files=files)
    script.post("/api/admin/sources", files=files)  # unchanged: nothing to tell
    source_id = lite.knowledge.sources()[0].id
    script.patch(f"/api/admin/sources/{source_id}", json={"audience": ["managers"]})  # narrower: nothing new
    script.patch(f"/api/admin/sources/{source_id}", json={"audience": []})  # everyone again: may answer gaps
    assert heard == [["added", "added"], ["updated"]]


def test_uploading_again_with_a_narrower_audience_narrows_the_vector_index_too(lite):
    script = api(lite)
    first = script.post("/api/admin/sources", files=[("files", ("salary.md", SALARY.encode(), MD))]).json()
    again = script.post("/api/admin/sources", data={"audience": "managers"},
                        files=[("files", ("salary.md", SALARY.encode(), MD))]).json()
    assert again["files"][0]["status"] == "updated"
    source_id = first["files"][0]["source_id"]
    for index in (lite.knowledge.ingestor.vectors, lite.knowledge.ingestor.headings):
        held = index.collection.get(where={"source_id": source_id}, include=["metadatas"])["metadatas"]
        assert held and all(m.get("aud:managers") and "aud:everyone" not in m for m in held)
    assert lite.knowledge.search("merit budget salary review") == []
