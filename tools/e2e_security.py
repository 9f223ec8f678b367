"""Authentication and the per-client state of a fixture's handler (``handler.auth``,
``handler.app_auth``, behaviours ``echo_auth`` and ``session``), used by tools/generate_e2e.py.

- ``handler.auth``: the route decorator's ``auth=``: a scheme spec ``{"scheme": "JWTAuth" |
  "APIKeyAuth", "args": {...}}`` (``auth=JWTAuth(...)``), a list of them (``auth=[...]``, any
  one suffices) or null (``auth=None``: a public route). The ``args`` are the
  ``ferroweb.security`` class's keyword arguments, written as given. ``handler.app_auth``:
  ``App(auth=...)`` (so fixtures with different ones never share an app).
- behaviour ``echo_auth``: the handler (with a ``request: Request`` parameter) answers
  ``{"auth": request.auth, <the echo of its parameters>}``: the claims the core validated.
- behaviour ``session``: the handler applies its ``session`` spec to ``request.session`` (the
  route or app needs the ``Sessions`` middleware) in this order: ``clear`` (true: the whole
  session), ``delete`` (keys; absent ones are fine), ``increment`` (keys: an absent one counts
  from 0), ``set`` (key -> a JSON value whose strings are templates over the parameters), and
  answers ``dict(request.session)``.

The middleware that goes with these (``RateLimit``, ``Sessions``, ``CSRF``) is written by
tools/e2e_middleware.py like any other. A fixture whose app middleware holds a ``RateLimit``
gets an app of its own, so that no other fixture draws on its budget; that limit must count by
a header (``key="header:..."``): a live server's readiness probe reaches the app's middleware
too and would otherwise be counted by address, which TestClient never sends.

This module also checks what the request side of these fixtures needs (``request.before`` and
the ``<<cookie:NAME>>`` placeholders, sent by ``e2e/python/before_support.py``).
"""

from __future__ import annotations

import json
from typing import Any

from e2e_source import Behaviours, Extra, FixtureError, kwargs, lit
from e2e_streams import value_expr

NAMES = ("echo_auth", "session")
SCHEMES = ("JWTAuth", "APIKeyAuth")
IMPORTS = ("from ferroweb.security import APIKeyAuth, JWTAuth", "from ferroweb import Request")
MODULE_NAMES = frozenset({*SCHEMES, "Request"})
LOCALS = frozenset({"request", "session"})
#: The session spec's operations, in the order the handler applies them.
SESSION_KEYS = ("clear", "delete", "increment", "set")
COOKIE_PLACEHOLDER = "<<cookie:"


# -- auth= ------------------------------------------------------------------------------------


def scheme_source(spec: dict[str, Any]) -> str:
    """``JWTAuth(secret='...', algorithms=['HS256'])``."""
    name = spec.get("scheme")
    if name not in SCHEMES:
        raise FixtureError(f"unknown auth scheme {name!r} (known: {', '.join(SCHEMES)})")
    return f"{name}({kwargs((key, lit(value)) for key, value in spec.get('args', {}).items())})"


def auth_source(value: Any) -> str:
    """What ``auth=`` is given: None, one scheme, or a list of them."""
    if value is None:
        return "None"
    if isinstance(value, dict):
        return scheme_source(value)
    if isinstance(value, list) and value:
        return "[" + ", ".join(scheme_source(spec) for spec in value) + "]"
    raise FixtureError("auth is a scheme spec, a non-empty list of them, or null")


def decorator_arguments(fixture: dict[str, Any]) -> list[str]:
    handler = fixture["handler"]
    return [f"auth={auth_source(handler['auth'])}"] if "auth" in handler else []


def app_arguments(fixture: dict[str, Any]) -> list[str]:
    handler = fixture["handler"]
    return [f"auth={auth_source(handler['app_auth'])}"] if "app_auth" in handler else []


