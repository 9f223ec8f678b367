"""Collects *every* validation error of a JSON value against a declared type.

msgspec decodes request bodies straight into the declared type and stops at the first error. When
that fast path fails (the rare path), the body is decoded as plain JSON and walked here against
``msgspec.inspect`` type info, so the client hears about all of its mistakes at once. The rules
mirror msgspec's strict JSON decoding, so the walk agrees with the fast path on what is valid.
"""

from __future__ import annotations

import datetime
import decimal
import functools
import math
import re
import typing
import uuid
from collections.abc import Callable
from typing import Any

import msgspec
from msgspec import inspect as mi

from ferroweb._convert import check_number, check_string
from ferroweb._durations import from_seconds
from ferroweb._errors import Loc, literal_expected, make_error

Errors = list[dict[str, Any]]
_TEMPORAL: dict[type, tuple[str, type]] = {
    mi.DateTimeType: ("datetime", datetime.datetime),
    mi.DateType: ("date", datetime.date),
    mi.TimeType: ("time", datetime.time),
}
_SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def collect_errors(info: mi.Type, value: Any, loc: Loc, errors: Errors) -> None:
    """Appends the errors of ``value`` (plain JSON data) against ``info`` at ``loc``."""
    check = _CHECKS.get(type(info))
    if check is not None:
        check(info, value, loc, errors)
    else:  # a type the walk does not know in detail: let msgspec judge the value alone
        _check_with_msgspec(info, value, loc, errors)


def _constraints(info: Any, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(info, name) for name in names if getattr(info, name, None) is not None}


