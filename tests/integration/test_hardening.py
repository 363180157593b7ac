"""What probing the running app found, fixed: the OpenAPI schema only for admins, no server paths in public
responses, the web chat's security headers, bounded error bodies and early 413s, and the anonymous web chat limited
per address as well as per learner."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from coach import accounts
from connectors.server import create_app
from tests.integration.admin_helpers import PASSWORD, sign_in
from tests.integration.web_helpers import sample_container


@pytest.fixture(scope="module")
def samples(tmp_path_factory, embedder):
    container = sample_container(tmp_path_factory.mktemp("hardening"), embedder)
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
