"""The ``static_files`` behaviour: instead of a handler, the fixture's app mounts a directory
(``app.mount(route, StaticFiles(...))``) whose files the app module writes when it is imported
(``handler_support.static_tree``), so that the test process and a live server each serve the
same tree. ``handler.static`` gives the files (``public``), the files beside the directory a
traversal would reach (``outside``), and StaticFiles' keyword arguments (``options``); the
fixture's ``middleware`` becomes the mount's own.
"""

from __future__ import annotations

from typing import Any

import e2e_middleware
from e2e_source import FixtureError, kwargs, lit

NAME = "static_files"
IMPORTS = (
    "from ferroweb.staticfiles import StaticFiles",
    "from e2e.python.handler_support import static_tree",
)
MODULE_NAMES = frozenset({"StaticFiles", "static_tree"})
OPTIONS = frozenset({"html", "index", "cache_control", "precompressed", "follow_symlinks"})


def is_static(fixture: dict[str, Any]) -> bool:
    return fixture["handler"].get("behaviour") == NAME


def mount_source(fixture: dict[str, Any], app_var: str, directory_var: str) -> str:
    handler = fixture["handler"]
    spec = handler.get("static")
    if spec is None:
        raise FixtureError("behaviour static_files needs a `static` spec")
    if handler["method"] != "GET" or handler.get("parameters") or handler.get("body"):
        raise FixtureError("a static_files fixture declares no method but GET and no parameters")
    unknown = set(spec.get("options", {})) - OPTIONS
    if unknown:
        raise FixtureError(f"unknown StaticFiles options {sorted(unknown)}")
    tree = (
        f"static_tree({lit(fixture['name'])}, {lit(spec.get('public', {}))}, {lit(spec.get('outside', {}))})"
    )
    options = kwargs((key, lit(value)) for key, value in spec.get("options", {}).items())
    arguments = ", ".join(a for a in (directory_var, options) if a)
    mount_arguments = [lit(handler["route"]), f"StaticFiles({arguments})"]
    mount_arguments += e2e_middleware.decorator_arguments(fixture)
    return f"{directory_var} = {tree}\n{app_var}.mount({', '.join(mount_arguments)})\n"
