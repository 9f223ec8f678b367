"""Compiles a type annotation into a converter for string inputs (path, query, header, cookie and
form values), reporting failures in the pydantic error vocabulary (docs/validation-errors.md).

A converter is ``convert(value, loc, errors) -> result``; on failure it appends error dicts to
``errors`` and returns ``INVALID``. Converters are built once per route at registration.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import inspect
import re
import typing
import uuid
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb._durations import parse_duration
from ferroweb._errors import Loc, literal_expected, make_error

# re-exported: the scalar rules of the core
from ferroweb._ferroweb import parse_bool as parse_bool
from ferroweb._ferroweb import parse_float as _parse_float
from ferroweb._ferroweb import parse_int as parse_int

INVALID: Any = object()

Converter = Callable[[str, Loc, list[dict[str, Any]]], Any]

_WHITESPACE = " \t\n\r\x0b\x0c"

NUMBER_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of")
STRING_CONSTRAINTS = ("min_length", "max_length", "pattern")
_NUMBER_ERRORS: dict[str, tuple[str, Callable[[Any, Any], bool]]] = {
    "gt": ("greater_than", lambda value, bound: value > bound),
    "ge": ("greater_than_equal", lambda value, bound: value >= bound),
    "lt": ("less_than", lambda value, bound: value < bound),
    "le": ("less_than_equal", lambda value, bound: value <= bound),
}


# The scalar rules (int and float spellings, bool words) are the core's (``parse_int``,
# ``parse_bool`` and ``parse_float`` come from it), the same ones it applies to path, query,
# header and cookie values: form values and Literal choices read here follow them exactly.


def parse_float(text: str) -> float | str | None:
    """A finite float, ``"non_finite"`` for inf/nan spellings, or None when not a number."""
    value = _parse_float(text)
    if isinstance(value, float):
        return value
    return "non_finite" if value == "finite_number" else None


# -- constraints -----------------------------------------------------------------------------------


def _parsed_by(parse: Callable[[str], Any], error_type: str) -> Converter:
    """A converter through ``parse``, which answers None for a string it cannot read."""

    def convert_parsed(value: str, loc: Loc, errors: list[Any]) -> Any:
        result = parse(value)
        if result is None:
            errors.append(make_error(error_type, loc, value))
            return INVALID
        return result

    return convert_parsed


def constraints_of(annotation: Any) -> tuple[Any, dict[str, Any]]:
    """Strips ``Annotated`` and returns the bare type plus the constraints on it: those of
    ``msgspec.Meta``, and of pydantic's ``Field(...)`` and annotated-types' ``Ge``, ``MinLen``...
    (so that ``Annotated[int, Field(ge=1)]`` is checked on a query parameter too)."""
    found: dict[str, Any] = {}
    while typing.get_origin(annotation) is typing.Annotated:
        args = typing.get_args(annotation)
        for extra in args[1:]:
            for source in _constraint_sources(extra):
                for name in NUMBER_CONSTRAINTS + STRING_CONSTRAINTS:
                    value = getattr(source, name, None)
                    if value is not None:
                        found[name] = value
        annotation = args[0]
    return annotation, found


def _constraint_sources(extra: Any) -> list[Any]:
    if isinstance(extra, msgspec.Meta):
        return [extra]
    module = type(extra).__module__
    if module.startswith("annotated_types"):
        return [extra]
    if module.startswith("pydantic"):  # a FieldInfo keeps its constraints as annotated-types
        metadata = getattr(extra, "metadata", None)
        return list(metadata) if isinstance(metadata, list) else [extra]
    return []


def check_number(
    value: float | decimal.Decimal, constraints: dict[str, Any], loc: Loc, raw: Any, errors: list[Any]
) -> bool:
    ok = True
    for name, (error_type, passes) in _NUMBER_ERRORS.items():
        bound = constraints.get(name)
        if bound is not None and not passes(value, bound):
            errors.append(make_error(error_type, loc, raw, {name: bound}))
            ok = False
    multiple = constraints.get("multiple_of")
    if multiple is not None and value % multiple != 0:
        errors.append(make_error("multiple_of", loc, raw, {"multiple_of": multiple}))
        ok = False
    return ok


def check_string(value: str, constraints: dict[str, Any], loc: Loc, raw: Any, errors: list[Any]) -> bool:
    ok = True
    min_length = constraints.get("min_length")
    if min_length is not None and len(value) < min_length:
        errors.append(make_error("string_too_short", loc, raw, {"min_length": min_length}))
        ok = False
    max_length = constraints.get("max_length")
    if max_length is not None and len(value) > max_length:
        errors.append(make_error("string_too_long", loc, raw, {"max_length": max_length}))
        ok = False
    pattern = constraints.get("pattern")
    if pattern is not None and ok and re.search(pattern, value) is None:
        errors.append(make_error("string_pattern_mismatch", loc, raw, {"pattern": pattern}))
        ok = False
    return ok


# -- string converters ------------------------------------------------------------------------------


def is_optional(annotation: Any) -> bool:
    return type(None) in _union_members(annotation)


def _union_members(annotation: Any) -> tuple[Any, ...]:
    origin = typing.get_origin(annotation)
    if origin is typing.Union or type(annotation).__name__ == "UnionType":
        return typing.get_args(annotation)
    return ()


def strip_optional(annotation: Any) -> Any:
    """``T | None`` -> ``T`` (``Annotated`` kept); other annotations unchanged."""
    members = _union_members(annotation)
    if not members:
        return annotation
    rest = [member for member in members if member is not type(None)]
    if len(rest) == 1:
        return rest[0]
    return typing.Union[tuple(rest)]


def sequence_item(annotation: Any) -> Any | None:
    """The item type of ``list[T]``-like annotations (``Annotated``/``Optional`` looked through),
    or None when the annotation is not a sequence."""
    bare, _ = constraints_of(strip_optional(annotation))
    bare = strip_optional(bare)
    origin = typing.get_origin(bare)
    if origin in (list, set, frozenset, tuple) or bare in (list, set, frozenset, tuple):
        args = typing.get_args(bare)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return args[0]
        if origin is tuple and args:
            raise TypeError(f"fixed-length tuple parameters are not supported: {annotation!r}")
        return args[0] if args else str
    return None


def compile_from_str(annotation: Any, constraints: dict[str, Any] | None = None) -> Converter:
    """A converter from one string to ``annotation``; raises TypeError for unsupported types."""
    bare, meta = constraints_of(strip_optional(annotation))
    bare = strip_optional(bare)
    merged = {**meta, **(constraints or {})}
    members = _union_members(bare)
    if members:
        return _union_converter([compile_from_str(member, merged) for member in members])
    return _leaf_converter(bare, merged)


def _union_converter(choices: list[Converter]) -> Converter:
    def convert(value: str, loc: Loc, errors: list[Any]) -> Any:
        first_errors: list[Any] | None = None
        for choice in choices:
            attempt: list[Any] = []
            result = choice(value, loc, attempt)
            if result is not INVALID:
                return result
            if first_errors is None:
                first_errors = attempt
        errors.extend(first_errors or ())
        return INVALID

    return convert


def _leaf_converter(tp: Any, constraints: dict[str, Any]) -> Converter:
    numeric = {k: v for k, v in constraints.items() if k in NUMBER_CONSTRAINTS}
    textual = {k: v for k, v in constraints.items() if k in STRING_CONSTRAINTS}

    if tp in (str, Any, inspect.Parameter.empty):

        def convert_str(value: str, loc: Loc, errors: list[Any]) -> Any:
            if textual and not check_string(value, textual, loc, value, errors):
                return INVALID
            return value

        return convert_str

    if tp is bool:
        return _parsed_by(parse_bool, "bool_parsing")

    if tp is int:

        def convert_int(value: str, loc: Loc, errors: list[Any]) -> Any:
            result = parse_int(value)
            if result is None:
                errors.append(make_error("int_parsing", loc, value))
                return INVALID
            if numeric and not check_number(result, numeric, loc, value, errors):
                return INVALID
            return result

        return convert_int

    if tp is float:

        def convert_float(value: str, loc: Loc, errors: list[Any]) -> Any:
            result = parse_float(value)
            if result is None:
                errors.append(make_error("float_parsing", loc, value))
                return INVALID
            if result == "non_finite":
                errors.append(make_error("finite_number", loc, value))
                return INVALID
            assert isinstance(result, float)
            if numeric and not check_number(result, numeric, loc, value, errors):
                return INVALID
            return result

        return convert_float

    if tp is decimal.Decimal:

        def convert_decimal(value: str, loc: Loc, errors: list[Any]) -> Any:
            try:
                result = decimal.Decimal(value.strip(_WHITESPACE))
            except decimal.InvalidOperation:
                result = None
            if result is None or not result.is_finite():
                errors.append(make_error("decimal_parsing", loc, value))
                return INVALID
            if numeric and not check_number(result, numeric, loc, value, errors):
                return INVALID
            return result

        return convert_decimal

    if tp is uuid.UUID:

        def convert_uuid(value: str, loc: Loc, errors: list[Any]) -> Any:
            try:
                return uuid.UUID(value)
            except ValueError:
                errors.append(make_error("uuid_parsing", loc, value))
                return INVALID

        return convert_uuid

    if tp is datetime.timedelta:
        return _parsed_by(parse_duration, "time_delta_parsing")

    temporal = {datetime.datetime: "datetime", datetime.date: "date", datetime.time: "time"}
    if tp in temporal:
        error_type = f"{temporal[tp]}_parsing"

        def convert_temporal(value: str, loc: Loc, errors: list[Any]) -> Any:
            try:
                return msgspec.convert(value, tp)
            except msgspec.ValidationError:
                pass
            if tp is datetime.time:  # also HH:MM, as ISO 8601 allows and pydantic accepts
                try:
                    return datetime.time.fromisoformat(value)
                except ValueError:
                    pass
            errors.append(make_error(error_type, loc, value))
            return INVALID

        return convert_temporal

    if tp is bytes:
        return lambda value, loc, errors: value.encode()

    if typing.get_origin(tp) is typing.Literal:
        return _choice_converter(typing.get_args(tp), "literal_error", lambda choice: choice)

    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = list(tp)
        return _choice_converter(tuple(member.value for member in members), "enum", tp)

    raise TypeError(f"cannot convert a string parameter to {tp!r}")


def _choice_converter(choices: tuple[Any, ...], error_type: str, wrap: Callable[[Any], Any]) -> Converter:
    """Literal / Enum: the string is compared with each choice converted the choice's way."""
    expected = literal_expected(choices)
    by_string: dict[str, Any] = {}
    numeric: list[Any] = []
    for choice in choices:
        if isinstance(choice, (bool, int, float)):
            numeric.append(choice)
        else:
            by_string.setdefault(str(choice), choice)

    def convert(value: str, loc: Loc, errors: list[Any]) -> Any:
        if value in by_string:
            return wrap(by_string[value])
        for choice in numeric:
            parsed: Any
            if isinstance(choice, bool):
                parsed = parse_bool(value)
            elif isinstance(choice, int):
                parsed = parse_int(value)
            else:
                parsed = parse_float(value)
            if parsed is not None and type(parsed) is type(choice) and parsed == choice:
                return wrap(choice)
        errors.append(make_error(error_type, loc, value, {"expected": expected}))
        return INVALID

    return convert


