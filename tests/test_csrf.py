"""ferroweb.security.CSRF through the test client: signed double submit."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ferroweb import App
from ferroweb.security import CSRF
from ferroweb.testing import TestClient

SECRET = "the-csrf-secret-of-this-test-0123456789"


@pytest.fixture
def calls() -> list[str]:
    return []


@pytest.fixture
def client(calls: list[str]) -> Iterator[TestClient]:
    app = App(middleware=[CSRF(SECRET)])

    @app.get("/form")
    def form() -> dict[str, bool]:
        return {"form": True}

    @app.post("/transfer")
    def transfer() -> dict[str, bool]:
        calls.append("transfer")
        return {"done": True}

    with TestClient(app) as client:
        yield client


def test_a_safe_request_gets_a_readable_token_cookie(client: TestClient) -> None:
    response = client.get("/form")
    set_cookie = response.headers["set-cookie"]
    assert set_cookie.startswith("csrftoken=")
    assert "HttpOnly" not in set_cookie
    # with a valid token already there, none is set again
    assert "set-cookie" not in client.get("/form").headers


def test_an_unsafe_request_must_echo_the_token(client: TestClient, calls: list[str]) -> None:
    client.get("/form")
    token = client.cookies["csrftoken"]
    refused = client.post("/transfer")
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "CSRF token missing or incorrect"
    assert client.post("/transfer", headers={"x-csrftoken": "wrong"}).status_code == 403
    assert client.post("/transfer", headers={"x-csrftoken": token}).json() == {"done": True}
    assert calls == ["transfer"]


def test_a_planted_unsigned_token_is_refused(client: TestClient, calls: list[str]) -> None:
    client.cookies.set("csrftoken", "attacker-chosen")
    response = client.post("/transfer", headers={"x-csrftoken": "attacker-chosen"})
    assert response.status_code == 403
    assert response.json()["detail"] == "CSRF cookie missing or not valid"
    assert calls == []


def test_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        CSRF("short")
    with pytest.raises(ValueError, match="header name"):
        CSRF(SECRET, header="bad header")
    with pytest.raises(ValueError, match="HTTP method"):
        CSRF(SECRET, safe_methods=["G E T"])
