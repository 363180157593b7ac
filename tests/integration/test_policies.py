"""The privacy notice and terms of use the Teams app package links to unless the company names its own: served by
the app, written from its settings (what is kept, where a question may go, how to see and delete it)."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi.testclient import TestClient

from coach.bootstrap import bootstrap
from connectors.server import create_app
from connectors.teams.package import build_manifest
from tests.conftest import HashingEmbedder, make_settings

APP_ID = "1f2e3d4c-5b6a-4789-8abc-def012345678"


def client(tmp_path, **values) -> TestClient:
    return TestClient(create_app(bootstrap(make_settings(tmp_path, **values), embedder=HashingEmbedder())))


def test_the_privacy_page_says_what_is_kept_who_sees_it_and_how_to_see_and_delete_it(tmp_path):
    with client(tmp_path, COACH_COMPANY_NAME="Acme <Corp>", COACH_HUMAN_CONTACT="#ask-learning",
                COACH_PRIVACY_MIN_GROUP=7) as http:
        page = http.get("/privacy")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Acme &lt;Corp&gt;" in page.text and "<Corp>" not in page.text  # settings are text, not markup
    for said in ("Your profile", "personal details removed", "micro-lesson progress", "Where it can message you",
                 "at least 7 people", "<em>what do you know about me</em>", "<em>forget me</em>", "<em>pause</em>",
                 "#ask-learning", "no language model or other outside service sees them"):
        assert said in page.text, said


def test_the_privacy_page_names_the_outside_services_a_question_reaches_but_not_where_they_are(tmp_path):
    with client(tmp_path, LLM_BASE_URL="https://llm.internal.acme.test/v1", LLM_API_KEY="sk-test",
                EMBEDDINGS_BASE_URL="https://embed.internal.acme.test/v1") as http:
        page = http.get("/privacy").text
    assert "connected a language model and an embeddings service" in page and "with personal details removed" in page
    assert "no language model" not in page and "acme.test" not in page


def test_the_package_links_lead_to_the_terms_and_privacy_pages(tmp_path):
    settings = dict(MICROSOFT_APP_ID=APP_ID, COACH_PUBLIC_URL="https://coach.example.com", COACH_COMPANY_NAME="Acme")
    developer = build_manifest(make_settings(tmp_path, **settings))["developer"]
    with client(tmp_path, **settings) as http:
        privacy = http.get(urlsplit(developer["privacyUrl"]).path)
        terms = http.get(urlsplit(developer["termsOfUseUrl"]).path)
    assert privacy.status_code == terms.status_code == 200
    assert "forget me" in privacy.text and "terms of use" in terms.text
    assert "people at Acme" in terms.text and "check the source" in terms.text and 'href="/privacy"' in terms.text
