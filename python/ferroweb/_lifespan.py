"""Start-up and shutdown of an application: ``on_startup``/``on_shutdown`` hooks and the
``lifespan`` context manager, run by the server and by ``with TestClient(app)``."""

from __future__ import annotations

import contextlib
import inspect
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ferroweb._served_app import ServedApp

logger = logging.getLogger("ferroweb")


class StartupFailed(Exception):
    """A start-up hook or the lifespan's start raised; the server must not start."""


async def _call(hook: Any, *args: Any) -> Any:
    result = hook(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


class Lifespan:
    """Runs one app's start-up once and its shutdown once, in the documented order."""

    def __init__(self, app: ServedApp) -> None:
        self._app = app
        self._context: contextlib.AbstractAsyncContextManager[Any] | None = None
        self._started = False

    async def startup(self) -> None:
        """Startup hooks in registration order, then the lifespan's start; a mapping it
        yields is merged into ``app.state``. Raises :class:`StartupFailed`."""
        app = self._app
        try:
            for hook in app.startup_hooks:
                await _call(hook)
            if app.lifespan is not None:
                context = app.lifespan(app)
                if not hasattr(context, "__aenter__"):
                    raise TypeError(
                        "App(lifespan=...) must be an async context manager factory (@asynccontextmanager)"
                    )
                state = await context.__aenter__()
                self._context = context
                if isinstance(state, Mapping):
                    for key, value in state.items():
                        setattr(app.state, key, value)
                    app.lifespan_state.update(state)
        except Exception as exc:
            raise StartupFailed(f"application start-up failed: {type(exc).__name__}: {exc}") from exc
        self._started = True

    async def shutdown(self) -> None:
        """The lifespan's end, then shutdown hooks; a failing one is logged and the rest run."""
        if not self._started:
            return
        self._started = False
        if self._context is not None:
            context, self._context = self._context, None
            try:
                await context.__aexit__(None, None, None)
            except Exception:
                logger.exception("the lifespan's shutdown failed")
        for hook in self._app.shutdown_hooks:
            try:
                await _call(hook)
            except Exception:
                logger.exception("shutdown hook %s failed", getattr(hook, "__qualname__", hook))
