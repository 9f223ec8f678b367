"""Turns a handler's signature into a per-request argument binder, compiled once per route.

Each parameter becomes a ``ParamSpec``: where its value comes from, the name looked up, and a
converter built from its annotation. Per request the binder only looks values up and converts
them; every error of the request is collected before a single 422 is raised.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb import params as markers
from ferroweb._body import BodyReader, FormReader
from ferroweb._convert import (
    INVALID,
    Converter,
    compile_from_str,
    constraints_of,
    convert_values,
    sequence_item,
    strip_optional,
)
from ferroweb._errors import Loc, make_error
from ferroweb.exceptions import RequestValidationError
from ferroweb.requests import Request, parse_cookie_header
from ferroweb.uploads import UploadFile

if typing.TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb.routing import Route

#: Builds the handler's positional arguments for one request.
Binder = Callable[["RawRequest"], list[Any]]

SOURCES = ("path", "query", "header", "cookie", "body", "form", "file", "request")
_LIST_LENGTH = ("min_length", "max_length")


@dataclasses.dataclass
class ParamSpec:
    """One handler parameter, resolved at registration."""

    name: str
    source: str
    key: str
    annotation: Any
    marker: markers.Param | None
    default: Any = markers.Undefined
    default_factory: Callable[[], Any] | None = None
    many: bool = False
    convert: Converter | None = None
    list_constraints: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Position among the route template's parameters (path parameters only).
    path_index: int = -1

    @property
    def required(self) -> bool:
        return self.default is markers.Undefined and self.default_factory is None

    @property
    def loc(self) -> Loc:
        return ("body" if self.source in ("form", "file") else self.source, self.key)

    def fallback(self) -> Any:
        """The value of an absent optional parameter: a fresh one per request."""
        if self.default_factory is not None:
            return self.default_factory()
        default = self.default
        if isinstance(default, (list, dict, set)):
            return default.copy()
        return default


# -- registration ---------------------------------------------------------------------------------


def _marker_of(annotation: Any, default: Any) -> markers.Param | None:
    if typing.get_origin(annotation) is typing.Annotated:
        for extra in reversed(typing.get_args(annotation)[1:]):
            if isinstance(extra, markers.Param):
                return extra
    return default if isinstance(default, markers.Param) else None


def _is_request(name: str, annotation: Any) -> bool:
    bare = strip_optional(constraints_of(annotation)[0])
    if inspect.isclass(bare) and issubclass(bare, Request):
        return True
    return name == "request" and annotation in (inspect.Parameter.empty, Any)


def _is_upload(annotation: Any) -> bool:
    bare = strip_optional(constraints_of(strip_optional(annotation))[0])
    item = sequence_item(bare)
    target = item if item is not None else bare
    return inspect.isclass(target) and issubclass(target, UploadFile)


def is_body_type(annotation: Any) -> bool:
    """Structs, dataclasses and TypedDicts (and lists / optionals of them) are JSON bodies."""
    bare = strip_optional(constraints_of(strip_optional(annotation))[0])
    origin = typing.get_origin(bare)
    if origin in (list, set, frozenset, tuple, dict):
        return any(is_body_type(arg) for arg in typing.get_args(bare) if arg is not Ellipsis)
    if not inspect.isclass(bare):
        return False
    if issubclass(bare, msgspec.Struct) or dataclasses.is_dataclass(bare):
        return True
    return typing.is_typeddict(bare)


def _resolve(route: Route, name: str, annotation: Any, default: Any) -> ParamSpec:
    marker = _marker_of(annotation, default)
    if marker is not None:
        source = marker.source
        default = marker.default
        factory = marker.default_factory
    else:
        factory = None
        if name in route.param_names:
            source = "path"
        elif _is_upload(annotation):
            source = "file"
        elif is_body_type(annotation):
            source = "body"
        else:
            source = "query"
    if default is inspect.Parameter.empty:
        default = markers.Undefined
    if source == "path" and name not in route.param_names:
        raise TypeError(f"handler {route.name!r}: path parameter {name!r} is not in the route {route.path!r}")
    if source != "path" and name in route.param_names and marker is not None:
        raise TypeError(
            f"handler {route.name!r}: {name!r} is a path parameter of {route.path!r} but is marked {source}"
        )
    key = (marker.alias if marker is not None else None) or name
    if source == "header":
        convert_underscores = getattr(marker, "convert_underscores", True)
        if convert_underscores and not (marker is not None and marker.alias):
            key = key.replace("_", "-")
        key = key.lower()
    spec = ParamSpec(name, source, key, annotation, marker, default, factory)
    if source in ("path", "query", "header", "cookie", "form"):
        _compile_string_param(route, spec)
    return spec


def _compile_string_param(route: Route, spec: ParamSpec) -> None:
    constraints = spec.marker.constraints() if spec.marker is not None else {}
    item = sequence_item(spec.annotation)
    if item is not None:
        if spec.source in ("path", "cookie"):
            raise TypeError(f"handler {route.name!r}: {spec.source} parameter {spec.name!r} cannot be a list")
        spec.many = True
        spec.list_constraints = {k: v for k, v in constraints.items() if k in _LIST_LENGTH}
        constraints = {k: v for k, v in constraints.items() if k not in _LIST_LENGTH}
        target = item
    else:
        target = spec.annotation
    try:
        spec.convert = compile_from_str(target, constraints)
    except TypeError as exc:
        raise TypeError(f"handler {route.name!r}, parameter {spec.name!r}: {exc}") from None


def analyse(route: Route) -> list[ParamSpec]:
    """The resolved parameters of ``route``'s handler, in signature order."""
    endpoint = route.endpoint
    signature = inspect.signature(endpoint)
    try:
        hints = typing.get_type_hints(endpoint, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        hints = {}
    specs: list[ParamSpec] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"handler {route.name!r}: *args/**kwargs parameters are not supported")
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            raise TypeError(f"handler {route.name!r}: keyword-only parameter {name!r} is not supported")
        annotation = hints.get(name, parameter.annotation)
        if _is_request(name, annotation):
            specs.append(ParamSpec(name, "request", name, annotation, None))
        else:
            specs.append(_resolve(route, name, annotation, parameter.default))
    return specs


