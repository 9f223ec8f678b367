"""FastAPI peer: the benchmark workloads (see benchmarks/run.py), validated by pydantic;
`GET /stream-1mb` streams 16 x 64 KiB chunks from an async generator, `WS /ws` echoes text.

Run: uvicorn fastapi_app:app --port PORT (see servers.json for the exact command line).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse, StreamingResponse
from pydantic import BaseModel


class Item(BaseModel):
    name: str
    price: float
    tags: list[str]
    description: str


app = FastAPI(docs_url=None, redoc_url=None)  # /openapi.json: the openapi workload


@app.get("/plaintext", response_class=PlainTextResponse)
async def plaintext() -> str:
    return "Hello, World!"


@app.get("/json")
async def json() -> dict[str, str]:
    return {"message": "Hello, World!"}


@app.get("/items/{item_id}")
async def get_item(item_id: int, q: str) -> dict[str, int | str]:
    return {"item_id": item_id, "q": q}


@app.post("/items")
async def create_item(item: Item) -> Item:
    return item


@app.post("/pydantic/items")
async def create_pydantic_item(item: Item) -> Item:
    return item


@app.get("/pydantic/items/{item_id}", response_model=Item)
async def read_pydantic_item(item_id: int) -> dict[str, object]:
    tags = ["tools", "hardware", "blue", "small"]
    return {"name": "Widget", "price": 12.5, "tags": tags, "description": f"item {item_id}"}


async def hello() -> str:
    return "Hello"


async def world() -> str:
    return "World"


async def greeting() -> AsyncIterator[str]:
    yield "Hello, World!"


@app.get("/deps/two")
async def two_dependencies(
    first: Annotated[str, Depends(hello)], second: Annotated[str, Depends(world)]
) -> dict[str, str]:
    return {"message": f"{first}, {second}!"}


@app.get("/deps/generator")
async def generator_dependency(message: Annotated[str, Depends(greeting)]) -> dict[str, str]:
    return {"message": message}


@app.get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}


CHUNK = b"x" * 65536


@app.get("/stream-1mb")
async def stream_1mb() -> StreamingResponse:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(16):
            yield CHUNK

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@app.websocket("/ws")
async def ws_echo(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
