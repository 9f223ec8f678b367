"""An app declaring many kinds of inputs and outputs, fuzzed from its own OpenAPI document by
schemathesis (tests/live/test_live_fuzz.py): every answer must be documented and match."""

from __future__ import annotations

import enum
from typing import Annotated

import msgspec
import pydantic

from ferroweb import App, Body, Cookie, Form, Header, HTTPException, Path, Query

app = App()


class Colour(enum.Enum):
    RED = "red"
    GREEN = "green"


class Item(msgspec.Struct):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
    price: Annotated[float, msgspec.Meta(ge=0, le=10_000)]
    tags: list[str] = []
    colour: Colour | None = None


class Owner(pydantic.BaseModel):
    name: str = pydantic.Field(min_length=1)
    age: int = pydantic.Field(ge=0, le=150)


@app.get("/plaintext")
def plaintext() -> str:
    return "Hello, World!"


@app.get("/items/{item_id}", responses={404: {"description": "No such item"}})
def read_item(
    item_id: Annotated[int, Path(ge=1)],
    q: Annotated[str | None, Query(max_length=20)] = None,
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Item:
    if item_id > 1000:
        raise HTTPException(404, "no such item")
    return Item(name=f"item {item_id}"[:40], price=float(limit), tags=[q] if q else [])


@app.post("/items", status_code=201)
def create_item(item: Item, x_request_id: Annotated[str | None, Header()] = None) -> Item:
    return item


@app.put("/items/{item_id}/tags")
def set_tags(
    item_id: int, tags: Annotated[list[str], Query(max_length=5)], session: Annotated[str, Cookie()] = "-"
) -> dict[str, object]:
    return {"item_id": item_id, "tags": tags, "session": session}


@app.post("/owners")
def create_owner(owner: Owner) -> Owner:
    return owner


@app.post("/login")
def login(username: Annotated[str, Form(min_length=1)], password: Annotated[str, Form()]) -> dict[str, str]:
    return {"user": username}


@app.post("/pair")
def pair(left: Annotated[int, Body()], right: Annotated[int, Body()]) -> dict[str, int]:
    return {"sum": left + right}


@app.get("/colours/{colour}")
def colour(colour: Colour) -> str:
    return colour.value