# -- one parameter's values ------------------------------------------------------------------


def convert_values(spec: Any, values: list[str] | None, errors: list[Any]) -> Any:
    """Converts the raw string(s) of one parameter; absent -> default or a ``missing`` error."""
    loc = spec.loc
    if not values:
        if spec.required:
            errors.append(make_error("missing", loc, None))
            return INVALID
        return spec.fallback()
    convert = spec.convert
    assert convert is not None
    if not spec.many:
        return convert(values[-1], loc, errors)  # a repeated scalar key: the last one wins
    converted = [convert(value, (*loc, index), errors) for index, value in enumerate(values)]
    length_errors = _list_length_errors(spec, values, loc)
    errors.extend(length_errors)
    if length_errors or any(item is INVALID for item in converted):
        return INVALID
    return converted


def _list_length_errors(spec: Any, values: list[str], loc: Loc) -> list[dict[str, Any]]:
    found = []
    bounds = spec.list_constraints
    if "min_length" in bounds and len(values) < bounds["min_length"]:
        ctx = {"min_length": bounds["min_length"], "actual_length": len(values)}
        found.append(make_error("too_short", loc, values, ctx))
    if "max_length" in bounds and len(values) > bounds["max_length"]:
        ctx = {"max_length": bounds["max_length"], "actual_length": len(values)}
        found.append(make_error("too_long", loc, values, ctx))
    return found
