"""Starlette peer (served by uvicorn and by granian's ASGI interface).

The benchmark workloads (see benchmarks/run.py) plus the older routes `/` and `POST /echo`;
`GET /stream-1mb` is a `StreamingResponse` over an async generator of 16 x 64 KiB chunks and
`WS /ws` echoes text messages.
Starlette has no typed parameters of its own, so validation is msgspec's: the path parameter is
int()-ed (422 when it is not an integer), `q` is required (422), and the POST body is decoded
straight into the `Item` struct (422 when it does not fit, 400 when it is not JSON).
Responses are serialised by Starlette's own JSONResponse.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    description: str


_decode_item = msgspec.json.Decoder(Item).decode
_to_builtins = msgspec.to_builtins


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


async def json(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def index(request: Request) -> JSONResponse:
    return JSONResponse({"message": "Hello, World!"})


async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(body, status_code=201, headers={"x-echo": "1"}, media_type="application/octet-stream")


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


async def get_item(request: Request) -> Response:
    try:
        item_id = int(request.path_params["item_id"])
    except ValueError:
        return _error(422, "item_id must be an integer")
    q = request.query_params.get("q")
    if q is None:
        return _error(422, "query parameter q is required")
    return JSONResponse({"item_id": item_id, "q": q})


async def create_item(request: Request) -> Response:
    try:
        item = _decode_item(await request.body())
    except msgspec.ValidationError as exc:
        return _error(422, str(exc))
    except msgspec.DecodeError as exc:
        return _error(400, str(exc))
    return JSONResponse(_to_builtins(item))


async def async_sleep(request: Request) -> JSONResponse:
    await asyncio.sleep(0.001)
    return JSONResponse({"slept": True})


CHUNK = b"x" * 65536


async def _chunks(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield CHUNK


async def stream_1mb(request: Request) -> StreamingResponse:
    return StreamingResponse(_chunks(16), media_type="application/octet-stream")


async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


app = Starlette(
    routes=[
        Route("/plaintext", plaintext, methods=["GET"]),
        Route("/json", json, methods=["GET"]),
        Route("/items/{item_id}", get_item, methods=["GET"]),
        Route("/items", create_item, methods=["POST"]),
        Route("/async-sleep", async_sleep, methods=["GET"]),
        Route("/stream-1mb", stream_1mb, methods=["GET"]),
        WebSocketRoute("/ws", ws_echo),
        Route("/", index, methods=["GET"]),
        Route("/echo", echo, methods=["POST"]),
    ]
)
