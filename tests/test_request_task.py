"""RequestTask: drives a request's coroutine, and keeps the Task protocol asyncio and anyio use.

Each test starts a coroutine the way the dispatcher does (from a loop callback, in a fresh
context) on both the stdlib loop and uvloop, and waits for the reported outcome. Where the
outcome depends on how this Python's asyncio treats a Task (``TaskGroup`` leaves one
cancellation request behind on 3.11, not on 3.12), it is compared with the same coroutine run
in a real ``asyncio.Task``.
"""

from __future__ import annotations

import asyncio
import contextvars
import gc
import io
import sys
import weakref
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import anyio
import pytest
import uvloop

from ferroweb._request_task import RequestTask, start_request_task

Outcome = tuple[Any, Any, "BaseException | None"]
marker: contextvars.ContextVar[str] = contextvars.ContextVar("marker", default="outside")


@pytest.fixture(params=["asyncio", "uvloop"])
def loop(request: pytest.FixtureRequest) -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop() if request.param == "asyncio" else uvloop.new_event_loop()
    try:
        yield loop
    finally:
        loop.close()


class Run:
    """One coroutine driven to its end: the task, its reported outcome, the live set."""

    def __init__(self, loop: asyncio.AbstractEventLoop, make: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        self.loop = loop
        self.live: set[asyncio.Future[Any]] = set()
        self.reports: list[Outcome] = []
        self.task: RequestTask | None = None
        self.suspended = False
        self._outcome = loop.create_future()

        def report(subject: Any, result: Any, error: BaseException | None) -> None:
            self.reports.append((subject, result, error))
            self._outcome.set_result(None)

        def begin() -> None:
            context = contextvars.copy_context()
            self.task = context.run(start_request_task, make(), loop, context, "subject", report, self.live)
            self.suspended = self.task in self.live

        loop.call_soon(begin)

    def outcome(self, timeout: float = 5.0) -> Outcome:
        self.loop.run_until_complete(asyncio.wait_for(self._outcome, timeout))
        assert len(self.reports) == 1
        return self.reports[0]


def in_a_real_task(loop: asyncio.AbstractEventLoop, make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    return loop.run_until_complete(asyncio.wait_for(loop.create_task(make()), 5.0))


async def error_at_await(awaitable: Any, expected: type[BaseException]) -> str:
    """The text of the ``expected`` error raised at ``await awaitable``, else "accepted"."""
    try:
        await awaitable
    except expected as exc:
        return str(exc)
    return "accepted"


def test_a_coroutine_that_returns_at_once_is_reported_and_never_kept(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[object] = []

    async def handler() -> str:
        seen.append(asyncio.current_task())
        return "done"

    run = Run(loop, handler)
    assert run.outcome() == ("subject", "done", None)
    assert seen == [run.task]
    assert run.task is not None and run.task.done() and run.task.result() is None
    assert not run.suspended and not run.live


def test_a_suspending_coroutine_is_the_same_task_at_every_step(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[object] = []

    async def handler() -> int:
        seen.append(asyncio.current_task())
        await asyncio.sleep(0.001)
        seen.append(asyncio.current_task())
        await asyncio.sleep(0)  # a bare yield: resumed on the next loop turn
        seen.append(asyncio.current_task())
        return await asyncio.get_running_loop().run_in_executor(None, lambda: 6 * 7)

    run = Run(loop, handler)
    assert run.outcome() == ("subject", 42, None)
    assert run.suspended
    assert seen == [run.task] * 3
    assert not run.live  # removed once it ended
    # outside the handler, nothing is the current task of this loop any more
    assert asyncio.tasks._current_tasks.get(loop) is None  # type: ignore[attr-defined]


def test_an_exception_is_reported_not_raised(loop: asyncio.AbstractEventLoop) -> None:
    async def handler() -> None:
        await asyncio.sleep(0)
        raise ValueError("bad input")

    run = Run(loop, handler)
    subject, result, error = run.outcome()
    assert (subject, result) == ("subject", None)
    assert isinstance(error, ValueError) and str(error) == "bad input"
    # the task's own result is not the exception: nobody is left to retrieve it
    assert run.task is not None and run.task.result() is None


def test_awaited_results_and_exceptions_reach_the_coroutine(loop: asyncio.AbstractEventLoop) -> None:
    async def handler() -> list[object]:
        running = asyncio.get_running_loop()
        ok: asyncio.Future[str] = running.create_future()
        failing: asyncio.Future[str] = running.create_future()
        running.call_later(0.001, ok.set_result, "value")
        running.call_later(0.002, failing.set_exception, KeyError("missing"))
        got: list[object] = [await ok]
        try:
            await failing
        except KeyError as exc:
            got.append(exc.args[0])
        return got

    assert Run(loop, handler).outcome()[1:] == (["value", "missing"], None)


def test_each_step_runs_in_the_request_context(loop: asyncio.AbstractEventLoop) -> None:
    async def handler() -> tuple[str, str]:
        before = marker.get()
        marker.set("inside")
        await asyncio.sleep(0.001)
        return before, marker.get()

    assert Run(loop, handler).outcome()[1] == ("outside", "inside")
    assert marker.get() == "outside"


def test_cancel_while_waiting_reaches_the_await_and_can_be_handled(loop: asyncio.AbstractEventLoop) -> None:
    async def handler() -> tuple[str, int, int]:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().call_later(0.001, task.cancel, "stop")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError as exc:
            message = str(exc)
            requested = task.cancelling()
            return message, requested, task.uncancel()
        return "not cancelled", 0, 0

    run = Run(loop, handler)
    assert run.outcome()[1:] == (("stop", 1, 0), None)
    assert run.task is not None and not run.task.cancelled()


def test_cancel_between_steps_is_thrown_in_at_the_next_step(loop: asyncio.AbstractEventLoop) -> None:
    async def handler() -> None:
        task = asyncio.current_task()
        assert task is not None
        assert task.cancel("now") is True  # while running: no future to cancel yet
        await asyncio.sleep(0)  # the next step throws CancelledError here

    run = Run(loop, handler)
    _, _, error = run.outcome()
    assert isinstance(error, asyncio.CancelledError) and str(error) == "now"
    assert run.task is not None and run.task.cancelled()
    assert run.task.cancel() is False  # done: nothing left to cancel


def test_cancel_requested_as_the_coroutine_yields_cancels_the_future_it_waits_on(
    loop: asyncio.AbstractEventLoop,
) -> None:
    waited: list[asyncio.Future[None]] = []

    async def handler() -> str:
        task = asyncio.current_task()
        assert task is not None
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        waited.append(future)
        task.cancel()
        try:
            await future
        except asyncio.CancelledError:
            return "cancelled at the await"
        return "not cancelled"

    assert Run(loop, handler).outcome()[1] == "cancelled at the await"
    assert waited[0].cancelled()


def test_asyncio_timeout_and_wait_for_work_from_the_first_step(loop: asyncio.AbstractEventLoop) -> None:
    if sys.version_info < (3, 11):
        pytest.skip("asyncio.timeout is new in 3.11")

    async def handler() -> list[str]:
        got = []
        try:
            async with asyncio.timeout(0.001):  # before the first suspension
                await asyncio.sleep(10)
        except TimeoutError:
            got.append("timeout")
        try:
            await asyncio.wait_for(asyncio.sleep(10), 0.001)
        except TimeoutError:
            got.append("wait_for")
        task = asyncio.current_task()
        assert task is not None
        got.append(f"cancelling={task.cancelling()}")
        return got

    assert Run(loop, handler).outcome()[1] == ["timeout", "wait_for", "cancelling=0"]
    assert in_a_real_task(loop, handler) == ["timeout", "wait_for", "cancelling=0"]


def test_a_task_group_failure_cancels_siblings_and_reaches_the_handler(
    loop: asyncio.AbstractEventLoop,
) -> None:
    if sys.version_info < (3, 11):
        pytest.skip("TaskGroup is new in 3.11")

    async def fail() -> None:
        await asyncio.sleep(0.001)
        raise ValueError("child failed")

    async def handler() -> tuple[list[str], int]:
        sibling = None
        try:
            async with asyncio.TaskGroup() as group:
                sibling = group.create_task(asyncio.sleep(10))
                group.create_task(fail())
        except Exception as group:  # an ExceptionGroup (``except*`` would not parse on 3.10)
            messages = [str(error) for error in group.exceptions]  # type: ignore[attr-defined]
        task = asyncio.current_task()
        assert task is not None and sibling is not None and sibling.cancelled()
        return messages, task.cancelling()

    messages, cancelling = Run(loop, handler).outcome()[1]
    assert messages == ["child failed"]
    assert (messages, cancelling) == in_a_real_task(loop, handler)


def test_anyio_cancel_scopes_and_task_groups_work(loop: asyncio.AbstractEventLoop) -> None:
    async def fail() -> None:
        await anyio.sleep(0.001)
        raise ValueError("child failed")

    async def handler() -> list[str]:
        got = []
        with anyio.move_on_after(0.001) as scope:
            await anyio.sleep(10)
        got.append(f"moved on={scope.cancelled_caught}")
        try:
            with anyio.fail_after(0.001):
                await anyio.sleep(10)
        except TimeoutError:
            got.append("fail_after")
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(anyio.sleep, 10)
                group.start_soon(fail)
        except BaseException as exc:  # an ExceptionGroup (a BaseException on 3.10's backport)
            got.append(type(exc).__name__)
        task = asyncio.current_task()
        assert task is not None
        if hasattr(asyncio.Task, "cancelling"):  # the counting API anyio balances is 3.11's
            got.append(f"cancelling={task.cancelling()}")
        return got

    expected = ["moved on=True", "fail_after", "ExceptionGroup"]
    if hasattr(asyncio.Task, "cancelling"):
        expected.append("cancelling=0")
    assert Run(loop, handler).outcome()[1] == expected
    assert in_a_real_task(loop, handler) == expected


def test_a_cancellation_that_escapes_is_reported_as_such(loop: asyncio.AbstractEventLoop) -> None:
    run = Run(loop, lambda: asyncio.sleep(10))

    def cancel_when_suspended() -> None:
        assert run.task is not None and run.suspended
        assert run.task.cancel("shutdown") is True

    loop.call_later(0.01, cancel_when_suspended)
    _, _, error = run.outcome()
    assert isinstance(error, asyncio.CancelledError)
    assert run.task is not None and run.task.cancelled() and not run.live


@pytest.mark.parametrize(
    ("yielded", "message"),
    [
        ("not a future", "Task got bad yield: 'not a future'"),
        ((n for n in ()), "yield was used instead of yield from"),
    ],
)
def test_a_bad_yield_is_an_error_in_the_coroutine_as_in_a_task(
    loop: asyncio.AbstractEventLoop, yielded: object, message: str
) -> None:
    class Odd:
        def __await__(self) -> Any:
            return (yield yielded)

    assert Run(loop, lambda: error_at_await(Odd(), RuntimeError)).outcome()[1].startswith(message)


def test_a_future_of_another_loop_is_refused(loop: asyncio.AbstractEventLoop) -> None:
    other = asyncio.new_event_loop()
    try:
        run = Run(loop, lambda: error_at_await(other.create_future(), RuntimeError))
        assert "attached to a different loop" in run.outcome()[1]
    finally:
        other.close()


def test_the_task_surface_that_libraries_read(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[str] = []

    async def inner() -> list[str]:
        task = asyncio.current_task()
        assert isinstance(task, RequestTask)
        task.set_name("request-7")
        asyncio.get_running_loop().call_soon(look_at, task)
        await asyncio.sleep(0.01)
        return [
            task.get_name(),
            "same context" if task.get_context().get(marker) == "set" else "other context",
        ]

    async def handler() -> list[str]:
        marker.set("set")
        return await inner()

    def look_at(task: RequestTask) -> None:  # while it is suspended
        stack = io.StringIO()
        task.print_stack(file=stack)
        seen.append(repr(task).split(" coro=")[0])
        seen.append(",".join(frame.f_code.co_name for frame in task.get_stack()))
        seen.append("printed" if "in inner" in stack.getvalue() else stack.getvalue())

    run = Run(loop, handler)
    assert run.outcome()[1] == ["request-7", "same context"]
    assert seen == ["<RequestTask request-7 pending", "handler,inner,sleep", "printed"]
    assert run.task is not None and run.task.get_coro().__name__ == "handler"
    # anyio keeps per-task state in a WeakKeyDictionary keyed by the task
    states: weakref.WeakKeyDictionary[RequestTask, str] = weakref.WeakKeyDictionary({run.task: "state"})
    assert states[run.task] == "state"


def test_a_finished_task_drops_what_it_held(loop: asyncio.AbstractEventLoop) -> None:
    class Subject:
        pass

    subjects = [Subject()]
    held = weakref.ref(subjects[0])
    tasks: list[RequestTask] = []  # kept, as anyio or a user might keep the task
    outcome = loop.create_future()

    async def handler() -> None:
        await asyncio.sleep(0)

    def begin() -> None:
        context = contextvars.copy_context()
        report = lambda *_: outcome.set_result(None)  # noqa: E731
        tasks.append(context.run(start_request_task, handler(), loop, context, subjects.pop(), report, set()))

    loop.call_soon(begin)
    loop.run_until_complete(outcome)
    gc.collect()
    assert held() is None
    assert tasks[0].done()


def test_a_failing_report_goes_to_the_loop_exception_handler_not_the_caller(
    loop: asyncio.AbstractEventLoop,
) -> None:
    caught: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: caught.append(context))
    started: list[RequestTask] = []

    async def handler() -> str:
        return "done"

    def report(subject: Any, result: Any, error: BaseException | None) -> None:
        raise LookupError("reporting broke")

    def begin() -> None:
        context = contextvars.copy_context()
        started.append(context.run(start_request_task, handler(), loop, context, None, report, set()))

    loop.call_soon(begin)
    loop.run_until_complete(asyncio.sleep(0.01))
    assert started and started[0].done()
    assert [type(context["exception"]) for context in caught] == [LookupError]
    assert caught[0]["task"] is started[0]


def test_a_future_like_object_that_fails_when_awaited_is_an_error_at_the_await(
    loop: asyncio.AbstractEventLoop,
) -> None:
    class Broken:
        """Claims to be a future, then fails when the task asks for its loop."""

        _asyncio_future_blocking = True

        def get_loop(self) -> asyncio.AbstractEventLoop:
            raise AttributeError("no loop here")

        def __await__(self) -> Any:
            return (yield self)

    assert Run(loop, lambda: error_at_await(Broken(), AttributeError)).outcome()[1] == "no loop here"
