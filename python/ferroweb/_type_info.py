"""Walks over msgspec's type info (``msgspec.inspect``), shared by the body readers."""

from __future__ import annotations

from msgspec import inspect as mi


def members(info: mi.Type) -> list[mi.Type]:
    """The types directly inside ``info``: items, keys and values, union members, fields."""
    inner: list[mi.Type] = []
    for attribute in ("item_type", "key_type", "value_type"):
        if isinstance(getattr(info, attribute, None), mi.Type):
            inner.append(getattr(info, attribute))
    inner.extend(getattr(info, "item_types", ()) or getattr(info, "types", ()))
    inner.extend(field.type for field in getattr(info, "fields", ()))
    return inner


def holds(info: mi.Type, kind: type[mi.Type], seen: set[int] | None = None) -> bool:
    """Whether a value of type ``info`` can contain a value of the ``kind`` of type."""
    if isinstance(info, kind):
        return True
    seen = set() if seen is None else seen
    if id(info) in seen:  # a recursive type: already being looked at
        return False
    seen.add(id(info))
    return any(holds(member, kind, seen) for member in members(info))


__all__ = ["holds", "members"]