def _rate_limits(specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [spec for spec in specs if spec.get("class") == "RateLimit"]


def app_key(fixture: dict[str, Any]) -> str:
    """What must be equal for two fixtures to share an app: the app's auth, and no app-level
    rate limit (one RateLimit object is one budget: such a fixture has its app to itself)."""
    handler = fixture["handler"]
    key = f" auth:{json.dumps(handler['app_auth'], sort_keys=True)}" if "app_auth" in handler else ""
    if _rate_limits(handler.get("app_middleware", [])):
        key += f" budget:{fixture['name']}"
    return key


# -- checks -----------------------------------------------------------------------------------


def _cookie_placeholders(spec: dict[str, Any]) -> bool:
    return any(COOKIE_PLACEHOLDER in value for value in spec.get("headers", {}).values())


def check_expectations(fixture: dict[str, Any]) -> None:
    """Raises FixtureError for what this module's vocabulary cannot mean (called for every
    fixture)."""
    handler, request = fixture["handler"], fixture["request"]
    behaviour = handler.get("behaviour", "echo")
    if behaviour == "session" and not isinstance(handler.get("session"), dict):
        raise FixtureError("behaviour session needs a `session` spec")
    if "session" in handler and behaviour != "session":
        raise FixtureError("a `session` spec needs behaviour session")
    if handler.get("app_auth", ...) is None:
        raise FixtureError("app_auth null is the default: leave it out")
    for spec in _rate_limits(handler.get("app_middleware", [])):
        if not str(spec.get("args", {}).get("key", "ip")).startswith("header:"):
            raise FixtureError(
                "an app-level RateLimit counts requests that match no route, a live server's"
                " readiness probe among them: key it by a header (key='header:...')"
            )
    before = request.get("before")
    placeholders = _cookie_placeholders(request) or any(_cookie_placeholders(b) for b in before or [])
    plain = not ("websocket" in request or "lifespan" in handler or behaviour in ("stream", "sse", "file"))
    if (before is not None or placeholders) and not plain:
        raise FixtureError("request.before and <<cookie:...>> are for plain HTTP requests")
    if placeholders and not before:
        raise FixtureError("<<cookie:NAME>> needs request.before: an earlier answer must set the cookie")
    if "methods" in handler and (
        behaviour in ("websocket", "static_files") or handler["method"] in handler["methods"]
    ):
        raise FixtureError("handler.methods adds other methods to an HTTP route's own")


# -- behaviours -------------------------------------------------------------------------------


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    return [Extra("request", "Request")]


def return_type(behaviour: str) -> str:
    return "dict[str, Any]"


def _echo_auth_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    declared = fixture["handler"].get("parameters", {})
    if "auth" in names:
        raise FixtureError("behaviour echo_auth answers the claims as `auth`: no parameter may be named so")
    if declared.get("file") or any(
        schema.get("format") == "binary" for schema in declared.get("form", {}).values()
    ):
        raise FixtureError("behaviour echo_auth does not echo files")
    members = ", ".join(f"{lit(key)}: {pyname}" for key, pyname in names.items())
    return ["return {" + ", ".join(part for part in ('"auth": request.auth', members) if part) + "}"]


def _session_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    spec = fixture["handler"]["session"]
    unknown = set(spec) - set(SESSION_KEYS)
    if unknown:
        raise FixtureError(f"unknown session operations {sorted(unknown)} (known: {', '.join(SESSION_KEYS)})")
    lines = ["session = request.session"]
    if spec.get("clear"):
        lines.append("session.clear()")
    lines += [f"session.pop({lit(key)}, None)" for key in spec.get("delete", [])]
    lines += [f"session[{lit(key)}] = session.get({lit(key)}, 0) + 1" for key in spec.get("increment", [])]
    lines += [
        f"session[{lit(key)}] = {value_expr(value, names)}" for key, value in spec.get("set", {}).items()
    ]
    lines.append("return dict(session)")
    return lines


def body_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    behaviour = fixture["handler"]["behaviour"]
    if behaviour == "echo_auth":
        return _echo_auth_lines(fixture, names)
    return _session_lines(fixture, names)


PLUGIN = Behaviours(
    names=NAMES,
    imports=IMPORTS,
    module_names=MODULE_NAMES,
    body_names=MODULE_NAMES | LOCALS,
    return_type=return_type,
    body_lines=body_lines,
    check_expectations=check_expectations,
    extra_parameters=extra_parameters,
)
