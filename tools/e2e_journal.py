"""What the dependency and hook fixtures' generated code shares (tools/e2e_dependencies.py,
tools/e2e_hooks.py, tools/e2e_layers.py): recording events, templates over the request,
conditions, answers and exceptions, and the handler's own ``record`` / ``raise`` / ``reply``.

Events go to the fixture's journal in ``e2e/python/handler_support.py`` (``record(fixture,
event)``), which the test reads through the probe route (as ``<fixture>.recorded``) after the
response: a factory's setup and cleanup, each hook and middleware, the handler. A fixture's
requests are sent once per process (its TestClient run, its live server), so its journal starts
with the first event of its first request; ``request.repeat`` sends it again into the same one.

Templates (see ``tools/e2e_streams.py``) name parameters by their fixture key; code that only
has the request (hooks, middleware, exception handlers) names ``{method}``, ``{path}``,
``{header.<name>}``, ``{query.<name>}`` and ``{state.<member>}`` (``request.state``, None when
unset), plus what its point provides (``{status}``, ``{error}``, ``{error_type}``).
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterable
from typing import Any

from e2e_source import Extra, FixtureError, kwargs, lit
from e2e_streams import template, value_expr

#: Exceptions a handler, a hook or an ``on_error`` check may name besides HTTPException.
ERRORS = ("LookupError", "KeyError", "ValueError", "RuntimeError", "PermissionError", "ZeroDivisionError")
#: Request placeholders with a member (``{header.x-token}``) and what they read.
_MEMBER_READS = {
    "header": "{owner}.headers.get({member})",
    "query": "{owner}.query_params.get({member})",
    "state": "getattr({owner}.state, {member}, None)",
}
_PLAIN_READS = {"method": "{owner}.method", "path": "{owner}.path"}
#: The first line of app-level hooks, middleware and dependencies, which the test's probe reads
#: (a route of the same app) pass through too.
PROBE_GUARD = "if is_probe(request):  # the test reading the journal: not the fixture's request"


def fields_of(values: Iterable[Any]) -> set[str]:
    """The placeholder fields of templates, also inside JSON values."""
    found: set[str] = set()

    def visit(value: Any) -> None:
        if isinstance(value, str):
            found.update(field for _, field, _, _ in string.Formatter().parse(value) if field)
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for value in values:
        visit(value)
    return found


def request_names(values: Iterable[Any], owner: str = "request") -> dict[str, str]:
    """The request placeholders the templates in ``values`` name -> Python expressions."""
    names: dict[str, str] = {}
    for field in fields_of(values):
        kind, dot, member = field.partition(".")
        if not dot and kind in _PLAIN_READS:
            names[field] = _PLAIN_READS[kind].format(owner=owner)
        elif dot and kind in _MEMBER_READS:
            if kind == "state" and not member.isidentifier():
                raise FixtureError(f"{{{field}}}: state members are Python identifiers")
            # double quotes: the expression may sit inside a single-quoted f-string (Python 3.10)
            names[field] = _MEMBER_READS[kind].format(owner=owner, member=json.dumps(member))
    return names


def state_names(values: Iterable[Any]) -> dict[str, str]:
    """``{state.<member>}`` placeholders of a handler's templates (read from its Request)."""
    return {k: v for k, v in request_names(values).items() if k.startswith("state.")}


def record_line(fixture: dict[str, Any], event: Any, names: dict[str, str]) -> str:
    return f"record({lit(fixture['name'])}, {value_expr(event, names)})"


def condition(spec: dict[str, Any], names: dict[str, str]) -> str | None:
    """``when`` (every placeholder equals its value; null: absent) and ``unless`` (not all of
    them do) as one Python condition; None: always."""
    parts: list[str] = []
    for key, negate in (("when", False), ("unless", True)):
        tests = []
        for field, value in spec.get(key, {}).items():
            read = value_expr("{" + field + "}", {**names, **request_names(["{" + field + "}"])})
            if value is None:
                tests.append(f"{read} is {'not ' if negate and len(spec[key]) == 1 else ''}None")
            else:
                equal = "!=" if negate and len(spec[key]) == 1 else "=="
                tests.append(f"{read} {equal} {lit(value)}")
        if len(tests) > 1:
            parts.append(("not " if negate else "") + "(" + " and ".join(tests) + ")")
        else:
            parts += tests  # a single test is written negated already
    return " and ".join(parts) or None


def guarded(spec: dict[str, Any], names: dict[str, str], lines: list[str]) -> list[str]:
    """``lines`` under the spec's condition (if any)."""
    test = condition(spec, names)
    return lines if test is None else [f"if {test}:", *("    " + line for line in lines)]


def headers_expr(headers: dict[str, Any], names: dict[str, str]) -> str:
    return "{" + ", ".join(f"{lit(k)}: {template(v, names)}" for k, v in headers.items()) + "}"


def answer_expr(answer: dict[str, Any], names: dict[str, str]) -> str:
    """``JSONResponse(body, status_code=..., headers=...)`` of an answer spec."""
    items = [("status_code", str(int(answer.get("status", 200))))]
    if answer.get("headers"):
        items.append(("headers", headers_expr(answer["headers"], names)))
    return f"JSONResponse({value_expr(answer.get('body'), names)}, {kwargs(items)})"


def raise_line(spec: dict[str, Any], names: dict[str, str]) -> str:
    """``raise HTTPException(status, detail, headers=...)``, or one of ERRORS with ``error``."""
    detail = template(spec["detail"], names) if "detail" in spec else None
    if "error" in spec:
        if spec["error"] not in ERRORS:
            raise FixtureError(f"unknown exception {spec['error']!r} (one of {', '.join(ERRORS)})")
        return f"raise {spec['error']}({detail or ''})"
    args = [str(int(spec["status"]))] + ([detail] if detail else [])
    if spec.get("headers"):
        args.append(f"headers={headers_expr(spec['headers'], names)}")
    return f"raise HTTPException({', '.join(args)})"


def error_class(name: str) -> str:
    if name not in (*ERRORS, "HTTPException", "Exception"):
        raise FixtureError(f"unknown exception {name!r}")
    return name


# -- the handler's own events, exception and answer -------------------------------------------


def handler_values(handler: dict[str, Any]) -> list[Any]:
    return [handler.get(key) for key in ("record", "raise", "reply") if key in handler]


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    """``request: Request`` when the handler's templates read ``request.state``."""
    return [Extra("request", "Request")] if state_names(handler_values(fixture["handler"])) else []


def handler_names(fixture: dict[str, Any], names: dict[str, str]) -> dict[str, str]:
    return {**names, **state_names(handler_values(fixture["handler"]))}


def handler_lines(fixture: dict[str, Any], names: dict[str, str]) -> tuple[list[str], bool]:
    """The handler's ``record`` and ``raise`` or ``reply``, and whether they end the body (else
    the behaviour's own statements follow)."""
    handler = fixture["handler"]
    names = handler_names(fixture, names)
    lines = [record_line(fixture, handler["record"], names)] if "record" in handler else []
    if "raise" in handler:
        return [*lines, raise_line(handler["raise"], names)], True
    if "reply" in handler:
        return [*lines, f"return {value_expr(handler['reply'], names)}"], True
    return lines, False


def records(fixture: dict[str, Any]) -> bool:
    """Whether the test reads the fixture's journal (so the app needs the probe route)."""
    return "recorded" in fixture["expected_response"]
