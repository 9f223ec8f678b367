"""pydantic v2 models (ferroweb._pydantic): JSON bodies, form models and response models
validated and serialised by pydantic, errors in the same problem+json ``errors`` list."""

from __future__ import annotations

import datetime
import json
import subprocess
import sys
from typing import Annotated, Any

import pytest

pydantic = pytest.importorskip("pydantic")
import annotated_types  # noqa: E402 (pydantic's dependency)
from pydantic import BaseModel, ConfigDict, Field, field_validator  # noqa: E402

from ferroweb import App, Body, Form, JSONResponse, UploadFile  # noqa: E402
from ferroweb._pydantic import errors_of, json_schema, uses_pydantic  # noqa: E402
from ferroweb.testing import TestClient  # noqa: E402


class Dimensions(BaseModel):
    width: int = Field(ge=1)
    height: int = Field(ge=1)


class Item(BaseModel):
    name: str = Field(min_length=1)
    price: float = Field(gt=0)
    tags: list[str] = []
    dimensions: Dimensions | None = None
    ttl: datetime.timedelta | None = None


class Checked(BaseModel):
    code: str

    @field_validator("code")
    @classmethod
    def upper(cls, value: str) -> str:
        if not value.isupper():
            raise ValueError("must be upper case")
        return value


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


class Aliased(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    full_name: str = Field(alias="fullName")


class Public(BaseModel):
    name: str
    price: float


class Signup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=2)
    age: int
    topics: list[str] = []
    every: datetime.timedelta | None = None


class Document(BaseModel):
    title: str
    attachment: UploadFile
    extras: list[UploadFile] = []


@pydantic.dataclasses.dataclass
class Point:
    x: int
    y: int = 0


def client(app: App) -> TestClient:
    return TestClient(app)


def errors(response: Any) -> list[dict[str, Any]]:
    assert response.headers["content-type"] == "application/problem+json"
    return list(response.json()["errors"])


# -- detection ----------------------------------------------------------------------------------


def test_types_that_need_pydantic_are_recognised() -> None:
    assert uses_pydantic(Item)
    assert uses_pydantic(list[Item])
    assert uses_pydantic(Item | None)
    assert uses_pydantic(Point)
    assert uses_pydantic(Annotated[list[int], Field(min_length=1)])
    assert not uses_pydantic(list[int])
    assert not uses_pydantic(dict[str, Any])


def test_importing_ferroweb_does_not_import_pydantic() -> None:
    code = "import sys, ferroweb, ferroweb.testing; print('pydantic' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# -- JSON bodies --------------------------------------------------------------------------------


def body_app() -> App:
    app = App()

    @app.post("/items")
    def create(item: Item) -> dict[str, Any]:
        return {"item": item, "cls": type(item).__name__}

    @app.post("/checked")
    def checked(value: Checked) -> Checked:
        return value

    @app.post("/strict")
    def strict(note: Strict) -> Strict:
        return note

    @app.post("/optional")
    def optional(item: Item | None = None) -> dict[str, Any]:
        return {"item": item}

    @app.post("/embedded")
    def embedded(item: Item, count: Annotated[int, Body(ge=1)], note: Annotated[str, Body()] = "none") -> Any:
        return {"item": item.name, "count": count, "note": note}

    @app.post("/one-embedded")
    def one_embedded(item: Annotated[Item, Body(embed=True)]) -> str:
        return item.name

    @app.post("/many")
    def many(items: Annotated[list[Item], Body(min_length=2)]) -> int:
        return len(items)

    @app.post("/field")
    def field(numbers: Annotated[list[int], Field(min_length=1), Body()]) -> int:
        return sum(numbers)

    @app.post("/point")
    def point(p: Point) -> dict[str, int]:
        return {"x": p.x, "y": p.y}

    return app


