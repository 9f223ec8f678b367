"""Turns a handler's signature into a per-request argument binder, compiled once per route.

Each parameter becomes a ``ParamSpec``: where its value comes from, the name looked up, and a
converter built from its annotation. Per request the binder only looks values up and converts
them; every error of the request is collected before a single 422 is raised.
"""

from __future__ import annotations

import dataclasses
import inspect
import sys
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb import params as markers
from ferroweb._body import BodyReader, FormReader
from ferroweb._convert import (
    INVALID,
    compile_from_str,
    constraints_of,
    convert_values,
    sequence_item,
    strip_optional,
)
from ferroweb._errors import make_error
from ferroweb._ferroweb import ParamSpec as CoreParamSpec
from ferroweb._form_model import form_model, is_form_model
from ferroweb._param_spec import CoreScalar, ParamSpec, core_param_spec
from ferroweb._pydantic import holds_pydantic_model
from ferroweb.dependencies import Depends
from ferroweb.exceptions import RequestValidationError
from ferroweb.requests import Request
from ferroweb.security import decode_claims
from ferroweb.uploads import UploadFile

if typing.TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb.routing import Route

#: Builds the handler's positional arguments for one request.
Binder = Callable[..., list[Any]]

_LIST_LENGTH = ("min_length", "max_length")


# -- registration ---------------------------------------------------------------------------------


def _marker_of(annotation: Any, default: Any) -> markers.Param | None:
    if typing.get_origin(annotation) is typing.Annotated:
        for extra in reversed(typing.get_args(annotation)[1:]):
            if isinstance(extra, markers.Param):
                return extra
    return default if isinstance(default, markers.Param) else None


def _injected_source(route: Route, name: str, annotation: Any) -> str | None:
    """Parameters the framework provides itself: the WebSocket, a BackgroundTasks list, the
    ``response: Response`` that the answer's headers and status are taken from."""
    from ferroweb.background import BackgroundTasks
    from ferroweb.responses import Response
    from ferroweb.websockets import WebSocket

    bare = strip_optional(constraints_of(annotation)[0])
    if any(bare is scheme.claims_type for scheme in route.auth or () if scheme.claims_type is not None):
        return "claims"
    if bare is Response:
        if route.websocket:
            raise TypeError(f"handler {route.name!r}: a Response parameter is for HTTP routes")
        return "response"
    if inspect.isclass(bare):
        if issubclass(bare, WebSocket) or (route.websocket and issubclass(bare, Request)):
            if not route.websocket:
                raise TypeError(f"handler {route.name!r}: a WebSocket parameter needs a websocket route")
            return "websocket"
        if issubclass(bare, BackgroundTasks):
            if route.websocket:
                raise TypeError(f"handler {route.name!r}: BackgroundTasks are for HTTP routes")
            return "background"
    if (
        route.websocket
        and name in ("websocket", "ws", "request")
        and annotation in (inspect.Parameter.empty, Any)
    ):
        return "websocket"
    return None


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
    """Structs, dataclasses, TypedDicts and pydantic models (and lists / optionals of them)
    are JSON bodies."""
    bare = strip_optional(constraints_of(strip_optional(annotation))[0])
    if holds_pydantic_model(bare):
        return True
    origin = typing.get_origin(bare)
    if bare is dict or origin is dict:
        return True  # a mapping has no string form: the body, as FastAPI reads `data: dict`
    if origin in (list, set, frozenset, tuple):
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
        if source == "form" and _is_upload(annotation):
            source = "file"  # `Annotated[UploadFile, Form()]`: a file part all the same
        factory = marker.default_factory
        # `x: Annotated[int, Query()] = 10`: the default is the parameter's own
        if default is marker or marker.default is not markers.Undefined or factory is not None:
            default = marker.default
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
    if source == "form" and is_form_model(annotation):
        spec.form_model = form_model(annotation, f"handler {route.name!r}, parameter {name!r}")
    elif source in ("path", "query", "header", "cookie", "form"):
        _compile_string_param(route, spec)
    return spec


_CORE_SCALARS: dict[Any, CoreScalar] = {str: "str", int: "int", float: "float", bool: "bool"}
_CORE_BOUNDS = {
    "int": ("gt", "ge", "lt", "le", "multiple_of"),
    "float": ("gt", "ge", "lt", "le", "multiple_of"),
    "str": ("min_length", "max_length"),
    "bool": (),
}


