"""Serialising a handler's return value through its declared response model.

The model is ``response_model=`` on the route, else the return annotation. A value that already
has the model's shape (an instance of the model class; a small dict or list whose members have
exactly the declared types) is sent as it is, unless in debug mode; anything else (a dict for a
Struct, an object with attributes, a bigger Struct, an int where a float is declared) is
converted to the model first, which also drops members the model does not declare, as FastAPI's
``response_model`` does, and refuses values that do not fit.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb._pydantic import PydanticResponse, uses_pydantic
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
    if uses_pydantic(model):
        return _through_pydantic(route, model)
    try:
        msgspec.inspect.type_info(model)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"handler {route.name!r}: unsupported response model {model!r}: {exc}") from None
    convert = _converter(model)
    in_shape = None if debug else shape_check(msgspec.inspect.type_info(model))

    def serialise(result: Any) -> Any:
        if in_shape is not None and in_shape(result):
            return result
        if isinstance(result, Response):
            return result
        try:
            # round trip through builtins in debug mode so constraints are checked too
            return convert(msgspec.to_builtins(result) if debug else result)
        except (msgspec.ValidationError, TypeError) as exc:
            raise ResponseValidationError(
                f"handler {route.name!r} returned a value that is not a valid {model!r}: {exc}"
            ) from None

    return serialise


def _through_pydantic(route: Route, model: Any) -> Serialise:
    """A pydantic response model: validated and serialised by pydantic (``PydanticResponse``)."""
    dump = PydanticResponse(model, f"handler {route.name!r}: response model")
    invalid = dump.validation_error

    def serialise(result: Any) -> Any:
        if isinstance(result, Response):
            return result
        try:
            return dump(result)
        except invalid as exc:
            raise ResponseValidationError(
                f"handler {route.name!r} returned a value that is not a valid {model!r}: {exc}"
            ) from None

    return serialise


ShapeCheck = Callable[[Any], bool]

#: A container longer than this is converted by msgspec (in C) rather than checked item by item.
_MAX_CHECKED_ITEMS = 32
#: The most item checks one shape check may make: two levels of small containers.
_MAX_CHECK_COST = 2 * _MAX_CHECKED_ITEMS * _MAX_CHECKED_ITEMS

_EXACT_SCALARS: dict[type[msgspec.inspect.Type], type] = {
    msgspec.inspect.BoolType: bool,
    msgspec.inspect.IntType: int,
    msgspec.inspect.FloatType: float,
    msgspec.inspect.StrType: str,
}

_ANY = None  # the classes of a check that accepts every value


@dataclasses.dataclass(frozen=True)
class _Check:
    """A shape check under construction: either a test of the value's exact class against
    ``classes`` (None: any value passes), or a function, for containers."""

    classes: frozenset[type] | None = _ANY
    function: ShapeCheck | None = None
    cost: int = 1

    def callable(self) -> ShapeCheck:
        if self.function is not None:
            return self.function
        classes = self.classes
        if classes is None:
            return lambda value: True
        if len(classes) == 1:
            (only,) = classes
            return lambda value: value.__class__ is only
        return lambda value: value.__class__ in classes


def _unconstrained(info: msgspec.inspect.Type) -> bool:
    return all(
        getattr(info, name, None) is None
        for name in ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")
    )


def shape_check(info: msgspec.inspect.Type) -> ShapeCheck | None:
    """A check that a value already is what converting it to the model would give, so the
    conversion (a full copy) can be skipped; None when no cheap check is possible.

    The check passes only values whose every member has exactly a declared type (an ``int``
    where an ``int`` is declared, not a ``bool`` or an ``int`` for a ``float``) and no
    constraint to verify; class instances pass by their exact class, as a top-level instance
    does. Anything else fails the check and goes through the full conversion, which converts,
    or reports what does not fit.
    """
    check = _build_check(info)
    return check.callable() if check is not None and check.cost <= _MAX_CHECK_COST else None


def _build_check(info: msgspec.inspect.Type) -> _Check | None:
    inspect_ = msgspec.inspect
    if isinstance(info, inspect_.Metadata):
        return _build_check(info.type)
    if isinstance(info, inspect_.AnyType) or (isinstance(info, inspect_.CustomType) and info.cls is object):
        return _Check(_ANY)
    if isinstance(info, inspect_.NoneType):
        return _Check(frozenset({type(None)}))
    scalar = _EXACT_SCALARS.get(type(info))
    if scalar is not None:
        return _Check(frozenset({scalar})) if _unconstrained(info) else None
    if isinstance(info, (inspect_.StructType, inspect_.DataclassType)):
        return _Check(frozenset({info.cls}))
    if isinstance(info, inspect_.ListType) and _unconstrained(info):
        return _list_check(info.item_type)
    if isinstance(info, inspect_.DictType) and _unconstrained(info):
        return _dict_check(info.key_type, info.value_type)
    if isinstance(info, inspect_.UnionType):
        return _union_check(info.types)
    return None


def _union_check(types: tuple[msgspec.inspect.Type, ...]) -> _Check | None:
    members = [_build_check(member) for member in types]
    if any(member is None for member in members):
        return None
    checks = [member for member in members if member is not None]
    if any(check.function is None and check.classes is _ANY for check in checks):
        return _Check(_ANY)
    if all(check.function is None for check in checks):
        return _Check(frozenset().union(*(check.classes or () for check in checks)))
    functions = [check.callable() for check in checks]

    def check_union(value: Any) -> bool:
        for function in functions:  # noqa: SIM110 (a loop: all()/any() over a generator costs more)
            if function(value):
                return True
        return False

    return _Check(function=check_union, cost=sum(check.cost for check in checks))


def _list_check(item_type: msgspec.inspect.Type) -> _Check | None:
    item = _build_check(item_type)
    if item is None:
        return None
    cost = 1 + _MAX_CHECKED_ITEMS * item.cost
    if item.function is None and item.classes is _ANY:
        return _Check(function=lambda value: value.__class__ is list, cost=1)
    if item.function is None and item.classes is not None:
        return _Check(function=_members_of_classes(list, item.classes), cost=cost)
    check_item = item.callable()

    def check_list(value: Any) -> bool:
        if value.__class__ is not list or len(value) > _MAX_CHECKED_ITEMS:
            return False
        for member in value:  # noqa: SIM110 (a loop: all()/any() over a generator costs more)
            if not check_item(member):
                return False
        return True

    return _Check(function=check_list, cost=cost)


def _members_of_classes(container: Any, classes: frozenset[type]) -> ShapeCheck:
    """A check for a small ``container`` (a list, or a dict by its keys) whose members all
    have one of ``classes`` exactly."""

    def check_members(value: Any) -> bool:
        if value.__class__ is not container or len(value) > _MAX_CHECKED_ITEMS:
            return False
        for member in value:  # noqa: SIM110 (a loop: all()/any() over a generator costs more)
            if member.__class__ not in classes:
                return False
        return True

    return check_members


def _dict_check(key_type: msgspec.inspect.Type, value_type: msgspec.inspect.Type) -> _Check | None:
    key, item = _build_check(key_type), _build_check(value_type)
    if key is None or item is None:
        return None
    cost = 1 + _MAX_CHECKED_ITEMS * (key.cost + item.cost)
    if key.function is None and key.classes is not None and item.function is None:
        key_classes, item_classes = key.classes, item.classes
        if item_classes is _ANY:  # values of any type: only the keys are checked
            return _Check(function=_members_of_classes(dict, key_classes), cost=cost)

        def check_items(value: Any) -> bool:
            if value.__class__ is not dict or len(value) > _MAX_CHECKED_ITEMS:
                return False
            for member_key, member in value.items():
                if member_key.__class__ not in key_classes or member.__class__ not in item_classes:
                    return False
            return True

        return _Check(function=check_items, cost=cost)
    check_key, check_item = key.callable(), item.callable()

    def check_dict(value: Any) -> bool:
        if value.__class__ is not dict or len(value) > _MAX_CHECKED_ITEMS:
            return False
        for member_key, member in value.items():  # noqa: SIM110 (a loop: all()/any() over a generator costs more)
            if not (check_key(member_key) and check_item(member)):
                return False
        return True

    return _Check(function=check_dict, cost=cost)


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
