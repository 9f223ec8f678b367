"""ferroweb.middleware through the test client: CORS, compression, timeouts, hosts, security
headers, body limits; how stacks merge; and what a declaration refuses."""

from __future__ import annotations

import asyncio
import gzip
import logging
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from ferroweb import App, HTTPException, Router, StreamingResponse
from ferroweb.middleware import CORS, BodyLimit, Compression, SecurityHeaders, Timeout, TrustedHosts
from ferroweb.sse import EventSourceResponse
from ferroweb.testing import TestClient

ORIGIN = "https://app.example"
BIG = {"items": list(range(400))}


def cors_app(calls: list[str]) -> App:
    app = App(
        middleware=[
            CORS(
                allow_origins=[ORIGIN],
                allow_methods=["GET", "POST"],
                allow_headers=["X-Token"],
                allow_credentials=True,
                expose_headers=["X-Total"],
            )
        ]
    )

    @app.get("/items")
    def items() -> dict[str, int]:
        calls.append("items")
        return {"n": 1}

    @app.post("/items")
    def create(n: int) -> dict[str, int]:
        calls.append("create")
        return {"n": n}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    return app


def preflight(
    client: TestClient, path: str, method: str, headers: str = "", origin: str = ORIGIN
) -> httpx.Response:
    return client.options(
        path,
        headers={
            "origin": origin,
            "access-control-request-method": method,
            "access-control-request-headers": headers,
        },
    )


def test_cors_preflights_are_answered_without_the_handler() -> None:
    calls: list[str] = []
    with TestClient(cors_app(calls)) as client:
        allowed = preflight(client, "/items", "POST", "x-token, content-type")
        assert allowed.status_code == 204
        assert allowed.headers["access-control-allow-origin"] == ORIGIN
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert allowed.headers["access-control-allow-methods"] == "GET, POST"
        assert "x-token" in allowed.headers["access-control-allow-headers"]
        assert allowed.headers["access-control-max-age"] == "600"
        for refused in (
            preflight(client, "/items", "DELETE"),
            preflight(client, "/items", "GET", "x-secret"),
            preflight(client, "/items", "GET", origin="https://evil.example"),
        ):
            assert refused.status_code == 400
            assert refused.headers["content-type"] == "application/problem+json"
            assert not [name for name in refused.headers if name.startswith("access-control-allow")]
        # an unknown path is preflighted by the app's policy too
        assert preflight(client, "/nowhere", "GET").status_code == 204
    assert calls == []


def test_cors_headers_on_successes_and_errors() -> None:
    calls: list[str] = []
    with TestClient(cors_app(calls)) as client:
        for response in (
            client.get("/items", headers={"origin": ORIGIN}),
            client.get("/missing", headers={"origin": ORIGIN}),
            client.post("/items", headers={"origin": ORIGIN}),  # 422: n is missing
            client.get("/boom", headers={"origin": ORIGIN}),
            client.put("/items", headers={"origin": ORIGIN}),  # 405
        ):
            assert response.headers["access-control-allow-origin"] == ORIGIN, response.status_code
            assert response.headers["access-control-allow-credentials"] == "true"
            assert response.headers["access-control-expose-headers"] == "X-Total"
            assert "origin" in response.headers["vary"].lower()
        assert [r.status_code for r in (client.get("/missing"), client.post("/items"))] == [404, 422]
        stranger = client.get("/items", headers={"origin": "https://evil.example"})
        assert stranger.status_code == 200
        assert "access-control-allow-origin" not in stranger.headers


def test_cors_any_origin_and_regex() -> None:
    app = App()

    @app.get("/open", middleware=[CORS(allow_origins=["*"])])
    def open_route() -> str:
        return "ok"

    @app.get("/regex", middleware=[CORS(allow_origin_regex=r"https://[a-z]+\.example\.com")])
    def regex_route() -> str:
        return "ok"

    with TestClient(app) as client:
        response = client.get("/open", headers={"origin": "https://any.test"})
        assert response.headers["access-control-allow-origin"] == "*"
        assert "vary" not in response.headers
        ok = client.get("/regex", headers={"origin": "https://shop.example.com"})
        assert ok.headers["access-control-allow-origin"] == "https://shop.example.com"
        suffix = client.get("/regex", headers={"origin": "https://shop.example.com.evil.test"})
        assert "access-control-allow-origin" not in suffix.headers