def _core_scalar(spec: ParamSpec, target: Any) -> CoreScalar:
    """Which conversion the core can do for this parameter; "raw" leaves it to Python."""
    bare = strip_optional(constraints_of(strip_optional(target))[0])
    if bare in (Any, inspect.Parameter.empty):
        bare = str
    scalar = _CORE_SCALARS.get(bare, "raw")
    if scalar == "raw" or (spec.many and spec.list_constraints):
        return "raw"
    allowed = _CORE_BOUNDS[scalar]
    if any(name not in allowed for name in spec.constraints):
        return "raw"  # e.g. a pattern: checked with Python's re, like body members
    if not all(isinstance(value, (int, float)) for value in spec.constraints.values()):
        return "raw"
    return scalar


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
    spec.constraints = {**constraints_of(strip_optional(target))[1], **constraints}
    if spec.source != "form":
        spec.core_scalar = _core_scalar(spec, target)


def _evaluate(endpoint: Any, annotation: str) -> Any:
    """One string annotation evaluated in the handler's module (when the handler's other
    annotations could not all be resolved together); the string itself if it cannot be."""
    namespace = {**vars(typing), **getattr(endpoint, "__globals__", {})}
    try:
        return eval(annotation, namespace)
    except Exception:
        return annotation


def analyse(route: Route, function: Callable[..., Any] | None = None) -> list[ParamSpec]:
    """The resolved parameters of ``route``'s handler (or of ``function``, one of its
    dependencies), in signature order."""
    endpoint = route.endpoint if function is None else function
    where = f"handler {route.name!r}" if function is None else f"dependency {_name_of(function)}"
    try:
        signature = inspect.signature(endpoint)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{where}: cannot read its signature: {exc}") from None
    # a class is called through __init__: its annotations are those of __init__
    annotated = endpoint.__init__ if inspect.isclass(endpoint) else endpoint
    try:
        hints = typing.get_type_hints(annotated, include_extras=True)
    except Exception:  # unresolvable forward references: fall back to raw annotations
        hints = {}
    specs: list[ParamSpec] = []
    for name, parameter in signature.parameters.items():
        if parameter.kind in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            raise TypeError(f"{where}: *args/**kwargs parameters are not supported")
        annotation = hints.get(name, parameter.annotation)
        if isinstance(annotation, str):
            annotation = _evaluate(annotated, annotation)
        if isinstance(annotation, str):
            raise TypeError(
                f"{where}: cannot resolve the annotation {annotation!r} of parameter"
                f" {name!r}; define the type where the handler's module can see it (module level)"
            )
        if parameter.default is None:
            annotation = _as_written(annotation)
        depends = _depends_of(annotation, parameter.default)
        injected = None if depends is not None else _injected_source(route, name, annotation)
        if depends is not None:
            spec = ParamSpec(name, "depends", name, annotation, None)
            spec.dependency = _with_factory(depends, annotation, where, name)
            specs.append(spec)
        elif injected == "claims":
            spec = ParamSpec(name, "claims", name, annotation, None)
            spec.claims_decoder = msgspec.json.Decoder(strip_optional(constraints_of(annotation)[0]))
            specs.append(spec)
        elif injected is not None:
            specs.append(ParamSpec(name, injected, name, annotation, None))
        elif _is_request(name, annotation):
            specs.append(ParamSpec(name, "request", name, annotation, None))
        else:
            specs.append(_resolve(route, name, annotation, parameter.default))
    return specs


def _as_written(annotation: Any) -> Any:
    """CPython 3.10's ``get_type_hints`` wraps the annotation of a parameter that defaults to
    None in ``Optional[...]``, even an ``Annotated[...]`` one, hiding its marker: the
    ``Annotated`` form is what was written (3.11 no longer adds it)."""
    if sys.version_info >= (3, 11) or typing.get_origin(annotation) is not typing.Union:
        return annotation
    members = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
    if len(members) == 1 and typing.get_origin(members[0]) is typing.Annotated:
        return members[0]
    return annotation


def _name_of(function: Any) -> str:
    return str(getattr(function, "__qualname__", None) or repr(function))


def _depends_of(annotation: Any, default: Any) -> Depends | None:
    if typing.get_origin(annotation) is typing.Annotated:
        for extra in reversed(typing.get_args(annotation)[1:]):
            if isinstance(extra, Depends):
                return extra
    return default if isinstance(default, Depends) else None


def _with_factory(depends: Depends, annotation: Any, where: str, name: str) -> Depends:
    """``Depends()`` with the factory taken from the annotation (``Depends(Model)``)."""
    if depends.dependency is not None:
        return depends
    bare = strip_optional(constraints_of(annotation)[0])
    if not inspect.isclass(bare) or bare in (Any, inspect.Parameter.empty):
        raise TypeError(
            f"{where}: parameter {name!r} is Depends() without a factory and has no class annotation"
        )
    return Depends(bare, use_cache=depends.use_cache, scope=depends.scope)


