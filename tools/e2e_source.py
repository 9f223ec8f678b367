"""What tools/generate_e2e.py and its tools/e2e_*.py modules share: the error they raise for a
fixture they cannot turn into code, helpers that write Python source, and ``Behaviours``, what a
module contributes for the handler behaviours it writes."""

from __future__ import annotations

import keyword
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
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


# -- behaviours beyond the echo ----------------------------------------------------------------


@dataclass
class Parameter:
    """A parameter of a generated handler (or dependency factory): the fixture's name for it
    (the echo key), its Python name, annotation and default (None: no Python default)."""

    key: str
    pyname: str
    annotation: str
    default: str | None
    upload: bool  # echoed by reading the file(s)


@dataclass(frozen=True)
class Declarer:
    """How tools/generate_e2e.py writes a request parameter (``parameter(source, key, schema,
    pyname)``) and a JSON body (``body(spec, pyname)``), lent to the modules that declare
    parameters of their own (dependency factories)."""

    parameter: Callable[[str, str, dict[str, Any], str], Parameter]
    body: Callable[[dict[str, Any], str], Parameter]


@dataclass(frozen=True)
class Extra:
    """A parameter the framework provides rather than the request's values (the WebSocket,
    BackgroundTasks, the Request): its name and annotation, and whether it leads the signature."""

    pyname: str
    annotation: str
    leading: bool = False


@dataclass(frozen=True)
class Definition:
    """Module-level code a handler needs (a background task, a lifespan hook), by the name it
    binds."""

    name: str
    source: str


def _no_extras(fixture: dict[str, Any]) -> list[Extra]:
    return []


def _no_definitions(fixture: dict[str, Any], func_name: str) -> list[Definition]:
    return []


def _no_probe(fixture: dict[str, Any]) -> bool:
    return False


@dataclass(frozen=True)
class Behaviours:
    """What a tools/e2e_<kind>.py module contributes to tools/generate_e2e.py for some handler
    behaviours: imports for the app module, the names it binds, and the handler's pieces."""

    #: The ``handler.behaviour`` values the module writes.
    names: tuple[str, ...]
    #: Import lines the generated app module may need (ruff drops the unused ones).
    imports: tuple[str, ...]
    #: Module-level names those imports bind (reserved: no class or handler gets them).
    module_names: frozenset[str]
    #: Names the handler bodies use: a parameter is renamed rather than shadow one.
    body_names: frozenset[str]
    #: The handler's return annotation, by behaviour.
    return_type: Callable[[str], str]
    #: The handler's statements (unindented) from the fixture and its parameters (key -> name).
    body_lines: Callable[[dict[str, Any], dict[str, str]], list[str]]
    #: Raises FixtureError for expectations only this module's behaviours can meet (called for
    #: every fixture).
    check_expectations: Callable[[dict[str, Any]], None]
    #: Whether the handler records a probe that the test reads through the probe route.
    wants_probe: Callable[[dict[str, Any]], bool] = _no_probe
    #: Parameters the framework provides.
    extra_parameters: Callable[[dict[str, Any]], list[Extra]] = _no_extras
    #: Module-level code placed before the handler (given the handler's function name).
    definitions: Callable[[dict[str, Any], str], list[Definition]] = _no_definitions
