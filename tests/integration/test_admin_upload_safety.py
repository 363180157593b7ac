"""Uploads to the admin that must change nothing: corrupt, oversized, unsupported and path-traversing files (page
and API), names from the browser that try to choose where a file is written, and bodies too large to read or sent
without a session. Plus the upload form a content gap links to."""

from __future__ import annotations

from fastapi.testclient import TestClient

from coach import accounts
from connectors.server import create_app
from tests.conftest import BUDGET, PHISHING
from tests.integration.test_admin_content import (MD, admin, api, build, by_title, leftovers, lite,  # noqa: F401
                                                  pdf_bytes, zipped)
from tests.integration.test_knowledge_base import state


def test_bad_uploads_are_refused_with_the_reason_and_change_nothing(tmp_path, embedder, database_url):
    container = build(tmp_path, embedder, DATABASE_URL=database_url, COACH_MAX_UPLOAD_MB=1)
    client, token = admin(container)
    client.post("/admin/content/upload", data={"csrf_token": token},
                files=[("files", ("phishing.txt", PHISHING.encode(), "text/plain"))])
    before = state(container.knowledge)
    bad = [("files", ("broken.pdf", pdf_bytes()[:300], "application/pdf")),
           ("files", ("huge.txt", b"words " * 400_000, "text/plain")),
           ("files", ("course.zip", zipped({"imsmanifest.xml": b"<manifest/>", "../../etc/evil.html": b"<p>x</p>"}),
                      "application/zip")),
           ("files", ("tool.exe", b"MZ\x90\x00", "application/octet-stream"))]

    page = client.post("/admin/content/upload", data={"csrf_token": token}, files=bad)
    assert page.status_code == 200 and page.text.count('badge refused">refused') == 4
    assert "PDF" in page.text and "COACH_MAX_UPLOAD_MB" in page.text and "traversal" in page.text
    as_script = api(container).post("/api/admin/sources", files=bad)
    assert as_script.status_code == 200 and as_script.json()["summary"] == {
        "added": 0, "updated": 0, "unchanged": 0, "refused": 4}
    reasons = {f["file"]: f["reason"] for f in as_script.json()["files"]}
    assert "limit" in reasons["huge.txt"] and "not supported" in reasons["tool.exe"]
    assert ".." in reasons["course.zip"] and "PDF" in reasons["broken.pdf"]
    assert state(container.knowledge) == before and leftovers(container) == []
    assert len(accounts.latest_audit(container.engine, action="source-refused")) == 8


def test_names_from_the_browser_never_choose_where_a_file_is_written(lite, tmp_path):
    client, token = admin(lite)
    answer = client.post("/admin/content/upload", headers={"Accept": "application/json", "X-CSRF-Token": token},
                         files=[("files", ("../../../outside.md", BUDGET.encode(), MD)),
                                ("files", ("..", PHISHING.encode(), "text/plain")),
                                ("files", ("notes/../outside.md", BUDGET.encode(), MD))])
    files = answer.json()["files"]
    assert [f["file"] for f in files] == ["outside.md", "upload", "outside.md"]
    assert [f["status"] for f in files] == ["added", "refused", "refused"]
    assert "not supported" in files[1]["reason"] and "same name" in files[2]["reason"]
    assert not (tmp_path / "outside.md").exists() and not list(tmp_path.parent.glob("outside.md"))
    assert by_title(lite)["Training budget"].key == "upload:outside.md" and leftovers(lite) == []


def test_no_form_body_is_read_before_the_session_and_its_size_are_known(lite):
    upload = [("files", ("budget.md", BUDGET.encode(), MD))]
    stranger = TestClient(create_app(lite))
    assert stranger.post("/admin/content/upload", files=upload, follow_redirects=False).status_code == 403
    client, _ = admin(lite)
    announced = str(lite.settings.max_upload_bytes * 1000)
    refused = client.post("/admin/content/upload", content=b"--x--\r\n",
                          headers={"Content-Type": "multipart/form-data; boundary=x", "Content-Length": announced})
    assert refused.status_code == 413 and lite.knowledge.sources() == []


def test_a_gap_s_upload_link_ticks_its_competency(lite):
    client, _ = admin(lite)
    page = client.get("/admin/content/upload?topic=expenses").text
    assert 'value="expenses" checked' in page and "Content for the gap in <strong>expenses</strong>" in page
    assert 'checked' not in client.get("/admin/content/upload?topic=nonsense").text.split('name="competencies"')[1]
