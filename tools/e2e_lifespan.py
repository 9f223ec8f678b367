"""Apps with a start-up and a shutdown (``handler.lifespan``) and handlers over ``app.state``
(behaviour ``app_state``), used by tools/generate_e2e.py.

A fixture with a ``lifespan`` gets an app of its own (``needs_own_app``): ``app_source`` writes
its hooks and lifespan context manager and the ``App(...)`` that registers them, in the way the
fixture names (``@app.on_startup`` decorators, ``App(on_startup=[...], on_shutdown=[...])`` or
``app.add_event_handler``). Each hook sets ``app.state`` members, writes a note (the fixture's
notes file, through ``note`` in ``e2e/python/handler_support.py``, outlives the server: the test
reads it once the app has stopped), may schedule a background task that notes when it runs, and
may fail. Templates may name ``{state.<member>}``: ``app.state.<member>`` at that moment.

An ``app_state`` handler declares ``request: Request``, adds 1 to its ``increment`` members of
``request.app.state``, writes its ``note``, may schedule a note for later (``run``), and answers
its ``reply`` computed from its parameters and the state.
"""

from __future__ import annotations

import string
from typing import Any

from e2e_source import Behaviours, Definition, Extra, FixtureError, kwargs, lit
from e2e_streams import template, value_expr

NAMES = ("app_state",)
IMPORTS = (
    "import asyncio",
    "import contextlib",
    "from collections.abc import AsyncIterator, Iterator",
    "from e2e.python.handler_support import note",
    "from ferroweb import App, Request, background",
)
MODULE_NAMES = frozenset(
    {"asyncio", "contextlib", "AsyncIterator", "Iterator", "note", "App", "Request", "background"}
)
LOCALS = frozenset({"request", "app"})
#: Seconds a note scheduled with ``run`` waits before it is written, so that it is still pending
#: when the client has its answer (and shutdown has to drain it).
RUN_DELAY = 0.1


def needs_own_app(fixture: dict[str, Any]) -> bool:
    return "lifespan" in fixture["handler"]


def check_expectations(fixture: dict[str, Any]) -> None:
    if "lifespan" in fixture["expected_response"] and not needs_own_app(fixture):
        raise FixtureError("expected_response.lifespan needs a handler with a lifespan")
    if "startup_error" in fixture["expected_response"].get("lifespan", {}):
        spec = fixture["handler"]["lifespan"]
        hooks = [*spec.get("startup", []), spec.get("context", {})]
        sync_context = spec.get("context", {}).get("kind") == "sync"
        if not sync_context and not any("fail" in hook for hook in hooks):
            raise FixtureError("expected_response.lifespan.startup_error needs a start-up that fails")


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    return [Extra("request", "Request")]


def return_type(behaviour: str) -> str:
    return "Any"


def state_names(texts: list[Any], owner: str) -> dict[str, str]:
    """``state.<member>`` placeholders found in templates (also inside JSON values) ->
    ``<owner>.state.<member>``."""
    found: dict[str, str] = {}

    def visit(value: Any) -> None:
        if isinstance(value, str):
            for _, field, _, _ in string.Formatter().parse(value):
                if field and field.startswith("state."):
                    member = field.removeprefix("state.")
                    if not member.isidentifier():
                        raise FixtureError(f"{{{field}}}: state members are Python identifiers")
                    found[field] = f"{owner}.state.{member}"
        elif isinstance(value, list):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    visit(texts)
    return found


def note_later(fixture: dict[str, Any]) -> str:
    """The coroutine function a ``run`` schedules: it writes its text after RUN_DELAY."""
    return f"{fixture['name']}_note_later"


def run_lines(fixture: dict[str, Any], text: str, names: dict[str, str]) -> list[str]:
    return [f"background.run({note_later(fixture)}, {template(text, names)})"]


# -- the handler ------------------------------------------------------------------------------


def body_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    spec = fixture["handler"].get("app_state", {})
    texts = [spec.get("note", ""), spec.get("run", ""), spec.get("reply")]
    available = {**names, **state_names(texts, "request.app")}
    lines = [f"request.app.state.{member} += 1" for member in spec.get("increment", [])]
    if "note" in spec:
        lines.append(f"note({lit(fixture['name'])}, {template(spec['note'], available)})")
    if "run" in spec:
        lines += run_lines(fixture, spec["run"], available)
    return [*lines, f"return {value_expr(spec.get('reply'), available)}"]


def note_later_source(fixture: dict[str, Any]) -> Definition | None:
    """The coroutine function behind ``run`` (of hooks and handler), when one uses it."""
    spec = fixture["handler"].get("lifespan", {})
    hooks = [*spec.get("startup", []), *spec.get("shutdown", [])]
    if "run" not in fixture["handler"].get("app_state", {}) and not any("run" in h for h in hooks):
        return None
    name = note_later(fixture)
    source = (
        f"async def {name}(text: str) -> None:\n"
        f'    """A background task of {fixture["name"]}: notes its text a moment later."""\n'
        f"    await asyncio.sleep({RUN_DELAY!r})\n"
        f"    note({lit(fixture['name'])}, text)\n"
    )
    return Definition(name, source)


