"""ferroweb's side of the benchmark workloads (same semantics as benchmarks/peers/*).

The typed workloads declare their parameters: the core converts ``item_id`` and splits the
query in Rust, and the JSON body is decoded by msgspec straight into ``Item``. ``/stream-1mb``
is a ``StreamingResponse`` over an async generator of 16 x 64 KiB chunks; ``/ws`` echoes text.
The ``/pydantic/...`` routes are the same item as a pydantic model, as FastAPI declares it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

import msgspec
import pydantic

from ferroweb import App, Depends, Request, Response, WebSocket
from ferroweb.responses import StreamingResponse


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


class PydanticItem(pydantic.BaseModel):
    name: str
    price: float
    tags: list[str]
    description: str


@app.post("/pydantic/items")
def create_pydantic_item(item: PydanticItem) -> PydanticItem:
    return item


@app.get("/pydantic/items/{item_id}", response_model=PydanticItem)
def read_pydantic_item(item_id: int) -> dict[str, object]:
    tags = ["tools", "hardware", "blue", "small"]
    return {"name": "Widget", "price": 12.5, "tags": tags, "description": f"item {item_id}"}


def hello() -> str:
    return "Hello"


def world() -> str:
    return "World"


def greeting():  # type: ignore[no-untyped-def]
    yield "Hello, World!"


@app.get("/deps/two")
def two_dependencies(
    first: Annotated[str, Depends(hello)], second: Annotated[str, Depends(world)]
) -> dict[str, str]:
    return {"message": f"{first}, {second}!"}


@app.get("/deps/generator")
def generator_dependency(message: Annotated[str, Depends(greeting)]) -> dict[str, str]:
    return {"message": message}


def no_op_hook(request: Request) -> None:
    return None


# /json with one no-op on_request hook: what the hook machinery costs a route that has one
@app.get("/hooks/one", hooks={"on_request": no_op_hook})
def one_hook() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}


CHUNK = b"x" * 65536


@app.get("/stream-1mb")
async def stream_1mb():
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(16):
            yield CHUNK

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.websocket("/ws")
async def ws_echo(ws: WebSocket) -> None:
    await ws.accept()
    async for msg in ws.iter_text():
        await ws.send_text(msg)
