"""Declared WebSocket message types: ``@app.websocket(path, receives=..., sends=...)``."""

from __future__ import annotations

import dataclasses
from typing import Annotated

import msgspec
import pydantic
import pytest

from ferroweb import App, ResponseValidationError, Router, WebSocket, WebSocketDisconnect
from ferroweb.testing import TestClient


class Move(msgspec.Struct):
    x: Annotated[int, msgspec.Meta(ge=0, le=7)]
    y: Annotated[int, msgspec.Meta(ge=0, le=7)]


class Chat(msgspec.Struct, tag="chat"):
    text: str


class Join(msgspec.Struct, tag="join"):
    room: str


@dataclasses.dataclass
class Board:
    moves: int
    last: Move


class Greeting(pydantic.BaseModel):
    name: str = pydantic.Field(min_length=1)


class Reply(pydantic.BaseModel):
    message: str


def test_received_messages_are_decoded_into_the_declared_type(app: App, client: TestClient) -> None:
    seen: list[Move] = []

    @app.websocket("/game", receives=Move, sends=Board)
    async def game(ws: WebSocket) -> None:
        await ws.accept()
        async for move in ws.iter_json():
            seen.append(move)
            await ws.send_json(Board(moves=len(seen), last=move))

    with client.websocket_connect("/game") as ws:
        ws.send_json({"x": 1, "y": 2})
        assert ws.receive_json() == {"moves": 1, "last": {"x": 1, "y": 2}}
        ws.send_bytes(b'{"x": 7, "y": 0}')  # binary frames carry JSON too
        assert ws.receive_json() == {"moves": 2, "last": {"x": 7, "y": 0}}
    assert seen == [Move(1, 2), Move(7, 0)]


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ('{"x": 9, "y": 0}', "message is not a valid Move: Expected `int` <= 7 - at `$.x`"),
        ('{"x": 1}', "message is not a valid Move: Object missing required field `y`"),
        ("not json", "invalid JSON"),
    ],
)
def test_a_message_that_does_not_match_closes_with_1007(
    app: App, client: TestClient, message: str, reason: str
) -> None:
    outcome: list[int] = []

    @app.websocket("/game", receives=Move)
    async def game(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_json()
        except WebSocketDisconnect as exc:
            outcome.append(exc.code)
            raise

    with client.websocket_connect("/game") as ws:
        ws.send_text(message)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert (closed.value.code, closed.value.reason) == (1007, reason)
    assert outcome == [1007]


def test_tagged_unions_pick_the_message_class(app: App, client: TestClient) -> None:
    @app.websocket("/room", receives=Chat | Join)
    async def room(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.iter_json():
            await ws.send_json({"kind": type(message).__name__})

    with client.websocket_connect("/room") as ws:
        ws.send_json({"type": "join", "room": "lobby"})
        assert ws.receive_json() == {"kind": "Join"}
        ws.send_json({"type": "chat", "text": "hi"})
        assert ws.receive_json() == {"kind": "Chat"}
        ws.send_json({"type": "leave"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1007
    assert "Invalid value 'leave'" in closed.value.reason


def test_sending_data_that_is_not_the_declared_type_fails_the_handler(app: App, client: TestClient) -> None:
    failures: list[BaseException] = []

    @app.websocket("/game", sends=Board)
    async def game(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_json({"moves": 1, "last": {"x": 0, "y": 0}})  # converts: it matches
        try:
            await ws.send_json({"moves": "many"})
        except ResponseValidationError as exc:
            failures.append(exc)
            raise

    with client.websocket_connect("/game") as ws:
        assert ws.receive_json() == {"moves": 1, "last": {"x": 0, "y": 0}}
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()  # nothing undocumented was sent: the socket closed instead
    assert closed.value.code == 1011
    assert len(failures) == 1 and "declared Board" in str(failures[0])


def test_pydantic_models_validate_both_ways(app: App, client: TestClient) -> None:
    @app.websocket("/hello", receives=Greeting, sends=Reply)
    async def hello(ws: WebSocket) -> None:
        await ws.accept()
        greeting = await ws.receive_json()
        assert isinstance(greeting, Greeting)
        await ws.send_json(Reply(message=f"hello {greeting.name}"))
        await ws.send_json({"message": "plain dicts are validated too"})
        await ws.receive_json()

    with client.websocket_connect("/hello") as ws:
        ws.send_json({"name": "ada"})
        assert ws.receive_json() == {"message": "hello ada"}
        assert ws.receive_json() == {"message": "plain dicts are validated too"}
        ws.send_json({"name": ""})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1007
    expected = "message is not a valid Greeting: String should have at least 1 character"
    assert closed.value.reason.startswith(expected)


def test_a_long_reason_is_cut_to_what_a_close_frame_holds(app: App, client: TestClient) -> None:
    field = "a_field_with_a_long_name_" * 8  # the error path names it: past 123 bytes
    Named = msgspec.defstruct("Named", [(field, int)])

    @app.websocket("/named", receives=Named)
    async def named(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_json()

    with client.websocket_connect("/named") as ws:
        ws.send_json({field: "not a number"})
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive_text()
    assert closed.value.code == 1007
    assert len(closed.value.reason.encode()) <= 123 and closed.value.reason.endswith("...")


def test_undeclared_directions_stay_plain_json_and_text_is_untouched(app: App, client: TestClient) -> None:
    @app.websocket("/mixed", sends=Reply)
    async def mixed(ws: WebSocket) -> None:
        await ws.accept()
        anything = await ws.receive_json()
        text = await ws.receive_text()  # receive_text is never validated
        await ws.send_json(Reply(message=f"{anything!r} {text}"))

    with client.websocket_connect("/mixed") as ws:
        ws.send_json([1, "two"])
        ws.send_text("free text")
        assert ws.receive_json() == {"message": "[1, 'two'] free text"}


def test_routers_keep_the_declared_types() -> None:
    router = Router(prefix="/v1")

    @router.websocket("/game", receives=Move)
    async def game(ws: WebSocket) -> None:
        await ws.accept()
        move = await ws.receive_json()
        await ws.send_json({"sum": move.x + move.y})

    app = App()
    app.include_router(router)
    route = app.routes[0]
    assert (route.receives, route.sends) == (Move, None)
    with TestClient(app) as client, client.websocket_connect("/v1/game") as ws:
        ws.send_json({"x": 3, "y": 4})
        assert ws.receive_json() == {"sum": 7}


def test_a_type_msgspec_cannot_use_is_refused_at_start_up() -> None:
    app = App()

    @app.websocket("/bad", receives=object())  # not a type
    async def bad(ws: WebSocket) -> None:
        await ws.accept()

    with pytest.raises(TypeError, match=r"WebSocket route '/bad': receives=.* msgspec"):
        TestClient(app).__enter__()
