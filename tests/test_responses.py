from __future__ import annotations

import dataclasses
from datetime import datetime, timezone

import msgspec
import pytest

from ferroweb import (
    App,
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from ferroweb.testing import TestClient


class Point(msgspec.Struct):
    x: int
    y: int


@dataclasses.dataclass
class Pair:
    a: str
    b: list[int]


@pytest.mark.parametrize(
    ("value", "content_type", "body"),
    [
        ({"a": 1}, "application/json", b'{"a":1}'),
        ([1, "x", None], "application/json", b'[1,"x",null]'),
        (Point(1, 2), "application/json", b'{"x":1,"y":2}'),
        (Pair("p", [3]), "application/json", b'{"a":"p","b":[3]}'),
        ("héllo", "text/plain; charset=utf-8", "héllo".encode()),
        (b"\x00\x01", "application/octet-stream", b"\x00\x01"),
        (None, "application/json", b"null"),
        ((1, 2), "application/json", b"[1,2]"),
    ],
)
def test_return_values_are_encoded_by_type(
    app: App, client: TestClient, value: object, content_type: str, body: bytes
) -> None:
    app.get("/v")(lambda: value)
    response = client.get("/v")
    assert response.status_code == 200
    assert response.headers["content-type"] == content_type
    assert response.content == body
    assert response.headers["content-length"] == str(len(body))


def test_route_status_code_applies_to_plain_values(app: App, client: TestClient) -> None:
    app.post("/created", status_code=201)(lambda: {"ok": True})
    app.delete("/gone", status_code=204)(lambda: None)
    created = client.post("/created")
    assert (created.status_code, created.json()) == (201, {"ok": True})
    gone = client.delete("/gone")
    assert gone.status_code == 204
    assert gone.content == b""
    assert "content-type" not in gone.headers


def test_response_object_controls_everything(app: App, client: TestClient) -> None:
    @app.post("/r", status_code=201)
    async def handler(request) -> Response:  # type: ignore[no-untyped-def]
        body = await request.body()
        return Response(body, status_code=202, headers={"x-a": "1"}, media_type="application/x-thing")

    response = client.post("/r", content=b"payload")
    assert response.status_code == 202
    assert response.content == b"payload"
    assert response.headers["x-a"] == "1"
    assert response.headers["content-type"] == "application/x-thing"


def test_response_classes(app: App, client: TestClient) -> None:
    app.get("/json")(lambda: JSONResponse({"k": [1]}, status_code=203))
    app.get("/text")(lambda: PlainTextResponse("t"))
    app.get("/html")(lambda: HTMLResponse("<b>x</b>"))
    app.get("/redirect")(lambda: RedirectResponse("/text"))
    json_response = client.get("/json")
    assert (json_response.status_code, json_response.json()) == (203, {"k": [1]})
    assert client.get("/text").headers["content-type"] == "text/plain; charset=utf-8"
    assert client.get("/html").headers["content-type"] == "text/html; charset=utf-8"
    redirect = client.get("/redirect", follow_redirects=False)
    assert (redirect.status_code, redirect.headers["location"]) == (307, "/text")
    followed = client.get("/redirect")
    assert (followed.status_code, followed.text, len(followed.history)) == (200, "t", 1)


def test_cookies_set_and_deleted(app: App) -> None:
    @app.get("/login")
    def login() -> Response:
        response = PlainTextResponse("in")
        response.set_cookie("session", "abc", max_age=60, httponly=True, secure=True)
        response.set_cookie("theme", "dark", expires=datetime(2030, 1, 1, tzinfo=timezone.utc))
        return response

    @app.get("/logout")
    def logout() -> Response:
        response = PlainTextResponse("out")
        response.delete_cookie("session")
        return response

    @app.get("/whoami")
    def whoami(request) -> dict[str, str]:  # type: ignore[no-untyped-def]
        return dict(request.cookies)

    # https: the session cookie is Secure, which a client sends over HTTPS only
    client = TestClient(app, base_url="https://testserver")
    login_response = client.get("/login")
    cookies = login_response.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert "session=abc" in cookies[0]
    assert "HttpOnly" in cookies[0] and "Secure" in cookies[0] and "Max-Age=60" in cookies[0]
    assert "SameSite=lax" in cookies[0]
    assert "expires=Tue, 01 Jan 2030 00:00:00 GMT" in cookies[1]
    assert client.get("/whoami").json() == {"session": "abc", "theme": "dark"}
    client.get("/logout")
    assert client.get("/whoami").json() == {"theme": "dark"}
    client.close()


def test_repeated_and_overridden_headers(app: App, client: TestClient) -> None:
    @app.get("/h")
    def headers() -> Response:
        response = Response("x", media_type="text/plain")
        response.headers.append("x-multi", "1")
        response.headers.append("x-multi", "2")
        response.headers["content-type"] = "text/csv"
        return response

    response = client.get("/h")
    assert response.headers.get_list("x-multi") == ["1", "2"]
    assert response.headers.get_list("content-type") == ["text/csv"]


def test_invalid_header_becomes_500_not_a_crash(app: App, client: TestClient) -> None:
    app.get("/bad")(lambda: Response("x", headers={"bad header": "v"}))
    app.get("/ok")(lambda: "ok")
    assert client.get("/bad").status_code == 500
    assert client.get("/ok").text == "ok"


def test_unencodable_value_becomes_500(app: App, client: TestClient) -> None:
    app.get("/obj")(lambda: object())
    response = client.get("/obj")
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"


def test_response_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        Response(status_code=42)
    with pytest.raises(TypeError):
        Response({"not": "bytes"})
    with pytest.raises(ValueError):
        Response().set_cookie("k", samesite="sometimes")  # type: ignore[arg-type]
