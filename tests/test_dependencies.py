"""Dependency injection (ferroweb.dependencies, ferroweb._dependencies): ``Depends`` graphs
resolved per route at start-up, with FastAPI's semantics."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from typing import Annotated, Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ferroweb import (
    App,
    BackgroundTasks,
    Depends,
    Header,
    HTTPException,
    Query,
    Request,
    Router,
    StreamingResponse,
    WebSocket,
)
from ferroweb.testing import AsyncTestClient, TestClient

events: list[str] = []


@pytest.fixture(autouse=True)
def clear_events() -> None:
    events.clear()


def tenant(x_tenant: Annotated[str, Header()]) -> str:
    events.append("tenant")
    return x_tenant


async def async_user(t: Annotated[str, Depends(tenant)], user: str = "anon") -> str:
    events.append("user")
    return f"{user}@{t}"


def sync_resource(name: str = "res"):  # type: ignore[no-untyped-def]
    events.append(f"open {name}")
    try:
        yield name
    except LookupError:
        events.append(f"{name} saw LookupError")
        raise
    finally:
        events.append(f"close {name}")


async def async_resource():  # type: ignore[no-untyped-def]
    events.append("open db")
    try:
        yield "db"
    finally:
        events.append("close db")


class Page:
    def __init__(self, limit: Annotated[int, Query(le=100)] = 20, *, offset: int = 0) -> None:
        self.limit = limit
        self.offset = offset


def require_admin(x_role: Annotated[str, Header()] = "user") -> None:
    events.append("require_admin")
    if x_role != "admin":
        raise HTTPException(403, "admins only")


def broken():  # type: ignore[no-untyped-def]
    yield 1
    raise RuntimeError("cleanup broke")


def first(value: Annotated[int, Depends(lambda: 0)]) -> int:
    return value


def second(value: int = Depends(first)) -> int:
    return value


def looping(value: Annotated[int, Depends(second)]) -> int:
    return value


def needs(value: Annotated[Any, Depends()]) -> None:
    return None


def pool():  # type: ignore[no-untyped-def]
    events.append("pool open")
    yield object()
    events.append("pool close")


def path_of(request: Request, tasks: BackgroundTasks) -> str:
    tasks.add_task(events.append, "task ran")
    return request.url.path


def make_app() -> App:
    app = App()

    @app.get("/user")
    async def user(u: Annotated[str, Depends(async_user)], t: str = Depends(tenant)) -> dict[str, Any]:
        return {"user": u, "tenant": t}

    @app.get("/page")
    def page(p: Annotated[Page, Depends()]) -> list[int]:
        return [p.limit, p.offset]

    @app.get("/resources")
    async def resources(
        a: Annotated[str, Depends(sync_resource)], b: Annotated[str, Depends(async_resource)]
    ) -> list[str]:
        events.append("handler")
        return [a, b]

    @app.get("/fails")
    def fails(a: Annotated[str, Depends(sync_resource)]) -> None:
        raise LookupError("gone")

    @app.get("/admin", dependencies=[Depends(require_admin)])
    def admin() -> str:
        return "welcome"

    @app.get("/uncached")
    def uncached(
        a: Annotated[str, Depends(tenant, use_cache=False)],
        b: Annotated[str, Depends(tenant, use_cache=False)],
    ) -> list[str]:
        return [a, b]

    return app


def test_factories_of_every_kind_nested_and_cached() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/user?user=ada", headers={"x-tenant": "acme"})
    assert response.json() == {"user": "ada@acme", "tenant": "acme"}
    assert events == ["tenant", "user"]  # tenant made once, for both parameters


def test_use_cache_false_calls_the_factory_each_time() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/uncached", headers={"x-tenant": "t"}).json() == ["t", "t"]
    assert events == ["tenant", "tenant"]


def test_a_class_dependency_takes_its_parameters_from_init() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/page?limit=5&offset=10").json() == [5, 10]
        assert client.get("/page").json() == [20, 0]


def test_validation_errors_of_factories_and_handler_are_reported_together() -> None:
    with TestClient(make_app()) as client:
        response = client.get("/user")
        limited = client.get("/page?limit=500&offset=x")
    assert [(e["type"], e["loc"]) for e in response.json()["errors"]] == [("missing", ["header", "x-tenant"])]
    assert [(e["type"], e["loc"]) for e in limited.json()["errors"]] == [
        ("less_than_equal", ["query", "limit"]),
        ("int_parsing", ["query", "offset"]),
    ]
    assert events == []  # nothing runs when the request is invalid


def test_generator_cleanup_runs_after_the_handler_newest_first() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/resources").json() == ["res", "db"]
    assert events == ["open res", "open db", "handler", "close db", "close res"]


def test_an_exception_in_the_handler_is_thrown_into_the_generators() -> None:
    with TestClient(make_app()) as client:
        assert client.get("/fails").status_code == 500
    assert events == ["open res", "res saw LookupError", "close res"]


def test_an_http_exception_from_a_dependency_is_the_response() -> None:
    with TestClient(make_app()) as client:
        refused = client.get("/admin")
        allowed = client.get("/admin", headers={"x-role": "admin"})
    assert refused.status_code == 403 and refused.json()["detail"] == "admins only"
    assert allowed.text == "welcome"


def test_an_error_in_cleanup_is_logged_never_sent(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/")
    def index(value: Annotated[int, Depends(broken)]) -> int:
        return value

    with caplog.at_level(logging.ERROR, "ferroweb.error"), TestClient(app) as client:
        assert client.get("/").json() == 1
    assert any("cleanup of dependency" in record.getMessage() for record in caplog.records)


def test_dependencies_of_app_router_route_and_include_run_in_that_order() -> None:
    def record(name: str) -> Any:
        def dependency() -> None:
            events.append(name)

        dependency.__qualname__ = name
        return Depends(dependency)

    app = App(dependencies=[record("app")])
    router = Router(prefix="/r", dependencies=[record("router")])

    @router.get("/x", dependencies=[record("route")])
    def handler() -> str:
        events.append("handler")
        return "ok"

    app.include_router(router, dependencies=[record("include")])
    with TestClient(app) as client:
        assert client.get("/r/x").text == "ok"
    assert events == ["app", "include", "router", "route", "handler"]


def test_a_cycle_is_refused_at_start_up_naming_the_chain() -> None:
    app = App()

    @app.get("/")
    def index(value: Annotated[int, Depends(looping)]) -> int:
        return value

    app.dependency_overrides[first] = looping
    with (
        pytest.raises(TypeError, match=r"dependency cycle .*looping -> .*second -> .*looping"),
        TestClient(app),
    ):
        pass


def test_an_unresolvable_dependency_is_a_clear_start_up_error() -> None:
    app = App()

    @app.get("/")
    def index(x: Annotated[None, Depends(needs)]) -> None:
        return None

    with pytest.raises(TypeError, match="Depends\\(\\) without a factory"), TestClient(app):
        pass


def test_overrides_replace_a_factory_and_are_undone() -> None:
    app = make_app()
    with TestClient(app) as client:
        app.dependency_overrides[tenant] = lambda: "test-tenant"
        assert client.get("/user").json() == {"user": "anon@test-tenant", "tenant": "test-tenant"}
        app.dependency_overrides.clear()
        assert client.get("/user").status_code == 422


def test_app_scoped_values_are_made_once_and_closed_at_shutdown() -> None:
    app = App()

    @app.get("/")
    def index(p: Annotated[object, Depends(pool, scope="app")]) -> int:
        return id(p)

    with TestClient(app) as client:
        first, second = client.get("/").json(), client.get("/").json()
        assert first == second
        assert events == ["pool open"]
    assert events == ["pool open", "pool close"]


def slow_pool() -> object:
    events.append("slow pool made")
    time.sleep(0.1)  # long enough for a second worker thread to arrive meanwhile
    return object()


def test_app_scoped_value_made_once_by_concurrent_blocking_handlers() -> None:
    app = App()

    @app.get("/", blocking=True)
    def index(p: Annotated[object, Depends(slow_pool, scope="app")]) -> int:
        return id(p)

    async def scenario() -> set[int]:
        async with AsyncTestClient(app) as client:
            responses = await asyncio.gather(*(client.get("/") for _ in range(4)))
            return {response.json() for response in responses}

    assert len(asyncio.run(scenario())) == 1
    assert events == ["slow pool made"]


def test_a_streamed_body_ends_before_the_cleanup() -> None:
    app = App()

    @app.get("/")
    async def index(db: Annotated[str, Depends(async_resource)]) -> StreamingResponse:
        async def body() -> Any:
            events.append("chunk")
            yield db.encode()

        return StreamingResponse(body())

    with TestClient(app) as client:
        assert client.get("/").text == "db"
    assert events == ["open db", "chunk", "close db"]


def test_request_background_tasks_and_blocking_handlers_work_in_dependencies() -> None:
    app = App()

    @app.get("/where", blocking=True)
    def where(path: Annotated[str, Depends(path_of)], r: Annotated[str, Depends(sync_resource)]) -> str:
        events.append("handler")
        return path

    with TestClient(app) as client:
        assert client.get("/where").text == "/where"
    assert [event for event in events if event != "task ran"] == ["open res", "handler", "close res"]
    assert "task ran" in events


def test_websocket_routes_take_dependencies() -> None:
    app = App()

    @app.websocket("/ws")
    async def ws(websocket: WebSocket, db: Annotated[str, Depends(async_resource)]) -> None:
        await websocket.accept()
        await websocket.send_text(db)
        await websocket.close()

    with TestClient(app) as client, client.websocket_connect("/ws") as connection:
        assert connection.receive_text() == "db"
    assert events[0] == "open db"


# -- property: random graphs --------------------------------------------------------------------


@st.composite
def graphs(draw: st.DrawFn) -> tuple[list[list[int]], list[int], list[bool]]:
    """Each factory i depends on some factories below i; the handler on some of them."""
    size = draw(st.integers(1, 7))
    edges = [draw(st.lists(st.integers(0, i - 1), unique=True, max_size=3)) if i else [] for i in range(size)]
    used = draw(st.lists(st.integers(0, size - 1), unique=True, min_size=1, max_size=size))
    generators = draw(st.lists(st.booleans(), min_size=size, max_size=size))
    return edges, used, generators


def _factory(index: int, depends_on: list[Any], generator: bool, log: list[tuple[str, int]]) -> Any:
    parameters = [
        inspect.Parameter(f"p{j}", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, Depends(dep)])
        for j, dep in enumerate(depends_on)
    ]
    if generator:

        def made(**values: Any) -> Any:
            log.append(("setup", index))
            yield index
            log.append(("cleanup", index))

    else:

        def made(**values: Any) -> Any:
            log.append(("setup", index))
            return index

    made.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    made.__qualname__ = f"factory{index}"
    return made


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_call_each_factory_once_and_clean_up_in_reverse(
    graph: tuple[list[list[int]], list[int], list[bool]],
) -> None:
    edges, used, generators = graph
    log: list[tuple[str, int]] = []
    factories: list[Any] = []
    for index, depends_on in enumerate(edges):
        factories.append(_factory(index, [factories[j] for j in depends_on], generators[index], log))
    handler_parameters = [
        inspect.Parameter(
            f"h{i}", inspect.Parameter.KEYWORD_ONLY, annotation=Annotated[Any, Depends(factories[i])]
        )
        for i in used
    ]

    def handler(**values: Any) -> list[Any]:
        return sorted(values.values())

    handler.__signature__ = inspect.Signature(handler_parameters)  # type: ignore[attr-defined]
    app = App()
    app.add_route("/", handler)
    reachable: set[int] = set()
    pending = list(used)
    while pending:
        node = pending.pop()
        if node not in reachable:
            reachable.add(node)
            pending.extend(edges[node])
    with TestClient(app) as client:
        for _ in range(2):
            log.clear()
            assert client.get("/").json() == sorted(used)
            setups = [index for step, index in log if step == "setup"]
            cleanups = [index for step, index in log if step == "cleanup"]
            assert sorted(setups) == sorted(reachable)  # each once, only those needed
            for index in setups:  # a factory is set up after what it depends on
                assert all(setups.index(dep) < setups.index(index) for dep in edges[index])
            assert cleanups == [index for index in reversed(setups) if generators[index]]
