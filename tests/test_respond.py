"""The responder: the one exit every request's outcome takes to Rust."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import msgspec
import pytest

from ferroweb import App, BackgroundTasks, HTTPException, Request, Response, StreamingResponse, WebSocket
from ferroweb._ferroweb import ContentKind, ResponseAlreadySent
from ferroweb._respond import INTERNAL_ERROR, Problem, Responder
from ferroweb._waits import Waits
from ferroweb.exceptions import RequestValidationError
from ferroweb.responses import FileResponse, JSONResponse
from ferroweb.testing import TestClient, WebSocketRejected


@pytest.fixture
def exits(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every call of ``Responder.send``: (path, what was sent)."""
    seen: list[tuple[str, str]] = []
    send = Responder.send

    def recording(
        self: Responder, raw: Any, result: Any, status: int = 200, route: Any = None, headers: Any = None
    ) -> None:
        seen.append((raw.path, type(result).__name__))
        send(self, raw, result, status, route, headers)

    monkeypatch.setattr(Responder, "send", recording)
    return seen


def test_every_outcome_leaves_through_the_responder(exits: list[tuple[str, str]], tmp_path: Path) -> None:
    app = App()
    document = tmp_path / "doc.txt"
    document.write_text("file body")

    @app.get("/value")
    def value() -> dict[str, int]:
        return {"a": 1}

    @app.get("/response")
    async def response() -> Response:
        return JSONResponse({"b": 2}, status_code=201)

    @app.get("/stream")
    def stream() -> StreamingResponse:
        return StreamingResponse(iter([b"a", b"b"]))

    @app.get("/file")
    def file() -> FileResponse:
        return FileResponse(document)

    @app.get("/problem")
    def problem() -> None:
        raise HTTPException(409, "taken")

    @app.get("/invalid")
    def invalid(n: int) -> int:
        return n

    @app.get("/crash")
    async def crash() -> None:
        raise RuntimeError("boom")

    @app.websocket("/ws")
    async def refuse(ws: WebSocket) -> None:
        await ws.close()

    with TestClient(app) as client:
        assert client.get("/value").json() == {"a": 1}
        assert client.get("/response").status_code == 201
        assert client.get("/stream").content == b"ab"
        assert client.get("/file").text == "file body"
        assert client.get("/problem").status_code == 409
        assert client.get("/invalid?n=x").status_code == 422
        assert client.get("/crash").status_code == 500
        with pytest.raises(WebSocketRejected) as refused, client.websocket_connect("/ws"):
            pass
        assert refused.value.response.status_code == 403
    assert exits == [
        ("/value", "dict"),
        ("/response", "JSONResponse"),
        ("/stream", "StreamingResponse"),
        ("/file", "FileResponse"),
        ("/problem", "Problem"),
        ("/invalid", "Problem"),
        ("/crash", "Problem"),
        ("/ws", "Problem"),
    ]


def test_routing_misses_answered_by_an_exception_handler_leave_through_it(
    exits: list[tuple[str, str]],
) -> None:
    app = App()
    app.add_exception_handler(404, lambda request, exc: Response("nothing here", status_code=404))
    with TestClient(app) as client:
        assert client.get("/nope").text == "nothing here"
    assert exits == [("/nope", "Response")]


class FakeRaw:
    """Records what would have gone to Rust; answers once, like the real one."""

    method = "GET"
    path = "/x"

    def __init__(self) -> None:
        self.sent: list[tuple[Any, ...]] = []

    def _answer(self, *call: Any) -> bool:
        if self.sent:
            raise ResponseAlreadySent("a response was already sent for this request")
        self.sent.append(call)
        return True

    def respond(self, status: int, body: Any, kind: ContentKind, headers: Any = None) -> bool:
        return self._answer("respond", status, body, kind, headers)

    def respond_problem(
        self, status: int, detail: Any = None, headers: Any = None, extensions: Any = None
    ) -> bool:
        return self._answer("problem", status, detail, headers, extensions)


#: Internal errors the responder reported (what the exception mapper would log).
failures: list[BaseException] = []


@pytest.fixture
def responder() -> Iterator[Responder]:
    loop = asyncio.new_event_loop()
    with ThreadPoolExecutor(1) as executor:
        responder = Responder(loop, Waits(loop), lambda: executor, loop.create_task)

        def on_failure(raw: Any, exc: BaseException, route: Any) -> None:
            failures.append(exc)
            responder.send(raw, INTERNAL_ERROR)

        responder.on_failure = on_failure
        failures.clear()
        yield responder
    loop.close()


@pytest.mark.parametrize(
    ("result", "status", "expected"),
    [
        ({"a": 1}, 200, ("respond", 200, b'{"a":1}', ContentKind.JSON, None)),
        ([1], 201, ("respond", 201, b"[1]", ContentKind.JSON, None)),
        ("text", 200, ("respond", 200, "text", ContentKind.TEXT, None)),
        (b"raw", 200, ("respond", 200, b"raw", ContentKind.OCTET_STREAM, None)),
        (None, 200, ("respond", 200, b"null", ContentKind.JSON, None)),
        (None, 204, ("respond", 204, b"", ContentKind.UNSPECIFIED, None)),
        ({"ignored": True}, 304, ("respond", 304, b"", ContentKind.UNSPECIFIED, None)),
        (Problem(404, "gone"), 200, ("problem", 404, "gone", None, None)),
    ],
    ids=["dict", "list", "str", "bytes", "none", "204", "304", "problem"],
)
def test_values_are_sent_with_their_content_kind(
    responder: Responder, result: Any, status: int, expected: tuple[Any, ...]
) -> None:
    raw = FakeRaw()
    responder.send(raw, result, status)
    assert raw.sent == [expected]


