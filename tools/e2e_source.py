"""What tools/generate_e2e.py and tools/e2e_streams.py share: the error they raise for a fixture
they cannot turn into code, and helpers that write Python source."""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable
from typing import Any


class FixtureError(ValueError):
    """A fixture the generator cannot turn into a handler."""


# -- Python source helpers -------------------------------------------------------------------


def lit(value: Any) -> str:
    """A Python literal for a JSON value."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {lit(v)}" for k, v in value.items()) + "}"
    raise FixtureError(f"not a JSON value: {value!r}")


def kwargs(items: Iterable[tuple[str, str]]) -> str:
    return ", ".join(f"{key}={value}" for key, value in items)


def identifier(name: str) -> str:
    """A valid Python identifier for a schema key (``page-size`` -> ``page_size``)."""
    result = re.sub(r"\W", "_", name, flags=re.ASCII)
    if not result or result[0].isdigit():
        result = "_" + result
    if keyword.iskeyword(result) or result in ("self",):
        result += "_"
    return result


def pascal(name: str) -> str:
    parts = re.split(r"[^A-Za-z0-9]+", name)
    result = "".join(p[:1].upper() + p[1:] for p in parts if p)
    if not result or result[0].isdigit():
        result = "Model" + result
    return result


def member_name(value: Any) -> str:
    """An Enum member name for a value (``"dark-red"`` -> ``DARK_RED``, ``1`` -> ``V_1``)."""
    text = re.sub(r"\W", "_", str(value), flags=re.ASCII).upper().strip("_")
    if not text or text[0].isdigit() or keyword.iskeyword(text):
        text = "V_" + text
    return text
