from __future__ import annotations

from ferroweb import App, Request
from ferroweb.requests import parse_cookie_header
from ferroweb.testing import TestClient


def test_request_view(app: App, client: TestClient) -> None:
    @app.post("/inspect/{name}")
    async def inspect(request: Request) -> dict[str, object]:
        return {
            "method": request.method,
            "path": request.path,
            "path_params": request.path_params,
            "query": request.query_params.multi_items(),
            "last_a": request.query_params["a"],
            "all_a": request.query_params.getlist("a"),
            "header": request.headers["X-Custom"],
            "header_list": request.headers.getlist("x-multi"),
            "has_header": "X-CUSTOM" in request.headers,
            "cookies": request.cookies,
            "client": list(request.client or ()),
            "url": str(request.url),
            "body": (await request.body()).decode(),
            "json": await request.json(),
            "version": request.http_version,
        }

    response = client.post(
        "/inspect/n%C3%A9?a=1&b=x+y&a=2",
        json={"k": "v"},
        headers={"x-custom": "yes", "x-multi": "1", "cookie": "c=3"},
    )
    data = response.json()
    assert data["method"] == "POST"
    assert data["path"] == "/inspect/n%C3%A9"
    assert data["path_params"] == {"name": "né"}
    assert data["query"] == [["a", "1"], ["b", "x y"], ["a", "2"]]
    assert (data["last_a"], data["all_a"]) == ("2", ["1", "2"])
    assert (data["header"], data["header_list"], data["has_header"]) == ("yes", ["1"], True)
    assert data["cookies"] == {"c": "3"}
    assert data["client"] == ["testclient", 50000]
    assert data["url"] == "http://testserver/inspect/n%C3%A9?a=1&b=x+y&a=2"
    assert data["body"] == '{"k":"v"}'
    assert data["json"] == {"k": "v"}
    assert data["version"] == "1.1"


def test_request_found_by_annotation(app: App, client: TestClient) -> None:
    @app.get("/ann")
    def handler(req: Request) -> str:
        return req.method

    assert client.get("/ann").text == "GET"


def test_malformed_json_is_400_problem(app: App, client: TestClient) -> None:
    @app.post("/j")
    async def handler(request: Request) -> object:
        return await request.json()

    response = client.post("/j", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "Malformed JSON" in response.json()["detail"]


def test_query_parameters_by_name(app: App, client: TestClient) -> None:
    @app.get("/q")
    def handler(q: str, page: str = "1", tag: list[str] = []) -> dict[str, object]:  # noqa: B006
        tag.append("mutated")
        return {"q": q, "page": page, "tag": tag}

    assert client.get("/q", params={"q": "x"}).json() == {"q": "x", "page": "1", "tag": ["mutated"]}
    # the default list is copied per request, never shared
    assert client.get("/q", params={"q": "x"}).json()["tag"] == ["mutated"]
    assert client.get("/q", params=[("q", "y"), ("tag", "a"), ("tag", "b")]).json()["tag"] == [
        "a",
        "b",
        "mutated",
    ]


def test_missing_query_parameter_is_422_with_errors(app: App, client: TestClient) -> None:
    app.get("/need")(lambda q, r: q + r)
    response = client.get("/need")
    assert response.status_code == 422
    body = response.json()
    assert body["status"] == 422
    assert body["errors"] == [
        {"type": "missing", "loc": ["query", "q"], "msg": "Field required", "input": None},
        {"type": "missing", "loc": ["query", "r"], "msg": "Field required", "input": None},
    ]


def test_non_utf8_header_is_read_as_latin1(app: App, client: TestClient) -> None:
    @app.get("/h")
    def handler(request: Request) -> str:
        return request.headers.get("x-name", "none")

    assert client.get("/h", headers={"x-name": "plain"}).text == "plain"


def test_cookie_parser_is_tolerant() -> None:
    assert parse_cookie_header('a=1; b="quoted"; flag; c=x=y; ;') == {
        "a": "1",
        "b": "quoted",
        "": "flag",
        "c": "x=y",
    }


def test_url_scheme_follows_the_request() -> None:
    app = App()

    @app.get("/where")
    def where(request: Request) -> str:
        return str(request.url)

    with TestClient(app) as client:
        assert client.get("/where?a=1").text == "http://testserver/where?a=1"
    with TestClient(app, base_url="https://testserver") as secure:
        assert secure.get("/where").text == "https://testserver/where"
