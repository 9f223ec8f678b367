"""``datetime.timedelta`` values, read as pydantic reads them.

A duration is an ISO 8601 duration (``P1DT2H30M``, ``-PT1.5S``), a number of seconds (``90``,
``1.5``), or clock time with optional days (``01:30``, ``01:30:15.25``, ``2 days, 01:00:00``).
String parameters (path, query, header, cookie, form) are parsed by :func:`parse_duration`.
msgspec decodes ISO strings in JSON bodies itself but refuses numbers, so when a typed decode
of a body whose type holds a timedelta fails, :func:`numbers_as_durations` turns the numbers in
timedelta positions into timedeltas and the body is converted again (strictly, so every other
field keeps msgspec's rules); that costs nothing on bodies that decode the first time.
"""

from __future__ import annotations

import datetime
import math
import re
from typing import Any

import msgspec
from msgspec import inspect as mi

from ferroweb._type_info import holds

_CLOCK = re.compile(
    r"(?P<sign>[-+]?)(?:(?P<days>\d+)\s*d(?:ays?)?,?\s*)?"
    r"(?P<hours>\d{1,2}):(?P<minutes>\d{2})(?::(?P<seconds>\d{2}(?:\.\d{1,6})?))?"
)


def parse_duration(text: str) -> datetime.timedelta | None:
    """The duration ``text`` spells, or None when it is none of the accepted forms."""
    value = text.strip()
    if not value:
        return None
    seconds = _seconds(value)
    if seconds is not None:
        return from_seconds(seconds)
    if "P" in value.upper():
        try:
            return msgspec.convert(value.upper(), datetime.timedelta)
        except msgspec.ValidationError:
            return None
    match = _CLOCK.fullmatch(value)
    if match is None:
        return None
    minutes = int(match["minutes"])
    clock_seconds = float(match["seconds"] or 0)
    if minutes > 59 or clock_seconds >= 60:
        return None
    try:
        duration = datetime.timedelta(
            days=int(match["days"] or 0), hours=int(match["hours"]), minutes=minutes, seconds=clock_seconds
        )
    except OverflowError:
        return None
    return -duration if match["sign"] == "-" else duration


def _seconds(value: str) -> float | None:
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", value):
        return None
    return float(value)


def from_seconds(seconds: float) -> datetime.timedelta | None:
    """``seconds`` as a timedelta; None when it is not finite or out of timedelta's range."""
    if not math.isfinite(seconds):
        return None
    try:
        return datetime.timedelta(seconds=seconds)
    except OverflowError:
        return None


def holds_duration(info: mi.Type) -> bool:
    """Whether a value of this type can contain a timedelta."""
    return holds(info, mi.TimeDeltaType)


_SEQUENCES = (mi.ListType, mi.SetType, mi.FrozenSetType, mi.VarTupleType)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def numbers_as_durations(info: mi.Type, value: Any) -> Any:
    """Plain JSON ``value`` with each number found where ``info`` expects a timedelta replaced
    by that many seconds (in place for objects and arrays; the new value is returned)."""
    if isinstance(info, mi.TimeDeltaType):
        if _is_number(value):
            duration = from_seconds(float(value))
            return value if duration is None else duration
        return value
    if isinstance(info, (mi.StructType, mi.DataclassType, mi.TypedDictType)) and isinstance(value, dict):
        for field in info.fields:
            if field.encode_name in value:
                value[field.encode_name] = numbers_as_durations(field.type, value[field.encode_name])
        return value
    if isinstance(info, _SEQUENCES) and isinstance(value, list):
        return [numbers_as_durations(info.item_type, item) for item in value]
    if isinstance(info, mi.TupleType) and isinstance(value, list):
        # a tuple of the wrong length is left for the decoder to refuse
        head = [numbers_as_durations(t, item) for t, item in zip(info.item_types, value, strict=False)]
        return head + value[len(head) :]
    if isinstance(info, mi.DictType) and isinstance(value, dict):
        return {key: numbers_as_durations(info.value_type, item) for key, item in value.items()}
    if isinstance(info, mi.UnionType):
        return _in_union(info, value)
    return value


def _in_union(info: mi.UnionType, value: Any) -> Any:
    members = info.types
    if _is_number(value):
        takes_number = any(isinstance(m, (mi.IntType, mi.FloatType, mi.DecimalType)) for m in members)
        if not takes_number and any(isinstance(m, mi.TimeDeltaType) for m in members):
            duration = from_seconds(float(value))
            return value if duration is None else duration
        return value
    for member in members:
        if not isinstance(member, mi.NoneType) and holds_duration(member):
            return numbers_as_durations(member, value)
    return value


__all__ = ["from_seconds", "holds_duration", "numbers_as_durations", "parse_duration"]
