"""Compiles each route, once at start-up, into the function that handles its requests.

A compiled handler takes ``(raw, context)`` (the request, and the context it runs in) and
returns nothing: it binds the arguments, calls the endpoint and hands whatever the request ends
with to the responder, or the exception to the exception mapper. Which variant a route gets
depends on what it declares, so the hot path tests nothing per request:

- a sync endpoint is called directly, on the event loop's thread;
- an async endpoint's coroutine is driven by a ``RequestTask`` (first step in place);
- ``blocking=True`` runs the endpoint in the blocking thread pool;
- a WebSocket endpoint takes the connection and runs as a Task until it closes.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import functools
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ferroweb import background
from ferroweb._dependencies import (
    binding_exits,
    compile_solver,
    exiting_after_error,
    exiting_after_send,
    finish_exits,
    open_exits,
    plan_dependencies,
)
from ferroweb._hooks import Pipeline, RouteHooks, is_async_callable, route_hooks
from ferroweb._params import analyse, compile_binder, positional_endpoint
from ferroweb._request_task import start_request_task
from ferroweb._respond import Answered, Problem, ResponseParameter
from ferroweb._response_model import Serialise, compile_response_model
from ferroweb._services import RequestHandler, Services
from ferroweb._timeouts import AsyncDeadline, discarding_late_results
from ferroweb._ws_messages import WebSocketMessages
from ferroweb.middleware import timeout_of
from ferroweb.websockets import WebSocket, WebSocketDisconnect, WebSocketState

if TYPE_CHECKING:
    from ferroweb._ferroweb import ParamSpec as CoreParamSpec
    from ferroweb._ferroweb import RawRequest
    from ferroweb.routing import Route

logger = logging.getLogger("ferroweb.error")

Binder = Callable[..., list[Any]]

NOT_ACCEPTED = Problem(403, "the WebSocket handler did not accept the connection")
NOT_A_HANDSHAKE = Problem(400, "expected a WebSocket handshake")
NO_HOOKS = RouteHooks((), (), (), ())


@dataclasses.dataclass(frozen=True)
class CompiledRoute:
    handler: RequestHandler
    #: The parameters the core extracts for the route (None: nothing to extract).
    core_params: list[CoreParamSpec] | None


@dataclasses.dataclass(frozen=True)
class _Endpoint:
    """What the compiled handler calls: the route's handler, or the solver of its
    dependencies, with the sources of the arguments the binder gives it."""

    call: Callable[..., Any]
    is_async: bool
    sources: list[str]
    #: the binder hands the solver a list of open generators first (see _dependencies)
    exits: bool = False


def compile_route(route: Route, services: Services) -> CompiledRoute:
    overrides = getattr(services.app, "dependency_overrides", None) or {}
    specs = analyse(route)  # once: it compiles each parameter's converter
    dependencies = plan_dependencies(route, specs, overrides)
    if dependencies is None:
        bind, plan = compile_binder(route, services.app, specs)
        target = _Endpoint(
            positional_endpoint(route.endpoint),
            is_async_callable(route.endpoint),
            [spec.source for spec in specs],
        )
    else:
        bind, plan = compile_binder(route, services.app, dependencies.leaves)
        solver = compile_solver(
            dependencies, route.endpoint, is_async_callable(route.endpoint), services.app_scope
        )
        sources = [spec.source for spec in dependencies.leaves]
        exits = dependencies.has_exits
        if exits:
            bind = binding_exits(bind)
            sources = ["exits", *sources]
        target = _Endpoint(solver, dependencies.is_async or is_async_callable(route.endpoint), sources, exits)
    if route.websocket:
        return CompiledRoute(_websocket_handler(route, bind, services, target), plan)
    return CompiledRoute(_http_handler(route, bind, services, target), plan)


def _http_handler(route: Route, bind: Binder | None, services: Services, target: _Endpoint) -> RequestHandler:
    is_async = target.is_async
    endpoint = target.call
    status = route.status_code or 200
    send = services.responder.send
    exceptions = services.exceptions
    on_error: Callable[[RawRequest, Exception], None] = functools.partial(exceptions.handle, route=route)
    if target.exits:
        send = exiting_after_send(send, services.track, services.loop)
        on_error = exiting_after_error(on_error, services.track)
    timeout = timeout_of(route.middleware)
    if timeout is not None and not is_async:
        endpoint = discarding_late_results(endpoint, timeout.seconds, route)
    serialise = compile_response_model(route, getattr(services.app, "debug", False))
    sources = target.sources
    tasks_at = [i for i, source in enumerate(sources) if source == "background"]
    response_at = sources.index("response") if "response" in sources else None
    if (tasks_at or response_at is not None) and bind is not None:
        if serialise is not None:
            # converted before the tasks are submitted (a value the model refuses is a 500,
            # and a failed request runs no background tasks) and before the Response
            # parameter is attached to the value
            endpoint = _through_model(endpoint, serialise, is_async)
            serialise = None
        bind = _with_injected(bind, tasks=bool(tasks_at), response=response_at is not None)
        if tasks_at:
            endpoint = _submitting_tasks(endpoint, tasks_at, is_async)
        if response_at is not None:
            endpoint = _answering_with_parameter(endpoint, response_at, is_async)

    hooks = route_hooks(route)
    http_middleware = getattr(services.app, "http_middleware", ())
    if hooks is not None or http_middleware:
        pipeline = Pipeline(
            route,
            services,
            hooks or NO_HOOKS,
            bind,
            endpoint,
            is_async,
            status,
            serialise,
            send,
            on_error,
            http_middleware,
        )
        return pipeline.handler(timeout)

    def outcome(raw: RawRequest, result: Any) -> None:
        """Sends a return value through the route's response model, when it has one."""
        if serialise is not None:
            try:
                result = serialise(result)
            except Exception as exc:
                on_error(raw, exc)
                return
        send(raw, result, status, route)

    if is_async:
        loop = services.loop
        live = services.live
        abandoned = exceptions.abandoned

        def report(raw: RawRequest, result: Any, error: BaseException | None) -> None:
            if error is None:
                outcome(raw, result)
            elif isinstance(error, Exception):
                on_error(raw, error)
            else:
                abandoned(raw, error, route)

        def handle_async(raw: RawRequest, context: contextvars.Context) -> None:
            try:
                coro = endpoint(*bind(raw)) if bind is not None else endpoint()
            except Exception as exc:
                on_error(raw, exc)
                return
            start_request_task(coro, loop, context, raw, report, live)

        if timeout is None:
            return handle_async
        deadline = AsyncDeadline(
            timeout, loop, route, report, lambda raw, problem: send(raw, problem, route=route)
        )
        report_timed = deadline.report
        watch = deadline.watch

        def handle_async_timed(raw: RawRequest, context: contextvars.Context) -> None:
            try:
                coro = endpoint(*bind(raw)) if bind is not None else endpoint()
            except Exception as exc:
                on_error(raw, exc)
                return
            watch(start_request_task(coro, loop, context, raw, report_timed, live), raw)

        return handle_async_timed

    if route.blocking:
        run_in_executor = services.loop.run_in_executor
        executor = services.blocking_executor
        track = services.track

        async def finish(raw: RawRequest, future: asyncio.Future[Any]) -> None:
            try:
                result = await future
            except Exception as exc:
                on_error(raw, exc)
                return
            outcome(raw, result)

        def handle_blocking(raw: RawRequest, context: contextvars.Context) -> None:
            try:
                args = bind(raw) if bind is not None else []
            except Exception as exc:
                on_error(raw, exc)
                return
            # a copy: the request's context is still entered on this thread
            call = functools.partial(context.copy().run, endpoint, *args)
            track(finish(raw, run_in_executor(executor(), call)))

        return handle_blocking

    if serialise is not None:
        # the response model is applied here, on the return value, rather than by wrapping
        # the endpoint: one call less per request
        model = serialise

        def handle_sync_through_model(raw: RawRequest, context: contextvars.Context) -> None:
            try:
                result = model(endpoint(*bind(raw)) if bind is not None else endpoint())
            except Exception as exc:
                on_error(raw, exc)
                return
            send(raw, result, status, route)

        return handle_sync_through_model

    def handle_sync(raw: RawRequest, context: contextvars.Context) -> None:
        try:
            result = endpoint(*bind(raw)) if bind is not None else endpoint()
        except Exception as exc:
            on_error(raw, exc)
            return
        send(raw, result, status, route)

    return handle_sync


