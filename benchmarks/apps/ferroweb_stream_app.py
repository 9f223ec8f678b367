"""ferroweb's side of the long-lived paths (benchmarks/streaming.py); same semantics as
benchmarks/peers/starlette_stream_app.py, written with ferroweb's streaming API:

- ``GET /stream?mb=100``: a ``StreamingResponse`` over an async generator of 64 KiB chunks.
- ``GET /sse``: an ``EventSourceResponse`` yielding ``tick`` events (``id`` n, data ``{"n": n}``)
  as fast as they are asked for, with a keep-alive ping every 15 s.
- ``GET /sse-sleep0``: the same with ``await asyncio.sleep(0)`` after each event (the polite
  generator asyncio servers need; measured too, for a like-for-like comparison).
- ``WS /ws``: accept, then echo every text message back.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from ferroweb import App, WebSocket
from ferroweb.responses import StreamingResponse
from ferroweb.sse import EventSourceResponse, ServerSentEvent

app = App()


@app.get("/stream")
async def stream(mb: int = 100):
    chunk = b"x" * 65536

    async def gen() -> AsyncIterator[bytes]:
        for _ in range(mb * 16):
            yield chunk

    return StreamingResponse(gen(), media_type="application/octet-stream")


@app.get("/sse")
async def sse():
    async def gen() -> AsyncIterator[ServerSentEvent]:
        n = 0
        while True:
            n += 1
            yield ServerSentEvent(data={"n": n}, event="tick", id=str(n))

    return EventSourceResponse(gen(), ping=15)


@app.get("/sse-sleep0")
async def sse_sleep0():
    async def gen() -> AsyncIterator[ServerSentEvent]:
        n = 0
        while True:
            n += 1
            yield ServerSentEvent(data={"n": n}, event="tick", id=str(n))
            await asyncio.sleep(0)

    return EventSourceResponse(gen(), ping=15)


@app.websocket("/ws")
async def ws(ws: WebSocket) -> None:
    await ws.accept()
    async for msg in ws.iter_text():
        await ws.send_text(msg)
