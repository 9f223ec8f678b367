"""The layers around a fixture's handler, used by tools/generate_e2e.py: its dependencies
(tools/e2e_dependencies.py) and hooks (tools/e2e_hooks.py) at each level, the router it may
be on, and the app-level declarations.

- the route: ``handler.depends`` (its ``Depends`` parameters, by name: echoed and usable in
  templates like any parameter), ``handler.dependencies`` (side-effect ``dependencies=[...]``)
  and ``handler.hooks``;
- ``handler.router``: the route is declared on ``Router(prefix=..., tags=..., dependencies=[...])``,
  with the router's ``hooks``, and the router is then included with ``include`` (``prefix``,
  ``tags``, ``dependencies``). ``handler.route`` is the full path: it starts with both prefixes;
- ``handler.app``: ``App(dependencies=[...])``, the app's ``hooks``, ``http_middleware``,
  ``exception_handlers`` and ``dependency_overrides`` (original factory -> replacement). Such a
  fixture gets an app of its own.

The module is laid out in the order a reader expects: the factories (before the app when the
app uses them), the app, its hooks and middleware, the router and its hooks, the route's hooks,
the handler, and the ``include_router``.
"""

from __future__ import annotations

from typing import Any

import e2e_dependencies
import e2e_hooks
import e2e_journal
from e2e_source import Declarer, Definition, Extra, FixtureError, lit

IMPORTS = (
    "import dataclasses",
    "from collections.abc import AsyncIterator, Iterator",
    "from e2e.python.handler_support import is_probe, record, recorded",
    "from ferroweb import Depends, HTTPException, JSONResponse, Request, Response, Router",
    "from ferroweb.hooks import Hooks",
)
MODULE_NAMES = frozenset(
    {
        "dataclasses",
        "AsyncIterator",
        "Iterator",
        "is_probe",
        "record",
        "recorded",
        "Depends",
        "HTTPException",
        "JSONResponse",
        "Request",
        "Response",
        "Router",
        "Hooks",
    }
)
#: Names the handler bodies use: a parameter is renamed rather than shadow one.
BODY_NAMES = frozenset({"record", "request", "Request", "HTTPException", *e2e_journal.ERRORS})


def app_level(fixture: dict[str, Any]) -> bool:
    return "app" in fixture["handler"]


def app_key(fixture: dict[str, Any]) -> str:
    """What must be equal for two fixtures to share an app: app-level layers are the app's own."""
    return f" layers:{fixture['name']}" if app_level(fixture) else ""


def check(fixture: dict[str, Any]) -> None:
    handler = fixture["handler"]
    if app_level(fixture) and "lifespan" in handler:
        raise FixtureError("handler.app and handler.lifespan do not combine")
    if ("logged" in fixture["expected_response"] or "recorded" in fixture["expected_response"]) and not (
        handler.get("factories") or handler.get("hooks") or handler.get("router") or app_level(fixture)
    ):
        raise FixtureError("expected_response.recorded/logged need factories or hooks")
    e2e_dependencies.check(fixture)
    route_path(fixture)


def prefixes(fixture: dict[str, Any]) -> str:
    router = fixture["handler"].get("router", {})
    return str(router.get("include", {}).get("prefix", "")) + str(router.get("prefix", ""))


def route_path(fixture: dict[str, Any]) -> str:
    """The route's template as declared (on the router: without the prefixes)."""
    route, prefix = fixture["handler"]["route"], prefixes(fixture)
    if not route.startswith(prefix) or not route[len(prefix) :].startswith("/"):
        raise FixtureError(f"route {route!r} does not start with the router's prefixes {prefix!r}")
    return str(route[len(prefix) :])


def router_var(fixture: dict[str, Any]) -> str:
    return f"{fixture['name']}_router"


def route_target(fixture: dict[str, Any], app_var: str) -> str:
    """What the handler is declared on: its router, or the app."""
    return router_var(fixture) if "router" in fixture["handler"] else app_var


def _factories(fixture: dict[str, Any], declare: Declarer) -> list[Definition]:
    app_refs = fixture["handler"].get("app", {}).get("dependencies", [])
    at_app = {e2e_dependencies.reference(ref)["factory"] for ref in app_refs}
    return [
        e2e_dependencies.definition(fixture, name, declare, name in at_app)
        for name in e2e_dependencies.factories(fixture)
    ]


