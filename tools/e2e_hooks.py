"""Request hooks, ``http`` middleware and exception handlers of the fixtures, used through
tools/e2e_layers.py.

``hooks`` (of the app, a router or the route) map each point (``on_request``,
``pre_validation``, ``pre_handler``, ``on_response``, ``on_error``) to a list of hook specs;
each becomes a function ``<fixture>_<layer>_<point>[_<n>]`` (``async def`` with ``async``),
registered with ``@app.on_request``-style decorators on the app and the router, and given to
the route as ``hooks={...}`` (or ``hooks=Hooks(...)`` with ``hooks_class``). A hook records
``record``, sets ``request.state`` members (``state``), and then, as its point allows:
``on_response`` sets ``status`` and ``headers`` on the response and returns it; ``on_error``
answers ``answer`` for the exceptions it ``handles`` (all: none given) and otherwise returns None
(the exception handlers take it); the others ``raise`` an HTTPException or return their
``answer`` (a short-circuit), each under its ``when`` / ``unless``, else None.

``http_middleware`` entries become ``@app.middleware("http")`` functions: record, maybe answer
without calling ``call_next``, call it (``catch``ing an exception it raises into an answer),
record ``after`` (``{status}``), add ``headers``. ``exception_handlers`` answer an exception
class. The app's hooks and middleware also see the test's probe reads: they pass them on
untouched, so that the journal holds only what the fixture's request did.
"""

from __future__ import annotations

from typing import Any

from e2e_journal import PROBE_GUARD, answer_expr, error_class, guarded, raise_line, record_line, request_names
from e2e_source import Definition, FixtureError, kwargs, lit
from e2e_streams import template, value_expr

POINTS = ("on_request", "pre_validation", "pre_handler", "on_response", "on_error")
SIGNATURES = {
    "on_response": ("request: Request, response: Response", "Response"),
    "on_error": ("request: Request, exc: Exception", "Any"),
}
POINT_NAMES = {
    "on_response": {"status": "response.status_code"},
    "on_error": {"error": "str(exc)", "error_type": "type(exc).__name__"},
}
ALLOWED = {
    "on_response": {"async", "record", "state", "status", "headers"},
    "on_error": {"async", "record", "state", "handles", "answer"},
}
REQUEST_ALLOWED = {"async", "record", "state", "raise", "answer"}


def hook_var(fixture: dict[str, Any], layer: str, point: str, index: int, count: int) -> str:
    return f"{fixture['name']}_{layer}_{point}" + (f"_{index + 1}" if count > 1 else "")


def _names(spec: dict[str, Any], extra: dict[str, str]) -> dict[str, str]:
    return {**request_names([spec], "request"), **extra}


def hook_source(
    fixture: dict[str, Any], point: str, spec: dict[str, Any], var: str, decorator: str | None, guard: bool
) -> str:
    """One hook; ``decorator`` registers it (the app's and routers'), ``guard`` passes the
    probe reads through (the app's)."""
    if point not in POINTS:
        raise FixtureError(f"unknown hook point {point!r}")
    unknown = set(spec) - ALLOWED.get(point, REQUEST_ALLOWED)
    if unknown:
        raise FixtureError(f"a {point} hook has no {sorted(unknown)}")
    params, returns = SIGNATURES.get(point, ("request: Request", "Any"))
    names = _names(spec, POINT_NAMES.get(point, {}))
    passed = "return response" if point == "on_response" else "return None"
    lines = [PROBE_GUARD, f"    {passed}"] if guard else []
    if "record" in spec:
        lines.append(record_line(fixture, spec["record"], names))
    for member, value in spec.get("state", {}).items():
        if not member.isidentifier():
            raise FixtureError(f"state member {member!r} is not a Python identifier")
        lines.append(f"request.state.{member} = {value_expr(value, names)}")
    if point == "on_response":
        if "status" in spec:
            lines.append(f"response.status_code = {int(spec['status'])}")
        lines += [
            f"response.headers[{lit(k)}] = {template(v, names)}" for k, v in spec.get("headers", {}).items()
        ]
    elif point == "on_error":
        if "answer" in spec:
            answer = f"return {answer_expr(spec['answer'], names)}"
            handles = spec.get("handles")
            lines += (
                [f"if isinstance(exc, {error_class(handles)}):", f"    {answer}"] if handles else [answer]
            )
    else:
        if "raise" in spec:
            lines += guarded(spec["raise"], names, [raise_line(spec["raise"], names)])
        if "answer" in spec:
            lines += guarded(spec["answer"], names, [f"return {answer_expr(spec['answer'], names)}"])
    if not lines or not lines[-1].startswith("return "):
        lines.append(passed)
    head = "async def" if spec.get("async") else "def"
    doc = f'"""{point} hook of {fixture["name"]}."""'
    source = [f"{head} {var}({params}) -> {returns}:", f"    {doc}", *("    " + line for line in lines)]
    return "\n".join(([decorator] if decorator else []) + source) + "\n"


