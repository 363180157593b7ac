"""What probing the running app found, fixed: the OpenAPI schema only for admins, no server paths in public
responses, the web chat's security headers, bounded error bodies and early 413s, and the anonymous web chat limited
per address as well as per learner."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from fastapi.testclient import TestClient

from coach import accounts
from coach.bootstrap import bootstrap
from coach.i18n import _, speaking
from coach.rate_limit import SLOW_DOWN
from connectors.server import create_app
from tests.conftest import REPO, make_settings, served
from tests.integration.admin_helpers import PASSWORD, sign_in
from tests.integration.web_helpers import MILEAGE, sample_container

VISITS = "How do I book a site visit to a customer?"


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("hardening")


@pytest.fixture(scope="module")
def samples(folder, embedder):
    """The sample content (copied under `folder`, its data dir there too), a file whose sidecar links it to a server
    path, and a viewer account."""
    container = sample_container(folder, embedder)
    visits = folder / "shared" / "travel" / "site-visits.md"
    visits.parent.mkdir(parents=True)
    visits.write_text("# Site visits\n\nBook a site visit to a customer through the travel desk at least five "
                      "working days ahead, and name the customer and the purpose of the visit in the booking.\n")
    visits.with_name("site-visits.md.meta.yaml").write_text("link: file:///srv/share/travel/site-visits.md\n")
    assert container.knowledge.ingest([visits.parent]).summary()["added"] == 1
    accounts.add_account(container.engine, email="vic@example.com", role="viewer", password=PASSWORD, actor="test")
    return container


@pytest.fixture(scope="module")
def app(samples):
    return create_app(samples)


def test_the_openapi_schema_is_only_for_admins(app, samples):
    anonymous = TestClient(app, follow_redirects=False)
    for path in ("/openapi.json", "/api/docs", "/docs", "/redoc"):
        assert anonymous.get(path).status_code == 404, path
    refused = anonymous.get("/admin/openapi.json")
    assert refused.status_code == 401 and "paths" not in refused.text and "/api/admin" not in refused.text
    wrong = anonymous.get("/admin/openapi.json", headers={"Authorization": "Bearer coach_not-a-token"})
    assert wrong.status_code == 401 and "/api/admin" not in wrong.text

    browser = TestClient(app, follow_redirects=False)
    assert sign_in(browser, "vic@example.com").status_code == 303  # a viewer: any admin role may read it
    schema = browser.get("/admin/openapi.json")
    assert schema.status_code == 200 and "/api/admin/me" in schema.json()["paths"]
    assert schema.headers["cache-control"] == "no-store" and schema.headers["x-frame-options"] == "DENY"

    _, secret = accounts.create_token(samples.engine, role="viewer", name="schema", actor="test")
    by_token = anonymous.get("/admin/openapi.json", headers={"Authorization": f"Bearer {secret}"})
    assert by_token.status_code == 200 and by_token.json()["paths"] == schema.json()["paths"]


def test_no_public_response_names_a_server_path(app, folder):
    """Search hits, answers and their citations (JSON, streamed and HTML), sources, the export: files are named as
    L&D knows them, and a sidecar's link to a server path is not passed on."""
    browser = TestClient(app)
    hits = browser.get("/api/search", params={"q": VISITS}).json()
    hit = next(h for h in hits if h["title"] == "Site visits")
    assert hit["source_key"] == "site-visits.md" and hit["link"] == ""
    assert {h["source_key"] for h in browser.get("/api/search", params={"q": MILEAGE}).json()} >= {
        "expenses-and-travel-policy.pdf"}
    said = [json.dumps(hits), browser.get("/api/search", params={"q": MILEAGE}).text]
    answer = browser.post("/api/ask", json={"question": VISITS}).json()
    assert "Site visits" in {c["title"] for c in answer["citations"]}
    said.append(json.dumps(answer))
    with browser.stream("POST", "/api/ask/stream", json={"question": MILEAGE}) as streamed:
        said.append("".join(streamed.iter_lines()))
    browser.post("/ask", data={"q": VISITS})
    page = browser.get("/").text
    said += [page, browser.get("/api/me").text]
    said += [browser.get(link.split("#")[0]).text for link in re.findall(r'href="(/sources/[^"]+)"', page)]
    said.append(browser.post("/api/action", data={"kind": "helpful", "value": answer["need_id"]}).text)
    for text in said:
        for server_path in (str(folder), str(REPO), "/srv/share", "file://"):
            assert server_path not in text


