"""Turns a handler's signature into a per-request argument binder, compiled once per route.

This issue's scope: the request object, path parameters (str) and query parameters (str, or
``list[str]`` for repeated keys). Typed conversion builds on the same plan.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

from ferroweb.datastructures import QueryParams
from ferroweb.exceptions import RequestValidationError
from ferroweb.requests import Request

if typing.TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb.routing import Route

#: Builds the handler's positional arguments for one request.
Binder = Callable[["RawRequest"], list[Any]]

_REQUEST, _PATH, _QUERY, _QUERY_LIST = range(4)


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple, set, frozenset):
        return True
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return any(_is_list(arg) for arg in typing.get_args(annotation) if arg is not type(None))
    return origin is typing.Annotated and _is_list(typing.get_args(annotation)[0])


def _is_request(name: str, annotation: Any) -> bool:
    if inspect.isclass(annotation) and issubclass(annotation, Request):
        return True
    return name == "request" and annotation in (inspect.Parameter.empty, Any)


def compile_binder(route: Route, app: Any) -> Binder | None:
    """None when the handler takes no parameters (the hot path calls it bare)."""
    endpoint = route.endpoint
    signature = inspect.signature(endpoint)
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        hints = {}
    steps: list[tuple[int, str, Any]] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"handler {route.name!r}: *args/**kwargs parameters are not supported")
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"handler {route.name!r}: keyword-only parameter {name!r} is not supported")
        annotation = hints.get(name, parameter.annotation)
        if _is_request(name, annotation):
            steps.append((_REQUEST, name, None))
        elif name in route.param_names:
            steps.append((_PATH, name, route.param_names.index(name)))
        else:
            kind = _QUERY_LIST if _is_list(annotation) else _QUERY
            steps.append((kind, name, parameter.default))
    if not steps:
        return None
    param_names = route.param_names
    if [kind for kind, _, _ in steps] == [_REQUEST]:
        # the most common shape (`def handler(request)`): skip the generic loop
        return lambda raw: [Request(raw, param_names, app)]
    needs_query = any(kind in (_QUERY, _QUERY_LIST) for kind, _, _ in steps)
    needs_path = any(kind == _PATH for kind, _, _ in steps)
    empty = inspect.Parameter.empty

    def bind(raw: RawRequest) -> list[Any]:
        path_values = raw.path_params() if needs_path else ()
        query = QueryParams(raw.query_params()) if needs_query else None
        args: list[Any] = []
        errors: list[dict[str, Any]] = []
        for kind, name, extra in steps:
            if kind == _REQUEST:
                args.append(Request(raw, param_names, app))
            elif kind == _PATH:
                args.append(path_values[extra])
            elif kind == _QUERY:
                assert query is not None
                if name in query:
                    args.append(query[name])
                elif extra is not empty:
                    args.append(extra)
                else:
                    errors.append(
                        {"type": "missing", "loc": ["query", name], "msg": "Field required", "input": None}
                    )
            else:
                assert query is not None
                values = query.getlist(name)
                if values or extra is empty:
                    args.append(values)
                else:
                    # a fresh copy, so a handler mutating its default cannot leak into others
                    args.append(list(extra) if isinstance(extra, list) else extra)
        if errors:
            raise RequestValidationError(errors)
        return args

    return bind
