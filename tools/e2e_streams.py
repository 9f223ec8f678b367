"""Handler bodies for the streamed behaviours of the fixtures (``stream``, ``sse``, ``file``), used
by tools/generate_e2e.py.

A streamed handler is written in two steps, so that the generated code stays easy to read:

- ``produce()``: a plain generator computing the items from the fixture's declared spec and the
  handler's converted parameters (chunk templates formatted with the parameters, a ``repeat``
  counted by an integer parameter, SSE events built from templates, a large ``fill`` body);
- ``chunks()`` / ``events()``: the sync or async generator the response is fed with. It steps
  through ``produce()`` and adds what the fixture asks of a real generator: a delay between
  items, an exception after N items, and a probe recording in ``handler_support`` whether the
  generator ran to its end and whether it was closed (the test reads it back through the probe
  route that ``probe_route`` adds to the app).

Templates are strings with ``{name}`` placeholders: ``{i}`` is the running index of a
``repeat``, any other name a parameter of the handler (by its fixture key); they become
f-strings. Inside JSON data (and for a file's ``serve``/``filename``), a string that is exactly
one placeholder stands for the value itself, not its text (``{"n": "{i}"}`` -> ``{"n": i}``).
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable
from typing import Any

from e2e_source import Behaviours, Extra, FixtureError, kwargs, lit

BEHAVIOURS = ("stream", "sse", "file")

#: Imports a generated app module may need for these handlers (ruff drops the unused ones).
IMPORTS = [
    "import asyncio",
    "import itertools",
    "import time",
    "from collections.abc import AsyncIterator, Iterator",
]
FERROWEB_IMPORTS = [
    "from e2e.python.handler_support import fixture_files, probe_state, start_probe",
    "from ferroweb import FileResponse, Request, StreamingResponse",
    "from ferroweb.sse import EventSourceResponse, ServerSentEvent, last_event_id",
]
#: Module-level names bound by those imports.
MODULE_NAMES = {
    "asyncio",
    "itertools",
    "time",
    "AsyncIterator",
    "Iterator",
    "fixture_files",
    "probe_state",
    "start_probe",
    "FileResponse",
    "Request",
    "StreamingResponse",
    "EventSourceResponse",
    "ServerSentEvent",
    "last_event_id",
}
#: Local names of the generated bodies: a parameter is renamed rather than shadow one.
LOCALS = {
    "produce",
    "chunks",
    "events",
    "chunk",
    "item",
    "probe",
    "n",
    "i",
    "start",
    "last",
    "text",
    "offset",
}
#: Names the handler bodies use: parameters must not shadow them either.
BODY_NAMES = MODULE_NAMES | LOCALS | {"request", "HTTPException"}

PROBE_ROUTE = "/__e2e__/probes/{name}"
RETURN_TYPES = {"stream": "StreamingResponse", "sse": "EventSourceResponse", "file": "FileResponse"}
EVENT_FIELDS = ("event", "id", "retry", "comment")


def return_type(behaviour: str) -> str:
    return RETURN_TYPES[behaviour]


def wants_probe(fixture: dict[str, Any]) -> bool:
    """A probe is recorded when the fixture checks the generator's fate."""
    return "generator" in fixture["expected_response"]


def needs_request(handler: dict[str, Any]) -> bool:
    """SSE resumption reads Last-Event-ID from the request object."""
    return handler.get("behaviour") == "sse" and bool(handler.get("sse", {}).get("resume"))


def check_expectations(fixture: dict[str, Any]) -> None:
    """What the test can only check of some behaviours: the generator's fate needs a generator,
    and an endless one a request that stops reading."""
    behaviour = fixture["handler"].get("behaviour", "echo")
    spec = fixture["handler"].get(behaviour, {}) if behaviour in BEHAVIOURS else {}
    if wants_probe(fixture) and (behaviour not in ("stream", "sse") or spec.get("generator") == "list"):
        raise FixtureError("expected_response.generator needs a stream or sse handler with a generator")
    endless = "repeat" in spec and spec["repeat"].get("times") is None
    if endless and "read" not in fixture["request"]:
        raise FixtureError("an endless stream needs request.read (a client that stops reading)")


