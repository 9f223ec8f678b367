"""Spikard peer: the five benchmark workloads (see benchmarks/run.py).

Spikard validates typed path/query parameters and the msgspec-typed body in its Rust core
(422 when they do not fit). Its Python `App.run()` ignores `ServerConfig` (spikard 0.17.2:
`run()` passes only the route registrations to the core), so the server binds the core's
default host 127.0.0.1 and takes its port from SPIKARD_SERVER_PORT, set here from `--port`.
One process; the Rust core's tokio runtime uses its default worker threads.

Run: python spikard_app.py --port PORT
"""

from __future__ import annotations

import argparse
import asyncio
import os

import msgspec
from spikard import App, Body, Response


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    description: str


app = App()
# spikard 0.17.2 sends handler results without a content-type header (dicts and structs alike),
# so the responses here set it themselves, as every other peer's framework does.
_TEXT = {"content-type": "text/plain; charset=utf-8"}
_JSON = {"content-type": "application/json"}


@app.get("/plaintext")
def plaintext() -> Response:
    return Response(content="Hello, World!", headers=_TEXT)


@app.get("/json")
def json() -> Response:
    return Response(content={"message": "Hello, World!"}, headers=_JSON)


@app.get("/items/{item_id}")
def get_item(item_id: int, q: str) -> Response:
    return Response(content={"item_id": item_id, "q": q}, headers=_JSON)


@app.post("/items")
def create_item(item: Body[Item]) -> Response:
    return Response(content=item, headers=_JSON)


@app.get("/async-sleep")
async def async_sleep() -> Response:
    await asyncio.sleep(0.001)
    return Response(content={"slept": True}, headers=_JSON)


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8000)
    os.environ["SPIKARD_SERVER_PORT"] = str(parser.parse_args().port)
    app.run()
