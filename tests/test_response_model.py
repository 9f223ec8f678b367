"""Response models: ``response_model=`` or the return annotation shapes what a handler returns."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
import pytest

from ferroweb import App, JSONResponse, ResponseValidationError
from ferroweb._response_model import compile_response_model
from ferroweb.testing import TestClient


class Item(msgspec.Struct):
    name: str
    price: Annotated[float, msgspec.Meta(ge=0)]


@dataclasses.dataclass
class Row:
    name: str
    price: float
    secret: str


def client(app: App) -> TestClient:
    return TestClient(app)


def test_annotation_drops_members_the_model_does_not_declare() -> None:
    app = App()

    @app.get("/item")
    def item() -> Item:
        return Row("pen", 1.5, "hidden")  # type: ignore[return-value]

    with client(app) as http:
        response = http.get("/item")
    assert response.status_code == 200
    assert response.json() == {"name": "pen", "price": 1.5}


def test_response_model_overrides_the_annotation() -> None:
    app = App()

    @app.get("/item", response_model=Item)
    def item() -> dict[str, object]:
        return {"name": "pen", "price": 2, "secret": "x"}

    with client(app) as http:
        assert http.get("/item").json() == {"name": "pen", "price": 2.0}


def _app_returning(model: object, value: object) -> App:
    """An app whose ``GET /v`` returns ``value`` through ``model``."""
    app = App()

    @app.get("/v", response_model=model)
    def v() -> object:
        return value

    return app


@pytest.mark.parametrize(
    ("model", "value", "expected"),
    [
        (dict[str, int], {"a": 1, "b": 2}, {"a": 1, "b": 2}),
        (list[Item], [{"name": "a", "price": 1}], [{"name": "a", "price": 1.0}]),
        (Item | None, None, None),
        (tuple[int, str], [1, "x"], [1, "x"]),
    ],
)
def test_container_and_union_models_convert(model: object, value: object, expected: object) -> None:
    app = _app_returning(model, value)
    with client(app) as http:
        response = http.get("/v")
    assert response.status_code == 200
    assert response.json() == expected


@pytest.mark.parametrize(
    ("model", "value", "location"),
    [
        (dict[str, int], {"a": "x"}, "`$[...]`"),
        (list[Item], [{"name": "a", "price": "free"}], "`$[0].price`"),
        (Item | None, {"name": "a"}, "`$`"),
    ],
)
def test_a_value_not_matching_the_model_is_a_500_naming_where(
    model: object, value: object, location: str
) -> None:
    app = _app_returning(model, value)
    with client(app) as http:
        response = http.get("/v")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    route = app.routes[0]
    serialise = compile_response_model(route, debug=False)
    assert serialise is not None
    with pytest.raises(ResponseValidationError, match="not a valid") as raised:
        serialise(value)
    assert location in str(raised.value)


def test_an_instance_of_the_model_is_sent_as_is_and_checked_in_debug_mode() -> None:
    for debug, status in ((False, 200), (True, 500)):
        app = App(debug=debug)

        @app.get("/item")
        def item() -> Item:
            return Item("pen", -1.0)  # breaks the constraint; only debug mode checks it

        with client(app) as http:
            assert http.get("/item").status_code == status


def test_async_handlers_go_through_the_model() -> None:
    app = App()

    @app.get("/item")
    async def item() -> Item:
        return {"name": "pen", "price": 3, "extra": True}  # type: ignore[return-value]

    with client(app) as http:
        assert http.get("/item").json() == {"name": "pen", "price": 3.0}


def test_responses_and_plain_annotations_are_sent_untouched() -> None:
    app = App()

    @app.get("/response")
    def response() -> JSONResponse:
        return JSONResponse({"raw": True}, status_code=201)

    @app.get("/plain")
    def plain() -> dict:  # type: ignore[type-arg]
        return {"anything": object.__name__}

    with client(app) as http:
        assert http.get("/response").status_code == 201
        assert http.get("/plain").json() == {"anything": "object"}
    assert compile_response_model(app.routes[0], debug=False) is None
    assert compile_response_model(app.routes[1], debug=False) is None


def test_an_unsupported_model_is_refused_at_start_up() -> None:
    app = App()

    @app.get("/bad", response_model=object())
    def bad() -> None:
        return None

    with pytest.raises(TypeError, match="unsupported response model"):
        compile_response_model(app.routes[0], debug=False)


def _serialise(model: object, debug: bool = False) -> Callable[[Any], Any]:
    serialise = compile_response_model(_app_returning(model, None).routes[0], debug=debug)
    assert serialise is not None
    return serialise


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (dict[str, str], {"message": "hi"}),
        (dict[str, object], {"item_id": 42, "q": "x", "nested": [1, {"a": None}]}),
        (dict[str, Any], {"a": b"raw"}),
        (dict[str, bool], {"slept": True}),
        (dict[str, list[int]], {"a": [1, 2], "b": []}),
        (list[Item], [Item("pen", 1.0), Item("ink", 2.0)]),
        (list[int | None], [1, None, 3]),
        (int | str, "x"),
        (float, 1.5),
    ],
)
def test_a_value_already_in_the_model_shape_is_sent_without_a_copy(model: object, value: object) -> None:
    assert _serialise(model)(value) is value


@pytest.mark.parametrize(
    ("model", "value", "expected"),
    [
        (dict[str, float], {"a": 1}, {"a": 1.0}),  # an int where a float is declared
        (list[Item], [{"name": "pen", "price": 1, "extra": 0}], [Item("pen", 1.0)]),
        (dict[str, int], {str(n): n for n in range(40)}, {str(n): n for n in range(40)}),  # long
    ],
)
def test_a_value_not_in_the_model_shape_is_converted(model: object, value: object, expected: object) -> None:
    result = _serialise(model)(value)
    assert result is not value
    assert result == expected


@pytest.mark.parametrize(
    ("model", "value"),
    [
        (dict[str, int], {"a": True}),  # a bool is not an int
        (dict[str, Annotated[int, msgspec.Meta(ge=0)]], {"a": -1}),  # constraints are checked
        (list[int], [*range(40), "x"]),  # past the item-by-item check, msgspec checks
        (dict[str, list[int]], {"a": [1, "2"]}),
        (int | None, "x"),
    ],
)
def test_values_that_do_not_fit_are_refused_whatever_their_size(model: object, value: object) -> None:
    with pytest.raises(ResponseValidationError, match="not a valid"):
        _serialise(model)(value)


def test_debug_mode_converts_even_values_in_shape() -> None:
    value = {"message": "hi"}
    result = _serialise(dict[str, str], debug=True)(value)
    assert result == value
    assert result is not value


def test_a_failing_model_is_a_500_for_async_and_blocking_handlers() -> None:
    app = App()

    @app.get("/async")
    async def async_value() -> dict[str, int]:
        return {"a": "x"}  # type: ignore[dict-item]

    @app.get("/blocking", blocking=True)
    def blocking_value() -> dict[str, int]:
        return {"a": "x"}  # type: ignore[dict-item]

    @app.get("/blocking-ok", blocking=True)
    def blocking_ok() -> dict[str, float]:
        return {"a": 1}

    with client(app) as http:
        assert http.get("/async").status_code == 500
        assert http.get("/blocking").status_code == 500
        assert http.get("/blocking-ok").content == b'{"a":1.0}'
