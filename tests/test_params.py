"""Parameter declaration (ferroweb.params, ferroweb._params): sources, markers, registration
errors, and the per-request conversion paths (core-converted, Python-converted, bodies)."""

from __future__ import annotations

import dataclasses
import enum
from decimal import Decimal
from typing import Annotated, Any, TypedDict

import msgspec
import pytest

from ferroweb import App, BackgroundTasks, Request, WebSocket
from ferroweb.params import Body, Cookie, File, Form, Header, Path, Query, UploadFile
from ferroweb.testing import TestClient


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict):
    x: int
    y: int


@dataclasses.dataclass
class Tag:
    label: str
    weight: int = 1


class Basket(msgspec.Struct):
    tags: list[Tag]
    labels: list[str]


def errors_of(response: Any) -> list[tuple[str, list[Any]]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return [(error["type"], error["loc"]) for error in response.json()["errors"]]


def test_fastapi_style_defaults_and_markers() -> None:
    app = App()

    @app.get("/search")
    def search(
        q: str = Query(..., min_length=2),
        page: int = Query(1, ge=1),
        tags: list[str] = Query(default_factory=list),
        color: Color = Color.RED,
        price: Decimal | None = None,
    ) -> dict[str, Any]:
        tags.append("seen")  # a fresh list per request: must not leak into the next one
        return {"q": q, "page": page, "tags": tags, "color": color, "price": price}

    with TestClient(app) as client:
        assert client.get("/search?q=ab").json() == {
            "q": "ab",
            "page": 1,
            "tags": ["seen"],
            "color": "red",
            "price": None,
        }
        second = client.get("/search?q=ab&page=3&tags=x&color=blue&price=1.50").json()
        assert second == {"q": "ab", "page": 3, "tags": ["x", "seen"], "color": "blue", "price": "1.50"}
        assert errors_of(client.get("/search?q=a&page=0&color=green&price=abc")) == [
            ("string_too_short", ["query", "q"]),
            ("greater_than_equal", ["query", "page"]),
            ("enum", ["query", "color"]),
            ("decimal_parsing", ["query", "price"]),
        ]


def test_headers_cookies_aliases() -> None:
    app = App()

    @app.get("/who")
    def who(
        x_token: Annotated[str, Header()],
        raw_name: Annotated[str | None, Header(convert_underscores=False)] = None,
        agent: Annotated[str, Header(alias="User-Agent")] = "-",
        session_id: Annotated[int | None, Cookie(alias="sid")] = None,
        trace: Annotated[list[str], Header(alias="x-trace")] = [],  # noqa: B006
    ) -> dict[str, Any]:
        return {"token": x_token, "raw": raw_name, "agent": agent, "sid": session_id, "trace": trace}

    with TestClient(app) as client:
        response = client.get(
            "/who",
            headers=[
                ("X-Token", "t"),
                ("raw_name", "r"),
                ("user-agent", "ua"),
                ("X-Trace", "a"),
                ("x-trace", "b"),
                ("cookie", "sid=42"),
            ],
        )
        assert response.json() == {"token": "t", "raw": "r", "agent": "ua", "sid": 42, "trace": ["a", "b"]}
        assert errors_of(client.get("/who", headers={"cookie": "sid=x"})) == [
            ("missing", ["header", "x-token"]),
            ("int_parsing", ["cookie", "sid"]),
        ]


def test_path_parameters_are_typed_and_required() -> None:
    app = App()

    @app.get("/files/{owner}/{name:path}")
    def file(owner: Annotated[int, Path(gt=0)], name: str) -> dict[str, Any]:
        return {"owner": owner, "name": name}

    with TestClient(app) as client:
        assert client.get("/files/7/a/b.txt").json() == {"owner": 7, "name": "a/b.txt"}
        assert errors_of(client.get("/files/0/x")) == [("greater_than", ["path", "owner"])]


def test_body_kinds_and_embedding() -> None:
    app = App()

    @app.post("/points")
    def points(point: Point, tag: Tag, note: Annotated[str, Body()] = "") -> dict[str, Any]:
        return {"point": point, "tag": tag, "note": note}

    @app.post("/single")
    def single(tag: Annotated[Tag, Body(embed=True)]) -> Tag:
        return tag

    with TestClient(app) as client:
        response = client.post("/points", json={"point": {"x": 1, "y": 2}, "tag": {"label": "a"}})
        assert response.json() == {"point": {"x": 1, "y": 2}, "tag": {"label": "a", "weight": 1}, "note": ""}
        assert errors_of(client.post("/points", json={"point": {"x": "1"}, "tag": []})) == [
            ("int_type", ["body", "point", "x"]),
            ("missing", ["body", "point", "y"]),
            ("model_attributes_type", ["body", "tag"]),
        ]
        assert client.post("/single", json={"tag": {"label": "b", "weight": 3}}).json() == {
            "label": "b",
            "weight": 3,
        }
        assert errors_of(client.post("/single", json={"label": "b"})) == [("missing", ["body", "tag"])]


def test_body_status_codes() -> None:
    app = App()

    @app.post("/tags")
    def create(tag: Tag) -> Tag:
        return tag

    with TestClient(app) as client:
        malformed = client.post("/tags", content=b'{"label": ', headers={"content-type": "application/json"})
        assert malformed.status_code == 400
        assert malformed.json()["errors"][0]["type"] == "json_invalid"
        wrong_type = client.post("/tags", content=b"{}", headers={"content-type": "text/plain"})
        assert wrong_type.status_code == 415
        assert client.post(
            "/tags", content=b'{"label":"x"}', headers={"content-type": "application/vnd.x+json"}
        ).json() == {
            "label": "x",
            "weight": 1,
        }
        assert errors_of(client.post("/tags")) == [("missing", ["body"])]


def test_forms_and_files() -> None:
    app = App(config=App().config.replace(max_form_field_size=10))

    @app.post("/login")
    def login(user: Annotated[str, Form()], remember: Annotated[bool, Form()] = False) -> dict[str, Any]:
        return {"user": user, "remember": remember}

    with TestClient(app) as client:
        assert client.post("/login", data={"user": "ada", "remember": "on"}).json() == {
            "user": "ada",
            "remember": True,
        }
        assert client.post("/login", files={"x": ("a.txt", b"1")}, data={"user": "bob"}).json() == {
            "user": "bob",
            "remember": False,
        }
        assert client.post("/login", data={"user": "x" * 11}).status_code == 413
        assert client.post("/login", json={"user": "ada"}).status_code == 415


def test_form_lists_take_bracketed_keys() -> None:
    app = App()

    @app.post("/tags")
    def tags(
        tags: Annotated[list[str], Form()],
        ids: Annotated[list[int], Form()] = [],  # noqa: B006
        title: Annotated[str, Form()] = "",
    ) -> dict[str, Any]:
        return {"tags": tags, "ids": ids, "title": title}

    with TestClient(app) as client:
        body = "tags[]=a&tags[]=b&ids[]=1&ids=2&title[]=ignored&title=t"
        headers = {"content-type": "application/x-www-form-urlencoded"}
        # plain keys first, then the bracketed ones; a scalar field never reads `name[]`
        assert client.post("/tags", content=body, headers=headers).json() == {
            "tags": ["a", "b"],
            "ids": [2, 1],
            "title": "t",
        }
        multipart = client.post("/tags", files=[("tags[]", (None, b"x")), ("tags", (None, b"y"))])
        assert multipart.json()["tags"] == ["y", "x"]
        errors = errors_of(client.post("/tags", content="tags[]=a&ids[]=one", headers=headers))
        assert errors == [("int_parsing", ["body", "ids", 0])]


def test_request_alongside_typed_parameters() -> None:
    app = App()

    @app.get("/mixed/{n}")
    def mixed(request: Request, n: int, flag: bool = False) -> dict[str, Any]:
        return {"path": request.url.path, "n": n, "flag": flag}

    with TestClient(app) as client:
        assert client.get("/mixed/3?flag=yes").json() == {"path": "/mixed/3", "n": 3, "flag": True}


@pytest.mark.parametrize(
    ("declare", "message"),
    [
        (lambda app: app.get("/a")(lambda x=Path(): x), "not in the route"),
        (lambda app: app.get("/a/{x}")(lambda x=Query(): x), "is a path parameter"),
        (lambda app: app.get("/a")(lambda x=Query(1, default_factory=list): x), "either a default"),
        (lambda app: app.get("/a")(lambda *x: x), r"\*args"),
    ],
)
def test_bad_declarations_fail_at_registration(declare: Any, message: str) -> None:
    app = App()
    with pytest.raises(TypeError, match=message):
        declare(app)
        TestClient(app).get("/")


class Custom:
    pass


def test_unsupported_parameter_type_is_refused() -> None:
    app = App()

    @app.get("/c")
    def custom(value: Annotated[Custom, Query()]) -> None:
        return None

    with pytest.raises(TypeError, match="cannot convert"):
        TestClient(app).get("/c")


class Item(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    tags: Annotated[list[str], msgspec.Meta(max_length=1)] = []


def test_struct_body_with_constraints_reports_every_error() -> None:
    app = App()

    @app.post("/items")
    def create(item: Item) -> Item:
        return item

    with TestClient(app) as client:
        assert errors_of(client.post("/items", json={"name": "", "tags": ["a", 2], "x": 1})) == [
            ("string_too_short", ["body", "name"]),
            ("too_long", ["body", "tags"]),
            ("string_type", ["body", "tags", 1]),
            ("extra_forbidden", ["body", "x"]),
        ]


def test_unresolvable_annotation_is_a_clear_registration_error() -> None:
    app = App()

    class Local(msgspec.Struct):
        a: int

    @app.post("/local")
    def local(item: Local) -> None:  # a string annotation naming a class get_type_hints cannot see
        return None

    with pytest.raises(TypeError, match="cannot resolve the annotation 'Local'"):
        TestClient(app).get("/")


def test_defaulted_dataclass_fields_survive_nesting() -> None:
    # msgspec leaves a decoded dataclass's defaults on the class; the body reader copies them
    # onto instances only for types that can hold a dataclass, however deeply.
    app = App()

    @app.post("/basket")
    def basket(basket: Basket) -> dict[str, Any]:
        return {"weights": [vars(tag) for tag in basket.tags], "labels": basket.labels}

    with TestClient(app) as client:
        response = client.post(
            "/basket", json={"tags": [{"label": "a"}, {"label": "b", "weight": 5}], "labels": ["x"]}
        )
    assert response.json() == {
        "weights": [{"label": "a", "weight": 1}, {"label": "b", "weight": 5}],
        "labels": ["x"],
    }


def test_keyword_only_parameters_work_like_the_others() -> None:
    app = App()
    seen: list[str] = []

    # FastAPI's documented shape: a defaulted marker first, then a required plain parameter
    @app.get("/items/{item_id}")
    async def read_items(*, item_id: int = Path(ge=1), q: str) -> dict[str, Any]:
        return {"item_id": item_id, "q": q}

    @app.post("/mixed/{kind}")
    def mixed(
        kind: str,
        request: Request,
        /,
        item: Item,
        *,
        tasks: BackgroundTasks,
        token: Annotated[str, Header(alias="x-token")],
        limit: int = 10,
    ) -> dict[str, Any]:
        tasks.add_task(seen.append, kind)
        return {"kind": kind, "path": request.url.path, "name": item.name, "token": token, "limit": limit}

    @app.get("/blocking", blocking=True)
    def blocking(*, n: Annotated[int, Query(le=5)]) -> int:
        return n * 2

    @app.get("/modelled", response_model=list[int])
    async def modelled(*, n: int) -> list[Any]:
        return list(range(n))

    @app.websocket("/ws/{room}")
    async def chat(websocket: WebSocket, *, room: str, user: str) -> None:
        await websocket.accept()
        await websocket.send_json({"room": room, "user": user})
        await websocket.close()

    with TestClient(app) as client:
        assert client.get("/items/3?q=x").json() == {"item_id": 3, "q": "x"}
        assert errors_of(client.get("/items/0")) == [
            ("greater_than_equal", ["path", "item_id"]),
            ("missing", ["query", "q"]),
        ]
        mixed_response = client.post("/mixed/a?limit=2", json={"name": "n"}, headers={"x-token": "t"})
        assert mixed_response.json() == {
            "kind": "a",
            "path": "/mixed/a",
            "name": "n",
            "token": "t",
            "limit": 2,
        }
        assert errors_of(client.post("/mixed/a", json={"name": ""})) == [
            ("string_too_short", ["body", "name"]),
            ("missing", ["header", "x-token"]),
        ]
        assert client.get("/blocking?n=2").json() == 4
        assert errors_of(client.get("/blocking?n=6")) == [("less_than_equal", ["query", "n"])]
        assert client.get("/modelled?n=2").json() == [0, 1]
        with client.websocket_connect("/ws/r1?user=ann") as session:
            assert session.receive_json() == {"room": "r1", "user": "ann"}
    assert seen == ["a"]


def test_json_depth_limit_is_configurable_and_the_decoders_own_limit_is_a_400() -> None:
    from ferroweb.config import ServerConfig

    with pytest.raises(ValueError, match="max_json_depth"):
        ServerConfig(max_json_depth=0)

    def app_with(depth: int) -> App:
        app = App(config=App().config.replace(max_json_depth=depth))

        @app.post("/tree")
        def tree(data: Annotated[list[Any], Body()]) -> dict[str, int]:
            return {"n": len(data)}

        return app

    headers = {"content-type": "application/json"}
    with TestClient(app_with(2)) as client:
        assert client.post("/tree", content=b"[[1]]", headers=headers).json() == {"n": 1}
        refused = client.post("/tree", content=b"[[[1]]]", headers=headers)
        assert refused.status_code == 400
        assert refused.json()["detail"] == "JSON body nested more than 2 levels deep"
    # a limit beyond what the decoder can recurse still answers 400, never 500
    with TestClient(app_with(1_000_000)) as client:
        deep = client.post("/tree", content=b"[" * 100_000 + b"]" * 100_000, headers=headers)
        assert deep.status_code == 400
        assert deep.json()["detail"] == "JSON body nested deeper than the decoder can recurse"


def test_every_spelling_of_an_upload_parameter_reads_the_file_part() -> None:
    app = App()

    @app.post("/upload")
    async def upload(
        bare: UploadFile,
        marked: Annotated[UploadFile, File()],
        as_form: Annotated[UploadFile, Form()],
        many: Annotated[list[UploadFile], File()],
        nameless: UploadFile,
        note: Annotated[str, Form()] = "",
    ) -> dict[str, Any]:
        def shown(upload: UploadFile) -> list[Any]:
            return [upload.filename, upload.content_type, upload.file.read().decode()]

        return {
            "bare": shown(bare),
            "marked": shown(marked),
            "as_form": shown(as_form),
            "many": [shown(item) for item in many],
            "nameless": shown(nameless),
            "nameless_headers": dict(nameless.headers.items()),
            "x_part": marked.headers.get("x-part"),
            "note": note,
        }

    boundary = "ferrowebtestboundary"
    parts = [
        ("bare", 'filename="a.txt"', "text/plain", "A", ""),
        ("marked", 'filename="b.txt"', "text/plain", "B", "X-Part: second\r\n"),
        ("as_form", 'filename="c.csv"', "text/csv", "C", ""),
        ("many", 'filename="d1.txt"', "text/plain", "D1", ""),
        ("many", 'filename="d2.txt"', "text/plain", "D2", ""),
        ("nameless", None, "application/json", "{}", ""),
        ("note", None, None, "hello", ""),
    ]
    body = ""
    for name, filename, content_type, content, extra in parts:
        disposition = f'form-data; name="{name}"' + (f"; {filename}" if filename else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            body += f"Content-Type: {content_type}\r\n"
        body += f"{extra}\r\n{content}\r\n"
    body += f"--{boundary}--\r\n"
    headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
    with TestClient(app) as client:
        response = client.post("/upload", content=body.encode(), headers=headers)
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["bare"] == ["a.txt", "text/plain", "A"]
    assert data["marked"] == ["b.txt", "text/plain", "B"]
    assert data["as_form"] == ["c.csv", "text/csv", "C"]
    assert data["many"] == [["d1.txt", "text/plain", "D1"], ["d2.txt", "text/plain", "D2"]]
    # a part with no filename is still a file for a file parameter (and only for one)
    assert data["nameless"] == [None, "application/json", "{}"]
    assert data["nameless_headers"]["content-disposition"] == 'form-data; name="nameless"'
    assert data["x_part"] == "second"
    assert data["note"] == "hello"


def test_an_unmarked_dict_parameter_is_the_json_body() -> None:
    app = App()

    @app.post("/settings")
    def settings(data: dict[str, int], dry_run: bool = False) -> dict[str, Any]:
        return {"data": data, "dry_run": dry_run}

    with TestClient(app) as client:
        assert client.post("/settings?dry_run=1", json={"a": 1}).json() == {"data": {"a": 1}, "dry_run": True}
        assert errors_of(client.post("/settings", json={"a": "x"})) == [("int_type", ["body", "a"])]
