"""Route declarations: decorators, routers, and nesting. Nothing here runs per request."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from ferroweb.hooks import Hook, Hooks, HooksArgument
from ferroweb.middleware import Middleware, check_list, merge
from ferroweb.security import INHERIT, AuthArgument, AuthScheme, _Inherit, check_auth
from ferroweb.staticfiles import StaticFiles

HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")

_PARAM = re.compile(r"\{([^{}]*)\}")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

Endpoint = Callable[..., Any]
E = TypeVar("E", bound=Endpoint)
K = TypeVar("K", bound=Hook)


def parse_path(path: str) -> tuple[str, tuple[str, ...]]:
    """``/files/{name:path}`` -> (``/files/{*name}``, ("name",)): the template the Rust router
    matches and the parameter names in order. Other converters are validated here."""
    if not path.startswith("/"):
        raise ValueError(f"route path must start with '/': {path!r}")
    names: list[str] = []

    def convert(match: re.Match[str]) -> str:
        name, _, converter = match.group(1).partition(":")
        name = name.strip()
        if not _IDENTIFIER.match(name):
            raise ValueError(f"invalid path parameter name {name!r} in {path!r}")
        if name in names:
            raise ValueError(f"path parameter {name!r} appears twice in {path!r}")
        names.append(name)
        if converter == "path":
            if match.end() != len(path):
                raise ValueError(f"'{{{name}:path}}' must end the route path: {path!r}")
            return f"{{*{name}}}"
        if converter:
            raise ValueError(
                f"unknown path converter {converter!r} in {path!r}; annotate the handler"
                " parameter with a type instead"
            )
        return f"{{{name}}}"

    return _PARAM.sub(convert, path), tuple(names)


@dataclass(frozen=True)
class Route:
    """One registered handler and everything declared about it."""

    path: str
    endpoint: Endpoint
    methods: tuple[str, ...]
    status_code: int | None = None
    name: str | None = None
    tags: tuple[str, ...] = ()
    summary: str | None = None
    description: str | None = None
    include_in_schema: bool = True
    #: Shown as deprecated in the OpenAPI document (it still serves).
    deprecated: bool = False
    #: The OpenAPI ``operationId`` (default: made from the name, path and method).
    operation_id: str | None = None
    #: More documented answers: ``{404: {"description": ..., "model": Problem-ish type}}``.
    responses: Mapping[int | str, Mapping[str, Any]] | None = None
    blocking: bool = False
    #: A WebSocket endpoint (an upgrade of GET) instead of an HTTP handler.
    websocket: bool = False
    #: A WebSocket route's declared message types: what ``receive_json`` decodes into and
    #: what ``send_json`` checks (None: undeclared, any JSON).
    receives: Any = None
    sends: Any = None
    #: What the response is serialised (and in debug mode validated) as; defaults to the
    #: handler's return annotation. ``None`` there means "not declared".
    response_model: Any = None
    #: The route's effective middleware: its own entries, then its routers' and the app's of
    #: other classes (see ``ferroweb.middleware``).
    middleware: tuple[Middleware, ...] = ()
    #: Who may call the route (any one scheme suffices): ``()`` is public, ``None`` not
    #: stated yet (the including router's, then the app's, applies).
    auth: tuple[AuthScheme, ...] | None = None
    #: ``Depends(...)`` run for their side effects before the handler's own: the app's,
    #: then its routers', then the route's.
    dependencies: tuple[Any, ...] = ()
    #: The hooks of each layer the route belongs to, outermost (the app's) first, its own
    #: last. The layers' objects themselves: a hook registered on a router after the route
    #: was added still applies.
    hooks: tuple[Hooks, ...] = ()
    router_path: str = field(init=False, default="")
    param_names: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        router_path, names = parse_path(self.path)
        object.__setattr__(self, "router_path", router_path)
        object.__setattr__(self, "param_names", names)
        if self.name is None:
            object.__setattr__(self, "name", getattr(self.endpoint, "__name__", None))
        if self.description is None:
            # cleandoc: the docstring's own indentation is not part of the text
            object.__setattr__(self, "description", inspect.cleandoc(self.endpoint.__doc__ or "") or None)


@dataclass(frozen=True)
class Mount:
    """A static directory served under ``path`` (``""`` for the root: the paths no route
    takes)."""

    path: str
    app: StaticFiles
    name: str | None = None
    #: The mount's effective middleware, merged as a route's is.
    middleware: tuple[Middleware, ...] = ()


def _mount_path(path: str) -> str:
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"mount path must start with '/': {path!r}")
    if "{" in path or "}" in path:
        raise ValueError(f"mount path takes no parameters: {path!r}")
    return path.rstrip("/")


def _normalise_methods(methods: Iterable[str]) -> tuple[str, ...]:
    result: list[str] = []
    for method in methods:
        upper = method.upper()
        if upper not in HTTP_METHODS:
            raise ValueError(f"unsupported HTTP method {method!r}; use one of {', '.join(HTTP_METHODS)}")
        if upper not in result:
            result.append(upper)
    if not result:
        raise ValueError("a route needs at least one method")
    return tuple(result)


def _check_dependencies(dependencies: Sequence[Any] | None, where: str) -> tuple[Any, ...]:
    from ferroweb.dependencies import Depends

    for entry in dependencies or ():
        if not isinstance(entry, Depends):
            raise TypeError(f"{where}: dependencies= takes Depends(...) entries, not {type(entry).__name__}")
    return tuple(dependencies or ())


def _inherit(
    stated: tuple[AuthScheme, ...] | None, outer: tuple[AuthScheme, ...] | None
) -> tuple[AuthScheme, ...] | None:
    """A route's own ``auth=`` when it states one, else its router's."""
    return outer if stated is None else stated


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    return prefix + path if path != "/" else prefix or "/"


class Router:
    """A group of routes under a common prefix and tags; include it into an app or router."""

    def __init__(
        self,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        *,
        middleware: Sequence[Middleware] | None = None,
        dependencies: Sequence[Any] | None = None,
        auth: AuthArgument | _Inherit = INHERIT,
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"router prefix must start with '/' and not end with '/': {prefix!r}")
        #: Run before the handler of every route of this router (``Depends(...)`` each).
        self.dependencies = _check_dependencies(dependencies, f"router {prefix or '/'!r}")
        self.prefix = prefix
        self.tags = tuple(tags or ())
        #: Applied to every route of this router (a route's own entry of a class wins).
        self.user_middleware = check_list(middleware, f"router {prefix or '/'!r}")
        #: The authentication of this router's routes that state none (None: not stated).
        self.auth = check_auth(auth, f"router {prefix or '/'!r}")
        #: Run for every HTTP route of this router (see ``ferroweb.hooks``).
        self.hooks = Hooks()
        self.routes: list[Route] = []
        self.mounts: list[Mount] = []

    def add_route(
        self,
        path: str,
        endpoint: Endpoint,
        methods: Sequence[str] = ("GET",),
        *,
        status_code: int | None = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        deprecated: bool = False,
        operation_id: str | None = None,
        responses: Mapping[int | str, Mapping[str, Any]] | None = None,
        blocking: bool = False,
        response_model: Any = None,
        websocket: bool = False,
        middleware: Sequence[Middleware] | None = None,
        dependencies: Sequence[Any] | None = None,
        hooks: HooksArgument | None = None,
        receives: Any = None,
        sends: Any = None,
        auth: AuthArgument | _Inherit = INHERIT,
    ) -> Route:
        if not callable(endpoint):
            raise TypeError(f"route handler for {path!r} must be callable")
        if status_code is not None and not 100 <= status_code <= 999:
            raise ValueError(f"invalid status_code {status_code}")
        route = Route(
            path=_join(self.prefix, path),
            endpoint=endpoint,
            methods=_normalise_methods(methods),
            status_code=status_code,
            name=name,
            tags=self.tags + tuple(t for t in (tags or ()) if t not in self.tags),
            summary=summary,
            description=description,
            include_in_schema=include_in_schema,
            deprecated=deprecated,
            operation_id=operation_id,
            responses=responses,
            blocking=blocking,
            response_model=response_model,
            websocket=websocket,
            receives=receives,
            sends=sends,
            middleware=merge(self.user_middleware, check_list(middleware, f"route {path!r}")),
            auth=_inherit(check_auth(auth, f"route {path!r}"), self.auth),
            dependencies=self.dependencies + _check_dependencies(dependencies, f"route {path!r}"),
            hooks=(self.hooks,) if hooks is None else (self.hooks, Hooks.of(hooks, f"route {path!r}")),
        )
        self.routes.append(route)
        return route

    def route(
        self,
        path: str,
        methods: Sequence[str] = ("GET",),
        *,
        status_code: int | None = None,
        name: str | None = None,
        tags: Sequence[str] | None = None,
        summary: str | None = None,
        description: str | None = None,
        include_in_schema: bool = True,
        deprecated: bool = False,
        operation_id: str | None = None,
        responses: Mapping[int | str, Mapping[str, Any]] | None = None,
        blocking: bool = False,
        response_model: Any = None,
        middleware: Sequence[Middleware] | None = None,
        dependencies: Sequence[Any] | None = None,
        hooks: HooksArgument | None = None,
        auth: AuthArgument | _Inherit = INHERIT,
    ) -> Callable[[E], E]:
        def decorator(endpoint: E) -> E:
            self.add_route(
                path,
                endpoint,
                methods,
                status_code=status_code,
                name=name,
                tags=tags,
                summary=summary,
                description=description,
                include_in_schema=include_in_schema,
                deprecated=deprecated,
                operation_id=operation_id,
                responses=responses,
                blocking=blocking,
                response_model=response_model,
                middleware=middleware,
                dependencies=dependencies,
                hooks=hooks,
                auth=auth,
            )
            return endpoint

        return decorator

    def get(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("GET",), **options)

    def post(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("POST",), **options)

    def put(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("PUT",), **options)

    def patch(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("PATCH",), **options)

    def delete(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("DELETE",), **options)

    def head(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("HEAD",), **options)

    def options(self, path: str, **options: Any) -> Callable[[E], E]:
        return self.route(path, ("OPTIONS",), **options)

    # -- hooks (see ferroweb.hooks) -----------------------------------------------------------

    def on_request(self, hook: K) -> K:
        """Registers ``hook(request)``, run first for every request of this router's routes;
        a value other than None is the answer."""
        self.hooks.add("on_request", hook)
        return hook

    def pre_validation(self, hook: K) -> K:
        """Registers ``hook(request)``, run before the parameters and body are validated."""
        self.hooks.add("pre_validation", hook)
        return hook

    def pre_handler(self, hook: K) -> K:
        """Registers ``hook(request)``, run after validation, before dependencies and handler."""
        self.hooks.add("pre_handler", hook)
        return hook

    def on_response(self, hook: K) -> K:
        """Registers ``hook(request, response)``, which returns the response (changed or not)
        or another one."""
        self.hooks.add("on_response", hook)
        return hook

    def on_error(self, hook: K) -> K:
        """Registers ``hook(request, exc)``: a response it returns answers the request; None
        leaves the exception to the exception handlers."""
        self.hooks.add("on_error", hook)
        return hook

    def websocket(
        self,
        path: str,
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
        dependencies: Sequence[Any] | None = None,
        receives: Any = None,
        sends: Any = None,
        include_in_schema: bool = True,
        auth: AuthArgument | _Inherit = INHERIT,
    ) -> Callable[[E], E]:
        """Registers an ``async def handler(websocket: WebSocket, ...)`` for WebSocket
        connections to ``path``; path, query, header and cookie parameters work as for HTTP
        routes (a refusal answers the handshake with 422). ``receives=`` / ``sends=``
        declare the JSON message types (msgspec types or pydantic models): ``receive_json``
        then returns ``receives`` values (a message that does not match closes with 1007)
        and ``send_json`` refuses data that is not a ``sends`` value. The route is a channel
        of the AsyncAPI document unless ``include_in_schema=False``."""

        def decorator(endpoint: E) -> E:
            if not inspect.iscoroutinefunction(endpoint):
                raise TypeError(f"WebSocket handler for {path!r} must be an async def function")
            self.add_route(
                path,
                endpoint,
                ("GET",),
                name=name,
                include_in_schema=include_in_schema,
                websocket=True,
                middleware=middleware,
                dependencies=dependencies,
                receives=receives,
                sends=sends,
                auth=auth,
            )
            return endpoint

        return decorator

    def mount(
        self,
        path: str,
        app: StaticFiles,
        *,
        name: str | None = None,
        middleware: Sequence[Middleware] | None = None,
    ) -> Mount:
        """Serves ``app`` (a ``ferroweb.staticfiles.StaticFiles``) under ``path``: ``/static``
        answers ``/static/css/site.css`` from ``css/site.css`` in its directory. ``"/"`` mounts
        at the root, answering the paths no route takes. The mount gets this router's (and the
        app's) middleware, and its own ``middleware`` entries replace those of their class."""
        if not isinstance(app, StaticFiles):
            raise TypeError(
                f"mount {path!r}: only ferroweb.staticfiles.StaticFiles can be mounted,"
                f" not {type(app).__name__}"
            )
        mount = Mount(
            path=self.prefix + _mount_path(path),
            app=app,
            name=name,
            middleware=merge(self.user_middleware, check_list(middleware, f"mount {path!r}")),
        )
        if any(existing.path == mount.path for existing in self.mounts):
            raise ValueError(f"a directory is already mounted at {path!r}")
        self.mounts.append(mount)
        return mount

    def include_router(
        self,
        router: Router,
        prefix: str = "",
        tags: Sequence[str] | None = None,
        *,
        dependencies: Sequence[Any] | None = None,
    ) -> None:
        """Copies ``router``'s routes here under ``prefix`` (plus this router's own prefix);
        ``dependencies`` (then this router's) run before theirs."""
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"include prefix must start with '/' and not end with '/': {prefix!r}")
        if router is self:
            raise ValueError("a router cannot include itself")
        extra_tags = tuple(tags or ())
        added = self.dependencies + _check_dependencies(dependencies, f"include {prefix or '/'!r}")
        for route in router.routes:
            merged_tags = self.tags + tuple(t for t in extra_tags + route.tags if t not in self.tags)
            self.routes.append(
                replace(
                    route,
                    path=_join(self.prefix + prefix, route.path),
                    tags=tuple(dict.fromkeys(merged_tags)),
                    middleware=merge(self.user_middleware, route.middleware),
                    auth=_inherit(route.auth, self.auth),
                    dependencies=added + route.dependencies,
                    hooks=(self.hooks, *route.hooks),
                )
            )
        for mount in router.mounts:
            self.mounts.append(
                replace(
                    mount,
                    path=self.prefix + prefix + mount.path,
                    middleware=merge(self.user_middleware, mount.middleware),
                )
            )
