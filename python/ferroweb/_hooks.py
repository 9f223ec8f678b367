"""The handler of a route that has hooks or runs under ``http`` middleware.

``_compile`` builds its usual handler variants for every other route, so those pay nothing
for either feature. A route with hooks gets a ``Pipeline``: the hooks before binding
(``on_request``, then ``pre_validation``), the binder, the ``pre_handler`` hooks, the endpoint
(the solver of its dependencies, when it has some), then the outcome, which an exception
turns into what ``on_error`` hooks or the exception handlers answer, and which
``on_response`` hooks see as a ``Response``. The value that comes out is sent once, through
the route's ``send`` (generator dependencies end after it).

When every hook is sync and the endpoint is a plain sync function, the request is handled in
place, as a sync route's is; the coroutines written below are then stepped once to their end
(they contain no await that could suspend). Anything else runs as a ``RequestTask``.

Under ``http`` middleware the route's outcome is made into a ``Response`` for ``call_next``,
and the middleware (the last registered outermost) runs around it; an exception no handler
inside takes leaves ``call_next`` and, if no middleware catches it, is answered outside all of
them (by a 500 or ``Exception`` handler, or with a 500).
"""

from __future__ import annotations

import contextvars
import dataclasses
import functools
import inspect
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import TYPE_CHECKING, Any

from ferroweb._exception_handlers import routing_miss, status_of
from ferroweb._request_task import start_request_task
from ferroweb._respond import INTERNAL_ERROR
from ferroweb._timeouts import AsyncDeadline
from ferroweb.hooks import Hook
from ferroweb.requests import Request
from ferroweb.responses import Response

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb._services import RequestHandler, Services
    from ferroweb.middleware import Timeout
    from ferroweb.routing import Route

#: A hook and whether calling it gives an awaitable.
_Step = tuple[Hook, bool]
CallNext = Callable[[Request], Awaitable[Response]]


def is_async_callable(target: Any) -> bool:
    """``async def`` functions, and callable objects whose ``__call__`` is one."""
    return inspect.iscoroutinefunction(target) or inspect.iscoroutinefunction(
        type(target).__call__ if not inspect.isroutine(target) else None
    )


@dataclasses.dataclass(frozen=True)
class RouteHooks:
    """A route's hooks, gathered from its layers (the app's first), each with its kind."""

    #: ``on_request`` hooks, then ``pre_validation`` ones: both run before binding.
    before_binding: tuple[_Step, ...]
    pre_handler: tuple[_Step, ...]
    on_response: tuple[_Step, ...]
    on_error: tuple[_Step, ...]

    @property
    def all_sync(self) -> bool:
        steps = self.before_binding + self.pre_handler + self.on_response + self.on_error
        return not any(is_async for _, is_async in steps)


def route_hooks(route: Route) -> RouteHooks | None:
    """The hooks that apply to ``route``, or None when it has none."""
    layers = route.hooks
    if not any(layers):
        return None

    def gathered(*points: str) -> tuple[_Step, ...]:
        return tuple(
            (hook, is_async_callable(hook))
            for point in points
            for layer in layers
            for hook in getattr(layer, point)
        )

    return RouteHooks(
        # all of the app's and routers' on_request hooks run before any pre_validation one
        before_binding=gathered("on_request") + gathered("pre_validation"),
        pre_handler=gathered("pre_handler"),
        on_response=gathered("on_response"),
        on_error=gathered("on_error"),
    )


async def _first_answer(steps: tuple[_Step, ...], request: Request) -> Any:
    """Runs ``request`` hooks in order until one answers (returns something other than None)."""
    for hook, is_async in steps:
        answer = hook(request)
        if is_async:
            answer = await answer
        if answer is not None:
            return answer
    return None


def _run_to_end(coro: Coroutine[Any, Any, Any]) -> Any:
    """The result of a coroutine that has nothing to wait on (only sync hooks and endpoint)."""
    try:
        coro.send(None)
    except StopIteration as stop:
        return stop.value
    coro.close()
    raise RuntimeError("a hook or handler that is not async def returned something that suspended")


