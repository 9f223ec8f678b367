"""The ``middleware`` / ``app_middleware`` and ``delay`` of a fixture's handler, as source.

A middleware spec is ``{"class": "CORS", "args": {...}}``: the ``ferroweb.middleware`` class (or
``Sessions`` / ``CSRF`` from ``ferroweb.security``) and its keyword arguments, written as they
are; each spec is a new object, so a route's ``RateLimit`` is a budget of its own. Route
middleware goes into the route decorator, app middleware into ``App(...)`` (so fixtures with
different app middleware never share an app).
``delay`` makes the handler wait that many seconds before doing its work (``await
asyncio.sleep`` in an async handler, ``time.sleep`` in a sync one), which is what timeout
fixtures need.
"""

from __future__ import annotations

import json
from typing import Any

from e2e_source import FixtureError, kwargs, lit

CORE_CLASSES = ("CORS", "Compression", "Timeout", "TrustedHosts", "SecurityHeaders", "BodyLimit", "RateLimit")
#: Middleware of ferroweb.security (run by the core like the others).
SECURITY_CLASSES = ("Sessions", "CSRF")
CLASSES = (*CORE_CLASSES, *SECURITY_CLASSES)
IMPORTS = (
    f"from ferroweb.middleware import {', '.join(CORE_CLASSES)}",
    f"from ferroweb.security import {', '.join(SECURITY_CLASSES)}",
    "import asyncio",
    "import time",
)
MODULE_NAMES = (*CLASSES, "asyncio", "time")


def middleware_list(specs: list[dict[str, Any]]) -> str:
    """``[CORS(allow_origins=[...]), Timeout(seconds=1)]``."""
    items = []
    for spec in specs:
        name = spec["class"]
        if name not in CLASSES:
            raise FixtureError(f"unknown middleware class {name!r}")
        items.append(f"{name}({kwargs((key, lit(value)) for key, value in spec.get('args', {}).items())})")
    return "[" + ", ".join(items) + "]"


def app_key(fixture: dict[str, Any]) -> str:
    """What must be equal for two fixtures to share an app."""
    return json.dumps(fixture["handler"].get("app_middleware", []), sort_keys=True)


def app_arguments(fixture: dict[str, Any]) -> list[str]:
    specs = fixture["handler"].get("app_middleware")
    return [f"middleware={middleware_list(specs)}"] if specs else []


def decorator_arguments(fixture: dict[str, Any]) -> list[str]:
    specs = fixture["handler"].get("middleware")
    return [f"middleware={middleware_list(specs)}"] if specs else []


def delay_lines(fixture: dict[str, Any], is_async: bool) -> list[str]:
    delay = fixture["handler"].get("delay")
    if not delay:
        return []
    return [f"await asyncio.sleep({delay!r})" if is_async else f"time.sleep({delay!r})"]