def spec_of(fixture: dict[str, Any]) -> dict[str, Any]:
    handler = fixture["handler"]
    behaviour = handler["behaviour"]
    if behaviour not in handler:
        raise FixtureError(f"behaviour {behaviour} needs a `{behaviour}` spec in the handler")
    spec: dict[str, Any] = handler[behaviour]
    return spec


# -- templates --------------------------------------------------------------------------------


def template(text: str, names: dict[str, str]) -> str:
    """A Python expression for a template: a literal, or an f-string of its placeholders."""
    parts: list[str] = []
    has_field = False
    for literal, field, spec, conversion in string.Formatter().parse(text):
        parts.append(literal.replace("{", "{{").replace("}", "}}"))
        if field is None:
            continue
        if spec or conversion:
            raise FixtureError(f"template {text!r}: only plain {{name}} placeholders are supported")
        parts.append("{" + placeholder(field, names, text) + "}")
        has_field = True
    if not has_field:
        return lit("".join(parts).replace("{{", "{").replace("}}", "}"))
    return "f" + repr("".join(parts))


def placeholder(field: str, names: dict[str, str], where: str) -> str:
    if field not in names:
        known = ", ".join(sorted(names)) or "none"
        raise FixtureError(f"template {where!r} names {{{field}}}, which is not available here ({known})")
    return names[field]


_SINGLE = re.compile(r"\{([^{}]+)\}")


def value_expr(value: Any, names: dict[str, str]) -> str:
    """A JSON value whose strings are templates; a string that is exactly one placeholder stands
    for the value itself."""
    if isinstance(value, str):
        single = _SINGLE.fullmatch(value)
        if single:
            return placeholder(single.group(1), names, value)
        return template(value, names)
    if isinstance(value, list):
        return "[" + ", ".join(value_expr(v, names) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{lit(k)}: {value_expr(v, names)}" for k, v in value.items()) + "}"
    return lit(value)


