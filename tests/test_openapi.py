"""The OpenAPI document (ferroweb.openapi, ferroweb._openapi): built from the routes, checked
against the official 3.1 schema, and served by the core from memory."""

from __future__ import annotations

import importlib
import types
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pydantic
import pytest
from openapi_spec_validator import validate

from ferroweb import App, Body, Depends, File, Form, Header, Query, Router, UploadFile
from ferroweb.openapi import OpenAPI
from ferroweb.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(gt=0)]
    tags: list[str] = []


class Owner(pydantic.BaseModel):
    name: str
    pets: list[str] = []


def paging(limit: Annotated[int, Query(ge=1, le=100)] = 20) -> int:
    return limit


def make_app() -> App:
    app = App(
        openapi=OpenAPI(
            title="Shop",
            version="2.1.0",
            description="Things for sale.",
            servers=[{"url": "https://shop.example"}],
            contact={"name": "Ops", "email": "ops@shop.example"},
            license={"name": "MIT", "identifier": "MIT"},
            terms_of_service="https://shop.example/terms",
        )
    )
    router = Router(prefix="/items", tags=["items"])

    @router.get("/{item_id}", responses={404: {"description": "No such item"}})
    def read_item(
        item_id: int,
        fields: Annotated[list[str], Query(max_length=5, description="members to show")] = [],  # noqa: B006
        x_trace: Annotated[str | None, Header(deprecated=True)] = None,
        limit: Annotated[int, Depends(paging)] = 20,
    ) -> Item:
        """Reads one item."""
        return Item(name=str(item_id), price=1.0)

    @router.post("", status_code=201, operation_id="createItem")
    def create_item(item: Item) -> Item:
        return item

    @app.post("/owners")
    def create_owner(owner: Owner) -> Owner:
        return owner

    @app.post("/upload")
    def upload(file: Annotated[UploadFile, File()], note: Annotated[str, Form()] = "") -> dict[str, str]:
        return {"name": file.filename or ""}

    @app.put("/embedded")
    def embedded(item: Annotated[Item, Body(embed=True)]) -> None:
        return None

    @app.get("/old", deprecated=True)
    def old() -> str:
        return "old"

    @app.get("/hidden", include_in_schema=False)
    def hidden() -> str:
        return "hidden"

    @app.get("/files/{name:path}")
    def files(name: str) -> str:
        return name

    app.include_router(router)
    return app


def test_the_document_is_valid_openapi_31() -> None:
    document = make_app().openapi()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert document["info"] == {
        "title": "Shop",
        "version": "2.1.0",
        "description": "Things for sale.",
        "termsOfService": "https://shop.example/terms",
        "contact": {"name": "Ops", "email": "ops@shop.example"},
        "license": {"name": "MIT", "identifier": "MIT"},
    }
    assert document["servers"] == [{"url": "https://shop.example"}]
    assert set(document["paths"]) == {
        "/items/{item_id}",
        "/items",
        "/owners",
        "/upload",
        "/embedded",
        "/old",
        "/files/{name}",
    }


