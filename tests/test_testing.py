"""The test clients themselves."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from ferroweb import App, Request, Response
from ferroweb.testing import AsyncTestClient, TestClient


def make_app() -> App:
    app = App()

    @app.route("/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
    async def echo(request: Request) -> dict[str, object]:
        return {
            "method": request.method,
            "query": request.query_params.multi_items(),
            "content_type": request.headers.get("content-type"),
            "body": (await request.body()).decode(),
            "agent": request.headers.get("user-agent"),
            "custom": request.headers.get("x-client"),
        }

    return app


def test_body_encodings() -> None:
    with TestClient(make_app()) as client:
        as_json = client.post("/echo", json={"a": [1, 2]}).json()
        assert (as_json["content_type"], as_json["body"]) == ("application/json", '{"a":[1,2]}')
        as_form = client.put("/echo", data={"a": "1", "b": ["x", "y"]}).json()
        assert as_form["content_type"] == "application/x-www-form-urlencoded"
        assert as_form["body"] == "a=1&b=x&b=y"
        raw = client.patch("/echo", content="text", headers={"content-type": "text/plain"}).json()
        assert (raw["content_type"], raw["body"]) == ("text/plain", "text")


def test_params_and_default_headers_as_httpx_sends_them() -> None:
    with TestClient(make_app(), headers={"x-client": "suite"}) as client:
        data = client.get("/echo", params={"b": True, "c": ["x", "y"]}).json()
        assert data["query"] == [["b", "true"], ["c", "x"], ["c", "y"]]
        # as httpx: params= stands for the whole query, replacing one written in the URL
        replaced = client.get("/echo?a=1&b=2", params={"b": 3}).json()
        assert replaced["query"] == [["b", "3"]]
        client.params = {"lang": "en"}  # client-wide params merge with the request's
        merged = client.get("/echo", params={"b": 3}).json()
        assert merged["query"] == [["lang", "en"], ["b", "3"]]
        client.params = {}
        assert data["agent"] == "ferroweb-testclient"
        assert data["custom"] == "suite"
        assert client.delete("/echo").json()["method"] == "DELETE"


def test_response_helpers() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/echo")
        assert response.is_success and response.reason_phrase == "OK"
        assert response.raise_for_status() is response
        missing = client.get("/nope")
        assert not missing.is_success
        with pytest.raises(httpx.HTTPStatusError, match="404"):
            missing.raise_for_status()


def test_client_works_without_context_manager() -> None:
    client = TestClient(make_app())
    try:
        assert client.get("/echo").status_code == 200
    finally:
        client.close()


def test_async_client() -> None:
    async def scenario() -> list[int]:
        async with AsyncTestClient(make_app()) as client:
            responses = await asyncio.gather(*(client.get("/echo") for _ in range(20)))
            return [r.status_code for r in responses]

    assert asyncio.run(scenario()) == [200] * 20


def test_many_clients_in_sequence_do_not_leak_or_hang() -> None:
    app = make_app()
    for _ in range(30):
        with TestClient(app) as client:
            assert client.get("/echo").status_code == 200


def test_httpx_features_work_through_the_transport() -> None:
    app = App()
    seen: list[str] = []

    @app.get("/whoami")
    def whoami(request: Request) -> dict[str, object]:
        return {"auth": request.headers.get("authorization"), "cookie": request.headers.get("cookie")}

    @app.get("/login")
    def login() -> Response:
        response = Response(status_code=303, headers={"location": "/whoami"})
        response.set_cookie("session", "abc")
        return response

    @app.get("/slow")
    async def slow() -> str:
        await asyncio.sleep(1.0)
        return "late"

    def record(response: httpx.Response) -> None:
        seen.append(f"{response.request.method} {response.request.url.path} {response.status_code}")

    with TestClient(app, auth=("ann", "secret"), event_hooks={"response": [record]}) as client:
        followed = client.get("/login")
        assert followed.status_code == 200
        assert [r.status_code for r in followed.history] == [303]
        assert followed.json() == {"auth": "Basic YW5uOnNlY3JldA==", "cookie": "session=abc"}
        assert client.cookies["session"] == "abc"
        assert seen == ["GET /login 303", "GET /whoami 200"]
        not_followed = client.get("/login", follow_redirects=False)
        assert not_followed.status_code == 303 and not_followed.next_request is not None
        with pytest.raises(httpx.ReadTimeout):
            client.get("/slow", timeout=0.05)
        # the server keeps serving after a client gave up on a slow request
        assert client.get("/whoami").status_code == 200
        with client.stream("GET", "/whoami") as streamed:
            assert b"".join(streamed.iter_bytes()).startswith(b'{"auth"')
