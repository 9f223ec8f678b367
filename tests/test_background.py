"""Background tasks: background.run, BackgroundTasks, limits, failures and draining."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from ferroweb import App, BackgroundConfig, BackgroundTasks, ServerConfig, background
from ferroweb.testing import TestClient


def test_tasks_of_every_kind_have_run_when_the_client_exits() -> None:
    app = App()
    done: list[str] = []

    async def coroutine_function(name: str) -> None:
        await asyncio.sleep(0.01)
        done.append(name)

    def blocking(name: str) -> None:
        assert threading.current_thread() is not threading.main_thread()
        time.sleep(0.01)
        done.append(name)

    @app.post("/jobs")
    async def jobs() -> dict:
        background.run(coroutine_function, "coroutine function")
        background.run(coroutine_function("coroutine"))
        background.run(blocking, name="sync callable")
        return {"accepted": True}

    with TestClient(app) as client:
        assert client.post("/jobs").json() == {"accepted": True}
    assert sorted(done) == ["coroutine", "coroutine function", "sync callable"]


def test_background_tasks_parameter_runs_in_order_after_the_response() -> None:
    app = App()
    order: list[str] = []

    def first(value: int) -> None:
        order.append(f"first {value}")

    async def second() -> None:
        order.append("second")

    @app.post("/signup")
    def signup(tasks: BackgroundTasks, user: str) -> dict:
        tasks.add_task(first, 1)
        tasks.add_task(second)
        order.append("handler")
        return {"user": user}

    with TestClient(app) as client:
        assert client.post("/signup", params={"user": "ada"}).json() == {"user": "ada"}
    assert order == ["handler", "first 1", "second"]


def test_a_return_value_the_response_model_refuses_runs_no_background_tasks() -> None:
    app = App()
    ran: list[str] = []

    @app.post("/sync")
    def sync_handler(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(ran.append, "sync")
        return {"count": "many"}  # type: ignore[dict-item]

    @app.post("/async")
    async def async_handler(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(ran.append, "async")
        await asyncio.sleep(0)
        return {"count": "many"}  # type: ignore[dict-item]

    @app.post("/ok")
    async def ok_handler(tasks: BackgroundTasks) -> dict[str, int]:
        tasks.add_task(ran.append, "ok")
        return {"count": 1}

    with TestClient(app) as client:
        assert client.post("/sync").status_code == 500
        assert client.post("/async").status_code == 500
        assert client.post("/ok").json() == {"count": 1}
    assert ran == ["ok"]


def test_a_full_queue_answers_503_with_retry_after() -> None:
    app = App(ServerConfig(background=BackgroundConfig(max_queue=1, max_concurrency=1)))
    gate = asyncio.Event()

    async def blocked() -> None:
        await gate.wait()

    @app.post("/job")
    async def job() -> dict:
        background.run(blocked)
        return {"metrics": background.metrics()._asdict()}

    @app.post("/open")
    async def open_gate() -> str:
        gate.set()
        return "open"

    with TestClient(app) as client:
        assert client.post("/job").status_code == 200  # starts running
        assert client.post("/job").status_code == 200  # waits in the queue
        refused = client.post("/job")
        assert refused.status_code == 503
        assert refused.headers["retry-after"] == "1"
        assert refused.json()["title"] == "Service Unavailable"
        client.post("/open")


def test_a_failing_task_is_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    async def broken() -> None:
        raise ValueError("task exploded")

    @app.post("/broken")
    def start_broken() -> str:
        background.run(broken)
        return "queued"

    @app.get("/metrics")
    async def read_metrics() -> dict:
        await asyncio.sleep(0.05)
        return background.metrics()._asdict()

    with TestClient(app) as client:
        client.post("/broken")
        metrics = client.get("/metrics").json()
        assert client.get("/metrics").status_code == 200  # the worker keeps serving
    assert metrics["failed"] == 1 and metrics["running"] == 0
    assert "task exploded" in caplog.text


def test_drain_timeout_cancels_and_reports_what_was_dropped(caplog: pytest.LogCaptureFixture) -> None:
    app = App(ServerConfig(background=BackgroundConfig(max_concurrency=1, drain_timeout=0.1)))
    cancelled = []

    async def forever() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    @app.post("/forever")
    def start_forever() -> str:
        background.run(forever)
        background.run(forever)
        return "queued"

    with TestClient(app) as client:
        client.post("/forever")
    assert cancelled == [True]
    assert "cancelled 1 running and dropped 1 queued" in caplog.text


def test_run_outside_a_server_is_a_clear_error() -> None:
    with pytest.raises(RuntimeError, match="running ferroweb server"):
        background.run(print)


def test_background_config_is_validated() -> None:
    with pytest.raises(ValueError):
        BackgroundConfig(max_queue=0)
    with pytest.raises(ValueError):
        BackgroundConfig(drain_timeout=-1)
