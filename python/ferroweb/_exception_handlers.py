"""From an exception to the outcome a client sees.

In order: the app's exception handler for the exception (by status code for an
``HTTPException``, else by class along the MRO, ``500``/``Exception`` for the rest); an
``HTTPException`` becomes its problem response; anything else is logged to ``ferroweb.error``
with its traceback and answered with a 500 problem, never with the traceback. Every outcome is
sent through the responder (``_respond``).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from ferroweb._respond import INTERNAL_ERROR, Problem, Responder
from ferroweb.exceptions import HTTPException
from ferroweb.requests import Request

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb.routing import Route

logger = logging.getLogger("ferroweb.error")

ExceptionHandler = Callable[..., Any]
#: Finds the app's handler for an exception (``App.exception_handler_for``).
HandlerLookup = Callable[..., "ExceptionHandler | None"]

CANCELLED = Problem(500, "the request handler was cancelled before it finished")


def status_of(exc: BaseException) -> int:
    return exc.status_code if isinstance(exc, HTTPException) else 500


class ExceptionMapper:
    """Answers the requests of one app whose handling raised."""

    def __init__(
        self,
        lookup: HandlerLookup,
        responder: Responder,
        track: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
        app: Any,
    ) -> None:
        self._lookup = lookup
        self._responder = responder
        self._track = track
        self._app = app

    def handle(self, raw: RawRequest, exc: Exception, route: Route | None = None) -> None:
        handler = self._lookup(exc)
        if handler is not None:
            self._run_handler(raw, exc, handler, route)
        elif isinstance(exc, HTTPException):
            self._responder.send(raw, Problem.from_exception(exc), route=route)
        else:
            self.internal_error(raw, exc, route)

    def _run_handler(
        self, raw: RawRequest, exc: Exception, handler: ExceptionHandler, route: Route | None
    ) -> None:
        request = Request(raw, route.param_names if route else (), self._app)
        try:
            result = handler(request, exc)
        except Exception as handler_exc:
            self.internal_error(raw, handler_exc, route)
            return
        if inspect.isawaitable(result):
            self._track(self._finish_handler(raw, result, status_of(exc), route))
        else:
            self._responder.send(raw, result, status_of(exc), route)

    async def _finish_handler(
        self, raw: RawRequest, awaitable: Any, status: int, route: Route | None
    ) -> None:
        try:
            result = await awaitable
        except Exception as exc:
            self.internal_error(raw, exc, route)
            return
        self._responder.send(raw, result, status, route)

    async def outcome(
        self, request: Request, exc: Exception, route: Route | None, *, server_errors: bool = True
    ) -> tuple[Any, int]:
        """What ``exc`` is answered with, and the status, as a value to send rather than sent
        (for hooks and ``http`` middleware, which see the response first). With
        ``server_errors=False`` an exception that only a 500 or ``Exception`` handler (or
        nothing) answers is raised again, for the layer outside the middleware to answer."""
        handler = self._lookup(exc, server_errors=server_errors)
        if handler is not None:
            try:
                result = handler(request, exc)
                if inspect.isawaitable(result):
                    result = await result
            except Exception as handler_exc:
                if not server_errors:
                    raise
                self.log_internal(request._raw, handler_exc, route)
                return INTERNAL_ERROR, 500
            return result, status_of(exc)
        if isinstance(exc, HTTPException):
            return Problem.from_exception(exc), exc.status_code
        if not server_errors:
            raise exc
        self.log_internal(request._raw, exc, route)
        return INTERNAL_ERROR, 500

    def abandoned(self, raw: RawRequest, error: BaseException, route: Route) -> None:
        """A handler that ended without an outcome: cancelled (at shutdown, past the grace
        period), or stopped by KeyboardInterrupt/SystemExit, which then goes on upwards."""
        if isinstance(error, asyncio.CancelledError):
            logger.warning("Handler %s for %s %s was cancelled", route.name, raw.method, raw.path)
            self._responder.send(raw, CANCELLED, route=route)
        else:
            self.internal_error(raw, error, route)

    def internal_error(self, raw: RawRequest, exc: BaseException, route: Route | None) -> None:
        self.log_internal(raw, exc, route)
        self._responder.send(raw, INTERNAL_ERROR, route=route)

    def log_internal(self, raw: RawRequest, exc: BaseException, route: Route | None) -> None:
        """Logs an exception answered with a 500, with its traceback (which is never sent)."""
        where = (route.name if route is not None else None) or "-"
        logger.error("Exception in handler %s for %s %s", where, raw.method, raw.path, exc_info=exc)

    def routing_error(self, raw: RawRequest) -> None:
        """A 404/405 from the router, sent here because an exception handler may answer it."""
        self.handle(raw, routing_miss(raw))


def routing_miss(raw: RawRequest) -> HTTPException:
    """The 404 or 405 the router found for a request no route serves."""
    miss = raw.routing_error()
    if miss is None:  # not sent by the router's fallback: nothing matched at all
        miss = (404, f"no route matches {raw.path}", None)
    status, detail, allow = miss
    return HTTPException(status, detail, {"allow": allow} if allow else None)
