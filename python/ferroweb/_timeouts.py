"""The Python half of ``Timeout``: the core answers the client when the deadline passes; here
an async handler still running is cancelled (so its ``finally`` runs and it stops using
resources), and a sync handler's late result is logged as discarded.

Only routes that declare a ``Timeout`` use this. The core's deadline starts when the request
arrives, before it is handed over, so it usually passes first; when this one wins the race
(timer granularity), it sends the same problem itself, so the client sees one answer either way.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ferroweb._respond import Problem

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb._request_task import RequestTask
    from ferroweb.middleware import Timeout
    from ferroweb.routing import Route

logger = logging.getLogger("ferroweb.error")

Report = Callable[["RawRequest", Any, "BaseException | None"], None]


class AsyncDeadline:
    """Cancels the async handlers of one route that outlive its timeout."""

    __slots__ = ("_expired", "_loop", "_problem", "_report", "_route", "_seconds", "_send", "_timers")

    def __init__(
        self,
        timeout: Timeout,
        loop: asyncio.AbstractEventLoop,
        route: Route,
        report: Report,
        send: Callable[[RawRequest, Problem], None],
    ) -> None:
        seconds = self._seconds = timeout.seconds
        shown = int(seconds) if seconds.is_integer() else seconds
        # the core's words, so that whichever side answers, the client reads the same
        self._problem = Problem(timeout.status_code, f"the handler did not answer within {shown} s")
        self._send = send
        self._loop = loop
        self._route = route
        self._report = report
        #: Pending cancellations, by request (a request's id is unique while it runs).
        self._timers: dict[int, asyncio.TimerHandle] = {}
        #: Requests whose handler was cancelled by its deadline and has not ended yet.
        self._expired: set[int] = set()

    def watch(self, task: RequestTask, raw: RawRequest) -> None:
        """Arms the deadline of a handler that suspended (one that finished is not timed)."""
        if not task.done():
            self._timers[id(raw)] = self._loop.call_later(self._seconds, self._expire, task, raw)

    def _expire(self, task: RequestTask, raw: RawRequest) -> None:
        self._timers.pop(id(raw), None)
        if task.done():
            return
        self._expired.add(id(raw))
        logger.warning(
            "Handler %s for %s %s timed out after %ss and was cancelled",
            self._route.name,
            raw.method,
            raw.path,
            self._seconds,
        )
        task.cancel()

    def report(self, raw: RawRequest, result: Any, error: BaseException | None) -> None:
        """The route's report, except for handlers ended by their deadline: the core has
        answered those already."""
        key = id(raw)
        timer = self._timers.pop(key, None)
        if timer is not None:
            timer.cancel()
        if key in self._expired:
            self._expired.discard(key)
            if error is None or isinstance(error, asyncio.CancelledError):
                self._send(raw, self._problem)  # a no-op when the core answered already
                return
        self._report(raw, result, error)


def discarding_late_results(endpoint: Callable[..., Any], seconds: float, route: Route) -> Callable[..., Any]:
    """A sync endpoint that logs when it answers after the route's timeout: it cannot be
    interrupted, and by then the client has had the timeout answer, so its result is dropped."""

    @functools.wraps(endpoint)
    def timed(*args: Any) -> Any:
        started = time.monotonic()
        try:
            return endpoint(*args)
        finally:
            elapsed = time.monotonic() - started
            if elapsed > seconds:
                logger.warning(
                    "Handler %s took %.2fs, past its %ss timeout; its late result was discarded",
                    route.name,
                    elapsed,
                    seconds,
                )

    return timed
