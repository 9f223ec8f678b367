"""Background tasks, supervised by the Rust core.

    from ferroweb import background

    @app.post("/signup")
    async def signup(user: User):
        background.run(send_welcome_mail, user.email)
        return {"ok": True}

``background.run(fn, *args, **kwargs)`` takes a coroutine function, a coroutine, or a plain
callable (run in a worker thread). The queue and the concurrency limit live in the core's
supervisor (``ServerConfig.background``). When the queue is full, ``run`` raises
:class:`BackgroundQueueFull` - an ``HTTPException`` with status 503 and ``Retry-After``, so
raised in a handler it answers 503 unless the handler catches it. A failing task is logged
with its traceback and never stops the worker. At shutdown the supervisor stops taking jobs,
lets queued and running ones finish for up to ``drain_timeout`` seconds, then cancels the
rest and logs what was dropped.

A handler can also declare ``tasks: BackgroundTasks`` (FastAPI style): what it adds runs in
order once the response has been sent.

``run`` finds the app's supervisor through the context it is called in: the server and the test
client bind it with ``with background.use(supervisor):`` around start-up and their request
handlers, and every handler and task started there inherits it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Executor
from typing import Any, NamedTuple

from ferroweb._ferroweb import BackgroundSupervisor, JobOutcome, SubmitOutcome
from ferroweb.config import BackgroundConfig
from ferroweb.exceptions import HTTPException

__all__ = [
    "BackgroundConfig",
    "BackgroundMetrics",
    "BackgroundQueueFull",
    "BackgroundTasks",
    "Supervisor",
    "metrics",
    "run",
    "use",
]

logger = logging.getLogger("ferroweb.background")


class BackgroundQueueFull(HTTPException):
    """The background queue is full. In a handler this answers 503 with ``Retry-After``."""

    def __init__(self, max_queue: int) -> None:
        super().__init__(
            503,
            f"the background task queue is full ({max_queue} waiting); try again shortly",
            {"retry-after": "1"},
        )


class BackgroundMetrics(NamedTuple):
    queued: int
    running: int
    completed: int
    failed: int
    dropped: int


class _Job:
    __slots__ = ("args", "context", "func", "kwargs")

    def __init__(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        self.func = func
        self.args = args
        self.kwargs = kwargs
        # The submitter's context variables (request ids, tracing) follow the task.
        self.context = contextvars.copy_context()

    @property
    def name(self) -> str:
        return getattr(self.func, "__qualname__", None) or type(self.func).__name__


class Supervisor:
    """Runs the core supervisor's jobs on one event loop."""

    def __init__(
        self, config: BackgroundConfig, loop: asyncio.AbstractEventLoop, executor: Callable[[], Executor]
    ) -> None:
        self.config = config
        self._jobs = BackgroundSupervisor(config.max_queue, config.max_concurrency)
        self._loop = loop
        self._executor = executor
        self._loop_thread = threading.get_ident()
        self._running: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()

    def submit(self, func: Any, args: tuple[Any, ...] = (), kwargs: dict[str, Any] | None = None) -> None:
        if not (callable(func) or inspect.iscoroutine(func)):
            raise TypeError(f"background.run needs a callable or a coroutine, not {type(func).__name__}")
        if inspect.iscoroutine(func) and (args or kwargs):
            raise TypeError("pass arguments to the coroutine function, not with a coroutine object")
        outcome = self._jobs.submit(_Job(func, args, kwargs or {}))
        if outcome == SubmitOutcome.QUEUE_FULL:
            if inspect.iscoroutine(func):
                func.close()  # never awaited: close it so Python does not warn
            raise BackgroundQueueFull(self.config.max_queue)
        if outcome == SubmitOutcome.SHUTTING_DOWN:
            if inspect.iscoroutine(func):
                func.close()
            raise RuntimeError("the server is shutting down; no new background tasks are taken")
        if threading.get_ident() == self._loop_thread:
            # Started on the next loop iteration: after the current handler sent its response.
            self._loop.call_soon(self._start_ready)
        else:
            self._loop.call_soon_threadsafe(self._start_ready)

    def _start_ready(self) -> None:
        for job in self._jobs.start_ready():
            self._idle.clear()
            # created inside the job's context, so the task runs in (a copy of) it
            task = job.context.run(self._loop.create_task, self._run(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)

    async def _run(self, job: _Job) -> None:
        outcome = JobOutcome.FAILED
        try:
            func = job.func
            if inspect.iscoroutine(func):
                await func
            elif inspect.iscoroutinefunction(func) or inspect.iscoroutinefunction(type(func).__call__):
                await func(*job.args, **job.kwargs)
            else:
                # the task already runs in the job's context; the thread gets a copy of it
                call = functools.partial(contextvars.copy_context().run, func, *job.args, **job.kwargs)
                result = await self._loop.run_in_executor(self._executor(), call)
                if inspect.isawaitable(result):
                    await result
            outcome = JobOutcome.COMPLETED
        except asyncio.CancelledError:
            outcome = JobOutcome.CANCELLED
            raise
        except Exception as exc:
            logger.error("Background task %s failed", job.name, exc_info=exc)
        finally:
            self._jobs.finished(outcome)
            if outcome != JobOutcome.CANCELLED:
                self._start_ready()
            if self._jobs.idle:
                self._idle.set()

    def metrics(self) -> BackgroundMetrics:
        return BackgroundMetrics(*self._jobs.metrics())

    async def drain(self, timeout: float | None = None) -> int:
        """Stops taking jobs, waits up to ``timeout`` (default: ``drain_timeout``) for queued
        and running ones, then cancels what is left. Returns how many were dropped."""
        self._jobs.stop_accepting()
        timeout = self.config.drain_timeout if timeout is None else timeout
        self._start_ready()
        if not self._jobs.idle:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._idle.wait(), timeout)
        dropped = self._jobs.take_queued()
        for job in dropped:
            if inspect.iscoroutine(job.func):
                job.func.close()
        running = list(self._running)
        for task in running:
            task.cancel()
        if running:
            await asyncio.wait(running, timeout=5.0)
        lost = len(dropped) + len(running)
        if lost:
            names = sorted({job.name for job in dropped})
            logger.warning(
                "background drain timeout (%ss): cancelled %d running and dropped %d queued task(s)%s",
                timeout,
                len(running),
                len(dropped),
                f": {', '.join(names)}" if names else "",
            )
        return lost