def before_app(fixture: dict[str, Any], declare: Declarer) -> list[Definition]:
    """The factories, when the app's own declarations may name them."""
    return _factories(fixture, declare) if app_level(fixture) else []


def app_arguments(fixture: dict[str, Any]) -> list[str]:
    refs = fixture["handler"].get("app", {}).get("dependencies")
    return [f"dependencies={e2e_dependencies.dependency_list(fixture, refs)}"] if refs else []


def after_app(fixture: dict[str, Any], app_var: str) -> list[Definition]:
    """The app's hooks, middleware, exception handlers and dependency overrides."""
    if not app_level(fixture):
        return []
    found = e2e_hooks.app_definitions(fixture, app_var)
    overrides = fixture["handler"]["app"].get("dependency_overrides", {})
    lines = [
        f"{app_var}.dependency_overrides[{e2e_dependencies.factory_var(fixture, original)}] = "
        f"{e2e_dependencies.factory_var(fixture, replacement)}"
        for original, replacement in overrides.items()
    ]
    if lines:
        found.append(Definition("", "\n".join(lines) + "\n"))
    return found


def before_handler(fixture: dict[str, Any], declare: Declarer) -> list[Definition]:
    """The factories (unless written before the app), the router with its hooks, and the
    route's hooks."""
    found = [] if app_level(fixture) else _factories(fixture, declare)
    router = fixture["handler"].get("router")
    if router is not None:
        var = router_var(fixture)
        args = [f"prefix={lit(router['prefix'])}"] if router.get("prefix") else []
        if router.get("tags"):
            args.append(f"tags={lit(router['tags'])}")
        if router.get("dependencies"):
            args.append(f"dependencies={e2e_dependencies.dependency_list(fixture, router['dependencies'])}")
        found.append(Definition(var, f"{var} = Router({', '.join(args)})\n"))
        found += e2e_hooks.layer_hooks(fixture, "router", router.get("hooks", {}), var)[0]
    found += e2e_hooks.layer_hooks(fixture, "route", fixture["handler"].get("hooks", {}), None)[0]
    return found


def decorator_arguments(fixture: dict[str, Any]) -> list[str]:
    handler = fixture["handler"]
    args = []
    if handler.get("dependencies"):
        args.append(f"dependencies={e2e_dependencies.dependency_list(fixture, handler['dependencies'])}")
    if handler.get("hooks"):
        _, by_point = e2e_hooks.layer_hooks(fixture, "route", handler["hooks"], None)
        args.append(e2e_hooks.route_hooks_argument(fixture, by_point))
    return args


def after_handler(fixture: dict[str, Any], app_var: str) -> list[Definition]:
    """``app.include_router(router, ...)``: after the route, which it copies."""
    router = fixture["handler"].get("router")
    if router is None:
        return []
    include = router.get("include", {})
    args = [router_var(fixture)]
    if include.get("prefix"):
        args.append(f"prefix={lit(include['prefix'])}")
    if include.get("tags"):
        args.append(f"tags={lit(include['tags'])}")
    if include.get("dependencies"):
        args.append(f"dependencies={e2e_dependencies.dependency_list(fixture, include['dependencies'])}")
    return [Definition("", f"{app_var}.include_router({', '.join(args)})\n")]


def dependency_parameters(fixture: dict[str, Any]) -> list[tuple[str, Any]]:
    """The handler's ``Depends`` parameters: (name, reference)."""
    return list(fixture["handler"].get("depends", {}).items())


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    return e2e_journal.extra_parameters(fixture)


def records(fixture: dict[str, Any]) -> bool:
    return e2e_journal.records(fixture)


#: The handler keys this module (and the ones it draws on) write.
LAYER_KEYS = (
    "factories",
    "depends",
    "dependencies",
    "hooks",
    "hooks_class",
    "router",
    "app",
    "record",
    "raise",
    "reply",
)


def is_layered(fixture: dict[str, Any]) -> bool:
    return any(key in fixture["handler"] for key in LAYER_KEYS)