# -- WebSockets ---------------------------------------------------------------------------------


def _websocket_handler(
    route: Route, bind: Binder | None, services: Services, target: _Endpoint
) -> RequestHandler:
    endpoint = target.call
    param_names = route.param_names
    responder = services.responder
    exceptions = services.exceptions
    messages = None
    if route.receives is not None or route.sends is not None:
        messages = WebSocketMessages(route.receives, route.sends, f"WebSocket route {route.path!r}")

    def handle_websocket(raw: RawRequest, context: contextvars.Context) -> None:
        connection = raw.take_websocket()
        if connection is None:  # not a handshake (the core sends only handshakes here)
            responder.send(raw, NOT_A_HANDSHAKE, route=route)
            return
        websocket = WebSocket(raw, connection, services.waits, param_names, services.app, responder, messages)
        try:
            args = bind(raw, {"websocket": websocket}) if bind is not None else []
            coro = endpoint(*args)
        except Exception as exc:  # a validation error refuses the handshake (422)
            exceptions.handle(raw, exc, route)
            return
        services.track(_run_websocket(raw, websocket, coro, route, services))

    return handle_websocket


async def _run_websocket(
    raw: RawRequest, websocket: WebSocket, coro: Any, route: Route, services: Services
) -> None:
    try:
        await coro
    except WebSocketDisconnect:
        pass  # the peer left; nothing to report
    except Exception as exc:
        await finish_exits(open_exits.get() or [])
        if websocket.application_state is WebSocketState.CONNECTING:
            services.exceptions.handle(raw, exc, route)
            return
        logger.error("Exception in WebSocket handler %s for %s", route.name, raw.path, exc_info=exc)
        await websocket.close(1011, "internal error")
        return
    await finish_exits(open_exits.get() or [])  # generator dependencies end with the handler
    if websocket.application_state is WebSocketState.CONNECTING:
        # Returned without accepting: the handshake is refused, as Starlette does.
        services.responder.send(raw, NOT_ACCEPTED, route=route)
    else:
        await websocket.close(1000)