def count_expr(value: Any, names: dict[str, str], what: str) -> str:
    """An integer literal, or the name of an integer parameter."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise FixtureError(f"{what} must be an integer or a parameter name, got {value!r}")
    if isinstance(value, int):
        return str(value)
    if value == "i":
        raise FixtureError(f"{what} cannot be the running index")
    return placeholder(value, names, what)


def headers_expr(headers: dict[str, str], names: dict[str, str]) -> str:
    return "{" + ", ".join(f"{lit(k)}: {template(v, names)}" for k, v in headers.items()) + "}"


# -- produce(): the items -----------------------------------------------------------------------


def repeat_lines(
    repeat: dict[str, Any], names: dict[str, str], item: Callable[[dict[str, str]], str]
) -> list[str]:
    """``for i in ...: yield <item>`` for a ``repeat``: ``times`` items (null: endless) numbered
    from ``start``."""
    inner = {**names, "i": "i"}
    start = count_expr(repeat.get("start", 0), names, "repeat.start")
    if repeat.get("times") is None:
        loop = f"itertools.count({start})" if start != "0" else "itertools.count()"
    else:
        times = count_expr(repeat["times"], names, "repeat.times")
        loop = f"range({times})" if start == "0" else f"range({start}, {start} + {times})"
    return [f"for i in {loop}:", f"    yield {item(inner)}"]


def stream_produce(spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    lines = ["def produce() -> Iterator[str]:"]
    body: list[str] = []
    if "fill" in spec:
        if "chunks" in spec or "repeat" in spec:
            raise FixtureError("stream.fill cannot be combined with chunks or repeat")
        fill = spec["fill"]
        text = fill["text"]
        if not text or not text.isascii():
            raise FixtureError("stream.fill.text must be non-empty ASCII (its length is its size in bytes)")
        size = count_expr(fill["size"], names, "fill.size")
        step = int(fill.get("chunk_size", 65536))
        body += [
            f"text = ({lit(text)} * ({size} // {len(text)} + 1))[:{size}]",
            f"for offset in range(0, {size}, {step}):",
            f"    yield text[offset : offset + {step}]",
        ]
    for chunk in spec.get("chunks", []):
        body.append(f"yield {template(chunk, names)}")
    if "repeat" in spec:
        body += repeat_lines(spec["repeat"], names, lambda inner: template(spec["repeat"]["chunk"], inner))
    return lines + ["    " + line for line in body or ["yield from ()"]]


def event_expr(event: dict[str, Any], kind: str, names: dict[str, str]) -> str:
    unknown = set(event) - {"data", *EVENT_FIELDS}
    if unknown:
        raise FixtureError(f"unknown SSE event fields {sorted(unknown)}")
    data = value_expr(event["data"], names) if "data" in event else None
    fields: list[tuple[str, str]] = []
    for name in EVENT_FIELDS:
        if name in event:
            value = event[name]
            fields.append((name, lit(value) if name == "retry" else template(value, names)))
    if kind == "event":
        args = ([data] if data is not None else []) + [f"{k}={v}" for k, v in fields]
        return f"ServerSentEvent({', '.join(args)})"
    if kind == "dict":
        members = ([("data", data)] if data is not None else []) + fields
        return "{" + ", ".join(f"{lit(k)}: {v}" for k, v in members) + "}"
    if kind == "data":
        if fields or data is None:
            raise FixtureError("SSE items of kind `data` are bare data: only a `data` field")
        return data
    raise FixtureError(f"unknown SSE item kind {kind!r}")


def sse_produce(spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    kind = spec.get("item", "event")
    body = [f"yield {event_expr(event, kind, names)}" for event in spec.get("events", [])]
    if "repeat" in spec:
        repeat = spec["repeat"]
        if spec.get("resume"):
            repeat = {**repeat, "start": "start"}  # computed from Last-Event-ID (see sse_prologue)
            names = {**names, "start": "start"}
        body += repeat_lines(repeat, names, lambda inner: event_expr(repeat["event"], kind, inner))
    return ["def produce() -> Iterator[Any]:"] + ["    " + line for line in body or ["yield from ()"]]


def sse_prologue(spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    """With ``resume``: numbering continues after the Last-Event-ID the client sends (an id
    that is not a decimal number is ignored: the stream starts over)."""
    if not spec.get("resume"):
        return []
    if "repeat" not in spec:
        raise FixtureError("sse.resume numbers the items of a repeat")
    first = count_expr(spec["repeat"].get("start", 0), names, "repeat.start")
    return [
        f"start = {first}",
        "last = last_event_id(request)",
        "if last is not None and last.isdecimal():",
        "    start = int(last) + 1",
    ]


# -- chunks() / events(): the generator the response gets ------------------------------------


def pump(name: str, spec: dict[str, Any], func: str, item_type: str, encode: bool, probe: bool) -> list[str]:
    """The response's generator over ``produce()``, with the fixture's delay, failure and probe."""
    kind = spec.get("generator", "async")
    if kind not in ("async", "sync"):
        raise FixtureError(f"unknown generator kind {kind!r}")
    is_async = kind == "async"
    delay = spec.get("delay")
    fail = spec.get("fail")
    loop: list[str] = []
    if delay:
        loop.append(f"await asyncio.sleep({delay!r})" if is_async else f"time.sleep({delay!r})")
    if fail is not None:
        after = int(fail["after"])
        if "status" in fail:
            args = [str(int(fail["status"]))] + ([lit(fail["detail"])] if "detail" in fail else [])
            exc = f"HTTPException({', '.join(args)})"
        else:
            exc = f"RuntimeError({lit(fail.get('detail', f'failing after {after} items'))})"
        loop += [f"if n == {after}:", f"    raise {exc}"]
    loop.append(f"yield {'item.encode()' if encode else 'item'}")
    if probe:
        loop.append("probe.produced += 1")
    head = "for n, item in enumerate(produce()):" if fail is not None else "for item in produce():"
    body = [head] + ["    " + line for line in loop]
    if not is_async and loop == ["yield item"]:
        body = ["yield from produce()"]
    if probe:
        body = [f"probe = start_probe({lit(name)})", "try:"] + ["    " + line for line in body]
        body += ["    probe.completed = True", "finally:", "    probe.closed = True"]
    if is_async:
        signature = f"async def {func}() -> AsyncIterator[{item_type}]:"
    else:
        signature = f"def {func}() -> Iterator[{item_type}]:"
    return [signature] + ["    " + line for line in body]


# -- handler bodies ---------------------------------------------------------------------------


def body_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The statements of a streamed handler (unindented), from its spec and parameters
    (``names``: fixture key -> Python name)."""
    behaviour = fixture["handler"]["behaviour"]
    spec = spec_of(fixture)
    if "i" in names:
        raise FixtureError("a parameter named `i` would hide the running index of templates")
    if behaviour == "stream":
        return stream_body(fixture, spec, names)
    if behaviour == "sse":
        return sse_body(fixture, spec, names)
    return file_body(fixture, spec, names)