def test_a_problem_carries_headers_and_extensions(responder: Responder) -> None:
    raw = FakeRaw()
    exc = RequestValidationError([{"type": "missing"}])
    problem = Problem.from_exception(exc)
    assert (problem.status, problem.detail) == (422, "Request validation failed")
    responder.send(raw, Problem(429, "slow down", {"retry-after": "1"}, {"limit": 5}))
    assert raw.sent == [("problem", 429, "slow down", [("retry-after", "1")], b'{"limit":5}')]


def test_a_structured_detail_becomes_the_detail_member() -> None:
    problem = Problem.from_exception(HTTPException(400, {"field": "name"}))
    assert (problem.detail, problem.extensions) == (None, {"detail": {"field": "name"}})


def test_a_value_that_cannot_be_encoded_is_an_internal_error(responder: Responder) -> None:
    raw = FakeRaw()
    responder.send(raw, {"when": object()})
    assert raw.sent == [("problem", 500, None, None, None)]
    assert len(failures) == 1 and isinstance(failures[0], TypeError)


def test_a_second_response_is_dropped_and_logged(
    responder: Responder, caplog: pytest.LogCaptureFixture
) -> None:
    raw = FakeRaw()
    responder.send(raw, "first")
    with caplog.at_level(logging.WARNING, logger="ferroweb.error"):
        responder.send(raw, "second")
    assert raw.sent == [("respond", 200, "first", ContentKind.TEXT, None)]
    assert "A second response for GET /x was dropped (str)" in caplog.text


def test_answering_twice_raises_response_already_sent_in_the_binding() -> None:
    app = App()
    raised: list[BaseException] = []

    @app.get("/twice")
    def twice(request: Request) -> str:
        raw = request._raw
        raw.respond(200, b"first", ContentKind.TEXT)
        try:
            raw.respond(200, b"second", ContentKind.TEXT)
        except ResponseAlreadySent as exc:
            raised.append(exc)
        return "third"

    with TestClient(app) as client:
        assert client.get("/twice").text == "first"
    assert len(raised) == 1 and isinstance(raised[0], RuntimeError)
    assert str(raised[0]) == "a response was already sent for this request"


def test_a_struct_is_encoded_by_msgspec(responder: Responder) -> None:
    class Point(msgspec.Struct):
        x: int
        y: int

    raw = FakeRaw()
    responder.send(raw, Point(1, 2))
    assert raw.sent == [("respond", 200, b'{"x":1,"y":2}', ContentKind.JSON, None)]


class Created(msgspec.Struct):
    id: int
    secret: str = ""


class Public(msgspec.Struct):
    id: int


def test_a_response_parameter_sets_headers_cookies_and_status_of_the_answer() -> None:
    app = App()
    ran: list[int] = []

    @app.post("/items", status_code=201)
    def create(response: Response) -> dict[str, Any]:
        response.headers["x-request-cost"] = "3"
        response.set_cookie("seen", "yes")
        return {"ok": True}

    @app.get("/accepted", response_model=Public)
    async def accepted(response: Response, tasks: BackgroundTasks) -> Any:
        response.status_code = 202
        tasks.add_task(ran.append, 1)
        return Created(id=7, secret="dropped by the model")

    @app.get("/own")
    def own(response: Response) -> Response:
        response.headers["x-ignored"] = "1"
        return Response("mine", media_type="text/plain")

    @app.get("/empty")
    def empty(response: Response) -> None:
        response.status_code = 204
        response.headers["x-why"] = "nothing"

    @app.get("/refused")
    def refused(response: Response) -> None:
        response.headers["x-ignored"] = "1"
        raise HTTPException(409, "taken")

    with TestClient(app) as client:
        created = client.post("/items")
        assert created.status_code == 201  # the route's status: the parameter set none
        assert created.json() == {"ok": True}
        assert created.headers["x-request-cost"] == "3"
        assert created.headers["set-cookie"].startswith("seen=yes")
        assert created.headers["content-type"] == "application/json"

        answer = client.get("/accepted")
        assert (answer.status_code, answer.json()) == (202, {"id": 7})
        assert ran == [1]

        # a Response of the handler's own, or a problem, is sent as it is (as FastAPI does)
        own_answer = client.get("/own")
        assert (own_answer.text, own_answer.headers.get("x-ignored")) == ("mine", None)
        problem = client.get("/refused")
        assert (problem.status_code, problem.headers.get("x-ignored")) == (409, None)

        nothing = client.get("/empty")
        assert (nothing.status_code, nothing.content, nothing.headers["x-why"]) == (204, b"", "nothing")


def test_a_response_parameter_is_fresh_per_request_and_only_for_http_routes() -> None:
    app = App()

    @app.get("/count")
    def count(response: Response, n: int = 0) -> int:
        assert "x-n" not in response.headers  # nothing left over from an earlier request
        response.headers["x-n"] = str(n)
        return n

    with TestClient(app) as client:
        for n in (1, 2):
            assert client.get(f"/count?n={n}").headers["x-n"] == str(n)

    sockets = App()

    @sockets.websocket("/ws")
    async def ws(websocket: WebSocket, response: Response) -> None: ...

    with pytest.raises(TypeError, match="Response parameter is for HTTP routes"), TestClient(sockets):
        pass
