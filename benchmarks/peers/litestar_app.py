"""Litestar peer: the benchmark workloads (see benchmarks/run.py), validated by msgspec;
`GET /stream-1mb` is a `Stream` over an async generator of 16 x 64 KiB chunks, `WS /ws` echoes text.

Run: uvicorn litestar_app:app --port PORT (see servers.json for the exact command line).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import msgspec
from litestar import Litestar, MediaType, WebSocket, get, post, websocket
from litestar.di import Provide
from litestar.exceptions import WebSocketDisconnect
from litestar.response import Stream


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    description: str


@get("/plaintext", media_type=MediaType.TEXT)
async def plaintext() -> str:
    return "Hello, World!"


@get("/json")
async def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@get("/items/{item_id:int}")
async def get_item(item_id: int, q: str) -> dict[str, int | str]:
    return {"item_id": item_id, "q": q}


@post("/items", status_code=200)
async def create_item(data: Item) -> Item:
    return data


async def hello() -> str:
    return "Hello"


async def world() -> str:
    return "World"


async def greeting() -> AsyncIterator[str]:
    yield "Hello, World!"


@get("/deps/two", dependencies={"first": Provide(hello), "second": Provide(world)})
async def two_dependencies(first: str, second: str) -> dict[str, str]:
    return {"message": f"{first}, {second}!"}


@get("/deps/generator", dependencies={"message": Provide(greeting)})
async def generator_dependency(message: str) -> dict[str, str]:
    return {"message": message}


@get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}


CHUNK = b"x" * 65536


@get("/stream-1mb", media_type="application/octet-stream")
async def stream_1mb() -> Stream:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(16):
            yield CHUNK

    return Stream(chunks(), media_type="application/octet-stream")


@websocket("/ws")
async def ws_echo(socket: WebSocket) -> None:
    await socket.accept()
    try:
        while True:
            await socket.send_text(await socket.receive_text())
    except WebSocketDisconnect:
        pass


app = Litestar(
    route_handlers=[
        plaintext,
        json,
        get_item,
        create_item,
        two_dependencies,
        generator_dependency,
        async_sleep,
        stream_1mb,
        ws_echo,
    ],
    openapi_config=None,
    logging_config=None,
)
