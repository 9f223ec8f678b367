"""The hot path: request tasks for coroutines, blocking handlers, contexts."""

from __future__ import annotations

import asyncio
import contextvars
import sys
import threading

import anyio
import pytest

from ferroweb import App
from ferroweb.testing import AsyncTestClient, TestClient

request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="unset")


def test_coroutine_that_never_suspends_runs_in_its_request_task(app: App, client: TestClient) -> None:
    seen: list[asyncio.Task[object] | None] = []

    @app.get("/eager")
    async def eager() -> str:
        seen.append(asyncio.current_task())
        return "done"

    assert client.get("/eager").text == "done"
    assert client.get("/eager").text == "done"
    # Stepped in place by the dispatcher, yet asyncio sees a task: one per request, finished.
    assert len(seen) == 2 and seen[0] is not seen[1]
    assert all(task is not None and task.done() and not task.cancelled() for task in seen)


def test_coroutine_that_suspends_keeps_its_task_across_steps(app: App, client: TestClient) -> None:
    @app.get("/suspends")
    async def suspends() -> dict[str, object]:
        first = asyncio.current_task()
        await asyncio.sleep(0.01)
        second = asyncio.current_task()
        value = await asyncio.get_running_loop().run_in_executor(None, lambda: 21 * 2)
        same = first is second is asyncio.current_task() and first is not None
        return {"value": value, "same_task": same}

    assert client.get("/suspends").json() == {"value": 42, "same_task": True}


@pytest.mark.skipif(sys.version_info < (3, 11), reason="asyncio.timeout is new in 3.11")
def test_handlers_can_bound_their_waits_with_asyncio_and_anyio(app: App, client: TestClient) -> None:
    # asyncio.timeout and anyio's scopes need asyncio.current_task() from the very first step
    @app.get("/bounded")
    async def bounded() -> list[str]:
        outcomes = []
        try:
            async with asyncio.timeout(0.001):
                await asyncio.sleep(10)
        except TimeoutError:
            outcomes.append("asyncio.timeout")
        with anyio.move_on_after(0.001) as scope:
            await anyio.sleep(10)
        if scope.cancelled_caught:
            outcomes.append("anyio.move_on_after")
        return outcomes

    assert client.get("/bounded").json() == ["asyncio.timeout", "anyio.move_on_after"]


def test_sync_handlers_run_on_the_loop_thread_blocking_ones_do_not(app: App, client: TestClient) -> None:
    @app.get("/sync")
    def sync_handler() -> str:
        return threading.current_thread().name

    @app.get("/blocking", blocking=True)
    def blocking_handler() -> str:
        return threading.current_thread().name

    assert client.get("/sync").text == threading.current_thread().name
    assert client.get("/blocking").text.startswith("ferroweb-blocking")


def test_blocking_handler_does_not_stall_other_requests() -> None:
    app = App()
    release = threading.Event()

    @app.get("/wait", blocking=True)
    def wait() -> str:
        return "released" if release.wait(5) else "timeout"

    @app.get("/release")
    def do_release() -> str:
        release.set()
        return "ok"

    async def scenario() -> tuple[str, str]:
        async with AsyncTestClient(app) as client:
            waiting = asyncio.ensure_future(client.get("/wait"))
            await asyncio.sleep(0.05)
            released = await client.get("/release")
            return (await waiting).text, released.text

    assert asyncio.run(scenario()) == ("released", "ok")


def test_each_request_has_its_own_context(app: App, client: TestClient) -> None:
    @app.get("/ctx/{value}")
    async def ctx(value: str) -> dict[str, str]:
        before = request_id.get()
        request_id.set(value)
        await asyncio.sleep(0)
        return {"before": before, "after": request_id.get()}

    assert client.get("/ctx/a").json() == {"before": "unset", "after": "a"}
    assert client.get("/ctx/b").json() == {"before": "unset", "after": "b"}


def test_concurrent_requests_interleave() -> None:
    app = App()

    @app.get("/sleep/{n}")
    async def sleep(n: str) -> str:
        await asyncio.sleep(0.05)
        return n

    async def scenario() -> list[str]:
        async with AsyncTestClient(app) as client:
            responses = await asyncio.gather(*(client.get(f"/sleep/{i}") for i in range(50)))
            return [r.text for r in responses]

    loop = asyncio.new_event_loop()
    try:
        started = loop.time()
        assert loop.run_until_complete(scenario()) == [str(i) for i in range(50)]
        # 50 sleeps of 50 ms overlap instead of running one after another.
        assert loop.time() - started < 2.0
    finally:
        loop.close()


def test_handler_cancellation_of_pending_work_on_close() -> None:
    app = App()
    started = asyncio.Event

    @app.get("/forever")
    async def forever() -> str:
        await asyncio.sleep(3600)
        return "never"

    async def scenario() -> bool:
        client = AsyncTestClient(app)
        await client.__aenter__()
        pending = asyncio.ensure_future(client.get("/forever"))
        await asyncio.sleep(0.05)
        runtime = client._ferroweb.app.runtime
        assert runtime is not None
        await runtime.dispatcher.drain_tasks(timeout=0.05)
        response = await asyncio.wait_for(pending, 5)
        await client.aclose()
        return response.status_code == 500

    assert started is asyncio.Event
    assert asyncio.run(scenario())