def compression_app() -> App:
    app = App(middleware=[Compression(minimum_size=500)])

    @app.get("/big")
    def big() -> dict[str, Any]:
        return BIG

    @app.get("/small")
    def small() -> dict[str, int]:
        return {"n": 1}

    @app.get("/stream")
    def stream() -> StreamingResponse:
        def chunks() -> Iterator[str]:
            for i in range(50):
                yield f"line {i} " * 20 + "\n"

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/events")
    async def events() -> EventSourceResponse:
        async def produce() -> AsyncIterator[dict[str, str]]:
            for i in range(3):
                yield {"data": "x" * 400 + str(i)}

        return EventSourceResponse(produce())

    @app.get("/png")
    def png() -> Any:
        from ferroweb import Response

        return Response(b"\x89PNG" + b"\0" * 2000, media_type="image/png")

    @app.get("/no-transform")
    def no_transform() -> Any:
        from ferroweb import JSONResponse

        return JSONResponse(BIG, headers={"cache-control": "no-transform"})

    return app


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_compression_is_negotiated_and_decoded_by_httpx(encoding: str) -> None:
    with TestClient(compression_app()) as client:
        response = client.get("/big", headers={"accept-encoding": encoding})
        assert response.headers["content-encoding"] == encoding
        assert "accept-encoding" in response.headers["vary"].lower()
        assert response.json() == BIG
        assert int(response.headers.get("content-length", "0")) < len(response.content)


def test_compression_prefers_by_q_value_and_skips_what_it_must() -> None:
    with TestClient(compression_app()) as client:
        preferred = client.get("/big", headers={"accept-encoding": "gzip;q=0.2, zstd;q=0.9"})
        assert preferred.headers["content-encoding"] == "zstd"
        refused = client.get("/big", headers={"accept-encoding": "gzip;q=0"})
        assert "content-encoding" not in refused.headers
        small = client.get("/small", headers={"accept-encoding": "gzip"})
        assert "content-encoding" not in small.headers and small.json() == {"n": 1}
        for path in ("/png", "/no-transform"):
            assert "content-encoding" not in client.get(path, headers={"accept-encoding": "gzip"}).headers
        with client.stream("GET", "/events", headers={"accept-encoding": "gzip, br"}) as events:
            assert events.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in events.headers
            assert sum(1 for line in events.iter_lines() if line.startswith("data:")) == 3
        with client.stream("GET", "/stream", headers={"accept-encoding": "gzip"}) as streamed:
            assert streamed.headers["content-encoding"] == "gzip"
            raw = b"".join(streamed.iter_raw())
        text = gzip.decompress(raw).decode()
        assert text.count("\n") == 50 and text.startswith("line 0 ")


