from __future__ import annotations

import pytest

from ferroweb import App, Router
from ferroweb.routing import parse_path
from ferroweb.testing import TestClient


def test_every_method_decorator_routes(app: App, client: TestClient) -> None:
    for method in ("get", "post", "put", "patch", "delete", "options"):
        getattr(app, method)("/m")(lambda method=method: {"method": method})
    app.head("/h")(lambda: None)
    for method in ("get", "post", "put", "patch", "delete", "options"):
        response = client.request(method.upper(), "/m")
        assert response.status_code == 200
        assert response.json() == {"method": method}
    assert client.head("/h").status_code == 200


def test_route_with_several_methods(app: App, client: TestClient) -> None:
    @app.route("/multi", methods=["GET", "POST"])
    def multi(request) -> str:  # type: ignore[no-untyped-def]
        return request.method

    assert client.get("/multi").text == "GET"
    assert client.post("/multi").text == "POST"
    assert client.put("/multi").status_code == 405


def test_unknown_path_is_404_problem(client: TestClient) -> None:
    response = client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "about:blank"
    assert body["title"] == "Not Found"
    assert body["status"] == 404
    assert body["instance"] == "/nowhere"


def test_wrong_method_is_405_with_allow(app: App, client: TestClient) -> None:
    app.get("/only-get")(lambda: "x")
    app.post("/only-get")(lambda: "y")
    response = client.delete("/only-get")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST, OPTIONS"
    assert response.json()["status"] == 405


def test_head_is_automatic_from_get_without_body(app: App, client: TestClient) -> None:
    app.get("/doc")(lambda: {"big": "x" * 100})
    get = client.get("/doc")
    head = client.head("/doc")
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == str(len(get.content))
    assert head.headers["content-type"] == "application/json"


def test_options_is_answered_when_not_registered(app: App, client: TestClient) -> None:
    app.get("/thing")(lambda: "x")
    response = client.options("/thing")
    assert response.status_code == 204
    assert response.headers["allow"] == "GET, HEAD, OPTIONS"


def test_path_params_are_passed_by_name(app: App, client: TestClient) -> None:
    @app.get("/users/{user_id}/posts/{post_id}")
    def post(post_id: str, user_id: str) -> dict[str, str]:
        return {"user": user_id, "post": post_id}

    assert client.get("/users/u%201/posts/7").json() == {"user": "u 1", "post": "7"}


def test_path_converter_captures_rest(app: App, client: TestClient) -> None:
    @app.get("/files/{name:path}")
    def files(name: str) -> str:
        return name

    assert client.get("/files/a/b/c.txt").text == "a/b/c.txt"


def test_static_route_wins_over_param(app: App, client: TestClient) -> None:
    app.get("/users/me")(lambda: "me")
    app.get("/users/{uid}")(lambda uid: f"user {uid}")
    assert client.get("/users/me").text == "me"
    assert client.get("/users/42").text == "user 42"


def test_router_prefix_tags_and_nesting(app: App, client: TestClient) -> None:
    inner = Router(prefix="/inner", tags=["inner"])
    outer = Router(prefix="/outer", tags=["outer"])

    @inner.get("/leaf", tags=["leaf"])
    def leaf() -> str:
        return "leaf"

    @outer.get("/")
    def outer_root() -> str:
        return "outer"

    outer.include_router(inner)
    app.include_router(outer, prefix="/v1", tags=["api"])
    assert client.get("/v1/outer/inner/leaf").text == "leaf"
    assert client.get("/v1/outer").text == "outer"
    leaf_route = next(r for r in app.routes if r.path == "/v1/outer/inner/leaf")
    assert leaf_route.tags == ("api", "outer", "inner", "leaf")


def test_route_metadata_is_kept(app: App) -> None:
    @app.get("/meta", name="meta", summary="S", tags=["t"], include_in_schema=False)
    def meta() -> None:
        """Describes itself."""

    route = app.routes[-1]
    assert (route.name, route.summary, route.tags, route.include_in_schema) == ("meta", "S", ("t",), False)
    assert route.description == "Describes itself."


@pytest.mark.parametrize(
    "path",
    ["no-slash", "/a/{1bad}", "/a/{x}/{x}", "/a/{x:int}", "/a/{rest:path}/more"],
)
def test_invalid_paths_are_rejected_at_registration(path: str) -> None:
    with pytest.raises(ValueError):
        parse_path(path)


def test_conflicting_routes_fail_when_the_app_starts(app: App) -> None:
    app.get("/a/{x}")(lambda x: x)
    app.get("/a/{y}")(lambda y: y)
    with pytest.raises(ValueError, match="conflict"), TestClient(app) as client:
        client.get("/a/1")


def test_duplicate_route_fails_when_the_app_starts(app: App) -> None:
    app.get("/dup")(lambda: 1)
    app.get("/dup")(lambda: 2)
    with pytest.raises(ValueError, match="registered twice"), TestClient(app):
        pass


def test_unsupported_method_rejected() -> None:
    with pytest.raises(ValueError):
        App().route("/x", methods=["TRACE"])(lambda: None)


def test_redirect_slashes_is_on_by_default_and_can_be_turned_off() -> None:
    for enabled in (True, False):
        app = App(redirect_slashes=enabled)

        @app.get("/items")
        def items() -> list[int]:
            return [1]

        with TestClient(app, follow_redirects=False) as client:
            response = client.get("/items/?page=2")
            if enabled:
                assert response.status_code == 307
                assert response.headers["location"] == "/items?page=2"
                assert client.get("/items/", follow_redirects=True).json() == [1]
            else:
                assert response.status_code == 404