#: The supervisor of the app being served on this thread's event loop (see ``use``).
_current: contextvars.ContextVar[Supervisor | None] = contextvars.ContextVar(
    "ferroweb_background", default=None
)
#: The supervisor of this process's server, for threads outside any handler's context.
_process_wide: Supervisor | None = None


@contextlib.contextmanager
def use(supervisor: Supervisor, *, process_wide: bool = False) -> Iterator[Supervisor]:
    """Makes ``run`` and ``metrics`` use ``supervisor`` inside the block, and in every handler
    and task started there (they copy its context). The server and the test client enter it
    around start-up and around attaching their request handlers.

    With ``process_wide=True`` it also serves code outside any such context (a thread a
    handler started) until the block ends; a server process does this for its one app.
    """
    global _process_wide
    token = _current.set(supervisor)
    previous = _process_wide
    if process_wide:
        _process_wide = supervisor
    try:
        yield supervisor
    finally:
        _current.reset(token)
        if process_wide:
            _process_wide = previous


def _supervisor() -> Supervisor:
    supervisor = _current.get() or _process_wide
    if supervisor is None:
        raise RuntimeError("background tasks need a running ferroweb server (or an open TestClient)")
    return supervisor


def run(func: Any, *args: Any, **kwargs: Any) -> None:
    """Queues ``func(*args, **kwargs)`` (or a coroutine) to run in the background."""
    _supervisor().submit(func, args, kwargs)


def metrics() -> BackgroundMetrics:
    """``queued``, ``running``, ``completed``, ``failed`` and ``dropped`` counts."""
    return _supervisor().metrics()


class BackgroundTasks:
    """Tasks a handler adds; they run in order after its response is sent.

    Declare a parameter ``tasks: BackgroundTasks`` and call ``tasks.add_task(fn, *args,
    **kwargs)``; ``fn`` may be a coroutine function or a plain function (run in a thread).
    The whole list is one job of the supervisor.
    """

    def __init__(self) -> None:
        self.tasks: list[tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]] = []

    def add_task(self, func: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        if not callable(func):
            raise TypeError(f"background task must be callable, not {type(func).__name__}")
        self.tasks.append((func, args, kwargs))

    async def __call__(self) -> None:
        loop = asyncio.get_running_loop()
        for func, args, kwargs in self.tasks:
            if inspect.iscoroutinefunction(func):
                await func(*args, **kwargs)
            else:
                result = await loop.run_in_executor(None, functools.partial(func, *args, **kwargs))
                if inspect.isawaitable(result):
                    await result
