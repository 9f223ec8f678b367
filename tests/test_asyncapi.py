"""The AsyncAPI 3.0 document of WebSocket and SSE routes (``app.asyncapi()``, ``/asyncapi.json``),
checked against the asyncapi3 object model and the JSON Schema it generates."""

from __future__ import annotations

import functools
import importlib
import json
import types
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import jsonschema
import msgspec
import pydantic
import pytest

from ferroweb import App, Header, Query, Router, WebSocket
from ferroweb import Path as PathParam
from ferroweb.cli import main
from ferroweb.openapi import OpenAPI
from ferroweb.sse import EventSourceResponse, ServerSentEvent
from ferroweb.testing import TestClient


@functools.cache
def _model() -> Any:
    with warnings.catch_warnings():  # the package's field names shadow BaseModel attributes
        warnings.simplefilter("ignore", UserWarning)
        from asyncapi3.models.asyncapi import AsyncAPI3
    return AsyncAPI3


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = _model().model_json_schema(by_alias=True)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        assert part in node, f"{ref} does not resolve"
        node = node[part]
    return node


def check(document: dict[str, Any]) -> None:
    """Valid AsyncAPI 3.0: the JSON Schema, the object model, and every ``$ref`` resolves."""
    _validator().validate(document)
    _model().model_validate(document)

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                _resolve(document, node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


class Move(msgspec.Struct):
    x: Annotated[int, msgspec.Meta(ge=0, le=7)]
    y: int


class Board(msgspec.Struct):
    moves: list[Move]


class Tick(msgspec.Struct):
    n: int


class Alert(pydantic.BaseModel):
    level: str


def make_app() -> App:
    app = App(openapi=OpenAPI(title="Games", version="2.0", description="Realtime games"))

    @app.websocket("/games/{room}", receives=Move, sends=Board | str)
    async def game(
        ws: WebSocket,
        room: Annotated[str, PathParam(description="the room to join")],
        token: Annotated[str, Query()],
        client_name: Annotated[str | None, Header()] = None,
    ) -> None:
        """Play moves; every move is answered with the board."""
        await ws.accept()

    @app.websocket("/raw")
    async def raw(ws: WebSocket) -> None:
        await ws.accept()

    @app.websocket("/hidden", include_in_schema=False)
    async def hidden(ws: WebSocket) -> None:
        await ws.accept()

    @app.get("/ticks", tags=["feeds"])
    async def ticks() -> EventSourceResponse[Tick | Alert]:
        async def events() -> AsyncIterator[ServerSentEvent[Tick]]:
            yield ServerSentEvent(data=Tick(n=1))

        return EventSourceResponse(events())

    @app.get("/plain")
    def plain() -> dict[str, int]:
        return {"not": 1}

    return app


def test_the_document_is_valid_asyncapi_30() -> None:
    document = make_app().asyncapi()
    check(document)
    assert document["asyncapi"] == "3.0.0"
    assert document["info"] == {"title": "Games", "version": "2.0", "description": "Realtime games"}
    assert set(document["channels"]) == {"game", "raw", "ticks"}  # not hidden, not plain HTTP


def test_websocket_channels_carry_parameters_bindings_and_both_directions() -> None:
    document = make_app().asyncapi()
    channel = document["channels"]["game"]
    assert channel["address"] == "/games/{room}"
    assert channel["description"] == "Play moves; every move is answered with the board."
    assert channel["parameters"] == {"room": {"description": "the room to join"}}
    binding = channel["bindings"]["ws"]
    query = {"type": "object", "properties": {"token": {"type": "string"}}, "required": ["token"]}
    assert binding["query"] == query
    assert set(binding["headers"]["properties"]) == {"client-name"}
    assert set(channel["messages"]) == {"Move", "Board", "str"}
    operations = document["operations"]
    assert operations["game_receive"]["action"] == "receive"
    assert operations["game_receive"]["messages"] == [{"$ref": "#/channels/game/messages/Move"}]
    assert operations["game_send"]["messages"] == [
        {"$ref": "#/channels/game/messages/Board"},
        {"$ref": "#/channels/game/messages/str"},
    ]
    move = _resolve(document, channel["messages"]["Move"]["$ref"])
    assert move["contentType"] == "application/json"
    schema = _resolve(document, move["payload"]["$ref"])
    assert schema["properties"]["x"] == {"type": "integer", "minimum": 0, "maximum": 7}
    # a route that declares no message types is a channel without operations
    assert "messages" not in document["channels"]["raw"]
    assert not [key for key in operations if key.startswith("raw")]


def test_sse_routes_send_their_event_data_types() -> None:
    document = make_app().asyncapi()
    channel = document["channels"]["ticks"]
    assert channel["address"] == "/ticks"
    assert set(channel["messages"]) == {"Tick", "Alert"}
    operation = document["operations"]["ticks_send"]
    assert operation["action"] == "send" and operation["tags"] == [{"name": "feeds"}]
    alert = _resolve(document, channel["messages"]["Alert"]["$ref"])
    assert _resolve(document, alert["payload"]["$ref"])["properties"]["level"]["type"] == "string"


def test_component_names_do_not_collide() -> None:
    shop, crm = types.ModuleType("shop"), types.ModuleType("crm")
    for module, field in ((shop, "sku: str"), (crm, "email: str")):
        exec(f"import msgspec\nclass Item(msgspec.Struct):\n    {field}", module.__dict__)
    app = App()

    @app.websocket("/shop", receives=shop.Item)
    async def orders(ws: WebSocket) -> None:
        await ws.accept()

    @app.websocket("/crm", receives=crm.Item)
    async def contacts(ws: WebSocket) -> None:
        await ws.accept()

    document = app.asyncapi()
    check(document)
    schemas = document["components"]["schemas"]
    assert schemas["shop-Item"]["properties"] == {"sku": {"type": "string"}}
    assert schemas["crm-Item"]["properties"] == {"email": {"type": "string"}}
    assert set(document["components"]["messages"]) == {"orders-Item", "contacts-Item"}


def test_routers_and_servers() -> None:
    router = Router(prefix="/v1", tags=["chat"])

    @router.websocket("/chat", receives=str, sends=str)
    async def chat(ws: WebSocket) -> None:
        await ws.accept()

    servers = {"production": {"host": "api.example.com", "protocol": "wss"}}
    app = App(openapi=OpenAPI(asyncapi_servers=servers))
    app.include_router(router)
    document = app.asyncapi()
    check(document)
    assert document["servers"] == servers
    assert document["channels"]["chat"]["address"] == "/v1/chat"
    message = _resolve(document, document["channels"]["chat"]["messages"]["str"]["$ref"])
    assert message["contentType"] == "text/plain" and message["payload"] == {"type": "string"}


def test_a_mistake_is_caught_by_the_checks() -> None:
    document = make_app().asyncapi()
    wrong_action = json.loads(json.dumps(document))
    wrong_action["operations"]["game_send"]["action"] = "publish"  # AsyncAPI 2's word
    with pytest.raises(jsonschema.ValidationError):
        _validator().validate(wrong_action)
    dangling = json.loads(json.dumps(document))
    dangling["channels"]["game"]["messages"]["Move"]["$ref"] = "#/components/messages/nothing"
    with pytest.raises(AssertionError, match="does not resolve"):
        check(dangling)


def test_served_by_the_core_and_can_move_or_go() -> None:
    app = make_app()
    with TestClient(app) as client:
        response = client.get("/asyncapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == app.asyncapi()
        again = client.get("/asyncapi.json", headers={"if-none-match": response.headers["etag"]})
        assert again.status_code == 304
    with TestClient(App(asyncapi_url="/events/asyncapi.json")) as client:
        assert client.get("/events/asyncapi.json").json()["asyncapi"] == "3.0.0"
        assert client.get("/asyncapi.json").status_code == 404
    with TestClient(App(asyncapi_url=None)) as client:
        assert client.get("/asyncapi.json").status_code == 404
    with pytest.raises(ValueError, match="asyncapi_url must start with '/'"):
        App(asyncapi_url="asyncapi.json")


def test_asyncapi_command_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "asyncapi.json"
    main(["asyncapi", "examples.hello:app", "-o", str(out)])
    document = json.loads(out.read_text())
    check(document)
    assert document["channels"]["notes"]["address"] == "/notes"
    main(["asyncapi", "examples.hello:app", "--yaml", "-o", str(tmp_path / "asyncapi.yaml")])
    assert (tmp_path / "asyncapi.yaml").read_text().startswith("asyncapi: 3.0.0")


E2E_APPS = sorted(
    path.stem for path in (Path(__file__).parent.parent / "e2e" / "python" / "apps").glob("app_*.py")
)


def test_the_example_app_notes_socket_works_as_documented() -> None:
    from examples.hello import app

    with TestClient(app) as client, client.websocket_connect("/notes") as ws:
        ws.send_json({"text": "hi"})
        assert ws.receive_json() == {"text": "HI"}


@pytest.mark.parametrize("module_name", E2E_APPS)
def test_every_generated_e2e_app_has_a_valid_document(module_name: str) -> None:
    module = importlib.import_module(f"e2e.python.apps.{module_name}")
    for app in [value for value in vars(module).values() if isinstance(value, App)]:
        check(app.asyncapi())


def test_websocket_routes_with_auth_carry_security() -> None:
    from ferroweb.security import APIKeyAuth, JWTAuth

    class Move(msgspec.Struct):
        x: int

    keys = APIKeyAuth(keys=["k"], header=None, query="key")
    app = App(auth=JWTAuth(secret="a-secret-of-some-length-0123"))

    @app.websocket("/play", receives=Move, sends=Move, auth=[keys])
    async def play(websocket: WebSocket) -> None:
        await websocket.accept()

    @app.websocket("/watch", sends=Move)
    async def watch(websocket: WebSocket) -> None:
        await websocket.accept()

    document = app.asyncapi()
    check(document)
    assert document["components"]["securitySchemes"] == {
        "apiKeyAuth": {"type": "httpApiKey", "name": "key", "in": "query"},
        "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
    }
    operations = document["operations"]
    assert operations["play_receive"]["security"] == [{"$ref": "#/components/securitySchemes/apiKeyAuth"}]
    # a route that states no auth= has the app's
    assert operations["watch_send"]["security"] == [{"$ref": "#/components/securitySchemes/bearerAuth"}]
