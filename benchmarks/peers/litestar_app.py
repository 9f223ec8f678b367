"""Litestar peer: the five benchmark workloads (see benchmarks/run.py), validated by msgspec.

Run: uvicorn litestar_app:app --port PORT (see servers.json for the exact command line).
"""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Litestar, MediaType, get, post


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


@get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}


app = Litestar(
    route_handlers=[plaintext, json, get_item, create_item, async_sleep],
    openapi_config=None,
    logging_config=None,
)
