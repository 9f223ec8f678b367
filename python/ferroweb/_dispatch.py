"""The hot path's wiring: take batches of requests from Rust and hand each to its route's
compiled handler.

Runs on the one thread that owns the event loop. Rust wakes the loop once per batch through
the queue's file descriptor; each request then costs one handler call plus one call back into
Rust. What a handler does is compiled per route (``_compile``), what a request ends with
leaves through the responder (``_respond``), and exceptions are mapped to outcomes by
``_exception_handlers``; this module only connects them to the queue.
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

import msgspec

from ferroweb._compile import compile_route
from ferroweb._dependencies import AppScope
from ferroweb._docs import redoc_files, swagger_files
from ferroweb._engine_plan import EnginePlan
from ferroweb._exception_handlers import ExceptionMapper
from ferroweb._ferroweb import MountSpec, RouteSpec, RoutingPlan
from ferroweb._hooks import routing_miss_handler
from ferroweb._respond import Responder
from ferroweb._services import RequestHandler, Services
from ferroweb._waits import Waits
from ferroweb.hooks import Hooks
from ferroweb.middleware import RateLimit, core_stack
from ferroweb.responses import Response
from ferroweb.security import verification_hook

if TYPE_CHECKING:
    from ferroweb._ferroweb import RequestQueue
    from ferroweb._served_app import ServedApp
    from ferroweb.routing import Route

_copy_context = contextvars.copy_context


class Dispatcher:
    """Runs one app's handlers on one event loop, fed by one request queue."""

    def __init__(
        self,
        app: ServedApp,
        queue: RequestQueue,
        loop: asyncio.AbstractEventLoop,
        blocking_executor: Callable[[], Executor],
        app_scope: AppScope | None = None,
    ) -> None:
        self._queue = queue
        self._loop = loop
        #: Requests still running (RequestTasks) and the Tasks of streams, WebSockets, blocking
        #: handlers: shutdown waits for them.
        self._tasks: set[asyncio.Future[Any]] = set()
        self._stopped: asyncio.Future[None] = loop.create_future()
        self._attached = False
        #: Waits completed by Rust (stream room, WebSocket messages), resolved per batch.
        self.waits = Waits(loop)
        self.responder = Responder(loop, self.waits, blocking_executor, self.track)
        self.exceptions = ExceptionMapper(app.exception_handler_for, self.responder, self.track, app)
        self.responder.on_error = self.exceptions.handle
        self.responder.on_failure = self.exceptions.internal_error
        services = Services(
            app=app,
            loop=loop,
            live=self._tasks,
            track=self.track,
            blocking_executor=blocking_executor,
            waits=self.waits,
            responder=self.responder,
            exceptions=self.exceptions,
            app_scope=app_scope if app_scope is not None else AppScope(),
        )
        #: The routes as the core's router serves them; ids index ``_handlers``.
        self.route_specs: list[RouteSpec] = []
        self._handlers: list[RequestHandler] = []
        for index, declared in enumerate(app.routes):
            route = with_python_checks(declared)
            compiled = compile_route(route, services)
            self.route_specs.append(
                RouteSpec(
                    index,
                    route.router_path,
                    route.methods,
                    compiled.core_params,
                    websocket=route.websocket,
                    middleware=core_stack(route.middleware, [scheme._core for scheme in route.auth or ()]),
                )
            )
            self._handlers.append(compiled.handler)
        if app.openapi_url is not None:
            self._serve_fixed(
                app.openapi_url, "application/json", msgspec.json.encode(app.openapi()), "no-cache"
            )
            title = app.openapi_config.title
            pages = swagger_files(app.docs_url, app.openapi_url, title) if app.docs_url else []
            pages += redoc_files(app.redoc_url, app.openapi_url, title) if app.redoc_url else []
            for page in pages:
                self._serve_fixed(page.path, page.content_type, page.body, page.cache_control)
        if app.asyncapi_url is not None:
            document = msgspec.json.encode(app.asyncapi())
            self._serve_fixed(app.asyncapi_url, "application/json", document, "no-cache")
        #: The route id routing misses (404/405) are sent to, when the app has exception
        #: handlers that could answer them; otherwise Rust answers them without Python.
        self.error_route: int | None = None
        #: The app's own middleware, for requests no route serves (404, 405, OPTIONS).
        self.default_middleware = core_stack(app.user_middleware)
        self._redirect_slashes = bool(app.redirect_slashes)
        #: The static directories, under their prefixes.
        self.mounts = [
            MountSpec(mount.path, mount.app._directory, middleware=core_stack(mount.middleware))
            for mount in app.mounts
        ]
        if app.handles_routing_errors():
            self.error_route = len(self._handlers)
            if app.http_middleware:
                self._handlers.append(routing_miss_handler(services))
            else:
                routing_error = self.exceptions.routing_error
                self._handlers.append(lambda raw, context: routing_error(raw))

    def _serve_fixed(self, path: str, content_type: str, body: bytes, cache_control: str) -> None:
        """A route the core answers from ``body`` itself (its handler here is never called
        by the core; it answers the same, should anything dispatch to it). Clients revalidate
        it by its ETag once ``cache_control`` lets the copy they hold expire."""
        index = len(self._handlers)
        headers = [("cache-control", cache_control)]
        spec = RouteSpec(index, path, ["GET"], None, fixed=(content_type, body, headers))
        self.route_specs.append(spec)
        respond = self.responder.send
        answer = Response(body, headers=dict(headers), media_type=content_type)
        self._handlers.append(lambda raw, context: respond(raw, answer))

    def plan(self, queue: RequestQueue) -> EnginePlan:
        """What an engine feeding ``queue`` serves for this app."""
        routing = RoutingPlan(
            self.route_specs,
            error_route=self.error_route,
            middleware=self.default_middleware,
            mounts=self.mounts,
            redirect_slashes=self._redirect_slashes,
        )
        return EnginePlan(routing, queue)

    # -- wiring -----------------------------------------------------------------------------

    def attach(self) -> None:
        """Starts handling requests. The reader callback runs in the context current here,
        and so does every handler it starts (each in a copy)."""
        self._loop.add_reader(self._queue.fileno(), self._on_readable)
        self._attached = True

    def detach(self) -> None:
        if self._attached:
            self._loop.remove_reader(self._queue.fileno())
            self._attached = False

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

    def track(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Runs a request's remaining work as a Task, holding a strong reference until it is
        done (the loop keeps only weak ones) so shutdown can wait for it."""
        task = self._loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # -- shutdown -------------------------------------------------------------------------------

    async def wait_server_stopped(self) -> None:
        """Until the network server fed by this queue reports that it stopped. Shielded: a
        waiter that gives up must not cancel the one future every waiter shares."""
        await asyncio.shield(self._stopped)

    def end_event_streams(self) -> None:
        self.responder.end_event_streams()

    async def drain_tasks(self, timeout: float) -> None:
        """Waits up to ``timeout`` seconds for handlers that are still running, then cancels
        what is left (a cancelled request answers 500)."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()

    async def wait_idle(self) -> None:
        """Until no handler is running (including ones started meanwhile)."""
        while self._tasks:
            await asyncio.wait(set(self._tasks))


def with_python_checks(route: Route) -> Route:
    """The route, with the hooks of the checks that run in Python before every other hook:
    ``APIKeyAuth(verify=...)``, then a ``RateLimit`` with a key function."""
    on_request: list[Any] = []
    on_response: list[Any] = []
    verify = verification_hook(route.auth or ())
    if verify is not None:
        on_request.append(verify)
    for item in route.middleware:
        hooks = item.python_hooks() if isinstance(item, RateLimit) else None
        if hooks is not None:
            on_request.append(hooks[0])
            on_response.append(hooks[1])
    if not on_request:
        return route
    if route.websocket:
        raise TypeError(
            f"WebSocket route {route.path!r}: APIKeyAuth(verify=...) and RateLimit(key=<function>)"
            " run as hooks, which WebSocket routes do not run; use keys= / a key the core reads"
        )
    layer = Hooks(on_request=on_request, on_response=on_response)
    return dataclasses.replace(route, hooks=(layer, *route.hooks))