def response_options(spec: dict[str, Any], names: dict[str, str]) -> list[tuple[str, str]]:
    options: list[tuple[str, str]] = []
    if "status_code" in spec:
        options.append(("status_code", str(int(spec["status_code"]))))
    if spec.get("headers"):
        options.append(("headers", headers_expr(spec["headers"], names)))
    return options


def stream_body(fixture: dict[str, Any], spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    encode = spec.get("encoding", "str") == "bytes"
    options = response_options(spec, names)
    if "media_type" in spec:
        options.append(("media_type", lit(spec["media_type"])))
    lines = [*stream_produce(spec, names), ""]
    if spec.get("generator") == "list":
        if wants_probe(fixture) or "fail" in spec or "delay" in spec:
            raise FixtureError("a `list` stream has no generator to probe, fail or delay")
        content = "[item.encode() for item in produce()]" if encode else "list(produce())"
    else:
        item_type = "bytes" if encode else "str"
        lines += [*pump(fixture["name"], spec, "chunks", item_type, encode, wants_probe(fixture)), ""]
        content = "chunks()"
    return [*lines, f"return StreamingResponse({kwargs_call(content, options)})"]


def sse_body(fixture: dict[str, Any], spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    options = response_options(spec, names)
    if "ping" in spec:
        options.append(("ping", lit(spec["ping"])))
    lines = sse_prologue(spec, names)
    lines += (["", *sse_produce(spec, names)] if lines else sse_produce(spec, names)) + [""]
    lines += [*pump(fixture["name"], spec, "events", "Any", False, wants_probe(fixture)), ""]
    return [*lines, f"return EventSourceResponse({kwargs_call('events()', options)})"]


def file_body(fixture: dict[str, Any], spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    served = value_expr(spec.get("serve", spec["name"]), names)
    options = response_options(spec, names)
    if "media_type" in spec:
        options.append(("media_type", lit(spec["media_type"])))
    if "filename" in spec:
        options.append(("filename", value_expr(spec["filename"], names)))
    path = f"fixture_files({lit(fixture['name'])}) / {served}"
    return [f"return FileResponse({kwargs_call(path, options)})"]


def kwargs_call(first: str, options: list[tuple[str, str]]) -> str:
    return ", ".join([first, kwargs(options)]) if options else first


# -- the probe route --------------------------------------------------------------------------


def probe_route(app_var: str, func_name: str) -> str:
    return (
        f"@{app_var}.get({lit(PROBE_ROUTE)})\n"
        f"def {func_name}(name: Annotated[str, Path()]) -> dict:\n"
        '    """What the probed generators of this module did (see e2e/python/handler_support.py)."""\n'
        "    return probe_state(name)\n"
    )


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    return [Extra("request", "Request")] if needs_request(fixture["handler"]) else []


PLUGIN = Behaviours(
    names=BEHAVIOURS,
    imports=(*IMPORTS, *FERROWEB_IMPORTS),
    module_names=frozenset(MODULE_NAMES),
    body_names=frozenset(BODY_NAMES),
    return_type=return_type,
    body_lines=body_lines,
    check_expectations=check_expectations,
    wants_probe=wants_probe,
    extra_parameters=extra_parameters,
)