def layer_hooks(
    fixture: dict[str, Any], layer: str, hooks: dict[str, list[dict[str, Any]]], owner: str | None
) -> tuple[list[Definition], dict[str, list[str]]]:
    """The hooks of one layer, decorated with ``@<owner>.<point>`` when an owner is given,
    and their names by point (the route's ``hooks=``)."""
    found: list[Definition] = []
    by_point: dict[str, list[str]] = {}
    for point, specs in hooks.items():
        for index, spec in enumerate(specs):
            var = hook_var(fixture, layer, point, index, len(specs))
            decorator = f"@{owner}.{point}" if owner else None
            source = hook_source(fixture, point, spec, var, decorator, guard=layer == "app")
            found.append(Definition(var, source))
            by_point.setdefault(point, []).append(var)
    return found, by_point


def route_hooks_argument(fixture: dict[str, Any], by_point: dict[str, list[str]]) -> str:
    """``hooks={"on_request": f, ...}`` (one function, or a list), or ``hooks=Hooks(...)``."""
    if fixture["handler"].get("hooks_class"):
        return f"hooks=Hooks({kwargs((p, '[' + ', '.join(v) + ']') for p, v in by_point.items())})"
    items = [f"{lit(p)}: {v[0] if len(v) == 1 else '[' + ', '.join(v) + ']'}" for p, v in by_point.items()]
    return "hooks={" + ", ".join(items) + "}"


def middleware_source(fixture: dict[str, Any], spec: dict[str, Any], var: str, app_var: str) -> str:
    """``@app.middleware("http") async def ...(request, call_next)``."""
    names = _names(spec, {"status": "response.status_code"})
    lines = [PROBE_GUARD, "    return await call_next(request)"]
    if "record" in spec:
        lines.append(record_line(fixture, spec["record"], names))
    if "answer" in spec:
        lines += guarded(spec["answer"], names, [f"return {answer_expr(spec['answer'], names)}"])
    call = "response = await call_next(request)"
    if "catch" in spec:
        catch = spec["catch"]
        seen = {**names, "error": "str(exc)", "error_type": "type(exc).__name__"}
        handling = [record_line(fixture, catch["record"], seen)] if "record" in catch else []
        handling.append(f"return {answer_expr(catch['answer'], seen)}")
        lines += [
            "try:",
            f"    {call}",
            f"except {error_class(catch['error'])} as exc:",
            *("    " + h for h in handling),
        ]
    else:
        lines.append(call)
    if "after" in spec:
        lines.append(record_line(fixture, spec["after"], names))
    lines += [
        f"response.headers[{lit(k)}] = {template(v, names)}" for k, v in spec.get("headers", {}).items()
    ]
    lines.append("return response")
    doc = f'"""http middleware of {fixture["name"]}."""'
    return "\n".join(
        [
            f'@{app_var}.middleware("http")',
            f"async def {var}(request: Request, call_next: Any) -> Response:",
            f"    {doc}",
            *("    " + line for line in lines),
        ]
    )


def exception_handler_source(fixture: dict[str, Any], spec: dict[str, Any], var: str, app_var: str) -> str:
    error = error_class(spec["error"])
    names = _names(spec, {"error": "str(exc)", "error_type": "type(exc).__name__"})
    lines = [record_line(fixture, spec["record"], names)] if "record" in spec else []
    lines.append(f"return {answer_expr(spec['answer'], names)}")
    doc = f'"""Exception handler for {error} of {fixture["name"]}."""'
    return "\n".join(
        [
            f"@{app_var}.exception_handler({error})",
            f"def {var}(request: Request, exc: {error}) -> Response:",
            f"    {doc}",
            *("    " + line for line in lines),
        ]
    )


def app_definitions(fixture: dict[str, Any], app_var: str) -> list[Definition]:
    """The app's hooks, middleware (in registration order: the last is outermost) and
    exception handlers."""
    spec = fixture["handler"].get("app", {})
    found, _ = layer_hooks(fixture, "app", spec.get("hooks", {}), app_var)
    middleware = spec.get("http_middleware", [])
    for index, entry in enumerate(middleware):
        var = f"{fixture['name']}_middleware" + (f"_{index + 1}" if len(middleware) > 1 else "")
        found.append(Definition(var, middleware_source(fixture, entry, var, app_var) + "\n"))
    for entry in spec.get("exception_handlers", []):
        var = f"{fixture['name']}_{entry['error'].lower()}_handler"
        found.append(Definition(var, exception_handler_source(fixture, entry, var, app_var) + "\n"))
    return found
