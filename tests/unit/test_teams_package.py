"""`coach teams-package`: the Teams app package (manifest.json, color.png, outline.png) as Teams requires it."""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from jsonschema import Draft7Validator
from PIL import Image
from typer.testing import CliRunner

from connectors.cli.main import app
from connectors.teams.package import build_package
from tests.conftest import REPO, make_settings

APP_ID = "1f2e3d4c-5b6a-4789-8abc-def012345678"
URL = "https://coach.example.com"
SCHEMAS = REPO / "tests" / "schemas" / "teams"  # Microsoft's own, one file per manifestVersion (see README there)
runner = CliRunner()


def _package(tmp_path, **values):
    values = {"MICROSOFT_APP_ID": APP_ID, "COACH_PUBLIC_URL": URL, "COACH_COMPANY_NAME": "Acme", **values}
    return build_package(make_settings(tmp_path, **values), tmp_path / "out" / "teams.zip")


def _read(path):
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        color = Image.open(io.BytesIO(zf.read("color.png")))
        outline = Image.open(io.BytesIO(zf.read("outline.png")))
        color.load(), outline.load()
    return names, manifest, color, outline


def _pixels(image, channels):
    data = image.tobytes()
    return [tuple(data[i:i + channels]) for i in range(0, len(data), channels)]


def test_package_holds_a_manifest_for_the_configured_bot_and_two_icons(tmp_path):
    path = _package(tmp_path)
    assert path == tmp_path / "out" / "teams.zip" and path.exists()
    names, manifest, color, outline = _read(path)

    assert names == {"manifest.json", "color.png", "outline.png"}
    assert manifest["manifestVersion"] == "1.29" and "packageName" not in manifest
    assert manifest["id"] == APP_ID and manifest["bots"][0]["botId"] == APP_ID
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["version"])
    assert manifest["developer"]["name"] == "Acme"
    assert manifest["developer"] == {"name": "Acme", "websiteUrl": URL, "privacyUrl": f"{URL}/privacy",
                                     "termsOfUseUrl": f"{URL}/terms"}  # the pages the app serves itself
    assert manifest["validDomains"] == ["coach.example.com"]
    assert manifest["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert re.fullmatch(r"#[0-9a-fA-F]{6}", manifest["accentColor"])
    assert manifest["permissions"] == ["identity", "messageTeamMembers"]

    assert len(manifest["name"]["short"]) <= 30 and len(manifest["name"]["full"]) <= 100
    assert 0 < len(manifest["description"]["short"]) <= 80
    assert 0 < len(manifest["description"]["full"]) <= 4000
    assert len(manifest["developer"]["name"]) <= 32

    bot = manifest["bots"][0]
    assert bot["scopes"] == ["personal", "team", "groupChat"]
    assert bot["supportsFiles"] is False and bot["isNotificationOnly"] is False
    assert {tuple(c["scopes"]) for c in bot["commandLists"]} == {("personal",), ("team",)}
    for command_list in bot["commandLists"]:
        titles = [c["title"] for c in command_list["commands"]]
        assert {"help", "what do you know about me", "pause", "resume", "forget me"} <= set(titles)
        assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in command_list["commands"])


def schema_errors(manifest: dict) -> list[str]:
    """Every way the manifest breaks Microsoft's schema of the version it claims. Draft-07, as the schema is written
    (`const`, `if`/`then`), although its `$schema` still says draft-04, under which both would be skipped."""
    schema = json.loads((SCHEMAS / f"{manifest['manifestVersion']}.json").read_text())
    validator = Draft7Validator(schema, format_checker=Draft7Validator.FORMAT_CHECKER)
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in validator.iter_errors(manifest)]


@pytest.mark.parametrize("values", [{}, {"COACH_COMPANY_NAME": "Ä" * 300, "COACH_PRIVACY_URL": "https://hr.acme.test/p",
                                         "COACH_TERMS_URL": "https://hr.acme.test/t"}])
def test_the_manifest_is_valid_against_microsofts_schema_of_the_version_it_claims(tmp_path, values):
    _, manifest, _, _ = _read(_package(tmp_path, **values))
    version = manifest["manifestVersion"]
    hosted = f"https://developer.microsoft.com/json-schemas/teams/v{version}/MicrosoftTeams.schema.json"
    assert manifest["$schema"] == hosted
    assert schema_errors(manifest) == []

    assert any("packageName" in e for e in schema_errors(manifest | {"packageName": "com.learningcoach.bot"}))
    assert schema_errors(manifest | {"developer": {"name": "Acme"}})  # the check sees what is missing, too


