"""What compiled handlers share: the services of one app on one event loop, and the shape of a
route's request handler. Its own module so that ``_compile`` and ``_hooks`` (which ``_compile``
uses) can both name them."""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from ferroweb._dependencies import AppScope

if TYPE_CHECKING:
    from ferroweb._exception_handlers import ExceptionMapper
    from ferroweb._ferroweb import RawRequest
    from ferroweb._respond import Responder
    from ferroweb._served_app import ServedApp
    from ferroweb._waits import Waits

#: What each request of a route is handed to.
RequestHandler = Callable[["RawRequest", contextvars.Context], None]


@dataclasses.dataclass(frozen=True)
class Services:
    """What compiled handlers use: one set per app and event loop (built by the dispatcher)."""

    app: ServedApp
    loop: asyncio.AbstractEventLoop
    #: Requests still running: shutdown waits for them.
    live: set[asyncio.Future[Any]]
    #: Runs a request's remaining work as a tracked Task.
    track: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]]
    blocking_executor: Callable[[], Executor]
    waits: Waits
    responder: Responder
    exceptions: ExceptionMapper
    #: The values of ``scope="app"`` dependencies.
    app_scope: AppScope = dataclasses.field(default_factory=AppScope)