# -- per request ----------------------------------------------------------------------------------


class _Sources:
    """The parts of one request the parameters read, each split at most once."""

    __slots__ = ("_cookies", "_query", "raw")

    def __init__(self, raw: RawRequest) -> None:
        self.raw = raw
        self._query: dict[str, list[str]] | None = None
        self._cookies: dict[str, str] | None = None

    def query(self) -> dict[str, list[str]]:
        if self._query is None:
            grouped: dict[str, list[str]] = {}
            for key, value in self.raw.query_params():
                grouped.setdefault(key, []).append(value)
            self._query = grouped
        return self._query

    def headers(self, name: str) -> list[str]:
        return [value for key, value in self.raw.headers() if key == name]

    def cookies(self) -> dict[str, str]:
        if self._cookies is None:
            values = self.headers("cookie")
            self._cookies = parse_cookie_header("; ".join(values)) if values else {}
        return self._cookies


def _string_values(spec: ParamSpec, sources: _Sources, path_values: list[str]) -> list[str] | None:
    """Every value the request has for ``spec`` (None when absent)."""
    source = spec.source
    if source == "query":
        return sources.query().get(spec.key)
    if source == "path":
        return [path_values[spec.path_index]]
    if source == "header":
        values = sources.headers(spec.key)
        return values or None
    cookies = sources.cookies()
    return [cookies[spec.key]] if spec.key in cookies else None


def compile_binder(route: Route, app: Any) -> Binder | None:
    """None when the handler takes no parameters (the hot path calls it bare)."""
    specs = analyse(route)
    if not specs:
        return None
    param_names = route.param_names
    if [spec.source for spec in specs] == ["request"]:
        # the most common shape (`def handler(request)`): skip the generic loop
        return lambda raw: [Request(raw, param_names, app)]
    for spec in specs:
        if spec.source == "path":
            spec.path_index = param_names.index(spec.name)
    body_specs = [spec for spec in specs if spec.source == "body"]
    form_specs = [spec for spec in specs if spec.source in ("form", "file")]
    if body_specs and form_specs:
        raise TypeError(f"handler {route.name!r}: a JSON body and form fields cannot be read together")
    body_reader = BodyReader(route, body_specs) if body_specs else None
    form_reader = FormReader(route, form_specs, app.config) if form_specs else None
    needs_path = any(spec.source == "path" for spec in specs)

    def bind(raw: RawRequest) -> list[Any]:
        sources = _Sources(raw)
        path_values = raw.path_params() if needs_path else []
        errors: list[dict[str, Any]] = []
        body_values = body_reader.read(raw, errors) if body_reader is not None else None
        form_values = form_reader.read(raw, errors) if form_reader is not None else None
        args: list[Any] = []
        for spec in specs:
            source = spec.source
            if source == "request":
                args.append(Request(raw, param_names, app))
            elif source == "body":
                assert body_values is not None
                args.append(body_values.get(spec.name, INVALID))
            elif source in ("form", "file"):
                assert form_values is not None
                args.append(form_values.get(spec.name, INVALID))
            else:
                args.append(convert_values(spec, _string_values(spec, sources, path_values), errors))
        if errors:
            raise RequestValidationError(errors)
        return args

    return bind
