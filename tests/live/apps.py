"""The application served by the live-server tests (``tests.live.apps:app``)."""

from __future__ import annotations

import asyncio
import os

from ferroweb import App, Request, Response, ServerConfig

app = App(config=ServerConfig(max_body_size=1024, shutdown_timeout=10.0))

#: Calls of POST /counted; shows whether a handler ran at all.
counted_calls = 0
#: GET /slow requests currently sleeping (lets a test see that requests are in flight).
slow_in_flight = 0


@app.get("/plaintext")
def plaintext() -> str:
    return "Hello, World!"


@app.get("/")
def index() -> dict:
    return {"message": "Hello, World!", "server": "ferroweb"}


@app.post("/echo")
async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(
        body,
        status_code=201,
        headers={"x-echo-length": str(len(body))},
        media_type="application/octet-stream",
    )


@app.get("/pid")
def pid() -> dict:
    return {"pid": os.getpid()}


@app.get("/boom")
def boom() -> dict:
    raise RuntimeError("boom: this must only reach the server log")


@app.get("/slow")
async def slow() -> str:
    global slow_in_flight
    slow_in_flight += 1
    try:
        await asyncio.sleep(1.0)
    finally:
        slow_in_flight -= 1
    return "done"


@app.get("/slow/in-flight")
def slow_count() -> dict:
    return {"in_flight": slow_in_flight}


@app.post("/counted")
async def counted(request: Request) -> dict:
    global counted_calls
    counted_calls += 1
    body = await request.body()
    return {"count": counted_calls, "length": len(body)}


@app.get("/count")
def count() -> dict:
    return {"count": counted_calls}
