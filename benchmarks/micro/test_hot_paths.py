"""Micro-benchmarks of the Python hot paths (pytest-benchmark; run with `./dev bench-micro`).

They measure only the Python side: binding parameters, sending a return value through the
responder (the one exit of every request), and one full request through the in-process
TestClient (Rust router included, no socket).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import msgspec
import pytest

from ferroweb import App, JSONResponse, Request, Response
from ferroweb._params import compile_binder
from ferroweb._respond import Responder
from ferroweb._response_model import compile_response_model
from ferroweb._waits import Waits
from ferroweb.routing import Route
from ferroweb.testing import TestClient


class FakeRaw:
    """Stands in for the Rust RawRequest so only Python work is timed."""

    method = "GET"
    path = "/items/42"
    query_string = "q=hello&limit=10"

    def path_params(self) -> list[str]:
        return ["42"]

    def query_params(self) -> list[tuple[str, str]]:
        return [("q", "hello"), ("limit", "10")]

    def param_values(self) -> tuple[list[Any], None]:
        """What the core extracted for the route's plan (path item_id, query q and limit)."""
        return ["42", "hello", "10"], None

    def respond(self, status: int, body: Any, kind: Any, headers: Any = None) -> bool:
        return True


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]


def test_bind_path_and_query(benchmark: Any) -> None:
    def handler(item_id: str, q: str, limit: str = "5") -> None: ...

    bind, _ = compile_binder(Route("/items/{item_id}", handler, ("GET",)), None)
    assert bind is not None
    raw = FakeRaw()
    assert benchmark(bind, raw) == ["42", "hello", "10"]


class FakeRawPost(FakeRaw):
    method = "POST"
    body_bytes = msgspec.json.encode(Item("widget", 12.5, ["a", "b"]))

    def body(self) -> bytes:
        return self.body_bytes

    def header(self, name: str) -> str | None:
        return "application/json" if name == "content-type" else None

    def param_values(self) -> tuple[list[Any], None]:
        return [], None


def test_bind_json_body(benchmark: Any) -> None:
    def handler(item: Item) -> None: ...

    bind, _ = compile_binder(Route("/items", handler, ("POST",)), None)
    assert bind is not None
    assert benchmark(bind, FakeRawPost()) == [Item("widget", 12.5, ["a", "b"])]


def test_bind_request_only(benchmark: Any) -> None:
    def handler(request: Request) -> None: ...

    bind, _ = compile_binder(Route("/x", handler, ("GET",)), None)
    assert bind is not None
    assert isinstance(benchmark(bind, FakeRaw())[0], Request)


@pytest.mark.parametrize(
    "value",
    [
        {"message": "Hello, World!"},
        "Hello, World!",
        Item("widget", 12.5, ["a", "b"]),
        JSONResponse({"message": "Hello, World!"}),
        Response(b"x" * 200, status_code=201, headers={"x-echo": "1"}, media_type="application/octet-stream"),
    ],
    ids=["dict", "str", "struct", "json-response", "response"],
)
def test_respond(benchmark: Any, responder: Responder, value: object) -> None:
    raw = FakeRaw()
    benchmark(responder.send, raw, value, 200)


@pytest.fixture
def responder() -> Iterator[Responder]:
    loop = asyncio.new_event_loop()
    with ThreadPoolExecutor(1) as executor:
        yield Responder(loop, Waits(loop), lambda: executor, loop.create_task)
    loop.close()


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (dict[str, object], {"item_id": 42, "q": "hello"}),
        (dict[str, str], {"message": "Hello, World!"}),
        (Item, {"name": "widget", "price": 12.5, "tags": ["a", "b"]}),
        (dict[str, float], {"price": 12, "tax": 2}),
    ],
    # the first two are already in the model's shape (checked, not copied); the others convert
    ids=["dict-object", "dict-str", "struct-from-dict", "dict-int-to-float"],
)
def test_response_model(benchmark: Any, model: object, value: object) -> None:
    def endpoint() -> None:
        return None

    serialise = compile_response_model(Route("/x", endpoint, ("GET",), response_model=model), debug=False)
    assert serialise is not None
    benchmark(serialise, value)


def test_request_through_test_client(benchmark: Any) -> None:
    app = App()

    @app.get("/items/{item_id}")
    def item(item_id: str, q: str) -> dict[str, str]:
        return {"item_id": item_id, "q": q}

    with TestClient(app) as client:
        response = benchmark(client.get, "/items/42?q=hello")
        assert response.json() == {"item_id": "42", "q": "hello"}
