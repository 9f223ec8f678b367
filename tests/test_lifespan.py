"""Start-up and shutdown: hooks, the lifespan context manager, app.state."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest

from ferroweb import App, Request, background
from ferroweb._lifespan import StartupFailed
from ferroweb.testing import TestClient


def test_hooks_and_lifespan_run_in_order_around_the_client() -> None:
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: App) -> AsyncIterator[dict]:
        events.append("lifespan start")
        yield {"pool": "connected"}
        events.append("lifespan end")

    app = App(lifespan=lifespan)

    @app.on_startup
    def startup() -> None:
        events.append("startup")

    @app.on_shutdown
    async def shutdown() -> None:
        events.append("shutdown")

    async def task() -> None:
        events.append("background task")

    @app.get("/")
    def index(request: Request) -> dict:
        background.run(task)
        return {"pool": request.app.state.pool}

    with TestClient(app) as client:
        assert events == ["startup", "lifespan start"]
        assert client.get("/").json() == {"pool": "connected"}
    assert events == ["startup", "lifespan start", "background task", "lifespan end", "shutdown"]


def test_a_failing_startup_hook_prevents_the_start() -> None:
    app = App()

    @app.on_startup
    async def connect() -> None:
        raise ConnectionError("database unreachable")

    with pytest.raises(StartupFailed, match="database unreachable"), TestClient(app):
        pass


def test_a_failing_shutdown_hook_is_logged_and_the_rest_run(caplog: pytest.LogCaptureFixture) -> None:
    app = App()
    ran: list[str] = []

    @app.on_shutdown
    def broken() -> None:
        raise RuntimeError("cannot close")

    @app.on_shutdown
    def after() -> None:
        ran.append("after")

    with TestClient(app):
        pass
    assert ran == ["after"]
    assert "cannot close" in caplog.text


def test_unknown_event_names_are_refused() -> None:
    with pytest.raises(ValueError):
        App().add_event_handler("teardown", lambda: None)