def security_headers(response) -> dict[str, str]:
    names = ("content-security-policy", "x-frame-options", "x-content-type-options", "referrer-policy")
    for name in names:
        assert len(response.headers.get_list(name)) == 1, (response.request.url, name)
    return {name: response.headers[name] for name in names}


def test_every_web_chat_response_errors_included_has_the_admins_security_headers(app, samples):
    browser = TestClient(app, follow_redirects=False)
    source = samples.knowledge.sources()[0].id
    responses = [browser.get("/"), browser.post("/ask", data={"q": "help"}), browser.get("/static/chat.js"),
                 browser.get("/api/search", params={"q": "mileage"}), browser.get(f"/sources/{source}"),
                 browser.get("/sources/0"), browser.get("/read/nonsense"), browser.get("/api/me"),
                 browser.post("/api/ask", json={"question": ""}),  # 422
                 browser.post("/ask", data={"q": "help"}, headers={"Origin": "https://evil.example"}),  # 403
                 browser.post("/api/action", data={"kind": "NOT A KIND"})]
    with browser.stream("POST", "/api/ask/stream", json={"question": "help"}) as streamed:
        responses.append(streamed)
    admin = browser.get("/admin/login")
    assert {r.status_code for r in responses} >= {200, 303, 403, 404, 422}
    for response in responses:
        headers = security_headers(response)
        assert headers == security_headers(admin), response.request.url  # one policy, the admin's
        policy = headers["content-security-policy"]
        assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy and "unsafe" not in policy
        assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
    assert browser.get("/").headers["cache-control"] == "no-store"
    assert browser.get("/static/chat.css").headers["cache-control"] == "no-cache"
    page = browser.get("/").text  # the only inline script is the data block for chat.js, which browsers do not run
    assert re.findall(r"<script[^>]*>", page) == ['<script type="application/json" id="coach-strings">',
                                                   '<script src="/static/chat.js" defer>']


FIVE_MB = "x" * (5 * 1024 * 1024)


def test_an_oversized_question_is_refused_at_once_with_413_and_a_short_body(app):
    browser = TestClient(app)
    refusals = [browser.post("/api/ask", json={"question": FIVE_MB}),
                browser.post("/ask", data={"q": FIVE_MB}),
                browser.post("/api/action", data={"kind": "helpful", "value": FIVE_MB}),
                browser.post("/api/ask", content=(FIVE_MB[i:i + 65536].encode() for i in range(0, len(FIVE_MB), 65536)),
                             headers={"Content-Type": "application/json"})]  # chunked: no Content-Length to go by
    with browser.stream("POST", "/api/ask/stream", json={"question": FIVE_MB}) as streamed:
        streamed.read()
        refusals.append(streamed)
    assert "content-length" not in refusals[3].request.headers
    for refused in refusals:
        assert refused.status_code == 413, refused.request.url
        assert len(refused.content) < 200 and "Content Too Large" in refused.text and "xxxx" not in refused.text
        assert refused.headers["x-content-type-options"] == "nosniff"


