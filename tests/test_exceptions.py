from __future__ import annotations

import logging

import pytest

from ferroweb import App, HTTPException, JSONResponse, PlainTextResponse, Request
from ferroweb.testing import TestClient


def test_http_exception_is_problem_json(app: App, client: TestClient) -> None:
    @app.get("/items/{item_id}")
    def item(item_id: str) -> dict[str, str]:
        raise HTTPException(404, detail="item not found", headers={"x-reason": "missing"})

    response = client.get("/items/7")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-reason"] == "missing"
    assert response.json() == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "item not found",
        "instance": "/items/7",
    }


def test_http_exception_default_and_structured_detail(app: App, client: TestClient) -> None:
    app.get("/plain")(lambda: (_ for _ in ()).throw(HTTPException(403)))

    @app.get("/structured")
    async def structured() -> None:
        raise HTTPException(409, detail={"conflict": ["a", "b"]})

    assert client.get("/plain").json()["detail"] == "Forbidden"
    assert client.get("/structured").json()["detail"] == {"conflict": ["a", "b"]}


def test_uncaught_exception_is_500_without_traceback_and_logged(
    app: App, client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    app.get("/fine")(lambda: "fine")
    with caplog.at_level(logging.ERROR, logger="ferroweb.error"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "type": "about:blank",
        "title": "Internal Server Error",
        "status": 500,
        "instance": "/boom",
    }
    assert "secret" not in response.text
    assert any("secret internals" in str(r.exc_info[1]) for r in caplog.records if r.exc_info)
    assert client.get("/fine").text == "fine"


def test_async_exception_after_suspension_is_500(app: App, client: TestClient) -> None:
    import asyncio

    @app.get("/later")
    async def later() -> None:
        await asyncio.sleep(0)
        raise ValueError("late")

    assert client.get("/later").status_code == 500


def test_exception_handler_by_class_and_status(app: App, client: TestClient) -> None:
    class TeapotError(Exception):
        pass

    @app.exception_handler(TeapotError)
    def teapot(request: Request, exc: TeapotError) -> JSONResponse:
        return JSONResponse({"path": request.path, "kind": "teapot"}, status_code=418)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(f"custom: {exc.detail}", status_code=404)

    @app.get("/tea")
    def tea() -> None:
        raise TeapotError

    @app.get("/missing")
    def missing() -> None:
        raise HTTPException(404, "nope")

    tea_response = client.get("/tea")
    assert (tea_response.status_code, tea_response.json()) == (418, {"path": "/tea", "kind": "teapot"})
    missing_response = client.get("/missing")
    assert (missing_response.status_code, missing_response.text) == (404, "custom: nope")


def test_500_handler_catches_unhandled(app: App, client: TestClient) -> None:
    app.add_exception_handler(500, lambda request, exc: {"error": type(exc).__name__})
    app.get("/x")(lambda: 1 / 0)
    response = client.get("/x")
    assert (response.status_code, response.json()) == (500, {"error": "ZeroDivisionError"})


def test_failing_exception_handler_is_500(app: App, client: TestClient) -> None:
    def broken(request: Request, exc: Exception) -> None:
        raise RuntimeError("handler broke")

    app.add_exception_handler(KeyError, broken)
    app.get("/k")(lambda: {}["missing"])
    assert client.get("/k").status_code == 500


def test_exception_handler_validation() -> None:
    app = App()
    with pytest.raises(ValueError):
        app.add_exception_handler(42, lambda r, e: None)
    with pytest.raises(TypeError):
        app.add_exception_handler("oops", lambda r, e: None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        HTTPException(1000)


def test_status_handlers_also_answer_router_misses(app: App, client: TestClient) -> None:
    @app.exception_handler(404)
    def not_found(request: Request, exc: HTTPException) -> PlainTextResponse:
        return PlainTextResponse(f"nothing at {request.path}", status_code=404)

    @app.exception_handler(405)
    async def not_allowed(request: Request, exc: HTTPException) -> JSONResponse:
        assert exc.headers is not None
        return JSONResponse({"allow": exc.headers["allow"]}, status_code=405, headers=exc.headers)

    app.get("/only-get")(lambda: "x")
    missing = client.get("/nowhere")
    assert (missing.status_code, missing.text) == (404, "nothing at /nowhere")
    wrong = client.post("/only-get")
    assert (wrong.status_code, wrong.json()) == (405, {"allow": "GET, HEAD, OPTIONS"})
    assert wrong.headers["allow"] == "GET, HEAD, OPTIONS"
    # OPTIONS is not an error and stays with the router
    assert client.options("/only-get").status_code == 204


def test_http_exception_class_handler_answers_router_misses(app: App, client: TestClient) -> None:
    app.add_exception_handler(HTTPException, lambda request, exc: {"status": exc.status_code})
    response = client.get("/nowhere")
    assert (response.status_code, response.json()) == (404, {"status": 404})


def test_router_misses_stay_in_rust_without_such_handlers(app: App, client: TestClient) -> None:
    app.add_exception_handler(ValueError, lambda request, exc: "value error")
    assert not app.handles_routing_errors()
    response = client.get("/nowhere")
    assert response.headers["content-type"] == "application/problem+json"
