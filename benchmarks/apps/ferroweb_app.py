"""ferroweb's side of the benchmark workloads (same semantics as benchmarks/peers/*).

The typed workloads declare their parameters: the core converts ``item_id`` and splits the
query in Rust, and the JSON body is decoded by msgspec straight into ``Item``.
"""

from __future__ import annotations

import asyncio

import msgspec

from ferroweb import App, Request, Response


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    description: str


app = App()


@app.get("/plaintext")
def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/")
def index() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.post("/echo")
async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(body, status_code=201, headers={"x-echo": "1"}, media_type="application/octet-stream")


@app.get("/items/{item_id}")
def get_item(item_id: int, q: str) -> dict[str, object]:
    return {"item_id": item_id, "q": q}


@app.post("/items")
def create_item(item: Item) -> Item:
    return item


@app.get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}