def test_timeout_cancels_async_handlers_and_discards_late_sync_results(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App(middleware=[Timeout(0.2)])
    cleaned_up: list[str] = []

    @app.get("/slow")
    async def slow() -> str:
        try:
            await asyncio.sleep(5)
        finally:
            cleaned_up.append("slow")
        return "late"

    @app.get("/blocking-sync")
    def blocking_sync() -> str:
        time.sleep(0.4)
        return "late"

    @app.get("/fast")
    async def fast() -> str:
        await asyncio.sleep(0)
        return "fast"

    @app.get("/custom", middleware=[Timeout(0.05, status_code=504)])
    async def custom() -> str:
        await asyncio.sleep(1)
        return "late"

    with caplog.at_level(logging.WARNING, logger="ferroweb.error"), TestClient(app) as client:
        response = client.get("/slow")
        assert response.status_code == 408
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "the handler did not answer within 0.2 s"
        late = client.get("/blocking-sync")
        assert late.status_code == 408
        assert client.get("/fast").text == "fast"
        assert client.get("/custom").status_code == 504
        deadline = time.monotonic() + 2
        while "slow" not in cleaned_up and time.monotonic() < deadline:
            client.get("/fast")
    assert cleaned_up == ["slow"]
    messages = [record.getMessage() for record in caplog.records]
    assert any("timed out after 0.2s and was cancelled" in message for message in messages)
    assert any("late result was discarded" in message for message in messages)


def test_host_header_rules_and_trusted_hosts() -> None:
    app = App()

    @app.get("/open")
    def open_route() -> str:
        return "ok"

    @app.get(
        "/guarded", middleware=[TrustedHosts(["api.example", "*.api.example", "www.shop.example"], True)]
    )
    def guarded() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/open").status_code == 200
        for bad in ("bad host", "a@b", "x:99999"):
            response = client.get("/open", headers={"host": bad})
            assert response.status_code == 400, bad
            assert response.headers["content-type"] == "application/problem+json"
        assert client.get("http://api.example/guarded").status_code == 200
        assert client.get("http://v2.api.example/guarded").status_code == 200
        assert client.get("http://evil.example/guarded").status_code == 400
        redirect = client.get("http://shop.example/guarded?a=1", follow_redirects=False)
        assert redirect.status_code == 301
        assert redirect.headers["location"] == "http://www.shop.example/guarded?a=1"


def test_security_headers_defaults_overrides_and_hsts_on_https() -> None:
    app = App(middleware=[SecurityHeaders(csp="default-src 'self'")])

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.get("/framed")
    def framed() -> Any:
        from ferroweb import Response

        return Response("ok", headers={"x-frame-options": "SAMEORIGIN"})

    @app.get("/missing-item")
    def missing() -> None:
        raise HTTPException(404, "no such item")

    with TestClient(app) as client:
        headers = client.get("/").headers
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "strict-origin-when-cross-origin"
        assert headers["content-security-policy"] == "default-src 'self'"
        assert "strict-transport-security" not in headers
        assert client.get("/framed").headers["x-frame-options"] == "SAMEORIGIN"
        assert client.get("/missing-item").headers["x-content-type-options"] == "nosniff"
        assert client.get("/unknown").headers["x-content-type-options"] == "nosniff"
    with TestClient(app, base_url="https://testserver") as secure:
        assert secure.get("/").headers["strict-transport-security"] == "max-age=63072000; includeSubDomains"


def test_body_limits_per_route_and_router() -> None:
    app = App()
    uploads = Router(prefix="/uploads", middleware=[BodyLimit(2000)])
    called: list[int] = []

    @uploads.post("/small", middleware=[BodyLimit(10)])
    async def small(request: Any) -> int:
        called.append(1)
        return len(await request.body())

    @uploads.post("/medium")
    async def medium(request: Any) -> int:
        return len(await request.body())

    app.include_router(uploads)

    with TestClient(app) as client:
        assert client.post("/uploads/small", content=b"x" * 10).json() == 10
        too_big = client.post("/uploads/small", content=b"x" * 11)
        assert too_big.status_code == 413
        assert too_big.json()["detail"] == "request body exceeds the limit of 10 bytes"
        assert client.post("/uploads/medium", content=b"x" * 2000).json() == 2000
        assert client.post("/uploads/medium", content=b"x" * 2001).status_code == 413
    assert called == [1]


def test_route_entries_replace_router_and_app_entries_of_their_class() -> None:
    app = App(middleware=[Timeout(30), SecurityHeaders()])
    api = Router(prefix="/api", middleware=[Timeout(5), CORS(allow_origins=["*"])])

    @api.get("/a")
    def a() -> str:
        return "a"

    @api.get("/b", middleware=[Timeout(120)])
    def b() -> str:
        return "b"

    app.include_router(api)

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    by_path = {route.path: route for route in app.routes}
    assert [type(m).__name__ for m in by_path["/api/a"].middleware] == ["SecurityHeaders", "Timeout", "CORS"]
    timeouts = {
        path: next(m.seconds for m in route.middleware if isinstance(m, Timeout))
        for path, route in by_path.items()
    }
    assert timeouts == {"/api/a": 5.0, "/api/b": 120.0, "/plain": 30.0}
    with TestClient(app) as client:
        assert (
            client.get("/api/a", headers={"origin": "https://x.test"}).headers["access-control-allow-origin"]
            == "*"
        )
        assert (
            "access-control-allow-origin"
            not in client.get("/plain", headers={"origin": "https://x.test"}).headers
        )


def test_routes_without_middleware_are_untouched() -> None:
    app = App()

    @app.get("/")
    def index() -> dict[str, Any]:
        return BIG

    with TestClient(app) as client:
        response = client.get("/", headers={"accept-encoding": "gzip", "origin": ORIGIN})
        assert "content-encoding" not in response.headers
        assert not [name for name in response.headers if name.startswith("access-control")]
        assert "x-content-type-options" not in response.headers


@pytest.mark.parametrize(
    ("declare", "error", "message"),
    [
        (lambda: CORS(allow_origins="*"), TypeError, "not a single string"),
        (lambda: CORS(allow_origin_regex="("), ValueError, "allow_origin_regex"),
        (lambda: CORS(allow_methods=["G ET"]), ValueError, "not a valid method"),
        (lambda: CORS(max_age=-1), ValueError, "max_age"),
        (lambda: Compression(gzip=False, brotli=False, zstd=False), ValueError, "at least one"),
        (lambda: Compression(level=99), ValueError, "level"),
        (lambda: Timeout(0), ValueError, "positive"),
        (lambda: Timeout(1, status_code=200), ValueError, "4xx or 5xx"),
        (lambda: TrustedHosts([]), ValueError, "at least one host"),
        (lambda: TrustedHosts(["a.*.com"]), ValueError, "not a host name"),
        (lambda: SecurityHeaders(csp="a\nb"), ValueError, "csp"),
        (lambda: BodyLimit(-1), ValueError, "bytes"),
        (lambda: App(middleware=[Timeout(1), Timeout(2)]), ValueError, "given twice"),
        (lambda: App(middleware=Timeout(1)), TypeError, "takes a list"),
        (lambda: App(middleware=["cors"]), TypeError, "not a ferroweb.middleware"),
    ],
)
def test_bad_declarations_are_refused_at_once(declare: Any, error: type[Exception], message: str) -> None:
    with pytest.raises(error, match=message):
        declare()


def test_repr_names_the_settings() -> None:
    assert repr(Timeout(3)) == "Timeout(seconds=3.0, status_code=408)"
    assert "allow_origins=('https://a.test',)" in repr(CORS(allow_origins=["https://a.test"]))
