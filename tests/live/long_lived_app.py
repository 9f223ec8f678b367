"""Served by the live tests of streaming, SSE, WebSockets and background tasks
(``tests.live.long_lived_app:app``). Its state is read back through ``GET /state``."""

from __future__ import annotations

import asyncio
import resource
from pathlib import Path

from ferroweb import App, BackgroundConfig, ServerConfig, StreamingResponse, WebSocket, background
from ferroweb.sse import EventSourceResponse, ServerSentEvent

app = App(ServerConfig(shutdown_timeout=5.0, background=BackgroundConfig(drain_timeout=10.0)))
state = {"generators_closed": 0, "events_produced": 0}


@app.get("/plaintext")
def plaintext() -> str:
    return "ok"


@app.get("/state")
def read_state() -> dict:
    return {**state, "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}


@app.get("/events")
async def events(count: int = 10_000, pad: int = 200):
    async def produce():
        try:
            for n in range(1, count + 1):
                state["events_produced"] = n
                yield ServerSentEvent(data={"n": n, "pad": "x" * pad}, event="tick", id=str(n))
        finally:
            state["generators_closed"] += 1

    return EventSourceResponse(produce())


@app.get("/endless")
async def endless():
    async def produce():
        try:
            while True:
                yield b"y" * 65536
                await asyncio.sleep(0)
        finally:
            state["generators_closed"] += 1

    return StreamingResponse(produce(), media_type="application/octet-stream")


@app.websocket("/ws/echo")
async def echo(ws: WebSocket):
    await ws.accept()
    async for message in ws.iter_text():
        await ws.send_text(message)


async def write_marker(path: str, delay: float) -> None:
    await asyncio.sleep(delay)
    Path(path).write_text("done")


@app.post("/later")
def later(path: str, delay: float = 1.0) -> dict:
    """Queues a task that writes ``path`` after ``delay`` seconds."""
    background.run(write_marker, path, delay)
    return {"queued": True}
