"""Request hooks (ferroweb.hooks, ferroweb._hooks): the five points, their order across layers,
short-circuits, errors in every position, and per-request ``request.state``."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import Annotated, Any
from unittest import mock

import pytest

from ferroweb import (
    App,
    BackgroundTasks,
    Depends,
    HTTPException,
    Query,
    Request,
    Router,
    StreamingResponse,
)
from ferroweb.hooks import Hooks
from ferroweb.middleware import Timeout
from ferroweb.responses import JSONResponse, PlainTextResponse, Response
from ferroweb.testing import TestClient

events: list[str] = []


@pytest.fixture(autouse=True)
def clear_events() -> None:
    events.clear()


def recorder(name: str, answer: Any = None) -> Any:
    def hook(request: Request, *rest: Any) -> Any:
        events.append(name)
        return rest[0] if name.startswith("on_response") and answer is None else answer

    hook.__name__ = name
    return hook


def value(q: Annotated[int, Query()]) -> int:
    events.append("dependency")
    return q


def dependency() -> str:
    events.append("dependency")
    return "d"


def user_of(request: Request) -> str:
    return str(request.state.user)


def resource():  # type: ignore[no-untyped-def]
    events.append("open")
    try:
        yield "r"
    finally:
        events.append("close")


def test_points_run_in_order_across_layers() -> None:
    app = App()
    router = Router(prefix="/r")
    for layer, owner in (("app", app), ("router", router)):
        for point in ("on_request", "pre_validation", "pre_handler", "on_response"):
            getattr(owner, point)(recorder(f"{point}:{layer}"))

    @router.get(
        "/x",
        hooks={"on_request": recorder("on_request:route"), "on_response": [recorder("on_response:route")]},
    )
    def handler(v: Annotated[int, Depends(value)]) -> dict[str, int]:
        events.append("handler")
        return {"v": v}

    app.include_router(router)
    with TestClient(app) as client:
        response = client.get("/r/x?q=3")
    assert response.json() == {"v": 3}
    assert events == [
        "on_request:app",
        "on_request:router",
        "on_request:route",
        "pre_validation:app",
        "pre_validation:router",
        "pre_handler:app",
        "pre_handler:router",
        "dependency",
        "handler",
        "on_response:app",
        "on_response:router",
        "on_response:route",
    ]


def test_hook_registered_after_the_route_still_applies() -> None:
    router = Router()

    @router.get("/late")
    def late() -> str:
        return "ok"

    app = App()
    app.include_router(router)
    router.on_request(recorder("router late"))
    app.on_request(recorder("app late"))
    with TestClient(app) as client:
        assert client.get("/late").text == "ok"
    assert events == ["app late", "router late"]


@pytest.mark.parametrize("point", ["on_request", "pre_validation", "pre_handler"])
def test_short_circuit_skips_the_rest(point: str) -> None:
    app = App()

    def answer(request: Request) -> Response:
        events.append(point)
        return JSONResponse({"from": point}, status_code=401, headers={"x-why": "hook"})

    getattr(app, point)(answer)
    app.on_response(recorder("on_response"))

    @app.get("/guarded")
    def guarded(d: Annotated[str, Depends(dependency)], n: int = 0) -> str:
        events.append("handler")
        return d

    with TestClient(app) as client:
        response = client.get("/guarded?n=1")
    assert response.status_code == 401
    assert response.json() == {"from": point}
    assert response.headers["x-why"] == "hook"
    assert events == [point, "on_response"]


def test_short_circuit_before_validation_skips_it_and_after_does_not() -> None:
    app = App()
    app.pre_validation(lambda request: {"early": True} if request.headers.get("x-early") else None)

    @app.get("/n")
    def numbered(n: int) -> int:
        return n

    with TestClient(app) as client:
        early = client.get("/n?n=notanumber", headers={"x-early": "1"})
        assert (early.status_code, early.json()) == (200, {"early": True})
        assert client.get("/n?n=notanumber").status_code == 422

    app = App()
    app.pre_handler(recorder("pre_handler", {"never": True}))

    @app.get("/n")
    def numbered_again(n: int) -> int:
        return n

    with TestClient(app) as client:
        assert client.get("/n?n=notanumber").status_code == 422
    assert events == []  # validation failed first


def test_on_response_changes_status_and_headers_and_sees_errors() -> None:
    app = App()

    def stamp(request: Request, response: Response) -> Response:
        response.headers["x-stamped"] = str(response.status_code)
        if request.url.path == "/created":
            response.status_code = 201
        return response

    app.on_response(stamp)
    app.on_response(lambda request, response: None)  # None keeps the response as it is

    @app.get("/created")
    def created() -> dict[str, bool]:
        return {"ok": True}

    @app.get("/missing")
    def missing() -> None:
        raise HTTPException(404, "no such thing")

    @app.get("/typed")
    def typed(n: int) -> int:
        return n

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("boom")

    with TestClient(app) as client:
        response = client.get("/created")
        assert (response.status_code, response.headers["x-stamped"], response.json()) == (
            201,
            "200",
            {"ok": True},
        )
        assert response.headers["content-type"] == "application/json"
        response = client.get("/missing")
        assert (response.status_code, response.headers["x-stamped"]) == (404, "404")
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["detail"] == "no such thing"
        response = client.get("/typed?n=x")
        assert (response.status_code, response.headers["x-stamped"]) == (422, "422")
        assert response.json()["errors"][0]["loc"] == ["query", "n"]
        response = client.get("/boom")
        assert (response.status_code, response.headers["x-stamped"]) == (500, "500")


def test_on_response_replacing_or_failing() -> None:
    app = App()

    @app.get("/replaced", hooks=Hooks(on_response=[lambda request, response: PlainTextResponse("replaced")]))
    def replaced() -> dict[str, int]:
        return {"a": 1}

    @app.get("/wrong", hooks={"on_response": lambda request, response: {"not": "a response"}})
    def wrong() -> str:
        return "x"

    def broken(request: Request, response: Response) -> Response:
        raise RuntimeError("hook broke")

    @app.get("/broken", hooks={"on_response": broken})
    def broken_route() -> str:
        return "x"

    with TestClient(app) as client:
        assert client.get("/replaced").text == "replaced"
        assert client.get("/wrong").status_code == 500
        assert client.get("/broken").status_code == 500


def test_on_error_answers_or_passes_on() -> None:
    app = App()
    seen: list[str] = []

    def on_error(request: Request, exc: Exception) -> Any:
        seen.append(type(exc).__name__)
        if isinstance(exc, LookupError):
            return JSONResponse({"handled": str(exc)}, status_code=409)
        if isinstance(exc, ArithmeticError):
            return {"keyed": True}  # any value: sent with the exception's status (500)
        return None

    app.on_error(on_error)

    @app.exception_handler(ValueError)
    def value_error(request: Request, exc: ValueError) -> Response:
        return JSONResponse({"by": "exception handler"}, status_code=400)

    @app.get("/lookup")
    def lookup() -> None:
        raise IndexError("gone")

    @app.get("/keyed")
    def keyed() -> None:
        raise ZeroDivisionError("k")

    @app.get("/value")
    def value() -> None:
        raise ValueError("v")

    @app.get("/http")
    def http() -> None:
        raise HTTPException(402, "pay")

    with TestClient(app) as client:
        assert (client.get("/lookup").status_code, client.get("/lookup").json()) == (
            409,
            {"handled": "gone"},
        )
        keyed_response = client.get("/keyed")
        assert (keyed_response.status_code, keyed_response.json()) == (500, {"keyed": True})
        assert client.get("/value").json() == {"by": "exception handler"}
        assert client.get("/http").status_code == 402
    assert seen == ["IndexError", "IndexError", "ZeroDivisionError", "ValueError", "HTTPException"]


def test_errors_in_hooks_are_answered(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    def authenticate(request: Request) -> None:
        if request.headers.get("authorization") != "Bearer good":
            raise HTTPException(401, "bad token", headers={"www-authenticate": "Bearer"})

    def crash(request: Request) -> None:
        raise RuntimeError("pre_handler crashed")

    def error_hook_crashes(request: Request, exc: Exception) -> None:
        raise HTTPException(503, f"on_error saw {type(exc).__name__}")

    app.on_request(authenticate)

    @app.get("/ok")
    def ok() -> str:
        return "ok"

    @app.get("/crash", hooks={"pre_handler": crash})
    def crashing() -> str:
        return "never"

    @app.get("/error-hook", hooks={"on_error": error_hook_crashes})
    def failing() -> str:
        raise RuntimeError("handler")

    good = {"authorization": "Bearer good"}
    with TestClient(app) as client:
        refused = client.get("/ok")
        assert (refused.status_code, refused.headers["www-authenticate"]) == (401, "Bearer")
        assert client.get("/ok", headers=good).text == "ok"
        with caplog.at_level(logging.ERROR, logger="ferroweb.error"):
            crashed = client.get("/crash", headers=good)
        assert crashed.status_code == 500
        assert "pre_handler crashed" not in crashed.text
        assert any("pre_handler crashed" in str(record.exc_info) for record in caplog.records)
        replaced = client.get("/error-hook", headers=good)
        assert (replaced.status_code, replaced.json()["detail"]) == (503, "on_error saw RuntimeError")


def test_async_hooks_with_sync_async_and_blocking_handlers() -> None:
    app = App()

    async def on_request(request: Request) -> None:
        await asyncio.sleep(0)
        events.append("on_request")
        request.state.seen = True

    async def on_response(request: Request, response: Response) -> Response:
        await asyncio.sleep(0)
        response.headers["x-async"] = "yes"
        return response

    async def on_error(request: Request, exc: Exception) -> Response | None:
        await asyncio.sleep(0)
        return PlainTextResponse("async on_error", status_code=418)

    app.on_request(on_request)
    app.on_response(on_response)
    app.on_error(on_error)

    @app.get("/sync")
    def sync_handler(request: Request) -> dict[str, Any]:
        return {"seen": request.state.seen}

    @app.get("/async")
    async def async_handler(request: Request) -> dict[str, Any]:
        await asyncio.sleep(0)
        return {"seen": request.state.seen}

    @app.get("/blocking", blocking=True)
    def blocking_handler(request: Request) -> dict[str, Any]:
        return {"seen": request.state.seen}

    @app.get("/fails")
    async def fails() -> None:
        raise RuntimeError("x")

    with TestClient(app) as client:
        for path in ("/sync", "/async", "/blocking"):
            response = client.get(path)
            assert (response.json(), response.headers["x-async"]) == ({"seen": True}, "yes"), path
        failed = client.get("/fails")
        assert (failed.status_code, failed.text, failed.headers["x-async"]) == (418, "async on_error", "yes")


def test_async_exception_handler_after_a_sync_hook() -> None:
    """A route handled in place (sync hooks, sync handler) whose error goes to an async
    exception handler: finished as a task."""
    app = App()
    app.on_request(recorder("on_request"))
    app.on_response(recorder("on_response"))

    @app.exception_handler(LookupError)
    async def lookup(request: Request, exc: LookupError) -> Response:
        await asyncio.sleep(0)
        return PlainTextResponse("looked up", status_code=404)

    @app.get("/x")
    def handler() -> None:
        raise LookupError

    with TestClient(app) as client:
        response = client.get("/x")
    assert (response.status_code, response.text) == (404, "looked up")
    assert events == ["on_request", "on_response"]


def test_request_state_is_per_request_and_starts_from_the_lifespan() -> None:
    @asynccontextmanager
    async def lifespan(app: App):  # type: ignore[no-untyped-def]
        yield {"pool": "the pool"}

    app = App(lifespan=lifespan)

    @app.on_request
    def set_user(request: Request) -> None:
        assert "user" not in request.state  # nothing left over from an earlier request
        request.state.user = request.headers.get("x-user", "anon")

    @app.get("/whoami")
    def whoami(request: Request, user: Annotated[str, Depends(user_of)]) -> dict[str, Any]:
        request.state.pool = "replaced for this request only"
        return {"user": user, "same": request.state.user, "app_pool": request.app.state.pool}

    @app.get("/pool")
    def pool(request: Request) -> str:
        return str(request.state.pool)

    with TestClient(app) as client:
        assert client.get("/whoami", headers={"x-user": "ann"}).json() == {
            "user": "ann",
            "same": "ann",
            "app_pool": "the pool",
        }
        assert client.get("/whoami").json()["user"] == "anon"
        assert client.get("/pool").text == "the pool"


def test_generator_dependencies_end_after_hooked_responses() -> None:
    app = App()

    app.on_response(recorder("on_response"))

    @app.get("/r")
    def handler(r: Annotated[str, Depends(resource)], tasks: BackgroundTasks) -> str:
        tasks.add_task(events.append, "task")
        return r

    @app.get("/guarded", hooks={"pre_handler": lambda request: PlainTextResponse("no", status_code=403)})
    def guarded(r: Annotated[str, Depends(resource)]) -> str:
        return r

    with TestClient(app) as client:
        assert client.get("/r").text == "r"
        assert client.get("/guarded").status_code == 403
    assert events[:3] == ["open", "on_response", "close"]
    assert "task" in events
    assert events.count("open") == 1  # the short-circuit opened nothing


def test_streamed_response_through_on_response() -> None:
    app = App()

    def mark(request: Request, response: Response) -> Response:
        assert isinstance(response, StreamingResponse)
        response.headers["x-streamed"] = "1"
        return response

    async def chunks():  # type: ignore[no-untyped-def]
        for index in range(3):
            yield f"chunk{index};"

    @app.get("/stream", hooks={"on_response": mark})
    def stream() -> StreamingResponse:
        return StreamingResponse(chunks(), media_type="text/plain")

    with TestClient(app) as client:
        response = client.get("/stream")
    assert (response.text, response.headers["x-streamed"]) == ("chunk0;chunk1;chunk2;", "1")


def test_timeout_applies_to_a_hooked_async_route() -> None:
    app = App()
    app.on_request(recorder("on_request"))

    @app.get("/slow", middleware=[Timeout(0.2)])
    async def slow() -> str:
        await asyncio.sleep(5)
        return "late"

    with TestClient(app) as client:
        response = client.get("/slow")
    assert response.status_code == Timeout(0.2).status_code
    assert "within 0.2 s" in response.json()["detail"]


def test_routes_without_hooks_keep_their_plain_handler() -> None:
    from ferroweb._compile import compile_route

    app = App()

    @app.get("/plain")
    def plain() -> str:
        return "p"

    @app.get("/hooked", hooks={"on_request": lambda request: None})
    def hooked() -> str:
        return "h"

    services: Any = mock.Mock(app=app)
    plain_handler = compile_route(app.routes[0], services).handler
    hooked_handler = compile_route(app.routes[1], services).handler
    assert plain_handler.__name__ == "handle_sync"
    assert hooked_handler.__name__ == "handle_in_place"


def test_hook_declarations_are_checked() -> None:
    with pytest.raises(ValueError, match="unknown hook point"):
        Hooks.of({"before": lambda request: None}, "route '/x'")
    with pytest.raises(TypeError, match="must be callable"):
        App().on_request("not a function")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="hooks= takes"):
        App().get("/x", hooks=[lambda request: None])(lambda: None)  # type: ignore[arg-type]
    assert repr(Hooks(on_request=[print])) == "Hooks(on_request=1)"
    assert not Hooks()