def _check_any(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    return None


def _check_none(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if value is not None:
        errors.append(make_error("none_required", loc, value))


def _check_bool(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if not isinstance(value, bool):
        errors.append(make_error("bool_type", loc, value))


def _check_int(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if type(value) is not int:
        errors.append(make_error("int_type", loc, value))
        return
    check_number(value, _constraints(info, ("gt", "ge", "lt", "le", "multiple_of")), loc, value, errors)


def _check_float(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        errors.append(make_error("float_type", loc, value))
        return
    if isinstance(value, float) and not math.isfinite(value):
        errors.append(make_error("finite_number", loc, value))
        return
    check_number(value, _constraints(info, ("gt", "ge", "lt", "le", "multiple_of")), loc, value, errors)


def _check_str(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if not isinstance(value, str):
        errors.append(make_error("string_type", loc, value))
        return
    check_string(value, _constraints(info, ("min_length", "max_length", "pattern")), loc, value, errors)


def _check_parsed_string(kind: str, target: type) -> Callable[[Any, Any, Loc, Errors], None]:
    def check(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
        if not isinstance(value, str):
            errors.append(make_error(f"{kind}_type", loc, value))
            return
        try:
            msgspec.convert(value, target)
        except msgspec.ValidationError:
            errors.append(make_error(f"{kind}_parsing", loc, value))

    return check


def _check_temporal(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    kind, target = _TEMPORAL[type(info)]
    _check_parsed_string(kind, target)(info, value, loc, errors)


def _check_duration(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    """A number of seconds (taken by the body reader's second pass) or an ISO 8601 string."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if from_seconds(float(value)) is None:
            errors.append(make_error("time_delta_parsing", loc, value))
        return
    if not isinstance(value, str):
        errors.append(make_error("time_delta_type", loc, value))
        return
    try:
        msgspec.convert(value, datetime.timedelta)
    except msgspec.ValidationError:
        errors.append(make_error("time_delta_parsing", loc, value))


def _check_decimal(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        errors.append(make_error("decimal_type", loc, value))
        return
    try:
        parsed = decimal.Decimal(value if isinstance(value, str) else repr(value))
    except decimal.InvalidOperation:
        parsed = None
    if parsed is None or not parsed.is_finite():
        errors.append(make_error("decimal_parsing", loc, value))
        return
    check_number(parsed, _constraints(info, ("gt", "ge", "lt", "le", "multiple_of")), loc, value, errors)


def _check_sequence(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if not isinstance(value, list):
        errors.append(make_error("list_type", loc, value))
        return
    min_length, max_length = getattr(info, "min_length", None), getattr(info, "max_length", None)
    if min_length is not None and len(value) < min_length:
        ctx = {"min_length": min_length, "actual_length": len(value)}
        errors.append(make_error("too_short", loc, value, ctx))
    if max_length is not None and len(value) > max_length:
        ctx = {"max_length": max_length, "actual_length": len(value)}
        errors.append(make_error("too_long", loc, value, ctx))
    for index, item in enumerate(value):
        collect_errors(info.item_type, item, (*loc, index), errors)


def _check_tuple(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if not isinstance(value, list):
        errors.append(make_error("tuple_type", loc, value))
        return
    if len(value) != len(info.item_types):
        ctx = {"field_type": "Tuple", "expected_length": len(info.item_types), "actual_length": len(value)}
        error_type = "too_short" if len(value) < len(info.item_types) else "too_long"
        bound = "min_length" if error_type == "too_short" else "max_length"
        errors.append(make_error(error_type, loc, value, {**ctx, bound: len(info.item_types)}))
        return
    for index, (item_type, item) in enumerate(zip(info.item_types, value, strict=True)):
        collect_errors(item_type, item, (*loc, index), errors)


def _check_dict(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    if not isinstance(value, dict):
        errors.append(make_error("dict_type", loc, value))
        return
    for key, item in value.items():
        key_errors: Errors = []
        collect_errors(info.key_type, key, (*loc, key), key_errors)
        errors.extend(key_errors)
        collect_errors(info.value_type, item, (*loc, key), errors)


def _check_object(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    """Struct, dataclass, TypedDict: missing required members, bad members, forbidden extras."""
    if not isinstance(value, dict):
        kind = "dict_type" if isinstance(info, mi.TypedDictType) else "model_attributes_type"
        errors.append(make_error(kind, loc, value))
        return
    known = set()
    literal_orders = _declared_literal_orders(info.cls)
    for field in info.fields:
        known.add(field.encode_name)
        if field.encode_name in value:
            field_loc = (*loc, field.encode_name)
            order = literal_orders.get(field.name)
            if order is not None and isinstance(field.type, mi.LiteralType):
                _check_choices(order, value[field.encode_name], field_loc, errors, "literal_error")
            else:
                collect_errors(field.type, value[field.encode_name], field_loc, errors)
        elif field.required:
            errors.append(make_error("missing", (*loc, field.encode_name), None))
    tag_field = getattr(info, "tag_field", None)
    if getattr(info, "forbid_unknown_fields", False):
        for key, item in value.items():
            if key not in known and key != tag_field:
                errors.append(make_error("extra_forbidden", (*loc, key), item))


def _check_union(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    branches = [branch for branch in info.types if not isinstance(branch, mi.NoneType)]
    if value is None and len(branches) < len(info.types):
        return
    attempts: list[Errors] = []
    for branch in branches:
        attempt: Errors = []
        collect_errors(branch, value, loc, attempt)
        if not attempt:
            return
        attempts.append(attempt)
    # Report the branch the value got furthest into (its errors are deeper than the union
    # itself, e.g. a member of the right object type), else the first branch.
    deeper = [attempt for attempt in attempts if any(len(e["loc"]) > len(loc) for e in attempt)]
    errors.extend((deeper or attempts)[0])


def _check_choices(choices: tuple[Any, ...], value: Any, loc: Loc, errors: Errors, error_type: str) -> None:
    for choice in choices:
        if type(choice) is type(value) and choice == value:
            return
    errors.append(make_error(error_type, loc, value, {"expected": literal_expected(choices)}))


def _check_literal(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    _check_choices(tuple(info.values), value, loc, errors, "literal_error")


def _check_enum(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    _check_choices(tuple(member.value for member in info.cls), value, loc, errors, "enum")


@functools.lru_cache(maxsize=512)
def _declared_literal_orders(cls: type) -> dict[str, tuple[Any, ...]]:
    """Field name -> its Literal values in declaration order (msgspec's type info sorts them,
    and the error message should list them as the model declares them)."""
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except Exception:
        return {}
    orders = {}
    for name, hint in hints.items():
        while typing.get_origin(hint) is typing.Annotated:
            hint = typing.get_args(hint)[0]
        if typing.get_origin(hint) is typing.Literal:
            orders[name] = typing.get_args(hint)
    return orders


def _check_with_msgspec(info: Any, value: Any, loc: Loc, errors: Errors) -> None:
    target = getattr(info, "cls", None)
    if target is None:
        return
    try:
        msgspec.convert(value, target)
    except msgspec.ValidationError as exc:
        errors.extend(errors_from_message(str(exc), loc, value))


_AT = re.compile(r"^(?P<msg>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_PATH_PART = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def errors_from_message(text: str, loc: Loc, value: Any) -> Errors:
    """A msgspec error message as one error record at the location it names."""
    match = _AT.match(text)
    detail = match.group("msg") if match else text
    path = match.group("path") if match and match.group("path") else ""
    where: list[str | int] = list(loc)
    for name, index in _PATH_PART.findall(path):
        where.append(int(index) if index else name)
    shown = value if not path else None
    if detail == "Number out of range":  # a JSON number beyond float range, e.g. 1e400
        return [make_error("finite_number", tuple(where), shown)]
    return [make_error("value_error", tuple(where), shown, {"error": detail})]


_CHECKS: dict[type, Callable[[Any, Any, Loc, Errors], None]] = {
    mi.AnyType: _check_any,
    mi.NoneType: _check_none,
    mi.BoolType: _check_bool,
    mi.IntType: _check_int,
    mi.FloatType: _check_float,
    mi.StrType: _check_str,
    mi.DecimalType: _check_decimal,
    mi.DateTimeType: _check_temporal,
    mi.DateType: _check_temporal,
    mi.TimeType: _check_temporal,
    mi.TimeDeltaType: _check_duration,
    mi.ListType: _check_sequence,
    mi.SetType: _check_sequence,
    mi.FrozenSetType: _check_sequence,
    mi.VarTupleType: _check_sequence,
    mi.TupleType: _check_tuple,
    mi.DictType: _check_dict,
    mi.StructType: _check_object,
    mi.DataclassType: _check_object,
    mi.TypedDictType: _check_object,
    mi.UnionType: _check_union,
    mi.LiteralType: _check_literal,
    mi.EnumType: _check_enum,
    mi.UUIDType: _check_parsed_string("uuid", uuid.UUID),
}