def definitions(fixture: dict[str, Any], func_name: str) -> list[Definition]:
    """What an app_state handler needs before it (with a lifespan, ``app_source`` writes it)."""
    found = None if needs_own_app(fixture) else note_later_source(fixture)
    return [found] if found else []


# -- the app ----------------------------------------------------------------------------------


def hook_lines(fixture: dict[str, Any], hook: dict[str, Any], owner: str) -> list[str]:
    """What a hook (or the lifespan around its yield) does: set state, note, run, fail."""
    texts = [hook.get("note", ""), hook.get("run", ""), hook.get("enter", ""), hook.get("state", {})]
    names = state_names(texts, owner)
    lines = []
    for member, value in hook.get("state", {}).items():
        if not member.isidentifier():
            raise FixtureError(f"state member {member!r} is not a Python identifier")
        lines.append(f"{owner}.state.{member} = {value_expr(value, names)}")
    for key in ("note", "enter"):
        if key in hook:
            lines.append(f"note({lit(fixture['name'])}, {template(hook[key], names)})")
    if "run" in hook:
        lines += run_lines(fixture, hook["run"], names)
    if "fail" in hook:
        lines.append(f"raise RuntimeError({lit(hook['fail'])})")
    return lines


def hook_source(fixture: dict[str, Any], name: str, hook: dict[str, Any], what: str, app_var: str) -> str:
    head = "async def" if hook.get("async") else "def"
    lines = hook_lines(fixture, hook, app_var) or ["pass"]
    doc = f'"""{what} of {fixture["name"]}."""'
    return "\n".join([f"{head} {name}() -> None:", f"    {doc}", *("    " + line for line in lines)]) + "\n"


def context_source(fixture: dict[str, Any], name: str, context: dict[str, Any]) -> str:
    sync = context.get("kind", "async") == "sync"
    decorator = "@contextlib.contextmanager" if sync else "@contextlib.asynccontextmanager"
    returns = "Iterator[dict[str, Any]]" if sync else "AsyncIterator[dict[str, Any]]"
    head = "def" if sync else "async def"
    yielded = context.get("yield", {})
    names = state_names([yielded, context.get("exit", "")], "app")
    lines = hook_lines(fixture, context, "app")
    lines.append(f"yield {value_expr(yielded, names)}")
    if "exit" in context:
        lines.append(f"note({lit(fixture['name'])}, {template(context['exit'], names)})")
    doc = f'"""The lifespan of the app of {fixture["name"]}."""'
    head_lines = [decorator, f"{head} {name}(app: App) -> {returns}:", f"    {doc}"]
    return "\n".join([*head_lines, *("    " + line for line in lines)]) + "\n"


def app_source(fixture: dict[str, Any], app_var: str, config: str | None) -> tuple[list[str], str]:
    """The names bound and the source of the fixture's hooks, lifespan and app (``config``: the
    ServerConfig expression, if any)."""
    spec = fixture["handler"]["lifespan"]
    register = spec.get("register", "decorator")
    hooks: dict[str, list[str]] = {"startup": [], "shutdown": []}
    blocks: list[str] = []
    options: list[tuple[str, str]] = []
    later = note_later_source(fixture)
    if "context" in spec:
        name = f"{fixture['name']}_lifespan"
        blocks.append(context_source(fixture, name, spec["context"]))
        options.append(("lifespan", name))
    defined = [*(n for _, n in options)]
    for event, what in (("startup", "Start-up hook"), ("shutdown", "Shutdown hook")):
        for number, hook in enumerate(spec.get(event, []), start=1):
            name = f"{fixture['name']}_{event}_{number}"
            hooks[event].append(name)
            source = hook_source(fixture, name, hook, f"{what} {number}", app_var)
            if register == "decorator":
                source = f"@{app_var}.on_{event}\n{source}"
            blocks.append(source)
            defined.append(name)
    if later:
        blocks.append(later.source)
        defined.append(later.name)
    if register == "constructor":
        options += [(f"on_{event}", f"[{', '.join(names)}]") for event, names in hooks.items() if names]
    arguments = ([config] if config else []) + ([kwargs(options)] if options else [])
    app_line = f"{app_var} = App({', '.join(arguments)})\n"
    if register == "decorator":
        # the context manager comes first, then the app, then the hooks it decorates
        head = blocks[:1] if "context" in spec else []
        return defined, "\n\n".join([*head, app_line, *blocks[len(head) :]])
    registrations = [
        f"{app_var}.add_event_handler({lit(event)}, {name})\n"
        for event, names in hooks.items()
        for name in names
        if register == "event_handler"
    ]
    if register not in ("constructor", "event_handler"):
        raise FixtureError(f"unknown lifespan registration {register!r}")
    return defined, "\n\n".join([*blocks, app_line + "".join(registrations)])


PLUGIN = Behaviours(
    names=NAMES,
    imports=IMPORTS,
    module_names=MODULE_NAMES,
    body_names=MODULE_NAMES | LOCALS,
    return_type=return_type,
    body_lines=body_lines,
    check_expectations=check_expectations,
    extra_parameters=extra_parameters,
    definitions=definitions,
)