def positional_endpoint(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """``endpoint`` as the binder calls it: with every argument in signature order, by position.

    Keyword-only parameters (after ``*``) come last in a signature, so the binder's trailing
    values are theirs; only a handler that has them pays for the keyword call.
    """
    parameters = list(inspect.signature(endpoint).parameters.values())
    keywords = tuple(p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY)
    if not keywords:
        return endpoint
    positional = len(parameters) - len(keywords)

    def call_with_keywords(*args: Any) -> Any:
        return endpoint(*args[:positional], **dict(zip(keywords, args[positional:], strict=True)))

    return call_with_keywords


# -- per request ----------------------------------------------------------------------------------

_ISSUE_CONSTRAINT = {
    "greater_than": "gt",
    "greater_than_equal": "ge",
    "less_than": "lt",
    "less_than_equal": "le",
    "multiple_of": "multiple_of",
    "string_too_short": "min_length",
    "string_too_long": "max_length",
}


def _issue_errors(
    core_specs: list[ParamSpec], issues: list[tuple[int, int | None, str, str]]
) -> dict[int, list[dict[str, Any]]]:
    """The core's refusals as error records, by position of the refused parameter."""
    refused: dict[int, list[dict[str, Any]]] = {}
    for position, index, error_type, raw_input in issues:
        spec = core_specs[position]
        constraint = _ISSUE_CONSTRAINT.get(error_type)
        ctx = {constraint: spec.constraints[constraint]} if constraint in spec.constraints else None
        loc = spec.loc if index is None else (*spec.loc, index)
        refused.setdefault(position, []).append(make_error(error_type, loc, raw_input, ctx))
    return refused


def _core_value(spec: ParamSpec, value: Any, refused: list[Any] | None, errors: list[Any]) -> Any:
    """One parameter's value from what the core extracted."""
    if spec.core_scalar == "raw":
        return convert_values(spec, value, errors)
    if refused:
        errors.extend(refused)
        return INVALID
    if value is None:
        if spec.required:
            errors.append(make_error("missing", spec.loc, None))
            return INVALID
        return spec.fallback()
    return value


def compile_binder(
    route: Route, app: Any, specs: list[ParamSpec] | None = None
) -> tuple[Binder | None, list[CoreParamSpec] | None]:
    """The route's binder (None when the handler takes no parameters: the hot path calls it
    bare) and the parameter plan the core extracts for it (None when there is nothing to do).
    ``specs``: the parameters to bind, when not the handler's own (its dependencies' too)."""
    specs = analyse(route) if specs is None else specs
    if not specs:
        return None, None
    param_names = route.param_names
    if [spec.source for spec in specs] == ["request"]:
        # the most common shape (`def handler(request)`): skip the generic loop
        return (lambda raw: [Request(raw, param_names, app)]), None
    for spec in specs:
        if spec.source == "path":
            spec.path_index = param_names.index(spec.name)
    core_specs = [spec for spec in specs if spec.source in ("path", "query", "header", "cookie")]
    plan = [core_param_spec(spec) for spec in core_specs] or None
    body_specs = [spec for spec in specs if spec.source == "body"]
    form_specs = [spec for spec in specs if spec.source in ("form", "file")]
    if body_specs and form_specs:
        raise TypeError(f"handler {route.name!r}: a JSON body and form fields cannot be read together")
    body_reader = BodyReader(route, body_specs, app.config) if body_specs else None
    form_reader = FormReader(route, form_specs, app.config) if form_specs else None
    core_position = {id(spec): position for position, spec in enumerate(core_specs)}

    def bind(raw: RawRequest, injected: dict[str, Any] | None = None) -> list[Any]:
        values, issues = raw.param_values()
        refused = _issue_errors(core_specs, issues) if issues else {}
        # body errors are reported where the first body parameter stands in the signature
        body_errors: list[dict[str, Any]] = []
        body_values = body_reader.read(raw, body_errors) if body_reader is not None else None
        form_values = form_reader.read(raw, body_errors) if form_reader is not None else None
        errors: list[dict[str, Any]] = []
        args: list[Any] = []
        for spec in specs:
            source = spec.source
            if source == "request":
                args.append(Request(raw, param_names, app))
            elif source in ("websocket", "background", "response"):
                assert injected is not None
                args.append(injected[source])
            elif source == "claims":
                args.append(decode_claims(raw, spec.claims_decoder))
            elif source in ("body", "form", "file"):
                values_read = body_values if source == "body" else form_values
                assert values_read is not None
                args.append(values_read.get(spec.name, INVALID))
                errors.extend(body_errors)
                body_errors = []
            else:
                position = core_position[id(spec)]
                args.append(_core_value(spec, values[position], refused.get(position), errors))
        if errors:
            raise RequestValidationError(errors)
        return args

    if len(core_specs) == len(specs) and all(spec.core_scalar != "raw" for spec in specs):
        # Everything converted by the core: the arguments are its values, unless something is
        # absent or refused.
        def bind_core(raw: RawRequest) -> list[Any]:
            values, issues = raw.param_values()
            if issues is None and None not in values:
                return values
            return bind(raw)

        return bind_core, plan
    return bind, plan
