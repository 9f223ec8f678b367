"""The hot path: take batches of requests from Rust, run handlers, send responses back.

Runs on the one thread that owns the event loop. Rust wakes the loop once per batch through
the queue's file descriptor; each request then costs one handler call plus one call back into
Rust. Sync handlers are called directly; coroutines are driven by a ``RequestTask``, which runs
their first step in place and resumes them from the done-callbacks of what they await.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import inspect
import logging
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import msgspec

from ferroweb import background
from ferroweb._params import CorePlan, analyse, compile_binder
from ferroweb._request_task import start_request_task
from ferroweb._response_model import Serialise, compile_response_model
from ferroweb._streaming import ChunkSource, send_stream
from ferroweb._waits import Waits
from ferroweb.exceptions import HTTPException, RequestValidationError
from ferroweb.requests import Request
from ferroweb.responses import (
    KIND_JSON,
    KIND_OCTET_STREAM,
    KIND_TEXT,
    KIND_UNSPECIFIED,
    FileResponse,
    Response,
    StreamingResponse,
)
from ferroweb.websockets import WebSocket, WebSocketDisconnect, WebSocketState

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest, RequestQueue
    from ferroweb.applications import App
    from ferroweb.routing import Route

logger = logging.getLogger("ferroweb.error")

_encode_json = msgspec.json.Encoder().encode
_copy_context = contextvars.copy_context
_NO_BODY_STATUSES = frozenset({204, 205, 304})

RouteSpec = tuple[int, str, list[str], "CorePlan | None", bool]


def render(raw: RawRequest, result: Any, status: int) -> StreamingResponse | None:
    """Sends a handler's return value: the common types first, by exact class. A streaming
    response is handed back for the caller to stream."""
    cls = result.__class__
    if status in _NO_BODY_STATUSES and not isinstance(result, Response):
        raw.respond(status, b"", KIND_UNSPECIFIED)
    elif cls is dict or cls is list:
        raw.respond(status, _encode_json(result), KIND_JSON)
    elif cls is str:
        raw.respond(status, result, KIND_TEXT)
    elif isinstance(result, Response):
        if isinstance(result, StreamingResponse):
            return result
        if isinstance(result, FileResponse):
            headers = [(k, v) for k, v in result.headers._items if k != "content-type"]
            raw.respond_file(
                result.status_code, result.path, headers, result.file_media_type, result.filename
            )
            return None
        body = b"" if result.status_code in _NO_BODY_STATUSES else result.body
        # the header list is only read by Rust, so it is passed without a copy
        raw.respond(result.status_code, body, KIND_UNSPECIFIED, result.headers._items)
    elif cls is bytes:
        raw.respond(status, result, KIND_OCTET_STREAM)
    else:
        # None -> null; Structs, dataclasses, tuples, datetimes... as msgspec encodes them.
        raw.respond(status, _encode_json(result), KIND_JSON)
    return None


class Dispatcher:
    """Runs one app's handlers on one event loop, fed by one request queue."""

    def __init__(self, app: App, queue: RequestQueue, loop: asyncio.AbstractEventLoop) -> None:
        self._app = app
        self._queue = queue
        self._loop = loop
        #: Requests still running (RequestTasks) and the Tasks of streams, WebSockets, blocking
        #: handlers: shutdown waits for them.
        self._tasks: set[asyncio.Future[Any]] = set()
        self._executor: ThreadPoolExecutor | None = None
        self._stopped: asyncio.Future[None] = loop.create_future()
        #: Waits completed by Rust (stream room, WebSocket messages), resolved per batch.
        self.waits = Waits(loop)
        #: The background-task supervisor of this app on this loop.
        self.background = background.Supervisor(app.config.background, loop, self._blocking_executor)
        #: Server-Sent Event streams in progress: ended cleanly at shutdown.
        self._event_streams: set[asyncio.Task[Any]] = set()
        self._attached = False
        self.route_specs: list[RouteSpec] = []
        self._handlers: list[Callable[[RawRequest, contextvars.Context], None]] = []
        for index, route in enumerate(app.routes):
            bind, plan = compile_binder(route, app)
            self.route_specs.append((index, route.router_path, list(route.methods), plan, route.websocket))
            self._handlers.append(
                self._compile_websocket(route, bind) if route.websocket else self._compile(route, bind)
            )
        #: The route index routing misses (404/405) are sent to, when the app has exception
        #: handlers that could answer them; otherwise Rust answers them without Python.
        self.error_route: int | None = None
        if app.handles_routing_errors():
            self.error_route = len(self._handlers)
            self._handlers.append(self._handle_routing_error)

    # -- wiring -----------------------------------------------------------------------------

    def attach(self) -> None:
        # The reader callback runs in the context captured here: every handler (and what it
        # starts) finds this app's background supervisor.
        token = background._current.set(self.background)
        try:
            self._loop.add_reader(self._queue.fileno(), self._on_readable)
        finally:
            background._current.reset(token)
        self._attached = True

    def detach(self) -> None:
        if self._attached:
            self._loop.remove_reader(self._queue.fileno())
            self._attached = False

    async def wait_server_stopped(self) -> None:
        await self._stopped

    def end_event_streams(self) -> None:
        """Ends every Server-Sent Events stream cleanly (shutdown: clients reconnect)."""
        for task in list(self._event_streams):
            task.cancel()

    async def drain_tasks(self, timeout: float) -> None:
        """Waits for handlers that are still running, then cancels what is left."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)

    def _on_readable(self) -> None:
        handlers = self._handlers
        copy_context = _copy_context
        events, requests = self._queue.drain()
        if events:
            self.waits.resolve(events)
        for raw in requests:
            # Each request runs in its own context, as it would in its own Task.
            context = copy_context()
            context.run(handlers[raw.route], raw, context)
        if self._queue.server_stopped and not self._stopped.done():
            self._stopped.set_result(None)

    # -- compiling a route into its request handler -------------------------------------------

    def _compile(
        self, route: Route, bind: Callable[[RawRequest], list[Any]] | None
    ) -> Callable[[RawRequest, contextvars.Context], None]:
        endpoint = route.endpoint
        status = route.status_code or 200
        on_error = functools.partial(self.handle_exception, route=route)
        # async def functions, and callable objects whose __call__ is one
        is_async = inspect.iscoroutinefunction(endpoint) or inspect.iscoroutinefunction(
            type(endpoint).__call__ if not inspect.isroutine(endpoint) else None
        )
        serialise = compile_response_model(route, getattr(self._app, "debug", False))
        tasks_at = [i for i, spec in enumerate(analyse(route)) if spec.source == "background"]
        if tasks_at and bind is not None:
            if serialise is not None:
                # converted before the tasks are submitted: a value the model refuses is a
                # 500, and a failed request runs no background tasks
                endpoint = _through_model(endpoint, serialise, is_async)
                serialise = None
            bind = _with_background_tasks(bind)
            endpoint = _submitting_tasks(endpoint, tasks_at, is_async)

        if is_async:
            loop = self._loop
            live = self._tasks
            respond = self._respond
            abandoned = self._abandoned

            def report(raw: RawRequest, result: Any, error: BaseException | None) -> None:
                if error is None:
                    respond(raw, result, serialise, status, route)
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

            return handle_async

        if route.blocking:

            def handle_blocking(raw: RawRequest, context: contextvars.Context) -> None:
                try:
                    args = bind(raw) if bind is not None else []
                except Exception as exc:
                    on_error(raw, exc)
                    return
                # a copy: the request's context is still entered on this thread
                call = functools.partial(context.copy().run, endpoint, *args)
                future = self._loop.run_in_executor(self._blocking_executor(), call)
                self._track(self._finish(raw, future, status, route, serialise))

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
                self._render_or_fail(raw, result, status, route)

            return handle_sync_through_model

        def handle_sync(raw: RawRequest, context: contextvars.Context) -> None:
            try:
                result = endpoint(*bind(raw)) if bind is not None else endpoint()
            except Exception as exc:
                on_error(raw, exc)
                return
            self._render_or_fail(raw, result, status, route)

        return handle_sync

    def _compile_websocket(
        self, route: Route, bind: Callable[..., list[Any]] | None
    ) -> Callable[[RawRequest, contextvars.Context], None]:
        endpoint = route.endpoint
        queue = self._queue
        app = self._app
        param_names = route.param_names

        def handle_websocket(raw: RawRequest, context: contextvars.Context) -> None:
            connection = raw.take_websocket(queue)
            if connection is None:  # not a handshake (cannot happen for a websocket route)
                raw.respond_problem(400, "expected a WebSocket handshake")
                return
            websocket = WebSocket(raw, connection, self.waits, param_names, app)
            try:
                args = bind(raw, {"websocket": websocket}) if bind is not None else []
                coro = endpoint(*args)
            except Exception as exc:  # a validation error refuses the handshake (422)
                self.handle_exception(raw, exc, route=route)
                return
            self._track(self._run_websocket(raw, websocket, coro, route))

        return handle_websocket

    async def _run_websocket(self, raw: RawRequest, websocket: WebSocket, coro: Any, route: Route) -> None:
        try:
            await coro
        except WebSocketDisconnect:
            pass  # the peer left; nothing to report
        except Exception as exc:
            if websocket.application_state is WebSocketState.CONNECTING:
                self.handle_exception(raw, exc, route=route)
                return
            logger.error("Exception in WebSocket handler %s for %s", route.name, raw.path, exc_info=exc)
            await websocket.close(1011, "internal error")
            return
        if websocket.application_state is WebSocketState.CONNECTING:
            # Returned without accepting: the handshake is refused, as Starlette does.
            raw.respond_problem(403, "the WebSocket handler did not accept the connection")
        else:
            await websocket.close(1000)

    def _track(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Runs a request's remaining work as a Task, holding a strong reference until it is
        done (the loop keeps only weak ones) so shutdown can wait for it."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _blocking_executor(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self._app.config.blocking_threads,
                thread_name_prefix="ferroweb-blocking",
            )
        return self._executor

    async def _finish(
        self, raw: RawRequest, awaitable: Any, status: int, route: Route, serialise: Serialise | None
    ) -> None:
        try:
            result = await awaitable
            if serialise is not None:
                result = serialise(result)
        except Exception as exc:
            self.handle_exception(raw, exc, route=route)
            return
        self._render_or_fail(raw, result, status, route)

    def _respond(
        self, raw: RawRequest, result: Any, serialise: Serialise | None, status: int, route: Route
    ) -> None:
        """Sends what a handler returned, through its response model when it has one."""
        if serialise is not None:
            try:
                result = serialise(result)
            except Exception as exc:
                self.handle_exception(raw, exc, route=route)
                return
        self._render_or_fail(raw, result, status, route)

    def _render_or_fail(self, raw: RawRequest, result: Any, status: int, route: Route | None) -> None:
        try:
            streaming = render(raw, result, status)
            if streaming is not None:
                self._start_stream(raw, streaming, route)
        except Exception as exc:  # e.g. a value msgspec cannot encode, a bad header
            self._internal_error(raw, exc, route)

    def _start_stream(self, raw: RawRequest, response: StreamingResponse, route: Route | None) -> None:
        source = ChunkSource(response.body_iterator, self._loop, self._blocking_executor)
        on_error = functools.partial(self.handle_exception, route=route)
        where = (route.name if route is not None else None) or "-"
        task = self._track(send_stream(raw, response, self._queue, self.waits, source, on_error, where))
        if response.send_head_early:
            self._event_streams.add(task)
            task.add_done_callback(self._event_streams.discard)

    # -- errors -------------------------------------------------------------------------------

    def _handle_routing_error(self, raw: RawRequest, context: contextvars.Context) -> None:
        miss = raw.routing_error()
        if miss is None:  # not sent by the router's fallback: nothing matched at all
            miss = (404, f"no route matches {raw.path}", None)
        status, detail, allow = miss
        self.handle_exception(raw, HTTPException(status, detail, {"allow": allow} if allow else None))

    def handle_exception(self, raw: RawRequest, exc: Exception, route: Route | None = None) -> None:
        handler = self._app.exception_handler_for(exc)
        if handler is not None:
            self._run_exception_handler(raw, exc, handler, route)
        elif isinstance(exc, HTTPException):
            self._send_http_exception(raw, exc)
        else:
            self._internal_error(raw, exc, route)

    def _run_exception_handler(
        self, raw: RawRequest, exc: Exception, handler: Callable[..., Any], route: Route | None
    ) -> None:
        request = Request(raw, route.param_names if route else (), self._app)
        try:
            result = handler(request, exc)
        except Exception as handler_exc:
            self._internal_error(raw, handler_exc, route)
            return
        if inspect.isawaitable(result):
            self._track(self._finish_handler(raw, result, _status_of(exc), route))
        else:
            self._render_or_fail(raw, result, _status_of(exc), route)

    async def _finish_handler(
        self, raw: RawRequest, awaitable: Any, status: int, route: Route | None
    ) -> None:
        try:
            result = await awaitable
        except Exception as exc:
            self._internal_error(raw, exc, route)
            return
        self._render_or_fail(raw, result, status, route)

    def _send_http_exception(self, raw: RawRequest, exc: HTTPException) -> None:
        headers = list(exc.headers.items()) if exc.headers else None
        detail = exc.detail
        extensions: dict[str, Any] = {}
        if isinstance(exc, RequestValidationError):
            extensions["errors"] = exc.errors
        if detail is not None and not isinstance(detail, str):
            extensions["detail"] = detail
            detail = None
        try:
            raw.respond_problem(
                exc.status_code,
                detail,
                headers,
                _encode_json(extensions) if extensions else None,
            )
        except Exception as send_exc:
            self._internal_error(raw, send_exc, None)

    def _abandoned(self, raw: RawRequest, error: BaseException, route: Route) -> None:
        """A handler that ended without an outcome: cancelled (at shutdown, past the grace
        period), or stopped by KeyboardInterrupt/SystemExit, which then goes on upwards."""
        if isinstance(error, asyncio.CancelledError):
            logger.warning("Handler %s for %s %s was cancelled", route.name, raw.method, raw.path)
            with contextlib.suppress(RuntimeError):
                raw.respond_problem(500, "the request handler was cancelled before it finished")
        else:
            self._internal_error(raw, error, route)

    def _internal_error(self, raw: RawRequest, exc: BaseException, route: Route | None) -> None:
        where = route.name if route is not None else "-"
        logger.error("Exception in handler %s for %s %s", where, raw.method, raw.path, exc_info=exc)
        # RuntimeError: a response was already sent; the exception is logged above.
        with contextlib.suppress(RuntimeError):
            raw.respond_problem(500)


def _status_of(exc: Exception) -> int:
    return exc.status_code if isinstance(exc, HTTPException) else 500


def _with_background_tasks(bind: Callable[..., list[Any]]) -> Callable[[RawRequest], list[Any]]:
    """The binder, giving each request a fresh ``BackgroundTasks``."""

    def bind_with_tasks(raw: RawRequest) -> list[Any]:
        return bind(raw, {"background": background.BackgroundTasks()})

    return bind_with_tasks


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
