"""Handlers that schedule background work (behaviour ``background``), used by
tools/generate_e2e.py.

Each task of the fixture's ``background.tasks`` becomes a module-level function (a coroutine
function, or a plain function that ferroweb runs in a worker thread) that waits for its journal's
gate, records what it was given (``task_record``: name, positional and keyword arguments, the
thread it ran on) in the fixture's journal in ``e2e/python/handler_support.py``, and may fail.

The handler starts the journal, schedules the tasks in order with their arguments computed from
the converted parameters (``background.run(fn, *args)``, ``background.run(fn(*args))`` for a
coroutine, or ``tasks.add_task(fn, *args)`` on its ``BackgroundTasks`` parameter), counts what it
scheduled (and, with ``on_full: count``, what the full queue refused), records ``"handler"`` and
answers its ``reply``, or raises an ``HTTPException``. The test reads the journal back through the
probe route: its first read opens the gate the tasks wait at.
"""

from __future__ import annotations

import re
from typing import Any

from e2e_source import Behaviours, Definition, Extra, FixtureError, lit
from e2e_streams import value_expr

NAMES = ("background",)
IMPORTS = (
    "import asyncio",
    "import time",
    "from e2e.python.handler_support import journal_of, start_journal, task_record",
    "from ferroweb import BackgroundTasks, HTTPException, background",
    "from ferroweb.background import BackgroundQueueFull",
)
MODULE_NAMES = frozenset(
    {
        "asyncio",
        "time",
        "journal_of",
        "start_journal",
        "task_record",
        "BackgroundTasks",
        "HTTPException",
        "background",
        "BackgroundQueueFull",
    }
)
LOCALS = frozenset({"journal", "scheduled", "refused", "metrics", "tasks", "args", "kwargs"})
#: Placeholders of the reply besides the parameters.
REPLY_NAMES = {
    "scheduled": "scheduled",
    "refused": "refused",
    "metrics.queued": "metrics.queued",
    "metrics.running": "metrics.running",
}
DEFAULT_REPLY = {"scheduled": "{scheduled}"}


def is_background(fixture: dict[str, Any]) -> bool:
    return bool(fixture["handler"].get("behaviour") == "background")


def spec_of(fixture: dict[str, Any]) -> dict[str, Any]:
    spec = fixture["handler"].get("background")
    if not isinstance(spec, dict):
        raise FixtureError("behaviour background needs a `background` spec in the handler")
    return spec


def check_expectations(fixture: dict[str, Any]) -> None:
    if "background" in fixture["expected_response"] and not is_background(fixture):
        raise FixtureError("expected_response.background needs a background handler")
    if not is_background(fixture):
        return
    seen: set[str] = set()
    for task in spec_of(fixture)["tasks"]:
        if task["name"] in seen:
            raise FixtureError(f"background task {task['name']!r} is declared twice")
        seen.add(task["name"])
        if task.get("via") == "tasks" and task.get("kind") == "coroutine":
            raise FixtureError("BackgroundTasks.add_task takes a function, not a coroutine object")


def uses_tasks(fixture: dict[str, Any]) -> bool:
    return any(task.get("via") == "tasks" for task in spec_of(fixture)["tasks"])


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    return [Extra("tasks", "BackgroundTasks")] if uses_tasks(fixture) else []


def return_type(behaviour: str) -> str:
    return "Any"


def task_function(fixture: dict[str, Any], task: dict[str, Any]) -> str:
    """The task's function: ``<fixture>_<task>``."""
    return f"{fixture['name']}_{task['name']}"


def definitions(fixture: dict[str, Any], func_name: str) -> list[Definition]:
    """The task functions, before the handler."""
    found: list[Definition] = []
    for task in spec_of(fixture)["tasks"]:
        name = task_function(fixture, task)
        is_async = task.get("kind", "async") != "sync"
        body = [f"journal = journal_of({lit(fixture['name'])})"]
        body.append("await journal.pass_gate()" if is_async else "journal.pass_gate_sync()")
        if task.get("delay"):
            delay = float(task["delay"])
            body.append(f"await asyncio.sleep({delay!r})" if is_async else f"time.sleep({delay!r})")
        body.append(f"journal.add(task_record({lit(task['name'])}, args, kwargs))")
        if "fail" in task:
            body.append(f"raise RuntimeError({lit(task['fail'])})")
        head = "async def" if is_async else "def"
        doc = (
            f'"""Background task {task["name"]} of {fixture["name"]}: records the arguments it was given."""'
        )
        source = "\n".join(
            [f"{head} {name}(*args: Any, **kwargs: Any) -> None:", f"    {doc}", *("    " + b for b in body)]
        )
        found.append(Definition(name, source + "\n"))
    return found


def call_args(task: dict[str, Any], names: dict[str, str]) -> str:
    args = [value_expr(value, names) for value in task.get("args", [])]
    for key, value in task.get("kwargs", {}).items():
        if not key.isidentifier():
            raise FixtureError(f"keyword argument {key!r} is not a Python identifier")
        args.append(f"{key}={value_expr(value, names)}")
    return ", ".join(args)


def schedule_lines(
    fixture: dict[str, Any], task: dict[str, Any], names: dict[str, str], count: bool
) -> list[str]:
    func = task_function(fixture, task)
    args = call_args(task, names)
    via, kind = task.get("via", "run"), task.get("kind", "async")
    if via == "tasks":
        return [f"tasks.add_task({', '.join([func, args] if args else [func])})", "scheduled += 1"]
    if kind == "coroutine":
        call = f"background.run({func}({args}))"
    else:
        call = f"background.run({', '.join([func, args] if args else [func])})"
    if not count:
        return [call, "scheduled += 1"]
    return [
        "try:",
        f"    {call}",
        "except BackgroundQueueFull:",
        "    refused += 1",
        "else:",
        "    scheduled += 1",
    ]


def body_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The handler's statements (unindented); ``names`` maps the fixture's parameter keys to
    Python names."""
    spec = spec_of(fixture)
    count = spec.get("on_full", "raise") == "count"
    lines = [f"journal = start_journal({lit(fixture['name'])})", "scheduled = 0"]
    if count:
        lines.append("refused = 0")
    for task in spec["tasks"]:
        lines += schedule_lines(fixture, task, names, count)
    lines.append("journal.add('handler')")
    if "raise" in spec:
        failure = spec["raise"]
        args = [str(int(failure["status"]))] + ([lit(failure["detail"])] if "detail" in failure else [])
        return [*lines, f"raise HTTPException({', '.join(args)})"]
    reply = spec.get("reply", DEFAULT_REPLY)
    if set(names) & set(REPLY_NAMES):
        raise FixtureError(f"parameters cannot be named {sorted(set(names) & set(REPLY_NAMES))}")
    available = {**names, **{k: v for k, v in REPLY_NAMES.items() if k != "refused" or count}}
    expression = value_expr(reply, available)
    if re.search(r"\bmetrics\.", expression):
        lines.append("metrics = background.metrics()")
    return [*lines, f"return {expression}"]


PLUGIN = Behaviours(
    names=NAMES,
    imports=IMPORTS,
    module_names=MODULE_NAMES,
    body_names=MODULE_NAMES | LOCALS,
    return_type=return_type,
    body_lines=body_lines,
    check_expectations=check_expectations,
    wants_probe=is_background,
    extra_parameters=extra_parameters,
    definitions=definitions,
)