@dataclasses.dataclass
class Pipeline:
    """Everything one route's requests go through when it has hooks or ``http`` middleware."""

    route: Route
    services: Services
    hooks: RouteHooks
    #: The binder (None: the endpoint takes no arguments) and the endpoint it feeds.
    bind: Callable[..., list[Any]] | None
    endpoint: Callable[..., Any]
    is_async: bool
    status: int
    serialise: Callable[[Any], Any] | None
    #: Sends the final value (the route's ``send``: generator dependencies end after it).
    send: Callable[..., None]
    #: Answers an exception nothing inside answered (the exception handlers, or a 500).
    on_error: Callable[[RawRequest, Exception], None]
    #: ``@app.middleware("http")`` functions, innermost first.
    middleware: Sequence[Callable[..., Any]] = ()

    # -- the route's outcome ---------------------------------------------------------------

    async def _answer(self, request: Request) -> tuple[Any, int]:
        """The hooks before the handler, the binder and the handler: their answer and status.
        Raises what any of them raises."""
        hooks = self.hooks
        early = await _first_answer(hooks.before_binding, request) if hooks.before_binding else None
        if early is not None:
            return early, 200
        raw = request._raw
        args = self.bind(raw) if self.bind is not None else []
        if hooks.pre_handler:
            early = await _first_answer(hooks.pre_handler, request)
            if early is not None:
                return early, 200
        if self.route.blocking:
            call = functools.partial(contextvars.copy_context().run, self.endpoint, *args)
            loop = self.services.loop
            result = await loop.run_in_executor(self.services.blocking_executor(), call)
        else:
            result = self.endpoint(*args)
            if self.is_async:
                result = await result
        if self.serialise is not None:
            result = self.serialise(result)
        return result, self.status

    async def _failed(self, request: Request, exc: Exception) -> tuple[Any, int]:
        """What answers ``exc``: the first ``on_error`` hook that returns something, else the
        exception handlers. An ``on_error`` hook that raises has its exception answered."""
        for hook, is_async in self.hooks.on_error:
            try:
                answer = hook(request, exc)
                if is_async:
                    answer = await answer
            except Exception as hook_exc:
                exc = hook_exc
                break
            if answer is not None:
                return answer, status_of(exc)
        exceptions = self.services.exceptions
        return await exceptions.outcome(request, exc, self.route, server_errors=not self.middleware)

    async def _responded(self, request: Request, value: Any, status: int) -> tuple[Any, int]:
        """The outcome after the ``on_response`` hooks, which see it as a ``Response``. One of
        them failing is answered with a 500 (raised, under middleware)."""
        raw = request._raw
        try:
            response = self.services.responder.as_response(raw, value, status)
            for hook, is_async in self.hooks.on_response:
                changed = hook(request, response)
                if is_async:
                    changed = await changed
                if changed is not None:
                    if not isinstance(changed, Response):
                        raise TypeError(
                            f"on_response hook {getattr(hook, '__name__', hook)!r} returned"
                            f" {type(changed).__name__}, not a Response (or None)"
                        )
                    response = changed
        except Exception as exc:
            if self.middleware:
                raise
            self.services.exceptions.log_internal(raw, exc, self.route)
            return INTERNAL_ERROR, 500
        return response, response.status_code

    async def outcome(self, request: Request) -> tuple[Any, int]:
        """What the route answers ``request`` with, hooks included, and its status."""
        try:
            value, status = await self._answer(request)
        except Exception as exc:
            value, status = await self._failed(request, exc)
        if self.hooks.on_response:
            return await self._responded(request, value, status)
        return value, status

    # -- entry points ----------------------------------------------------------------------

    async def _serve(self, request: Request) -> None:
        value, status = await self.outcome(request)
        self.send(request._raw, value, status, self.route)

    async def _serve_failure(self, request: Request, exc: Exception) -> None:
        value, status = await self._failed(request, exc)
        if self.hooks.on_response:
            value, status = await self._responded(request, value, status)
        self.send(request._raw, value, status, self.route)

    async def _call_route(self, request: Request) -> Response:
        """The innermost ``call_next``: the route's outcome, as a ``Response``."""
        value, status = await self.outcome(request)
        return self.services.responder.as_response(request._raw, value, status)

    def handler(self, timeout: Timeout | None) -> RequestHandler:
        """The function the dispatcher hands this route's requests to."""
        route = self.route
        services = self.services
        names = route.param_names
        app = services.app
        loop = services.loop
        live = services.live
        abandoned = services.exceptions.abandoned
        on_error = self.on_error

        def report(raw: RawRequest, result: Any, error: BaseException | None) -> None:
            # the pipeline sends its own answer: only what escaped it arrives here
            if error is None:
                return
            if isinstance(error, Exception):
                on_error(raw, error)
            else:
                abandoned(raw, error, route)

        if self.middleware:
            serve = _through_middleware(self.middleware, self._call_route, self.send, on_error, route)
        else:
            serve = self._serve
        if timeout is not None and (self.is_async or route.blocking or self.middleware):
            deadline = AsyncDeadline(
                timeout,
                loop,
                route,
                report,
                lambda raw, problem: services.responder.send(raw, problem, route=route),
            )
            report_timed = deadline.report
            watch = deadline.watch

            def handle_timed(raw: RawRequest, context: contextvars.Context) -> None:
                request = Request(raw, names, app)
                watch(start_request_task(serve(request), loop, context, raw, report_timed, live), raw)

            return handle_timed

        if self.middleware or self.is_async or route.blocking or not self.hooks.all_sync:

            def handle(raw: RawRequest, context: contextvars.Context) -> None:
                start_request_task(serve(Request(raw, names, app)), loop, context, raw, report, live)

            return handle

        return self._in_place_handler(report)

    def _in_place_handler(
        self, report: Callable[[RawRequest, Any, BaseException | None], None]
    ) -> RequestHandler:
        """The handler of a route whose hooks and endpoint are all sync: ``_answer`` written
        out without coroutines (measured: the coroutine version cost a no-op hook ~14% of a
        /json route's throughput, this one ~half of that)."""
        route = self.route
        names = route.param_names
        app = self.services.app
        loop = self.services.loop
        live = self.services.live
        send = self.send
        bind = self.bind
        endpoint = self.endpoint
        serialise = self.serialise
        route_status = self.status
        before = tuple(hook for hook, _ in self.hooks.before_binding)
        pre_handler = tuple(hook for hook, _ in self.hooks.pre_handler)
        responded = self._responded if self.hooks.on_response else None
        serve_failure = self._serve_failure

        def handle_in_place(raw: RawRequest, context: contextvars.Context) -> None:
            request = Request(raw, names, app)
            try:
                early = None
                for hook in before:
                    early = hook(request)
                    if early is not None:
                        break
                if early is None:
                    args = bind(raw) if bind is not None else ()
                    for hook in pre_handler:
                        early = hook(request)
                        if early is not None:
                            break
                if early is None:
                    value = endpoint(*args)
                    if serialise is not None:
                        value = serialise(value)
                    status = route_status
                else:
                    value, status = early, 200
            except Exception as exc:  # exception handlers may be async: run as a task
                start_request_task(serve_failure(request, exc), loop, context, raw, report, live)
                return
            if responded is not None:
                value, status = _run_to_end(responded(request, value, status))
            send(raw, value, status, route)

        return handle_in_place


