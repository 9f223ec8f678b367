"""Property-based tests: whatever a client sends, typed parameters answer 200, 400 or 422 (never a
5xx), and valid values round-trip exactly through validated handlers."""

from __future__ import annotations

import datetime
import math
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferroweb import App
from ferroweb.params import Cookie, Form, Header, Query
from ferroweb.testing import TestClient

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class Item(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    price: Annotated[float, msgspec.Meta(gt=0)]
    quantity: int = 1
    tags: list[str] = []
    kind: Literal["book", "toy"] | None = None


def build_app() -> App:
    app = App()

    @app.get("/typed/{item_id}")
    def typed(
        item_id: int,
        q: str | None = None,
        ratio: float = 1.0,
        flag: bool = False,
        ids: list[int] = [],  # noqa: B006 - copied per request by the binder
        when: datetime.date | None = None,
        ref: uuid.UUID | None = None,
        mode: Literal["fast", "slow"] = "fast",
        limit: Annotated[int, Query(ge=1, le=100)] = 10,
        name: Annotated[str, Query(min_length=2, max_length=5)] = "ab",
    ) -> dict[str, Any]:
        return {
            "item_id": item_id,
            "q": q,
            "ratio": ratio,
            "flag": flag,
            "ids": ids,
            "when": when,
            "ref": ref,
            "mode": mode,
            "limit": limit,
            "name": name,
        }

    @app.get("/headers")
    def headers(
        x_count: Annotated[int | None, Header()] = None,
        x_name: Annotated[str | None, Header()] = None,
        session: Annotated[str | None, Cookie()] = None,
    ) -> dict[str, Any]:
        return {"x_count": x_count, "x_name": x_name, "session": session}

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    return app


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(build_app()) as test_client:
        yield test_client


query_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)
query_keys = st.sampled_from(["q", "ratio", "flag", "ids", "when", "ref", "mode", "limit", "name", "other"])


@SETTINGS
@given(
    item_id=query_text,
    pairs=st.lists(st.tuples(query_keys, query_text), max_size=8),
)
def test_random_query_strings_never_fail_the_server(
    client: TestClient, item_id: str, pairs: list[tuple[str, str]]
) -> None:
    path = "/typed/" + (quote(item_id, safe="") or "0")
    response = client.get(path + "?" + urlencode(pairs))
    assert response.status_code in (200, 404, 422), response.text
    if response.status_code == 422:
        problem = response.json()
        assert problem["status"] == 422
        assert problem["errors"], problem
        for error in problem["errors"]:
            assert error["loc"][0] in ("path", "query")
            assert {"type", "loc", "msg", "input"} <= error.keys()


@SETTINGS
@given(raw=st.binary(max_size=60))
def test_raw_query_bytes_never_fail_the_server(client: TestClient, raw: bytes) -> None:
    # bytes outside the URI alphabet are escaped; the rest (including stray % and &) is sent as is
    query = "".join(chr(b) if chr(b) in _URI_SAFE else f"%{b:02X}" for b in raw)
    response = client.get("/typed/1?" + query)
    assert response.status_code in (200, 422), response.text


_URI_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=:@/?%")
finite_floats = st.floats(allow_nan=False, allow_infinity=False, width=64)


@SETTINGS
@given(
    item_id=st.integers(),
    q=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20),
    ratio=finite_floats,
    flag=st.booleans(),
    ids=st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=5),
    when=st.dates(),
    ref=st.uuids(),
    mode=st.sampled_from(["fast", "slow"]),
    limit=st.integers(min_value=1, max_value=100),
    name=st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=2, max_size=5),
)
def test_valid_query_values_round_trip(
    client: TestClient,
    item_id: int,
    q: str,
    ratio: float,
    flag: bool,
    ids: list[int],
    when: datetime.date,
    ref: uuid.UUID,
    mode: str,
    limit: int,
    name: str,
) -> None:
    query = [
        ("q", q),
        ("ratio", repr(ratio)),
        ("flag", "true" if flag else "false"),
        *[("ids", str(value)) for value in ids],
        ("when", when.isoformat()),
        ("ref", str(ref)),
        ("mode", mode),
        ("limit", str(limit)),
        ("name", name),
    ]
    response = client.get(f"/typed/{item_id}?{urlencode(query)}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["item_id"] == item_id
    assert body["q"] == q
    assert body["ratio"] == ratio or (math.isclose(body["ratio"], ratio) and ratio != 0)
    assert body["flag"] is flag
    assert body["ids"] == ids
    assert body["when"] == when.isoformat()
    assert body["ref"] == str(ref)
    assert (body["mode"], body["limit"], body["name"]) == (mode, limit, name)


header_text = st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40)


