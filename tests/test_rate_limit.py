"""ferroweb.middleware.RateLimit through the test client: budgets, headers, 429 problems,
keys, CORS, and what a declaration refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ferroweb import App, Request, Router
from ferroweb.middleware import CORS, RateLimit
from ferroweb.security import APIKeyAuth
from ferroweb.testing import TestClient


def test_a_burst_passes_then_429_with_retry_after(open_client: Callable[[App], TestClient]) -> None:
    calls: list[int] = []
    app = App()

    @app.get("/items", middleware=[RateLimit("3/minute")])
    def items() -> dict[str, int]:
        calls.append(1)
        return {"n": len(calls)}

    client = open_client(app)
    remaining = []
    for _ in range(3):
        response = client.get("/items")
        assert response.status_code == 200
        assert response.headers["ratelimit-limit"] == "3"
        remaining.append(response.headers["ratelimit-remaining"])
    assert remaining == ["2", "1", "0"]
    refused = client.get("/items")
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    assert 1 <= int(refused.headers["retry-after"]) <= 20
    assert refused.headers["ratelimit-remaining"] == "0"
    body = refused.json()
    assert body["title"] == "Too Many Requests"
    assert body["detail"].startswith("rate limit exceeded; retry in ")
    assert len(calls) == 3


def test_one_object_is_one_budget_and_routes_may_have_their_own(
    open_client: Callable[[App], TestClient],
) -> None:
    app = App(middleware=[RateLimit("2/minute")])

    @app.get("/a")
    def a() -> dict[str, str]:
        return {"r": "a"}

    @app.get("/b")
    def b() -> dict[str, str]:
        return {"r": "b"}

    @app.get("/own", middleware=[RateLimit("1/minute")])
    def own() -> dict[str, str]:
        return {"r": "own"}

    client = open_client(app)
    assert client.get("/a").status_code == 200
    assert client.get("/b").status_code == 200
    assert client.get("/a").status_code == 429
    assert client.get("/own").status_code == 200
    assert client.get("/own").status_code == 429


def test_key_by_header_gives_each_value_its_budget(open_client: Callable[[App], TestClient]) -> None:
    app = App()

    @app.get("/x", middleware=[RateLimit("1/hour", key="header:X-Client")])
    def x() -> dict[str, bool]:
        return {"ok": True}

    client = open_client(app)
    assert client.get("/x", headers={"X-Client": "one"}).status_code == 200
    assert client.get("/x", headers={"X-Client": "one"}).status_code == 429
    assert client.get("/x", headers={"X-Client": "two"}).status_code == 200


def test_key_by_auth_counts_per_subject_after_authentication(
    open_client: Callable[[App], TestClient],
) -> None:
    router = Router(auth=APIKeyAuth(keys={"k1": "alice", "k2": "bob"}))

    @router.get("/me", middleware=[RateLimit("1/hour", key="auth")])
    def me(request: Request) -> dict[str, Any]:
        return dict(request.auth or {})

    app = App()
    app.include_router(router)
    client = open_client(app)
    assert client.get("/me", headers={"X-API-Key": "k1"}).json() == {"sub": "alice"}
    assert client.get("/me", headers={"X-API-Key": "k1"}).status_code == 429
    assert client.get("/me", headers={"X-API-Key": "k2"}).json() == {"sub": "bob"}
    # unauthenticated requests are refused by authentication before being counted
    assert client.get("/me").status_code == 401


def test_refusals_keep_cors_headers_and_preflights_are_not_counted(
    open_client: Callable[[App], TestClient],
) -> None:
    app = App(middleware=[CORS(allow_origins=["https://app.example"]), RateLimit("1/hour")])

    @app.get("/x")
    def x() -> dict[str, bool]:
        return {"ok": True}

    client = open_client(app)
    origin = {"Origin": "https://app.example"}
    for _ in range(3):
        preflight = client.options("/x", headers={**origin, "Access-Control-Request-Method": "GET"})
        assert preflight.status_code == 204
        assert "ratelimit-limit" not in preflight.headers
    assert client.get("/x", headers=origin).status_code == 200
    refused = client.get("/x", headers=origin)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == "https://app.example"


def test_errors_of_a_limited_route_carry_the_headers(open_client: Callable[[App], TestClient]) -> None:
    app = App()

    @app.get("/fail", middleware=[RateLimit("5/second")])
    def fail() -> None:
        raise RuntimeError("boom")

    client = open_client(app)
    response = client.get("/fail")
    assert response.status_code == 500
    assert response.headers["ratelimit-remaining"] == "4"


def test_declarations_are_checked() -> None:
    for rate in ("10", "0/second", "ten/second", "10/fortnight"):
        with pytest.raises(ValueError, match="invalid rate"):
            RateLimit(rate)
    with pytest.raises(ValueError, match="burst"):
        RateLimit("1/second", burst=0)
    with pytest.raises(ValueError, match="key must be"):
        RateLimit("1/second", key="cookie:x")
    with pytest.raises(ValueError, match="not an IP address or CIDR"):
        RateLimit("1/second", trusted_proxies=["proxy.internal"])
    with pytest.raises(TypeError, match="single string"):
        RateLimit("1/second", trusted_proxies="10.0.0.0/8")
    assert "3/minute" in repr(RateLimit("3/minute"))


def test_a_key_function_counts_in_python_after_authentication(
    open_client: Callable[[App], TestClient],
) -> None:
    seen: list[str | None] = []

    def tenant(request: Request) -> str | None:
        value = request.headers.get("x-tenant")
        seen.append(value)
        return value

    app = App()

    @app.get("/t", middleware=[RateLimit("1/hour", key=tenant)])
    def t() -> dict[str, bool]:
        return {"ok": True}

    async def by_subject(request: Request) -> str:
        return str((request.auth or {}).get("sub"))

    @app.get("/s", auth=APIKeyAuth(keys={"k1": "alice"}), middleware=[RateLimit("1/hour", key=by_subject)])
    def s() -> dict[str, bool]:
        return {"ok": True}

    client = open_client(app)
    first = client.get("/t", headers={"x-tenant": "a"})
    assert first.status_code == 200
    assert first.headers["ratelimit-limit"] == "1"
    assert first.headers["ratelimit-remaining"] == "0"
    refused = client.get("/t", headers={"x-tenant": "a"})
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert client.get("/t", headers={"x-tenant": "b"}).status_code == 200
    assert client.get("/t").status_code == 200  # no tenant: counted by address
    assert seen == ["a", "a", "b", None]
    assert client.get("/s", headers={"X-API-Key": "k1"}).status_code == 200
    assert client.get("/s", headers={"X-API-Key": "k1"}).status_code == 429


def test_a_key_function_refuses_a_store() -> None:
    with pytest.raises(ValueError, match="memory"):
        RateLimit("1/second", key=lambda request: "x", store="redis://127.0.0.1:6379/0")
