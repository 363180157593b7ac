"""What the web admin's HTTP tests share: a client of the real app, signing in through the login form, and the CSRF
token a signed-in page carries."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

from connectors.server import create_app

PASSWORD = "correct horse battery staple"


def browser(container, address: str = "testclient") -> TestClient:
    return TestClient(create_app(container), follow_redirects=False, client=(address, 50000))


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD, next_path: str = "") -> httpx.Response:
    token = csrf_of(client.get("/admin/login").text)
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token,
                                             "next": next_path})


def signed_in(container, email: str = "lea@example.com") -> TestClient:
    client = browser(container)
    assert sign_in(client, email).status_code == 303
    return client


def csrf(client: TestClient) -> str:
    """The token of a signed-in session, as its pages carry it for scripts."""
    return re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get("/admin").text).group(1)
