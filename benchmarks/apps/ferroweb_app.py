"""ferroweb's side of the benchmark workloads (same semantics as benchmarks/peers/*).

Typed parameters arrive with issue 4; until then the typed workloads convert and validate by
hand with msgspec, which is the work the typed path will do for them.
"""

from __future__ import annotations

import asyncio

import msgspec

from ferroweb import App, HTTPException, Request, Response


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    description: str


app = App()
_decode_item = msgspec.json.Decoder(Item).decode


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
def get_item(item_id: str, q: str) -> dict[str, object]:
    try:
        number = int(item_id)
    except ValueError:
        raise HTTPException(422, detail="item_id must be an integer") from None
    return {"item_id": number, "q": q}


@app.post("/items")
async def create_item(request: Request) -> Item:
    try:
        return _decode_item(await request.body())
    except msgspec.ValidationError as exc:
        raise HTTPException(422, detail=str(exc)) from None
    except msgspec.DecodeError as exc:
        raise HTTPException(400, detail=str(exc)) from None


@app.get("/async-sleep")
async def async_sleep() -> dict[str, bool]:
    await asyncio.sleep(0.001)
    return {"slept": True}
