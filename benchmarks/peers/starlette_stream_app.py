"""Starlette peer for the long-lived paths (benchmarks/streaming.py), served by uvicorn and granian.

- ``GET /stream?mb=100``: a ``StreamingResponse`` over an async generator of 64 KiB chunks, ``mb``
  MiB in all (the same ``bytes`` object every time).
- ``GET /sse``: sse-starlette's ``EventSourceResponse`` over an async generator that yields events
  as fast as it is asked for: ``event: tick``, ``id: <n>``, ``data: {"n":<n>}`` (n = 1, 2, ...),
  with a keep-alive ping every 15 s.
- ``GET /sse-sleep0``: the same with ``await asyncio.sleep(0)`` after each event (lets the other
  clients' tasks run: without it, uvicorn serves one client at a time, and a generator whose client
  has left spins forever on both servers).
- ``WS /ws``: accept, then echo every text message back until the client leaves.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from sse_starlette import EventSourceResponse, JSONServerSentEvent
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

CHUNK = b"x" * 65536


async def _chunks(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield CHUNK


async def stream(request: Request) -> PlainTextResponse | StreamingResponse:
    try:
        mb = int(request.query_params.get("mb", "100"))
    except ValueError:
        return PlainTextResponse("mb must be an integer", status_code=422)
    return StreamingResponse(_chunks(mb * 16), media_type="application/octet-stream")


async def sse(request: Request) -> EventSourceResponse:
    async def events() -> AsyncIterator[JSONServerSentEvent]:
        n = 0
        while True:
            n += 1
            yield JSONServerSentEvent(data={"n": n}, event="tick", id=str(n))

    return EventSourceResponse(events(), ping=15)


async def sse_sleep0(request: Request) -> EventSourceResponse:
    async def events() -> AsyncIterator[JSONServerSentEvent]:
        n = 0
        while True:
            n += 1
            yield JSONServerSentEvent(data={"n": n}, event="tick", id=str(n))
            await asyncio.sleep(0)

    return EventSourceResponse(events(), ping=15)


async def ws(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


async def plaintext(request: Request) -> PlainTextResponse:
    return PlainTextResponse("Hello, World!")


app = Starlette(
    routes=[
        Route("/stream", stream, methods=["GET"]),
        Route("/sse", sse, methods=["GET"]),
        Route("/sse-sleep0", sse_sleep0, methods=["GET"]),
        WebSocketRoute("/ws", ws),
        Route("/plaintext", plaintext, methods=["GET"]),
    ]
)