def test_a_request_that_does_not_validate_says_which_field_and_why_without_echoing_it(app):
    browser = TestClient(app)
    long = browser.post("/api/ask", json={"question": "x" * 200_000})  # under the body limit, over the field's
    assert long.status_code == 422 and len(long.content) < 1000 and "xxxx" not in long.text
    assert long.json() == {"detail": [{"loc": ["body", "question"], "type": "string_too_long",
                                       "msg": "String should have at most 20000 characters"}]}
    many = browser.post("/api/ask", json={"question": 5, "history": ["y" * 10_000] * 20})
    assert many.status_code == 422 and len(many.content) < 4096 and "yyyy" not in many.text
    problems = many.json()["detail"]
    assert len(problems) == 11 and problems[0]["loc"] == ["body", "question"]
    assert problems[-1]["msg"] == "and 11 more problems"
    broken = browser.post("/api/ask", content=b'{"question": "' + b"z" * 100_000,
                          headers={"Content-Type": "application/json"})
    assert broken.status_code == 422 and "zzzz" not in broken.text
    assert broken.json()["detail"][0]["msg"].startswith("JSON decode error: ")
    key = browser.get("/api/search", params={"q": "q" * 3000})
    assert key.status_code == 422 and "qqqq" not in key.text and key.json()["detail"][0]["loc"] == ["query", "q"]


@pytest.fixture
def limited(tmp_path, embedder):
    """An app whose web chat takes 3 questions a minute from one address."""
    return create_app(bootstrap(make_settings(tmp_path, COACH_WEB_QUESTIONS_PER_MINUTE_PER_ADDRESS=3),
                                embedder=embedder))


def slow_down(language: str) -> str:
    with speaking(language):
        return _(SLOW_DOWN)


def test_a_client_that_drops_its_cookie_is_still_limited_per_address(limited):
    browser = TestClient(limited, client=("203.0.113.7", 50000), follow_redirects=False)
    for _n in range(3):
        browser.cookies.clear()  # a new learner each time: the per-learner limit never sees them twice
        assert browser.post("/api/ask", json={"question": "How do I book training budget?"}).status_code == 200
    browser.cookies.clear()
    refused = browser.post("/api/ask", json={"question": "How do I book training budget?"})
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"
    assert refused.json()["answer"] == slow_down("en") and refused.json()["mode"] == "service"
    dutch = browser.post("/api/ask/stream", json={"question": "Hoe boek ik opleidingsbudget?"},
                         headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert dutch.status_code == 429 and dutch.json() == {"error": slow_down("nl")} != {"error": slow_down("en")}
    form = browser.post("/ask", data={"q": "And per diems?"})
    assert form.status_code == 429 and '<p class="question">And per diems?</p>' in form.text
    assert re.search(r'<section class="answer" lang="en"[^>]*><p>' + re.escape(slow_down("en")), form.text)
    assert form.headers["content-security-policy"]  # the page, with its headers, not a bare error
    assert browser.get("/", params={"q": "And per diems?"}).status_code == 429
    assert browser.get("/").status_code == 200  # reading the page is not asking

    elsewhere = TestClient(limited, client=("198.51.100.9", 50000))
    assert elsewhere.post("/api/ask", json={"question": "How do I book training budget?"}).status_code == 200


def test_an_ipv6_client_counts_by_its_network(limited):
    def ask(address: str) -> int:
        client = TestClient(limited, client=(address, 50000))
        return client.post("/api/ask", json={"question": "help"}).status_code

    assert [ask(f"2001:db8:0:7::{n}") for n in range(1, 5)] == [200, 200, 200, 429]  # one /64
    assert ask("2001:db8:0:8::1") == 200


def test_behind_a_proxy_the_forwarded_address_counts_only_when_the_proxy_is_trusted(limited, monkeypatch):
    def ask(url: str, client: str) -> int:
        return httpx.post(url + "/api/ask", json={"question": "help"},
                          headers={"X-Forwarded-For": client}).status_code  # a new cookie each time

    with served(limited) as url:  # uvicorn trusts a proxy on loopback by default (FORWARDED_ALLOW_IPS)
        assert [ask(url, "203.0.113.1") for _n in range(4)] == [200, 200, 200, 429]
        assert ask(url, "203.0.113.2") == 200  # another employee behind the same proxy
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.5")  # trusted: another address, not this loopback peer
    with served(limited) as url:
        assert [ask(url, f"203.0.113.{n}") for n in range(10, 14)] == [200, 200, 200, 429]  # all one address