def test_a_model_body_is_validated_into_the_model() -> None:
    with client(body_app()) as c:
        sent = {"name": "lamp", "price": 2, "dimensions": {"width": 1, "height": 2}, "ttl": 90}
        response = c.post("/items", json=sent)
    assert response.status_code == 200
    assert response.json() == {
        "item": {
            "name": "lamp",
            "price": 2.0,
            "tags": [],
            "dimensions": {"width": 1, "height": 2},
            "ttl": "PT1M30S",
        },
        "cls": "Item",
    }


def test_every_error_is_reported_in_pydantic_terms() -> None:
    with client(body_app()) as c:
        response = c.post("/items", json={"name": "", "price": 0, "dimensions": {"width": 0}})
    assert response.status_code == 422
    assert [(e["type"], e["loc"]) for e in errors(response)] == [
        ("string_too_short", ["body", "name"]),
        ("greater_than", ["body", "price"]),
        ("greater_than_equal", ["body", "dimensions", "width"]),
        ("missing", ["body", "dimensions", "height"]),
    ]
    assert errors(response)[0]["msg"] == "String should have at least 1 character"
    assert errors(response)[0]["ctx"] == {"min_length": 1}


def test_a_custom_validator_message_is_sent_as_text() -> None:
    with client(body_app()) as c:
        response = c.post("/checked", json={"code": "abc"})
    assert response.status_code == 422
    (error,) = errors(response)
    assert error["type"] == "value_error"
    assert error["msg"] == "Value error, must be upper case"
    assert error["ctx"] == {"error": "must be upper case"}


def test_extra_forbid_refuses_unknown_members() -> None:
    with client(body_app()) as c:
        response = c.post("/strict", json={"text": "a", "more": 1})
    assert [(e["type"], e["loc"], e["input"]) for e in errors(response)] == [
        ("extra_forbidden", ["body", "more"], 1)
    ]


