"""``@app.middleware("http")`` (ferroweb.applications, ferroweb._hooks): Starlette's
``call_next`` semantics, streaming passthrough, and where exceptions go."""

from __future__ import annotations

import asyncio
import contextvars
from typing import Annotated, Any

import pytest

from ferroweb import App, Depends, HTTPException, Request, StreamingResponse
from ferroweb.responses import JSONResponse, PlainTextResponse, Response
from ferroweb.testing import TestClient

events: list[str] = []
current_user: contextvars.ContextVar[str] = contextvars.ContextVar("current_user", default="nobody")


@pytest.fixture(autouse=True)
def clear_events() -> None:
    events.clear()


def resource():  # type: ignore[no-untyped-def]
    events.append("open")
    try:
        yield "r"
    finally:
        events.append("close")


def make_app() -> App:
    app = App()

    @app.middleware("http")
    async def inner(request: Request, call_next: Any) -> Response:
        events.append("inner before")
        response = await call_next(request)
        events.append(f"inner after {response.status_code}")
        response.headers["x-inner"] = "1"
        return response

    @app.middleware("http")
    async def outer(request: Request, call_next: Any) -> Response:
        events.append("outer before")
        request.state.user = current_user_value = request.headers.get("x-user", "anon")
        current_user.set(current_user_value)
        if request.headers.get("x-refuse"):
            return PlainTextResponse("refused by middleware", status_code=403)
        try:
            response = await call_next(request)
        except RuntimeError as exc:
            events.append(f"outer caught {exc}")
            return JSONResponse({"caught": str(exc)}, status_code=502)
        events.append("outer after")
        response.headers["x-outer"] = "1"
        return response

    @app.get("/hello")
    def hello(request: Request) -> dict[str, str]:
        events.append("handler")
        return {"state": request.state.user, "context": current_user.get()}

    @app.get("/async")
    async def async_hello() -> str:
        await asyncio.sleep(0)
        return "async"

    @app.get("/teapot")
    def teapot() -> None:
        raise HTTPException(418, "short and stout")

    @app.get("/crash")
    def crash() -> None:
        raise RuntimeError("kaboom")

    @app.get("/unhandled")
    def unhandled() -> None:
        raise ZeroDivisionError("no middleware catches this")

    @app.get("/resource")
    def uses_resource(r: Annotated[str, Depends(resource)]) -> str:
        events.append("handler")
        return r

    @app.get("/stream")
    def stream() -> StreamingResponse:
        async def chunks():  # type: ignore[no-untyped-def]
            for index in range(3):
                events.append(f"chunk {index}")
                yield f"{index};"

        return StreamingResponse(chunks(), media_type="text/plain")

    return app


def test_middleware_runs_around_the_route_last_registered_outermost() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/hello", headers={"x-user": "ann"})
    assert response.json() == {"state": "ann", "context": "ann"}  # state and contextvars reach the handler
    assert (response.headers["x-inner"], response.headers["x-outer"]) == ("1", "1")
    assert events == ["outer before", "inner before", "handler", "inner after 200", "outer after"]


def test_middleware_may_answer_without_calling_next() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/hello", headers={"x-refuse": "1"})
    assert (response.status_code, response.text) == (403, "refused by middleware")
    assert events == ["outer before"]


def test_handled_exceptions_come_back_as_responses() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/teapot")
        assert response.status_code == 418
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "short and stout"
        assert response.headers["x-outer"] == "1"
        assert "inner after 418" in events
        assert client.get("/hello?x").status_code == 200


def test_unhandled_exceptions_leave_call_next() -> None:
    with TestClient(make_app()) as client:
        caught = client.get("/crash")
        assert (caught.status_code, caught.json()) == (502, {"caught": "kaboom"})
        assert "outer caught kaboom" in events
        escaped = client.get("/unhandled")
        assert escaped.status_code == 500
        assert "no middleware" not in escaped.text


def test_server_error_handlers_run_outside_the_middleware() -> None:
    app = make_app()
    app.add_exception_handler(Exception, lambda request, exc: PlainTextResponse(f"outside: {exc}", 500))
    app.add_exception_handler(ValueError, lambda request, exc: PlainTextResponse("inside", 400))

    @app.get("/value")
    def value() -> None:
        raise ValueError("v")

    with TestClient(app) as client:
        escaped = client.get("/unhandled")
        assert (escaped.status_code, escaped.text) == (500, "outside: no middleware catches this")
        assert "x-outer" not in escaped.headers
        inside = client.get("/value")
        assert (inside.status_code, inside.text, inside.headers["x-outer"]) == (400, "inside", "1")


def test_routing_misses_pass_through_the_middleware() -> None:
    with TestClient(make_app()) as client:
        missing = client.get("/nowhere")
        assert (missing.status_code, missing.headers["x-outer"]) == (404, "1")
        wrong_method = client.post("/hello")
        assert (wrong_method.status_code, wrong_method.headers["allow"]) == (405, "GET, HEAD, OPTIONS")
        assert wrong_method.headers["x-inner"] == "1"


def test_streamed_bodies_pass_through_unread() -> None:
    app = make_app()
    seen: list[str] = []

    @app.middleware("http")
    async def observe(request: Request, call_next: Any) -> Response:
        response = await call_next(request)
        seen.append(type(response).__name__)
        seen.append(",".join(events))  # nothing streamed yet
        return response

    with TestClient(app) as client:
        response = client.get("/stream")
    assert response.text == "0;1;2;"
    assert seen[0] == "StreamingResponse"
    assert "chunk" not in seen[1]
    assert events[-3:] == ["chunk 0", "chunk 1", "chunk 2"]


def test_generator_dependencies_end_after_the_response() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/resource").text == "r"
    assert events.index("outer after") < events.index("close")
    assert events.count("open") == events.count("close") == 1


def test_async_handlers_and_non_response_results() -> None:
    app = make_app()
    with TestClient(app) as client:
        assert client.get("/async").text == "async"

    broken = App()

    @broken.middleware("http")
    async def returns_dict(request: Request, call_next: Any) -> Any:
        await call_next(request)
        return {"not": "a response"}

    @broken.get("/")
    def index() -> str:
        return "x"

    with TestClient(broken) as client:
        assert client.get("/").status_code == 500


def test_declaration_is_checked() -> None:
    app = App()
    with pytest.raises(ValueError, match="only 'http'"):
        app.middleware("websocket")
    with pytest.raises(TypeError, match="async def"):

        @app.middleware("http")
        def sync_middleware(request: Request, call_next: Any) -> Any:
            return None
