"""Form models (ferroweb._form_model): ``Annotated[Model, Form()]`` reads a whole form into a
Struct, dataclass or TypedDict, with the string rules of form parameters."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Annotated, Any, TypedDict

import msgspec
import pytest

from ferroweb import App
from ferroweb.params import Form, UploadFile
from ferroweb.testing import TestClient

FORM = {"content-type": "application/x-www-form-urlencoded"}


class Login(msgspec.Struct, forbid_unknown_fields=True):
    username: str
    remember: bool = False
    tags: list[str] = []
    every: datetime.timedelta | None = None


class Profile(msgspec.Struct, rename="kebab"):
    display_name: Annotated[str, msgspec.Meta(min_length=2)]
    age: int | None = None


@dataclasses.dataclass
class Search:
    q: str
    page: int = 1


class Filters(TypedDict):
    colour: str


class WithAvatar(msgspec.Struct):
    name: str
    avatar: UploadFile


def make_app() -> App:
    app = App()

    @app.post("/login")
    def login(form: Annotated[Login, Form()]) -> dict[str, Any]:
        every = form.every.total_seconds() if form.every else None
        return {"username": form.username, "remember": form.remember, "tags": form.tags, "every": every}

    @app.post("/profile")
    def profile(form: Annotated[Profile, Form()]) -> Profile:
        return form

    @app.post("/search")
    def search(form: Annotated[Search, Form()], filters: Annotated[Filters, Form()]) -> dict[str, Any]:
        return {"q": form.q, "page": form.page, "filters": filters}

    @app.post("/avatar")
    async def avatar(form: Annotated[WithAvatar, Form()]) -> dict[str, Any]:
        return {"name": form.name, "file": form.avatar.filename, "size": len(await form.avatar.read())}

    return app


@pytest.fixture(scope="module")
def client() -> TestClient:
    return TestClient(make_app())


def test_a_struct_reads_the_whole_form(client: TestClient) -> None:
    body = "username=ada&remember=on&tags[]=a&tags=b&every=PT1M"
    assert client.post("/login", content=body, headers=FORM).json() == {
        "username": "ada",
        "remember": True,
        "tags": ["b", "a"],
        "every": 60.0,
    }
    assert client.post("/login", data={"username": "bob"}).json()["remember"] is False


def test_forbid_unknown_fields_refuses_undeclared_keys_with_422(client: TestClient) -> None:
    response = client.post("/login", data={"username": "ada", "admin": "yes"})
    assert response.status_code == 422
    assert [(e["type"], e["loc"], e["input"]) for e in response.json()["errors"]] == [
        ("extra_forbidden", ["body", "admin"], "yes")
    ]


def test_every_field_error_is_reported(client: TestClient) -> None:
    response = client.post("/login", data={"remember": "perhaps", "every": "soon"})
    assert response.status_code == 422
    found = {tuple(e["loc"]): e["type"] for e in response.json()["errors"]}
    assert found == {
        ("body", "remember"): "bool_parsing",
        ("body", "every"): "time_delta_parsing",
        ("body", "username"): "missing",
    }


def test_renamed_fields_constraints_dataclasses_and_typed_dicts(client: TestClient) -> None:
    answer = client.post("/profile", data={"display-name": "Ada", "age": "36"})
    assert answer.json() == {"display-name": "Ada", "age": 36}
    short = client.post("/profile", data={"display-name": "A"})
    assert [(e["type"], e["loc"]) for e in short.json()["errors"]] == [
        ("string_too_short", ["body", "display-name"])
    ]
    both = client.post("/search", data={"q": "tea", "colour": "green", "extra": "ignored"})
    assert both.json() == {"q": "tea", "page": 1, "filters": {"colour": "green"}}


def test_upload_fields_take_file_parts(client: TestClient) -> None:
    response = client.post(
        "/avatar", data={"name": "ada"}, files={"avatar": ("me.png", b"\x89PNG", "image/png")}
    )
    assert response.json() == {"name": "ada", "file": "me.png", "size": 4}
    missing = client.post("/avatar", data={"name": "ada"}, files={"other": ("x.txt", b"x")})
    assert [(e["type"], e["loc"]) for e in missing.json()["errors"]] == [("missing", ["body", "avatar"])]