@SETTINGS
@given(count=header_text, name=header_text, cookie=header_text)
def test_random_headers_and_cookies_never_fail_the_server(
    client: TestClient, count: str, name: str, cookie: str
) -> None:
    response = client.get(
        "/headers", headers={"x-count": count, "x-name": name, "cookie": f"session={cookie}"}
    )
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        # a real HTTP parser also drops the value's surrounding whitespace; in-process it stays
        assert response.json()["x_name"].strip() == name.strip()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | finite_floats | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
item_like = st.fixed_dictionaries(
    {},
    optional={
        "name": json_values,
        "price": json_values,
        "quantity": json_values,
        "tags": json_values,
        "kind": st.sampled_from(["book", "toy", "car"]) | json_values,
        "extra": json_values,
    },
)


@SETTINGS
@given(body=json_values | item_like)
def test_random_json_bodies_get_a_client_error_or_an_echo(client: TestClient, body: Any) -> None:
    response = client.post("/items", json=body)
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json() == msgspec.to_builtins(msgspec.convert(body, Item))
    else:
        errors = response.json()["errors"]
        assert errors and all(error["loc"][0] == "body" for error in errors)


@SETTINGS
@given(raw=st.binary(max_size=80))
def test_random_body_bytes_never_fail_the_server(client: TestClient, raw: bytes) -> None:
    response = client.post("/items", content=raw, headers={"content-type": "application/json"})
    assert response.status_code in (400, 422), response.text


@SETTINGS
@given(
    item=st.builds(
        Item,
        name=st.text(min_size=1, max_size=50),
        price=st.floats(min_value=0, exclude_min=True, allow_infinity=False, allow_nan=False),
        quantity=st.integers(),
        tags=st.lists(st.text(max_size=10), max_size=4),
        kind=st.sampled_from(["book", "toy", None]),
    )
)
def test_valid_structs_round_trip(client: TestClient, item: Item) -> None:
    response = client.post(
        "/items", content=msgspec.json.encode(item), headers={"content-type": "application/json"}
    )
    assert response.status_code == 200, response.text
    assert msgspec.json.decode(response.content, type=Item) == item


# -- the core (query) and Python (form) conversions agree ------------------------------------------
#
# Query values are converted and bounds-checked by the Rust core; form values by ferroweb's own
# converters (which use the core's parsers but check bounds in Python). The same strings must give
# the same values, or the same errors, through both.


def build_twin_app() -> App:
    app = App()

    @app.get("/query")
    def by_query(
        n: Annotated[int, Query(ge=-5, lt=10**6, multiple_of=3)],
        x: Annotated[float, Query(gt=0.5, le=1e6)],
        b: bool,
        s: Annotated[str, Query(min_length=2, max_length=5)],
    ) -> list[Any]:
        return [n, x, b, s]

    @app.post("/form")
    def by_form(
        n: Annotated[int, Form(ge=-5, lt=10**6, multiple_of=3)],
        x: Annotated[float, Form(gt=0.5, le=1e6)],
        b: Annotated[bool, Form()],
        s: Annotated[str, Form(min_length=2, max_length=5)],
    ) -> list[Any]:
        return [n, x, b, s]

    return app


@pytest.fixture(scope="module")
def twin_client() -> Iterator[TestClient]:
    with TestClient(build_twin_app()) as test_client:
        yield test_client


number_like = st.one_of(
    st.integers(min_value=-(2**80), max_value=2**80).map(str),
    st.floats().map(repr),
    st.floats(width=32).map(str),
    st.text("0123456789+-.eE_ infinityINFNaN", max_size=10),
    st.sampled_from(
        ["1", "0", "true", "False", "yes", "off", "on", "t", "n", " 3 ", "\t6\n", "\uff11\uff12", "\u0663"]
    ),
    # the bounds themselves and their neighbours
    st.sampled_from(["-5", "-6", "-3", "999999", "1000000", "0.5", "0.5000001", "1e6", "1000000.0000001"]),
)


def _outcome(response: Any) -> Any:
    if response.status_code == 200:
        return response.json()
    assert response.status_code == 422, response.text
    return sorted(
        (error["type"], error["loc"][1:], error["input"], sorted((error.get("ctx") or {}).items()))
        for error in response.json()["errors"]
    )


@SETTINGS
@given(n=number_like, x=number_like, b=number_like, s=st.text(max_size=7))
def test_query_and_form_conversions_agree(twin_client: TestClient, n: str, x: str, b: str, s: str) -> None:
    values = {"n": n, "x": x, "b": b, "s": s}
    by_query = twin_client.get("/query", params=values)
    by_form = twin_client.post("/form", data=values)
    assert _outcome(by_query) == _outcome(by_form), (values, by_query.text, by_form.text)