def test_operations_describe_parameters_bodies_and_responses() -> None:
    paths = make_app().openapi()["paths"]
    read = paths["/items/{item_id}"]["get"]
    assert read["tags"] == ["items"]
    assert read["description"] == "Reads one item."
    assert read["operationId"] == "read_item_items_item_id_get"
    by_name = {parameter["name"]: parameter for parameter in read["parameters"]}
    assert by_name["item_id"] == {
        "name": "item_id",
        "in": "path",
        "schema": {"type": "integer"},
        "required": True,
    }
    fields = by_name["fields"]
    assert (fields["style"], fields["explode"], fields["description"]) == ("form", True, "members to show")
    assert fields["schema"]["type"] == "array" and fields["schema"]["maxItems"] == 5
    assert by_name["x-trace"]["in"] == "header" and by_name["x-trace"]["deprecated"] is True
    # a dependency's parameters are the route's
    assert by_name["limit"]["schema"]["minimum"] == 1 and by_name["limit"]["schema"]["maximum"] == 100
    assert by_name["limit"]["schema"]["default"] == 20
    assert set(read["responses"]) == {"200", "404", "422", "4XX", "5XX"}
    assert read["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }
    assert read["responses"]["404"]["description"] == "No such item"

    create = paths["/items"]["post"]
    assert create["operationId"] == "createItem"
    assert "201" in create["responses"]
    assert create["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Item"
    }

    upload = paths["/upload"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert upload["properties"]["file"] == {"type": "string", "format": "binary"}
    assert upload["required"] == ["file"]
    embedded = paths["/embedded"]["put"]["requestBody"]["content"]["application/json"]["schema"]
    assert embedded["properties"]["item"] == {"$ref": "#/components/schemas/Item"}
    assert paths["/old"]["get"]["deprecated"] is True
    assert "422" not in paths["/old"]["get"]["responses"]


def test_components_msgspec_pydantic_and_problems() -> None:
    components = make_app().openapi()["components"]["schemas"]
    assert components["Item"]["properties"]["price"] == {"type": "number", "exclusiveMinimum": 0}
    assert components["Item"]["required"] == ["name", "price"]
    assert components["Owner"]["properties"]["name"]["type"] == "string"
    assert "errors" in str(components["ValidationProblem"])
    assert components["Problem"]["required"] == ["type", "title", "status"]


def test_component_names_do_not_collide() -> None:
    shop, crm = types.ModuleType("shop"), types.ModuleType("crm")
    for module, field in ((shop, "sku: str"), (crm, "email: str")):
        exec(f"import msgspec\nclass Item(msgspec.Struct):\n    {field}", module.__dict__)
    app = App()
    app.add_route("/shop", lambda item: None, ["POST"])
    app.routes[-1].endpoint.__annotations__["item"] = shop.Item
    app.add_route("/crm", lambda item: None, ["POST"])
    app.routes[-1].endpoint.__annotations__["item"] = crm.Item
    document = app.openapi()
    validate(document)
    components = document["components"]["schemas"]
    assert components["shop.Item"]["properties"] == {"sku": {"type": "string"}}
    assert components["crm.Item"]["properties"] == {"email": {"type": "string"}}


def test_operation_ids_are_unique_and_checked() -> None:
    app = App()

    def same() -> None:
        return None

    app.add_route("/a", same, ["GET", "POST"])
    app.add_route("/b", same, ["GET"], operation_id="dup")
    app.add_route("/c", same, ["GET"], operation_id="dup")
    with pytest.raises(ValueError, match="used twice"):
        app.openapi()
    app.routes.pop()
    ids = [op["operationId"] for item in app.openapi()["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids)) == 3


def test_served_by_the_core_with_an_etag() -> None:
    app = make_app()
    with TestClient(app) as client:
        response = client.get("/openapi.json")
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == app.openapi()
        again = client.get("/openapi.json", headers={"if-none-match": response.headers["etag"]})
        assert (again.status_code, again.content) == (304, b"")
        assert client.head("/openapi.json").status_code == 200
        assert client.post("/openapi.json").status_code == 405


def test_the_url_can_move_or_go() -> None:
    moved = App(openapi_url="/api/schema.json")
    gone = App(openapi_url=None)
    with TestClient(moved) as client:
        assert client.get("/api/schema.json").json()["openapi"] == "3.1.0"
        assert client.get("/openapi.json").status_code == 404
    with TestClient(gone) as client:
        assert client.get("/openapi.json").status_code == 404
    with pytest.raises(ValueError, match="must start with '/'"):
        App(openapi_url="openapi.json")


def test_a_route_at_the_same_path_is_a_start_up_error() -> None:
    app = App()

    @app.get("/openapi.json")
    def mine() -> dict[str, Any]:
        return {}

    with pytest.raises(ValueError, match="registered twice"), TestClient(app):
        pass


E2E_APPS = sorted(
    path.stem for path in (Path(__file__).parent.parent / "e2e" / "python" / "apps").glob("app_*.py")
)


@pytest.mark.parametrize("module_name", E2E_APPS)
def test_every_generated_e2e_app_has_a_valid_document(module_name: str) -> None:
    module = importlib.import_module(f"e2e.python.apps.{module_name}")
    apps = [value for value in vars(module).values() if isinstance(value, App)]
    assert apps
    for app in apps:
        validate(app.openapi())


def test_the_example_app_has_a_valid_document() -> None:
    from examples.hello import app

    document = app.openapi()
    validate(document)
    assert "/items/{item_id}" in document["paths"]


class Signup(pydantic.BaseModel):
    name: str
    avatar: UploadFile


def test_a_pydantic_form_model_with_a_file_is_documented() -> None:
    app = App()

    @app.post("/signup")
    def signup(form: Annotated[Signup, Form()]) -> str:
        return form.name

    document = app.openapi()
    validate(document)
    body = document["paths"]["/signup"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body == {"$ref": "#/components/schemas/Signup"}
    signup_schema = document["components"]["schemas"]["Signup"]
    assert signup_schema["properties"]["avatar"] == {"type": "string", "format": "binary", "title": "Avatar"}
