"""What a fixture's handler declares for the API documents, as source (tools/generate_e2e.py).

- ``handler.docs``: the route decorator's documentation arguments, written as they are:
  ``summary``, ``description``, ``tags``, ``operation_id``, ``deprecated``,
  ``include_in_schema``, ``name``, and ``responses`` (``{"404": {"description": ..., "schema":
  ...}}``: each schema becomes a type, as a ``response_schema`` does, passed as the entry's
  ``model``). ``docstring`` replaces the handler's docstring (by default the fixture's
  description, which the document shows as the operation's description).
- ``handler.openapi``: the app's ``App(openapi=OpenAPI(...))`` (``title``, ``version``,
  ``description``, ``summary``, ``servers``, ``contact``, ``license``, ``terms_of_service``,
  ``tags``) and its document URLs (``openapi_url``, ``docs_url``, ``redoc_url``,
  ``asyncapi_url``; ``null`` turns one off). Fixtures with different ones never share an app.

The parameter keywords the documents show (``description``, ``examples``,
``include_in_schema``) are written into the markers by ``parameter()`` in generate_e2e.py.
"""

from __future__ import annotations

import json
from typing import Any

from e2e_source import FixtureError, kwargs, lit, pascal
from e2e_types import ModuleWriter

IMPORTS = ("from ferroweb.openapi import OpenAPI",)
MODULE_NAMES = ("OpenAPI",)

ROUTE_KEYWORDS = ("summary", "description", "tags", "operation_id", "deprecated", "include_in_schema", "name")
INFO_KEYWORDS = (
    "title",
    "version",
    "description",
    "summary",
    "servers",
    "contact",
    "license",
    "terms_of_service",
    "tags",
)
URL_KEYWORDS = ("openapi_url", "docs_url", "redoc_url", "asyncapi_url")


def app_key(fixture: dict[str, Any]) -> str:
    """What must be equal for two fixtures to share an app."""
    declared = fixture["handler"].get("openapi")
    return f" openapi:{json.dumps(declared, sort_keys=True)}" if declared else ""


def app_arguments(fixture: dict[str, Any]) -> list[str]:
    declared = fixture["handler"].get("openapi", {})
    unknown = set(declared) - {*INFO_KEYWORDS, *URL_KEYWORDS}
    if unknown:
        raise FixtureError(f"handler.openapi: unknown keys {sorted(unknown)}")
    info = [(key, lit(declared[key])) for key in INFO_KEYWORDS if key in declared]
    arguments = [f"openapi=OpenAPI({kwargs(info)})"] if info else []
    arguments += [f"{key}={lit(declared[key])}" for key in URL_KEYWORDS if key in declared]
    return arguments


def decorator_arguments(writer: ModuleWriter, fixture: dict[str, Any]) -> list[str]:
    docs = fixture["handler"].get("docs", {})
    arguments = [f"{key}={lit(docs[key])}" for key in ROUTE_KEYWORDS if key in docs]
    if "responses" in docs:
        entries = []
        for status, entry in docs["responses"].items():
            if not status.isdigit():
                raise FixtureError(f"handler.docs.responses: {status!r} is not a status code")
            parts = [(key, lit(entry[key])) for key in ("description", "media_type") if key in entry]
            if "schema" in entry:
                name = pascal(fixture["name"]) + f"Status{status}"
                parts.append(("model", writer.nested_type(entry["schema"], name)))
            entries.append(f"{int(status)}: {{{', '.join(f'{lit(k)}: {v}' for k, v in parts)}}}")
        arguments.append(f"responses={{{', '.join(entries)}}}")
    return arguments


def docstring(fixture: dict[str, Any]) -> str | None:
    """The handler's own docstring, when the fixture gives one."""
    text = fixture["handler"].get("docs", {}).get("docstring")
    return None if text is None else str(text)


def marker_arguments(schema: dict[str, Any]) -> list[tuple[str, str]]:
    """The documentation keywords of a parameter's marker."""
    return [
        (key, lit(schema[key])) for key in ("description", "examples", "include_in_schema") if key in schema
    ]