def test_malformed_json_is_a_400_problem() -> None:
    with client(body_app()) as c:
        response = c.post("/items", content=b'{"name": ', headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["detail"] == "Malformed JSON body"
    assert errors(response)[0]["type"] == "json_invalid"


def test_the_media_type_charset_and_depth_checks_come_first() -> None:
    with client(body_app()) as c:
        as_text = c.post(
            "/items", content=b'{"name": "a", "price": 1}', headers={"content-type": "text/plain"}
        )
        latin1 = c.post(
            "/items",
            content=b'{"name": "a", "price": 1}',
            headers={"content-type": "application/json; charset=latin-1"},
        )
        deep = c.post("/items", content=b"[" * 100 + b"]" * 100, headers={"content-type": "application/json"})
    assert as_text.status_code == 415
    assert latin1.status_code == 415
    assert deep.status_code == 400
    assert "nested" in errors(deep)[0]["ctx"]["error"]


def test_a_missing_body_is_missing_or_the_default() -> None:
    with client(body_app()) as c:
        required = c.post("/items")
        optional = c.post("/optional")
        null = c.post("/optional", json=None)
    assert [(e["type"], e["loc"]) for e in errors(required)] == [("missing", ["body"])]
    assert optional.json() == {"item": None}
    assert null.json() == {"item": None}


def test_several_body_parameters_are_members_of_one_object() -> None:
    with client(body_app()) as c:
        ok = c.post("/embedded", json={"item": {"name": "a", "price": 1}, "count": 2})
        bad = c.post("/embedded", json={"item": {"name": "a", "price": -1}, "count": 0})
        one = c.post("/one-embedded", json={"item": {"name": "solo", "price": 1}})
    assert ok.json() == {"item": "a", "count": 2, "note": "none"}
    assert [(e["type"], e["loc"]) for e in errors(bad)] == [
        ("greater_than", ["body", "item", "price"]),
        ("greater_than_equal", ["body", "count"]),
    ]
    assert one.text == "solo"


def test_body_marker_constraints_and_pydantic_fields_apply() -> None:
    with client(body_app()) as c:
        too_few = c.post("/many", json=[{"name": "a", "price": 1}])
        enough = c.post("/many", json=[{"name": "a", "price": 1}, {"name": "b", "price": 2}])
        empty = c.post("/field", json=[])
        summed = c.post("/field", json=[1, 2, 3])
    assert [(e["type"], e["loc"]) for e in errors(too_few)] == [("too_short", ["body"])]
    assert enough.json() == 2
    assert [(e["type"], e["loc"]) for e in errors(empty)] == [("too_short", ["body"])]
    assert summed.json() == 6


def test_a_pydantic_dataclass_is_a_body() -> None:
    with client(body_app()) as c:
        ok = c.post("/point", json={"x": 3})
        bad = c.post("/point", json={"x": "three"})
    assert ok.json() == {"x": 3, "y": 0}
    assert [(e["type"], e["loc"]) for e in errors(bad)] == [("int_parsing", ["body", "x"])]


def test_msgspec_body_marker_constraints_apply_too() -> None:
    app = App()

    @app.post("/tags")
    def tags(values: Annotated[list[str], Body(min_length=1)], limit: Annotated[int, Body(le=3)] = 1) -> int:
        return len(values) + limit

    with TestClient(app) as c:
        bad = c.post("/tags", json={"values": [], "limit": 9})
        ok = c.post("/tags", json={"values": ["a"]})
    assert [(e["type"], e["loc"]) for e in errors(bad)] == [
        ("too_short", ["body", "values"]),
        ("less_than_equal", ["body", "limit"]),
    ]
    assert ok.json() == 2


# -- form models --------------------------------------------------------------------------------


def form_app() -> App:
    app = App()

    @app.post("/signup")
    def signup(data: Annotated[Signup, Form()]) -> Signup:
        return data

    @app.post("/document")
    async def document(data: Annotated[Document, Form()]) -> dict[str, Any]:
        return {
            "title": data.title,
            "attachment": [data.attachment.filename, (await data.attachment.read()).decode()],
            "extras": [extra.filename for extra in data.extras],
        }

    return app


def test_a_form_is_read_into_a_pydantic_model() -> None:
    with client(form_app()) as c:
        response = c.post(
            "/signup",
            content=b"username=ada&age=36&topics=a&topics%5B%5D=b&every=PT1H",
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
    assert response.json() == {"username": "ada", "age": 36, "topics": ["a", "b"], "every": "PT1H"}


def test_a_form_model_reports_every_error_and_unknown_keys() -> None:
    with client(form_app()) as c:
        response = c.post("/signup", data={"username": "a", "age": "x", "admin": "1"})
    assert [(e["type"], e["loc"], e["input"]) for e in errors(response)] == [
        ("string_too_short", ["body", "username"], "a"),
        ("int_parsing", ["body", "age"], "x"),
        ("extra_forbidden", ["body", "admin"], "1"),
    ]


def test_a_form_model_takes_uploaded_files() -> None:
    with client(form_app()) as c:
        response = c.post(
            "/document",
            data={"title": "t"},
            files=[
                ("attachment", ("a.txt", b"hello")),
                ("extras", ("b.txt", b"")),
                ("extras", ("c.txt", b"")),
            ],
        )
        missing = c.post("/document", data={"title": "t"}, files=[("other", ("x.txt", b"x"))])
    assert response.json() == {"title": "t", "attachment": ["a.txt", "hello"], "extras": ["b.txt", "c.txt"]}
    assert [(e["type"], e["loc"]) for e in errors(missing)] == [("missing", ["body", "attachment"])]


# -- response models ----------------------------------------------------------------------------


def response_app() -> App:
    app = App()

    @app.get("/declared", response_model=Public)
    def declared() -> Any:
        return {"name": "a", "price": 1, "secret": "dropped"}

    @app.get("/annotated")
    def annotated() -> Public:
        return Item(name="b", price=2, tags=["x"])  # type: ignore[return-value]

    @app.get("/instance")
    def instance() -> Public:
        return Public(name="c", price=3)

    @app.get("/list")
    def listed() -> list[Public]:
        return [Public(name="d", price=4), {"name": "e", "price": 5}]  # type: ignore[list-item]

    @app.get("/alias")
    def alias() -> Aliased:
        return Aliased(full_name="Ada Lovelace")

    @app.get("/invalid")
    def invalid() -> Public:
        return {"name": "f"}  # type: ignore[return-value]

    @app.get("/undeclared")
    def undeclared() -> Any:
        return {"one": Public(name="g", price=6), "alias": Aliased(full_name="x")}

    @app.get("/json-response")
    def json_response() -> JSONResponse:
        return JSONResponse(Public(name="h", price=7), status_code=201)

    @app.get("/status", status_code=201)
    def status() -> Public:
        return Public(name="i", price=8)

    return app


def test_a_response_model_drops_undeclared_members() -> None:
    with client(response_app()) as c:
        assert c.get("/declared").json() == {"name": "a", "price": 1.0}
        assert c.get("/annotated").json() == {"name": "b", "price": 2.0}
        assert c.get("/instance").json() == {"name": "c", "price": 3.0}
        assert c.get("/list").json() == [{"name": "d", "price": 4.0}, {"name": "e", "price": 5.0}]


def test_responses_are_serialised_by_alias() -> None:
    with client(response_app()) as c:
        assert c.get("/alias").json() == {"fullName": "Ada Lovelace"}
        assert c.get("/undeclared").json() == {"one": {"name": "g", "price": 6.0}, "alias": {"fullName": "x"}}


def test_a_value_the_response_model_refuses_is_a_500() -> None:
    with client(response_app()) as c:
        response = c.get("/invalid")
    assert response.status_code == 500


def test_models_in_responses_of_every_kind() -> None:
    with client(response_app()) as c:
        made = c.get("/json-response")
        status = c.get("/status")
    assert (made.status_code, made.json()) == (201, {"name": "h", "price": 7.0})
    assert (status.status_code, status.headers["content-type"]) == (201, "application/json")


# -- the pieces ---------------------------------------------------------------------------------


def test_errors_of_places_pydantic_errors_under_a_prefix() -> None:
    with pytest.raises(pydantic.ValidationError) as caught:
        Item.model_validate({"name": 1, "price": "x"})
    records = errors_of(caught.value, ("body",))
    assert [(r["type"], r["loc"], r["input"]) for r in records] == [
        ("string_type", ["body", "name"], 1),
        ("float_parsing", ["body", "price"], "x"),
    ]
    json.dumps(records)  # what goes into the problem body is plain JSON


def test_json_schema_is_pydantics() -> None:
    assert json_schema(Public) == Public.model_json_schema()
    assert json_schema(list[Public])["type"] == "array"


class Opaque:
    """A class pydantic has no schema for."""


def test_a_type_pydantic_cannot_validate_is_refused_at_startup() -> None:
    alone, embedded = App(), App()

    @alone.post("/bad")
    def bad(value: Annotated[Opaque, Field(), Body()]) -> None:
        return None

    @embedded.post("/bad")
    def bad_member(item: Item, value: Annotated[Opaque, Field(), Body()]) -> None:
        return None

    for app in (alone, embedded):
        with pytest.raises(TypeError, match="pydantic cannot validate"), TestClient(app):
            pass


def test_field_constraints_on_parameters_are_checked() -> None:
    app = App()

    @app.get("/search/{page}")
    def search(
        page: Annotated[int, Field(ge=1)],
        q: Annotated[str, Field(min_length=2, pattern="^[a-z]+$")],
        limit: Annotated[int, annotated_types.Le(50)] = 10,
    ) -> list[Any]:
        return [page, q, limit]

    with TestClient(app) as c:
        ok = c.get("/search/2?q=ab&limit=50")
        bad = c.get("/search/0?q=A&limit=51")
    assert ok.json() == [2, "ab", 50]
    assert [(e["type"], e["loc"]) for e in errors(bad)] == [
        ("greater_than_equal", ["path", "page"]),
        ("string_too_short", ["query", "q"]),
        ("less_than_equal", ["query", "limit"]),
    ]
