"""``ServedApp``: what running an application reads from it. ``App`` is one; the modules that
serve an app (the runtime, the dispatcher, the server, the test client) depend on this shape
rather than on ``ferroweb.applications``, which itself imports the server to ``run``: so
there is no import cycle between declaring an app and running it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ferroweb.config import ServerConfig
    from ferroweb.datastructures import State
    from ferroweb.hooks import Hooks
    from ferroweb.middleware import Middleware
    from ferroweb.openapi import OpenAPI
    from ferroweb.routing import Mount, Route


class ServedApp(Protocol):
    @property
    def routes(self) -> Sequence[Route]: ...

    @property
    def mounts(self) -> Sequence[Mount]: ...

    @property
    def config(self) -> ServerConfig: ...

    @property
    def debug(self) -> bool: ...

    @property
    def redirect_slashes(self) -> bool: ...

    @property
    def user_middleware(self) -> Sequence[Middleware]:
        """The app's own core middleware: also what requests no route serves get."""

    @property
    def http_middleware(self) -> Sequence[Callable[..., Any]]:
        """``@app.middleware("http")`` functions, innermost first."""

    @property
    def hooks(self) -> Hooks: ...

    @property
    def state(self) -> State: ...

    @property
    def lifespan_state(self) -> dict[str, Any]: ...

    @property
    def openapi_url(self) -> str | None: ...

    @property
    def docs_url(self) -> str | None: ...

    @property
    def redoc_url(self) -> str | None: ...

    @property
    def openapi_config(self) -> OpenAPI: ...

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI document."""

    @property
    def asyncapi_url(self) -> str | None: ...

    def asyncapi(self) -> dict[str, Any]:
        """The app's AsyncAPI document."""

    @property
    def lifespan(self) -> Callable[[Any], AbstractAsyncContextManager[Any]] | None: ...

    @property
    def startup_hooks(self) -> Sequence[Callable[[], Any]]: ...

    @property
    def shutdown_hooks(self) -> Sequence[Callable[[], Any]]: ...

    def exception_handler_for(
        self, exc: BaseException, *, server_errors: bool = True
    ) -> Callable[..., Any] | None:
        """The app's handler for ``exc``, if it has one."""

    def handles_routing_errors(self) -> bool:
        """True when Python must see a 404 or 405 from the router."""
