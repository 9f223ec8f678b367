"""Robyn peer: the benchmark workloads (see benchmarks/run.py). `GET /stream-1mb` is a robyn
`StreamingResponse` over an async generator of 16 x 64 KiB chunks; `WS /ws` (robyn's
`@app.websocket`) echoes text messages.

Robyn coerces typed path/query parameters itself (400 when they do not fit) and validates a
pydantic-annotated body (422). Run (one process, one worker, warnings only):

    python robyn_app.py --port PORT --processes 1 --workers 1 --log-level WARNING --disable-openapi

Robyn parses its own flags from sys.argv (unknown ones are ignored); `--port`/`--host` are read
here and handed to `app.start`.
"""

import argparse
import asyncio
import os
import signal
import threading

from pydantic import BaseModel
from robyn import Headers, Response, Robyn, StreamingResponse, WebSocketDisconnect


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]
    description: str


app = Robyn(__file__)
_TEXT = Headers({"content-type": "text/plain; charset=utf-8"})


@app.get("/plaintext")
def plaintext() -> Response:
    return Response(status_code=200, headers=_TEXT, description="Hello, World!")


@app.get("/json")
def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/items/:item_id")
def get_item(item_id: int, q: str) -> dict[str, int | str]:
    return {"item_id": item_id, "q": q}


@app.post("/items")
def create_item(item: Item) -> Item:
    return item


@app.get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}


CHUNK = b"x" * 65536
_OCTET = {"content-type": "application/octet-stream"}


@app.get("/stream-1mb")
async def stream_1mb() -> StreamingResponse:
    async def chunks():
        for _ in range(16):
            yield CHUNK

    return StreamingResponse(chunks(), headers=Headers(_OCTET), media_type="application/octet-stream")


@app.websocket("/ws")
async def ws_echo(websocket) -> None:
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass


def _exit_on_signal() -> None:
    """Make SIGTERM/SIGINT end the process at once.

    robyn 0.88's single-process server hands those signals to its Rust (actix) runtime, which
    stops answering but leaves the Python process running (it had to be SIGKILLed). Blocking the
    signals before the server's threads start (they inherit the mask) and waiting for them in one
    Python thread restores the usual behaviour; no request ever runs through this code.
    """
    stop = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    threading.Thread(target=lambda: (signal.sigwait(stop), os._exit(0)), daemon=True).start()


if __name__ == "__main__":
    _exit_on_signal()
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    args, _robyn_args = parser.parse_known_args()
    app.start(host=args.host, port=args.port)
