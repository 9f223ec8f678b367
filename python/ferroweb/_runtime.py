"""``AppRuntime``: one app running on one event loop, started and stopped in one documented
order. ``serve`` runs it behind a network ``Server``, the test client behind an in-process
``TestTransport``; both are an *engine* here: the Rust side that feeds the request queue.

Start-up: start-up hooks and the lifespan run first (nothing is served by a half-started app),
then the request handlers are attached to the loop, then the engine starts.

Shutdown (``stop``), in this order:

1. the engine stops accepting; open WebSockets are closed (1001) and event streams end;
2. in-flight requests finish: a network server waits for its connections, up to
   ``ServerConfig.shutdown_timeout``; a test transport waits for its handlers, up to
   ``in_flight_timeout``; ``force`` cuts this short;
3. the queue stops taking requests (late ones get 503 from the core) and handlers still
   running are cancelled (they answer 500);
4. background tasks drain (up to ``BackgroundConfig.drain_timeout``; at once when forced);
5. the lifespan ends and shutdown hooks run;
6. the handlers are detached and the engine's threads are released.
"""

from __future__ import annotations

import asyncio
import logging
import operator
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol

from ferroweb import background
from ferroweb._dependencies import AppScope
from ferroweb._dispatch import Dispatcher
from ferroweb._engine_plan import EnginePlan
from ferroweb._ferroweb import RequestQueue, Server
from ferroweb._lifespan import Lifespan

if TYPE_CHECKING:
    from ferroweb._served_app import ServedApp

logger = logging.getLogger("ferroweb")


class Engine(Protocol):
    """The Rust side serving the app: a network ``Server`` or a ``TestTransport``."""

    def shutdown(self) -> None: ...

    def close(self, grace: float = ...) -> None: ...


#: Builds the engine for a plan.
EngineFactory = Callable[[EnginePlan], Engine]


class AppRuntime:
    """Runs ``app`` on ``loop``: its request handlers, background tasks and lifespan."""

    def __init__(self, app: ServedApp, loop: asyncio.AbstractEventLoop) -> None:
        self.app = app
        self.loop = loop
        self._executor: ThreadPoolExecutor | None = None
        #: The background-task supervisor of this app on this loop.
        self.background = background.Supervisor(app.config.background, loop, self.blocking_executor)
        self.lifespan = Lifespan(app)
        self.queue = RequestQueue()
        # Routes are compiled here, before anything starts: a handler the framework cannot
        # serve fails at once.
        #: The values of ``scope="app"`` dependencies: shared by every dispatcher of the app,
        #: their generators closed at shutdown.
        self.app_scope = AppScope()
        self.dispatcher = Dispatcher(app, self.queue, loop, self.blocking_executor, self.app_scope)
        self._routes = list(app.routes)
        self._mounts = list(app.mounts)
        self._routing_errors = app.handles_routing_errors()
        self._compiled_overrides = self._overrides()
        self._make_engine: EngineFactory | None = None
        self.engine: Engine | None = None

    def blocking_executor(self) -> ThreadPoolExecutor:
        """The threads of ``blocking=True`` handlers, sync stream iterators and sync
        background tasks; made on first use."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.app.config.blocking_threads, thread_name_prefix="ferroweb-blocking"
            )
        return self._executor

    async def start(self, make_engine: EngineFactory) -> None:
        """Start-up, then the handlers, then the engine. Raises ``StartupFailed`` when a
        start-up hook or the lifespan fails (nothing was started then)."""
        # Start-up hooks, and every request handler, find this app's background supervisor.
        with background.use(self.background):
            await self.lifespan.startup()
            self.dispatcher.attach()
        self._make_engine = make_engine
        try:
            self.engine = make_engine(self.dispatcher.plan(self.queue))
        except BaseException:
            self.dispatcher.detach()
            await self.lifespan.shutdown()
            raise

    def routes_changed(self) -> bool:
        """True when routes, routing-error handlers or dependency overrides changed since
        the start."""
        routes = self.app.routes
        return (
            self.app.handles_routing_errors() != self._routing_errors
            or len(routes) != len(self._routes)
            or not all(map(operator.is_, routes, self._routes))
            or list(self.app.mounts) != self._mounts
            or self._overrides() != self._compiled_overrides
        )

    def _overrides(self) -> dict[Any, Any]:
        return dict(getattr(self.app, "dependency_overrides", None) or {})

    def reload_routes(self) -> None:
        """Serves the app's current routes from a new engine, as a restarted server would; the
        lifespan and background tasks carry on. For in-process engines between requests."""
        if self.engine is None or self._make_engine is None:
            raise RuntimeError("the runtime is not started")
        queue = RequestQueue()
        dispatcher = Dispatcher(self.app, queue, self.loop, self.blocking_executor, self.app_scope)
        self.dispatcher.detach()
        self.engine.close(0.0)
        self.dispatcher = dispatcher
        self.queue = queue
        self._routes = list(self.app.routes)
        self._mounts = list(self.app.mounts)
        self._routing_errors = self.app.handles_routing_errors()
        self._compiled_overrides = self._overrides()
        with background.use(self.background):
            dispatcher.attach()
        self.engine = self._make_engine(dispatcher.plan(self.queue))

    async def stop(self, *, force: asyncio.Event | None = None, in_flight_timeout: float = 5.0) -> bool:
        """Shuts down in the order of the module's docstring. Returns True when it was forced
        (``force`` set before in-flight work finished): that work was abandoned."""
        engine = self.engine
        dispatcher = self.dispatcher
        forced = force is not None and force.is_set()
        if engine is not None:
            engine.shutdown()
            dispatcher.end_event_streams()
            if not forced:
                forced = await self._wait_in_flight(engine, force, in_flight_timeout)
        self.queue.close()
        await dispatcher.drain_tasks(timeout=0.0 if forced else 1.0)
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
        metrics = self.background.metrics()
        if metrics.queued or metrics.running:
            logger.info(
                "draining %d running and %d queued background task(s) (up to %ss)",
                metrics.running,
                metrics.queued,
                self.background.config.drain_timeout,
            )
        await self.background.drain(0.0 if forced else None)
        await self.app_scope.close()  # before the lifespan ends: they may use what it made
        await self.lifespan.shutdown()
        dispatcher.detach()
        if engine is not None:
            self.engine = None
            engine.close(0.0 if forced else 1.0)
        return forced

    async def _wait_in_flight(self, engine: Engine, force: asyncio.Event | None, timeout: float) -> bool:
        """Step 2; True when ``force`` ended it first."""
        if isinstance(engine, Server):
            # the core finishes open connections itself, up to ServerConfig.shutdown_timeout
            finished = asyncio.ensure_future(self.dispatcher.wait_server_stopped())
            limit: float | None = None
        else:
            finished = asyncio.ensure_future(self.dispatcher.wait_idle())
            limit = timeout
        forcing = asyncio.ensure_future(force.wait()) if force is not None else None
        waiting = [finished] if forcing is None else [finished, forcing]
        try:
            await asyncio.wait(waiting, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
            completed = finished.done()
            forced = forcing is not None and forcing.done() and not completed
        finally:
            for waiter in waiting:
                waiter.cancel()
        if forced:
            logger.warning("forced shutdown: in-flight requests were abandoned")
        elif isinstance(engine, Server) and not self.queue.server_drained:
            logger.warning("shutdown timeout reached; unfinished connections were closed")
        return forced
