"""The `coach` command as L&D uses it: ingest with a progress bar and summary, sources, search, remove."""

from __future__ import annotations

import json
import shutil

from typer.testing import CliRunner

from connectors.cli.main import app
from tests.conftest import REPO

runner = CliRunner()


def coach(*args: str):
    result = runner.invoke(app, list(args))
    return result


def test_ingest_sources_search_remove(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(REPO / "examples" / "content", content)
    (content / "notes.exe").write_bytes(b"MZ")

    result = coach("ingest", str(content), "--competency", "onboarding")
    assert result.exit_code == 0, result.output
    assert "added 10, updated 0, unchanged 0, failed 1" in result.output
    assert "notes.exe" in result.output and "not supported" in result.output

    again = coach("ingest", str(content), "--competency", "onboarding", "--json")
    report = json.loads(again.output)
    assert report["summary"] == {"added": 0, "updated": 0, "unchanged": 10, "failed": 1}

    sources = json.loads(coach("sources", "--json").output)
    by_type = {s["doc_type"]: s for s in sources}
    assert set(by_type) >= {"markdown", "text", "html", "pdf", "docx", "pptx", "transcript", "scorm"}
    assert by_type["html"]["audience"] == ["managers"]
    assert by_type["docx"]["competencies"] == ["onboarding"]  # from the command line, no sidecar
    assert by_type["pdf"]["competencies"] == ["expenses"]  # the sidecar wins

    hits = json.loads(coach("search", "what is the hotel cap in London?", "--json").output)
    assert hits[0]["doc_type"] in ("pdf", "text") and "190" in " ".join(h["text"] for h in hits[:3])
    assert hits[0]["where"]

    question = "what is the merit budget for the salary review?"
    assert all("3.5%" not in h["text"] for h in json.loads(coach("search", question, "-k", "10", "--json").output))
    stranger = coach("search", question, "--as", "U999", "--json")
    assert "not a known learner" in stranger.stderr and "3.5%" not in stranger.stdout
    assert coach("learners", "set", "U042", "--group", "managers").exit_code == 0
    as_manager = json.loads(coach("search", question, "--as", "U042", "--json").output)
    assert "3.5%" in as_manager[0]["text"] and as_manager[0]["audience"] == ["managers"]

    pdf = by_type["pdf"]
    removed = coach("remove", pdf["id"])
    assert removed.exit_code == 0 and "Removed Expenses and travel policy" in removed.output
    assert all(h["doc_type"] != "pdf" for h in json.loads(coach("search", "hotel cap London", "-k", "10", "--json").output))
    assert coach("remove", "no-such-source").exit_code == 1


def test_ingest_of_only_bad_files_fails_with_reasons(tmp_path):
    (tmp_path / "a.docx").write_bytes(b"not a zip")
    result = coach("ingest", str(tmp_path / "a.docx"), str(tmp_path / "missing.md"))
    assert result.exit_code == 1
    assert "a.docx" in result.output and "missing.md" in result.output and "failed 2" in result.output
