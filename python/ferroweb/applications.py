"""The application object: routes, configuration, exception handlers, and ``run``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, TypeVar, Union

from ferroweb._asyncapi import build_asyncapi
from ferroweb._hooks import is_async_callable
from ferroweb._openapi import build_document
from ferroweb.config import ServerConfig
from ferroweb.datastructures import State
from ferroweb.exceptions import HTTPException
from ferroweb.middleware import Middleware
from ferroweb.openapi import OpenAPI
from ferroweb.routing import Router
from ferroweb.security import AuthArgument

ExceptionHandler = Callable[..., Any]
H = TypeVar("H", bound=ExceptionHandler)
#: ``async def middleware(request, call_next) -> Response``
HTTPMiddleware = Callable[..., Any]
M = TypeVar("M", bound=HTTPMiddleware)
F = TypeVar("F", bound=Callable[[], Any])
ExceptionKey = Union[int, type[BaseException]]


class App(Router):
    """A ferroweb application.

    >>> app = App()
    >>> @app.get("/")
    ... def index() -> dict:
    ...     return {"message": "Hello, World!"}
    """

    def __init__(
        self,
        config: ServerConfig | None = None,
        *,
        exception_handlers: dict[ExceptionKey, ExceptionHandler] | None = None,
        tags: Sequence[str] | None = None,
        debug: bool = False,
        lifespan: Callable[[App], AbstractAsyncContextManager[Any]] | None = None,
        on_startup: Sequence[Callable[[], Any]] | None = None,
        on_shutdown: Sequence[Callable[[], Any]] | None = None,
        middleware: Sequence[Middleware] | None = None,
        redirect_slashes: bool = True,
        dependencies: Sequence[Any] | None = None,
        openapi: OpenAPI | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
        asyncapi_url: str | None = "/asyncapi.json",
        auth: AuthArgument = None,
    ) -> None:
        super().__init__(tags=tags, middleware=middleware, dependencies=dependencies, auth=auth)
        #: ``app.dependency_overrides[original] = replacement`` (for tests): routes are
        #: compiled with the replacement; an in-process client recompiles them when this
        #: mapping changes, so no request checks it.
        self.dependency_overrides: dict[Callable[..., Any], Callable[..., Any]] = {}
        #: A request that matches no route, when the same path with (or without) a trailing
        #: slash does, is redirected there with 307 (by the core, without Python), as in
        #: Starlette; ``False`` answers it 404.
        self.redirect_slashes = redirect_slashes
        #: ``lifespan(app)`` is entered before the server accepts connections and exited
        #: after it stopped; a mapping it yields is merged into ``app.state``.
        self.lifespan = lifespan
        self.startup_hooks: list[Callable[[], Any]] = list(on_startup or ())
        self.shutdown_hooks: list[Callable[[], Any]] = list(on_shutdown or ())
        #: In debug mode, responses are validated against their declared model (constraints
        #: included) before they are sent.
        self.debug = debug
        if config is not None and not isinstance(config, ServerConfig):
            raise TypeError(f"config must be a ServerConfig, not {type(config).__name__}")
        self.config = config or ServerConfig()
        self.state = State()
        #: The document's ``info`` and ``servers`` (see ``ferroweb.openapi``).
        self.openapi_config = openapi or OpenAPI()
        urls = {
            "openapi_url": openapi_url,
            "docs_url": docs_url,
            "redoc_url": redoc_url,
            "asyncapi_url": asyncapi_url,
        }
        for name, url in urls.items():
            if url is not None and not url.startswith("/"):
                raise ValueError(f"{name} must start with '/': {url!r}")
        #: Where the core serves the OpenAPI document (None: nowhere, and no docs pages).
        self.openapi_url = openapi_url
        #: Where the core serves Swagger UI and Redoc pages for it, offline (None: nowhere).
        self.docs_url = docs_url if openapi_url is not None else None
        self.redoc_url = redoc_url if openapi_url is not None else None
        #: Built documents by builder, with the route ids they were built from.
        self._documents: dict[Callable[[App], dict[str, Any]], tuple[tuple[int, ...], dict[str, Any]]] = {}
        #: Where the core serves the AsyncAPI 3.0 document of the WebSocket and SSE routes.
        self.asyncapi_url = asyncapi_url
        #: What the lifespan yielded: each request's ``request.state`` starts as a shallow
        #: copy of it (Starlette's rule), while ``app.state`` holds it for the whole app.
        self.lifespan_state: dict[str, Any] = {}
        #: ``@app.middleware("http")`` functions, in registration order (the last one
        #: registered is the outermost, as in Starlette).
        self.http_middleware: list[HTTPMiddleware] = []
        self._exception_handlers: dict[ExceptionKey, ExceptionHandler] = {}
        for key, handler in (exception_handlers or {}).items():
            self.add_exception_handler(key, handler)

    def openapi(self) -> dict[str, Any]:
        """The app's OpenAPI 3.1 document, built from its routes (once for a set of routes)."""
        return self._document(build_document)

    def asyncapi(self) -> dict[str, Any]:
        """The app's AsyncAPI 3.0 document: its WebSocket and SSE routes as channels."""
        return self._document(build_asyncapi)

    def _document(self, build: Callable[[App], dict[str, Any]]) -> dict[str, Any]:
        key = tuple(id(route) for route in self.routes)
        cached = self._documents.get(build)
        if cached is None or cached[0] != key:
            cached = self._documents[build] = (key, build(self))
        return cached[1]

    def on_startup(self, hook: F) -> F:
        """Registers a (sync or async) function run before the server accepts requests. If
        one raises, the server does not start: the error is printed and it exits non-zero."""
        self.startup_hooks.append(hook)
        return hook

    def on_shutdown(self, hook: F) -> F:
        """Registers a (sync or async) function run last at shutdown: after the server stopped
        accepting, in-flight requests finished and background tasks drained."""
        self.shutdown_hooks.append(hook)
        return hook

    def add_event_handler(self, event: str, hook: Callable[[], Any]) -> None:
        if event == "startup":
            self.startup_hooks.append(hook)
        elif event == "shutdown":
            self.shutdown_hooks.append(hook)
        else:
            raise ValueError(f"unknown event {event!r}; use 'startup' or 'shutdown'")

    def middleware(self, kind: str) -> Callable[[M], M]:
        """``@app.middleware("http")``: registers ``async def mw(request, call_next)``, run
        around every HTTP request (routing misses included; static mounts and WebSockets
        excepted). ``await call_next(request)`` runs the rest and returns its ``Response``: a
        streamed one is a ``StreamingResponse`` whose body has not been read. An exception no
        exception handler takes (other than a 500 or ``Exception`` handler, which run outside
        every middleware) propagates out of ``call_next``.

        Each middleware costs one coroutine step per request, and a request through one is
        handled as a coroutine even when its handler is sync; prefer hooks
        (``ferroweb.hooks``) or the core's middleware (``ferroweb.middleware``) where they do."""
        if kind != "http":
            raise ValueError(f"unknown middleware kind {kind!r}; only 'http' is supported")

        def decorator(middleware: M) -> M:
            self.add_http_middleware(middleware)
            return middleware

        return decorator

    def add_http_middleware(self, middleware: HTTPMiddleware) -> None:
        if not is_async_callable(middleware):
            raise TypeError("http middleware must be an async def function: async def mw(request, call_next)")
        self.http_middleware.append(middleware)

    def add_exception_handler(self, key: ExceptionKey, handler: ExceptionHandler) -> None:
        """``handler(request, exc)`` answers for an exception class or an HTTP status code.

        A status code handler answers ``HTTPException``s with that status; a 500 handler
        (or one for ``Exception``) answers unhandled exceptions. It may be sync or async and
        returns a response or any value a route handler may return.
        """
        if isinstance(key, int):
            if not 100 <= key <= 999:
                raise ValueError(f"invalid status code {key}")
        elif not (isinstance(key, type) and issubclass(key, BaseException)):
            raise TypeError("exception handler key must be a status code or an exception class")
        if not callable(handler):
            raise TypeError("exception handler must be callable")
        self._exception_handlers[key] = handler

    def exception_handler(self, key: ExceptionKey) -> Callable[[H], H]:
        def decorator(handler: H) -> H:
            self.add_exception_handler(key, handler)
            return handler

        return decorator

    def exception_handler_for(
        self, exc: BaseException, *, server_errors: bool = True
    ) -> ExceptionHandler | None:
        """The handler that answers ``exc``. ``server_errors=False`` leaves out the handlers
        for unhandled exceptions (a 500 or ``Exception`` one): with ``http`` middleware those
        run outside it, as Starlette's ``ServerErrorMiddleware`` does."""
        handlers = self._exception_handlers
        if not handlers:
            return None
        if isinstance(exc, HTTPException) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in handlers:
                if not server_errors and cls in (Exception, BaseException):
                    return None
                return handlers[cls]
        if not isinstance(exc, HTTPException) and server_errors:
            return handlers.get(500)
        return None

    def handles_routing_errors(self) -> bool:
        """True when an exception handler or ``http`` middleware could see a 404 or 405
        from the router (otherwise the core answers those without Python)."""
        if self.http_middleware:
            return True
        for key in self._exception_handlers:
            if key in (404, 405):
                return True
            if isinstance(key, type) and issubclass(HTTPException, key):
                return True
        return False

    def run(
        self,
        host: str | None = None,
        port: int | None = None,
        *,
        workers: int | None = None,
        **overrides: Any,
    ) -> None:
        """Serves until SIGINT/SIGTERM; arguments override ``self.config``."""
        from ferroweb.server import serve

        config = self.config.replace(host=host, port=port, workers=workers, **overrides)
        serve(self, config)