def test_privacy_and_terms_links_are_the_companys_own_when_set(tmp_path):
    _, manifest, _, _ = _read(_package(tmp_path, COACH_PRIVACY_URL="https://intranet.acme.test/privacy/coach",
                                       COACH_TERMS_URL=" https://intranet.acme.test/it-policy "))
    assert manifest["developer"]["privacyUrl"] == "https://intranet.acme.test/privacy/coach"
    assert manifest["developer"]["termsOfUseUrl"] == "https://intranet.acme.test/it-policy"
    assert manifest["developer"]["websiteUrl"] == URL


@pytest.mark.parametrize("setting", ["COACH_PRIVACY_URL", "COACH_TERMS_URL"])
@pytest.mark.parametrize("url", ["http://intranet.acme.test/privacy", "intranet.acme.test/privacy", "https://"])
def test_a_privacy_or_terms_link_that_is_not_https_is_refused_by_name(tmp_path, setting, url):
    with pytest.raises(ValueError, match=setting) as info:
        _package(tmp_path, **{setting: url})
    assert "https" in str(info.value) and URL in str(info.value)  # and which page an empty setting links instead
    assert not (tmp_path / "out" / "teams.zip").exists()


def test_icons_are_the_sizes_and_colours_teams_requires(tmp_path):
    _, _, color, outline = _read(_package(tmp_path))

    assert color.size == (192, 192) and color.mode in ("RGB", "RGBA")
    assert len(set(_pixels(color.convert("RGB"), 3))) > 2  # full colour: accent, white and the blend between

    assert outline.size == (32, 32)
    pixels = _pixels(outline.convert("RGBA"), 4)
    assert all(p[:3] == (255, 255, 255) or p[3] == 0 for p in pixels)  # white, or fully transparent
    assert any(p[3] == 255 for p in pixels) and any(p[3] == 0 for p in pixels)  # a mark, on transparency


def test_long_company_names_stay_within_the_limits(tmp_path):
    _, manifest, _, _ = _read(_package(tmp_path, COACH_COMPANY_NAME="A" * 300))
    assert len(manifest["developer"]["name"]) <= 32 and len(manifest["name"]["full"]) <= 100
    assert len(manifest["description"]["full"]) <= 4000


@pytest.mark.parametrize("app_id", ["", "not-a-guid", "1f2e3d4c5b6a47898abcdef012345678"])
def test_a_missing_or_malformed_app_id_is_refused_by_name(tmp_path, app_id):
    with pytest.raises(ValueError, match="MICROSOFT_APP_ID") as info:
        _package(tmp_path, MICROSOFT_APP_ID=app_id)
    assert "Azure Bot" in str(info.value)
    assert not (tmp_path / "out" / "teams.zip").exists()


@pytest.mark.parametrize("url", ["", "http://coach.example.com", "https://"])
def test_a_missing_or_plain_http_public_url_is_refused_by_name(tmp_path, url):
    with pytest.raises(ValueError, match="COACH_PUBLIC_URL") as info:
        _package(tmp_path, COACH_PUBLIC_URL=url)
    assert "https" in str(info.value)


def test_cli_writes_the_package_and_says_how_to_upload_it(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROSOFT_APP_ID", APP_ID)
    monkeypatch.setenv("COACH_PUBLIC_URL", URL + "/")

    result = runner.invoke(app, ["teams-package"])  # the default: ./learning-coach-teams.zip (cwd is tmp_path)
    assert result.exit_code == 0, result.output
    default = tmp_path / "learning-coach-teams.zip"
    assert str(default) in result.stdout and "Upload a custom app" in result.stdout and "admin center" in result.stdout
    assert _read(default)[1]["bots"][0]["botId"] == APP_ID

    elsewhere = tmp_path / "dist" / "coach.zip"
    result = runner.invoke(app, ["teams-package", "--out", str(elsewhere)])
    assert result.exit_code == 0, result.output
    assert elsewhere.exists() and str(elsewhere) in result.stdout


def test_cli_exits_2_with_the_reason_when_the_app_id_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("MICROSOFT_APP_ID", "")
    monkeypatch.setenv("COACH_PUBLIC_URL", URL)

    result = runner.invoke(app, ["teams-package"])
    assert result.exit_code == 2
    assert "MICROSOFT_APP_ID" in result.stderr and "Azure Bot" in result.stderr
    assert not (tmp_path / "learning-coach-teams.zip").exists()
