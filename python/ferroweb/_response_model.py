"""Serialising a handler's return value through its declared response model.

The model is ``response_model=`` on the route, else the return annotation. A value that already
is an instance of the model is sent as it is (unless in debug mode); anything else (a dict, an
object with attributes, a bigger Struct) is converted to the model first, which also drops
members the model does not declare, as FastAPI's ``response_model`` does.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb.exceptions import ResponseValidationError
from ferroweb.responses import Response

if typing.TYPE_CHECKING:
    from ferroweb.routing import Route

Serialise = Callable[[Any], Any]

#: Return annotations that declare nothing to convert to.
_PLAIN = (str, bytes, bytearray, dict, list, object)


def _declared_model(route: Route) -> Any:
    if route.response_model is not None:
        return route.response_model
    try:
        hints = typing.get_type_hints(route.endpoint, include_extras=True)
    except Exception:  # unresolvable forward references: nothing declared we can use
        return None
    annotation = hints.get("return", inspect.Signature.empty)
    if annotation in (inspect.Signature.empty, None, type(None), Any) or annotation in _PLAIN:
        return None
    origin = typing.get_origin(annotation)
    members = typing.get_args(annotation) if origin is typing.Union else (annotation,)
    for member in members:
        bare = typing.get_origin(member) or member
        if inspect.isclass(bare) and issubclass(bare, Response):
            return None  # the handler may build its own response: send what it returns
    return annotation


def compile_response_model(route: Route, debug: bool) -> Serialise | None:
    """None when the route declares no model (the value is encoded as returned)."""
    model = _declared_model(route)
    if model is None:
        return None
    try:
        msgspec.inspect.type_info(model)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"handler {route.name!r}: unsupported response model {model!r}: {exc}") from None
    exact = model if inspect.isclass(model) else None
    convert = _converter(model)

    def serialise(result: Any) -> Any:
        if isinstance(result, Response):
            return result
        if exact is not None and result.__class__ is exact and not debug:
            return result
        try:
            # round trip through builtins in debug mode so constraints are checked too
            return convert(msgspec.to_builtins(result) if debug else result)
        except (msgspec.ValidationError, TypeError) as exc:
            raise ResponseValidationError(
                f"handler {route.name!r} returned a value that is not a valid {model!r}: {exc}"
            ) from None

    return serialise


def _converter(model: Any) -> Serialise:
    """``msgspec.convert`` to ``model``, compiled once.

    msgspec caches what it compiles for a class (a Struct, a dataclass) on the class, but a
    bare type expression such as ``dict[str, int]`` or ``Item | None`` is compiled again on every
    call (about 1 us, a tenth of a request). Such a model is converted as the one field of a
    wrapper Struct instead, which is compiled once.
    """
    if inspect.isclass(model):
        return lambda source: msgspec.convert(source, model, from_attributes=True)
    wrapper = msgspec.defstruct("ResponseModel", [("value", model)], array_like=True)

    def convert(source: Any) -> Any:
        try:
            wrapped: Any = msgspec.convert([source], wrapper, from_attributes=True)
            return wrapped.value
        except msgspec.ValidationError as exc:
            # report locations from the value itself, not from inside the wrapper
            raise msgspec.ValidationError(str(exc).replace("`$[0]", "`$", 1)) from None

    return convert