# -- endpoint wrappers for routes that declare BackgroundTasks ----------------------------------


def _with_injected(bind: Binder, *, tasks: bool, response: bool) -> Callable[[RawRequest], list[Any]]:
    """The binder, giving each request a fresh ``BackgroundTasks`` and/or ``Response``
    parameter."""
    if tasks and response:

        def bind_with_both(raw: RawRequest) -> list[Any]:
            return bind(raw, {"background": background.BackgroundTasks(), "response": ResponseParameter()})

        return bind_with_both
    if response:

        def bind_with_response(raw: RawRequest) -> list[Any]:
            return bind(raw, {"response": ResponseParameter()})

        return bind_with_response

    def bind_with_tasks(raw: RawRequest) -> list[Any]:
        return bind(raw, {"background": background.BackgroundTasks()})

    return bind_with_tasks


def _answering_with_parameter(
    endpoint: Callable[..., Any], position: int, is_async: bool
) -> Callable[..., Any]:
    """The endpoint, its return value paired with its ``response: Response`` parameter, whose
    headers and status the responder applies."""
    if is_async:

        async def answering_async(*args: Any) -> Any:
            return Answered(await endpoint(*args), args[position])

        return answering_async

    def answering(*args: Any) -> Any:
        return Answered(endpoint(*args), args[position])

    return answering


def _submitting_tasks(
    endpoint: Callable[..., Any], positions: list[int], is_async: bool
) -> Callable[..., Any]:
    """The endpoint, handing the tasks it added to the supervisor when it returns; they start
    on a later loop iteration, after the response went out. A handler that raises runs none."""

    def submit(args: tuple[Any, ...]) -> None:
        for position in positions:
            tasks = args[position]
            if tasks.tasks:
                background.run(tasks)

    if is_async:

        async def with_tasks_async(*args: Any) -> Any:
            result = await endpoint(*args)
            submit(args)
            return result

        return with_tasks_async

    def with_tasks(*args: Any) -> Any:
        result = endpoint(*args)
        submit(args)
        return result

    return with_tasks


def _through_model(endpoint: Callable[..., Any], serialise: Serialise, is_async: bool) -> Callable[..., Any]:
    """The endpoint with its return value passed through its response model."""
    if is_async:

        async def through_model_async(*args: Any) -> Any:
            return serialise(await endpoint(*args))

        return through_model_async

    def through_model(*args: Any) -> Any:
        return serialise(endpoint(*args))

    return through_model