def _through_middleware(
    middleware: Sequence[Callable[..., Any]],
    innermost: CallNext,
    send: Callable[..., None],
    on_error: Callable[[RawRequest, Exception], None],
    route: Route | None,
) -> Callable[[Request], Coroutine[Any, Any, None]]:
    """Serves a request through the ``http`` middleware around ``innermost``."""
    call: CallNext = innermost
    for function in middleware:
        call = _bound(function, call)
    outermost = call

    async def serve_through_middleware(request: Request) -> None:
        raw = request._raw
        try:
            response = await outermost(request)
            if not isinstance(response, Response):
                raise TypeError(f"http middleware returned {type(response).__name__}, not a Response")
        except Exception as exc:
            on_error(raw, exc)
            return
        send(raw, response, response.status_code, route)

    return serve_through_middleware


def _bound(function: Callable[..., Any], call_next: CallNext) -> CallNext:
    def through(request: Request) -> Awaitable[Response]:
        result: Awaitable[Response] = function(request, call_next)
        return result

    return through


def routing_miss_handler(services: Services) -> RequestHandler:
    """The error route's handler under ``http`` middleware: the router's 404 or 405, as the
    exception handlers answer it, passed out through the middleware."""
    exceptions = services.exceptions
    responder = services.responder
    app = services.app

    async def call_miss(request: Request) -> Response:
        raw = request._raw
        value, status = await exceptions.outcome(request, routing_miss(raw), None, server_errors=False)
        return responder.as_response(raw, value, status)

    def answer_unhandled(raw: RawRequest, exc: Exception) -> None:
        exceptions.handle(raw, exc)

    serve = _through_middleware(app.http_middleware, call_miss, responder.send, answer_unhandled, None)
    loop = services.loop
    live = services.live

    def report(raw: RawRequest, result: Any, error: BaseException | None) -> None:
        if isinstance(error, Exception):
            exceptions.handle(raw, error)
        elif error is not None:
            exceptions.internal_error(raw, error, None)

    def handle_miss(raw: RawRequest, context: contextvars.Context) -> None:
        start_request_task(serve(Request(raw, (), app)), loop, context, raw, report, live)

    return handle_miss
