"""The driver of one async request: the protocol of an ``asyncio.Task`` without its cost.

Carrying each request in an ``asyncio.Task`` costs a Task, a loop iteration just to start it
and the Task's own wake-up machinery on every resume (measured: ~8 us per request on uvloop,
against ~4 us for the same work stepped from the awaited future's done-callback). A
``RequestTask`` steps the handler's coroutine itself: the first step runs in place, as the
request arrives, and each later one runs from the done-callback of the future the coroutine
waits on, in the request's own context.

To asyncio and anyio it is still the request's task: ``asyncio.current_task()`` returns it
while the handler runs (the first step included), and it keeps the Task's cancellation
protocol (``cancel``, ``cancelling``, ``uncancel``, ``_must_cancel``, ``_fut_waiter``), so
``asyncio.timeout``, ``wait_for``, ``TaskGroup`` and anyio cancel scopes work in handlers. It
is a ``Future`` that completes (with ``None``) once the request's outcome was reported, so
shutdown can wait for it. Unlike a Task it is not listed by ``asyncio.all_tasks()``.

The steps mirror ``asyncio.Task.__step`` and ``__wakeup`` (CPython ``Lib/asyncio/tasks.py``);
the difference is what happens at the end: the coroutine's return value or exception is
handed to ``report`` instead of becoming the future's result.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import sys
import traceback
import types
from collections.abc import Callable, Coroutine
from typing import Any, TextIO

# The C versions where the interpreter has them: they are what ``current_task()`` reads.
# Typed for any task-like object: the C functions do not check the class.
_enter_task: Callable[[asyncio.AbstractEventLoop, Any], None] = asyncio.tasks._enter_task
_leave_task: Callable[[asyncio.AbstractEventLoop, Any], None] = asyncio.tasks._leave_task
_CancelledError = asyncio.CancelledError

#: ``report(subject, result, error)``: called once, inside the task, when the coroutine ends.
#: ``error`` is the exception it raised (a ``CancelledError`` if it was cancelled), else None.
Report = Callable[[Any, Any, "BaseException | None"], None]


class RequestTask(asyncio.Future[None]):
    """Drives one coroutine to its end, then hands the outcome to ``report``.

    Built by ``start_request_task``, which sets the fields below. The class has no ``__init__``
    of its own: one calling the Future's from Python would double what creating it costs."""

    __slots__ = (
        "_cancel_message",
        "_context",
        "_coro",
        "_fut_waiter",
        "_live",
        "_must_cancel",
        "_name",
        "_num_cancels_requested",
        "_report",
        "_subject",
    )

    _coro: Coroutine[Any, Any, Any]
    _context: contextvars.Context
    _fut_waiter: asyncio.Future[Any] | None
    _must_cancel: bool
    _cancel_message: str | None
    _num_cancels_requested: int
    _subject: Any
    _report: Report | None
    _live: set[asyncio.Future[Any]] | None
    _name: str | None

    # -- the Task's public surface -----------------------------------------------------------

    def cancel(self, msg: Any | None = None) -> bool:
        """Asks the coroutine to stop: the future it waits on is cancelled, or, between steps,
        the next step throws ``CancelledError`` into it. True unless already done."""
        self._log_traceback = False
        if self.done():
            return False
        self._num_cancels_requested += 1
        waiter = self._fut_waiter
        if waiter is not None and waiter.cancel(msg=msg):
            return True
        self._must_cancel = True
        self._cancel_message = msg
        return True

    def cancelling(self) -> int:
        """How many cancellations were requested and not withdrawn by ``uncancel``."""
        return self._num_cancels_requested

    def uncancel(self) -> int:
        """Withdraws one cancellation request (``asyncio.timeout`` and ``TaskGroup`` do, once they
        turned their own cancellation into an outcome); returns how many remain."""
        if self._num_cancels_requested > 0:
            self._num_cancels_requested -= 1
            if self._num_cancels_requested == 0:  # as Python 3.13 does: nothing left to deliver
                self._must_cancel = False
        return self._num_cancels_requested

    def get_coro(self) -> Coroutine[Any, Any, Any]:
        return self._coro

    def get_context(self) -> contextvars.Context:
        return self._context

    def get_name(self) -> str:
        if self._name is None:
            self._name = f"ferroweb-request-{id(self):x}"
        return self._name

    def set_name(self, value: object) -> None:
        self._name = str(value)

    def get_stack(self, *, limit: int | None = None) -> list[types.FrameType]:
        """The frames of the coroutine chain, outermost first."""
        frames: list[types.FrameType] = []
        coro: Any = self._coro
        while coro is not None and (limit is None or len(frames) < limit):
            frame = getattr(coro, "cr_frame", None)
            if frame is None:
                break
            frames.append(frame)
            coro = getattr(coro, "cr_await", None)
        return frames

    def print_stack(self, *, limit: int | None = None, file: TextIO | None = None) -> None:
        out = file if file is not None else sys.stderr
        frames = self.get_stack(limit=limit)
        summary = traceback.StackSummary.extract((frame, frame.f_lineno) for frame in frames)
        print(f"Stack for {self!r} (most recent call last):", file=out)
        print("".join(summary.format()), file=out, end="")

    def __repr__(self) -> str:
        state = "done" if self.done() else "pending"
        return f"<RequestTask {self.get_name()} {state} coro={self._coro!r}>"

    # -- driving the coroutine ---------------------------------------------------------------

    def _step(self, exc: BaseException | None = None) -> None:
        if self._must_cancel:
            if not isinstance(exc, _CancelledError):
                message = self._cancel_message
                exc = _CancelledError() if message is None else _CancelledError(message)
            self._must_cancel = False
        self._fut_waiter = None
        loop = self._loop
        _enter_task(loop, self)
        try:
            yielded = self._coro.send(None) if exc is None else self._coro.throw(exc)
        except StopIteration as stop:
            self._end(stop.value, None)
        except BaseException as error:  # reported, not raised: the request's outcome
            self._end(None, error)
            if isinstance(error, (KeyboardInterrupt, SystemExit)):
                raise
        else:
            try:
                # The common case first: an asyncio future of this loop, awaited with ``await``.
                if (
                    getattr(yielded, "_asyncio_future_blocking", False)
                    and yielded is not self
                    and yielded.get_loop() is loop
                ):
                    yielded._asyncio_future_blocking = False
                    yielded.add_done_callback(self._wakeup, context=self._context)
                    self._fut_waiter = yielded
                    if self._must_cancel and yielded.cancel(msg=self._cancel_message):
                        self._must_cancel = False
                else:
                    self._wait_on_other(yielded, loop)
            except Exception as broken:  # a future-like object that does not behave like one:
                # an error in the coroutine, at its await, rather than a request left hanging
                loop.call_soon(self._step, broken, context=self._context)
        finally:
            _leave_task(loop, self)

    def _wakeup(self, future: asyncio.Future[Any]) -> None:
        try:
            future.result()
        except BaseException as exc:  # delivered into the coroutine at its await
            self._step(exc)
        else:
            self._step()

    def _wait_on_other(self, yielded: Any, loop: asyncio.AbstractEventLoop) -> None:
        """Sets up the next step after the coroutine yielded something other than a future
        of this loop to wait on: a bare ``yield`` gets the next loop turn, the rest an error
        thrown into the coroutine, with the messages a Task gives."""
        if yielded is None:  # asyncio.sleep(0)
            loop.call_soon(self._step, context=self._context)
            return
        blocking = getattr(yielded, "_asyncio_future_blocking", None)
        if blocking is not None:
            if yielded.get_loop() is not loop:
                problem = f"Task {self!r} got Future {yielded!r} attached to a different loop"
            elif not blocking:
                problem = f"yield was used instead of yield from in task {self!r} with {yielded!r}"
            else:
                problem = f"Task cannot await on itself: {self!r}"
        elif inspect.isgenerator(yielded):
            problem = f"yield was used instead of yield from for generator in task {self!r} with {yielded!r}"
        else:
            problem = f"Task got bad yield: {yielded!r}"
        loop.call_soon(self._step, RuntimeError(problem), context=self._context)

    def _end(self, result: Any, error: BaseException | None) -> None:
        report, self._report = self._report, None
        live, self._live = self._live, None
        if live is not None:
            live.discard(self)
        try:
            if report is not None:
                report(self._subject, result, error)
        except Exception as exc:  # a bug in reporting: logged, never lost, never raised into
            # the loop callback that started this request (it has more requests to start).
            # Handed over by call_soon: from 3.12 the loop runs its handler inside the task's
            # context, which is still entered here.
            self.get_loop().call_soon(
                self.get_loop().call_exception_handler,
                {"message": "reporting a request's outcome failed", "exception": exc, "task": self},
            )
        finally:
            self._subject = None
            if isinstance(error, _CancelledError):
                super().cancel()
            else:
                self.set_result(None)


def start_request_task(
    coro: Coroutine[Any, Any, Any],
    loop: asyncio.AbstractEventLoop,
    context: contextvars.Context,
    subject: Any,
    report: Report,
    live: set[asyncio.Future[Any]],
) -> RequestTask:
    """Runs ``coro``'s first step now, in ``context`` (which must be the current one), as a
    ``RequestTask``. If it suspends, the task is kept in ``live`` until it ends; either way
    ``report(subject, result, error)`` is called exactly once when it does. Must be called
    from a loop callback, not from inside a running task."""
    task = RequestTask(loop=loop)
    task._coro = coro
    task._context = context
    task._fut_waiter = None
    task._must_cancel = False
    task._cancel_message = None
    task._num_cancels_requested = 0
    task._subject = subject
    task._report = report
    task._live = None
    task._name = None
    task._step()
    if not task.done():
        task._live = live
        live.add(task)
    return task
