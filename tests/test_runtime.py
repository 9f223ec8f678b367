"""AppRuntime: one start-up and one shutdown order for the server and the test client, and
background supervisors bound with ``background.use``."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ferroweb import App, BackgroundConfig, WebSocket, WebSocketDisconnect, background
from ferroweb._runtime import AppRuntime
from ferroweb.testing import AsyncTestClient


def test_shutdown_finishes_requests_then_drains_tasks_then_runs_hooks() -> None:
    app = App()
    events: list[str] = []

    async def slow_task() -> None:
        await asyncio.sleep(0.3)
        events.append("background task done")

    @app.get("/start-task")
    def start_task() -> str:
        background.run(slow_task)
        return "started"

    @app.get("/slow")
    async def slow() -> str:
        await asyncio.sleep(0.1)
        events.append("request done")
        return "done"

    @app.on_shutdown
    def hook() -> None:
        events.append("shutdown hook")

    async def scenario() -> str:
        client = AsyncTestClient(app)
        await client.__aenter__()
        assert (await client.get("/start-task")).text == "started"
        pending = asyncio.ensure_future(client.get("/slow"))
        await asyncio.sleep(0.02)  # the slow request is in flight
        closing = asyncio.ensure_future(client.aclose())
        response = await pending
        await closing
        return response.text

    assert asyncio.run(scenario()) == "done"
    assert events == ["request done", "background task done", "shutdown hook"]


def test_shutdown_closes_open_websockets_with_1001() -> None:
    app = App()
    codes: list[int] = []

    @app.websocket("/ws")
    async def listen(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive()
        except WebSocketDisconnect as exc:
            codes.append(exc.code)

    async def scenario() -> None:
        client = AsyncTestClient(app)
        await client.__aenter__()
        manager = client.websocket_connect("/ws")
        await manager.__aenter__()
        await asyncio.sleep(0.02)
        await client.aclose()
        await manager.__aexit__(None, None, None)

    asyncio.run(scenario())
    assert codes == [1001]


def test_an_engine_that_fails_to_start_undoes_the_start_up() -> None:
    app = App()
    events: list[str] = []
    app.on_startup(lambda: events.append("startup"))
    app.on_shutdown(lambda: events.append("shutdown"))

    def refuse(*_: Any) -> Any:
        raise OSError("address already in use")

    async def scenario() -> None:
        runtime = AppRuntime(app, asyncio.get_running_loop())
        with pytest.raises(OSError, match="address already in use"):
            await runtime.start(refuse)

    asyncio.run(scenario())
    assert events == ["startup", "shutdown"]


def test_a_handler_the_framework_cannot_serve_fails_before_start_up() -> None:
    app = App()
    events: list[str] = []
    app.on_startup(lambda: events.append("startup"))

    @app.get("/bad")
    def bad(*args: int) -> None: ...

    async def scenario() -> None:
        AppRuntime(app, asyncio.get_running_loop())

    with pytest.raises(TypeError, match=r"\*args/\*\*kwargs"):
        asyncio.run(scenario())
    assert events == []


def test_the_async_client_starts_the_app_on_first_use_without_a_context_manager() -> None:
    app = App()
    events: list[str] = []
    app.on_startup(lambda: events.append("startup"))
    app.on_shutdown(lambda: events.append("shutdown"))
    app.get("/")(lambda: "ok")

    async def scenario() -> list[str]:
        client = AsyncTestClient(app)
        texts = [r.text for r in await asyncio.gather(*(client.get("/") for _ in range(5)))]
        await client.aclose()
        return texts

    assert asyncio.run(scenario()) == ["ok"] * 5
    assert events == ["startup", "shutdown"]


def test_routes_added_after_the_start_are_served() -> None:
    app = App()
    app.get("/first")(lambda: "first")

    async def scenario() -> tuple[str, str, int]:
        async with AsyncTestClient(app) as client:
            first = (await client.get("/first")).text
            app.get("/second")(lambda: "second")
            second = (await client.get("/second")).text
            app.add_exception_handler(404, lambda request, exc: {"missing": request.path})
            missing = await client.get("/third")
            return first, second, missing.status_code

    assert asyncio.run(scenario()) == ("first", "second", 404)


# -- background.use ------------------------------------------------------------------------------


def _supervisor(loop: asyncio.AbstractEventLoop, executor: ThreadPoolExecutor) -> background.Supervisor:
    return background.Supervisor(BackgroundConfig(), loop, lambda: executor)


def test_background_run_uses_the_supervisor_bound_around_it() -> None:
    done: list[str] = []

    async def job(name: str) -> None:
        done.append(name)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as executor:
            supervisor = _supervisor(loop, executor)
            with pytest.raises(RuntimeError, match="need a running ferroweb server"):
                background.run(job, "unbound")
            with background.use(supervisor) as bound:
                assert bound is supervisor
                background.run(job, "bound")
                assert background.metrics().queued == 1
            with pytest.raises(RuntimeError):
                background.run(job, "after")
            await supervisor.drain()

    asyncio.run(scenario())
    assert done == ["bound"]


def test_tasks_started_inside_the_block_keep_the_supervisor() -> None:
    done: list[str] = []

    async def job() -> None:
        done.append("job")

    async def later() -> None:
        await asyncio.sleep(0)
        background.run(job)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as executor:
            supervisor = _supervisor(loop, executor)
            with background.use(supervisor):
                task = asyncio.ensure_future(later())
            await task
            await supervisor.drain()

    asyncio.run(scenario())
    assert done == ["job"]


def test_a_process_wide_supervisor_serves_other_threads_until_the_block_ends() -> None:
    done: list[str] = []
    refused: list[BaseException] = []

    def job(name: str) -> None:
        done.append(name)

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        with ThreadPoolExecutor(1) as executor:
            supervisor = _supervisor(loop, executor)
            with background.use(supervisor, process_wide=True):
                thread = threading.Thread(target=background.run, args=(job, "from a thread"))
                thread.start()
                thread.join()
            await asyncio.sleep(0.05)

            def outside() -> None:
                try:
                    background.run(job, "too late")
                except RuntimeError as exc:
                    refused.append(exc)

            thread = threading.Thread(target=outside)
            thread.start()
            thread.join()
            await supervisor.drain()

    asyncio.run(scenario())
    assert done == ["from a thread"]
    assert len(refused) == 1
