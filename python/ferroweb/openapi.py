"""The OpenAPI description of an app: ``App(openapi=OpenAPI(title=..., version=...))``.

The document (OpenAPI 3.1) is built once, at start-up, from what the handlers declare, and the
core serves it at ``openapi_url`` from memory, with an ETag; ``app.openapi()`` returns it as a
dict. ``App(openapi_url=None)`` serves none.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

OPENAPI_VERSION = "3.1.0"


@dataclasses.dataclass(frozen=True)
class OpenAPI:
    """The ``info`` (and ``servers``) of the document; the rest comes from the routes."""

    title: str = "ferroweb API"
    version: str = "0.1.0"
    description: str | None = None
    summary: str | None = None
    #: ``[{"url": "https://api.example.com", "description": "production"}]``
    servers: Sequence[Mapping[str, Any]] = ()
    #: ``{"name": ..., "url": ..., "email": ...}``
    contact: Mapping[str, Any] | None = None
    #: ``{"name": "MIT", "identifier": "MIT"}`` (or ``"url"``)
    license: Mapping[str, Any] | None = None
    terms_of_service: str | None = None
    #: Top-level tag descriptions: ``[{"name": "items", "description": ...}]``.
    tags: Sequence[Mapping[str, Any]] = ()
    #: The AsyncAPI document's servers (AsyncAPI 3.0 server objects by name):
    #: ``{"production": {"host": "api.example.com", "protocol": "wss"}}``.
    asyncapi_servers: Mapping[str, Mapping[str, Any]] = dataclasses.field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        info: dict[str, Any] = {"title": self.title, "version": self.version}
        optional = {
            "summary": self.summary,
            "description": self.description,
            "termsOfService": self.terms_of_service,
            "contact": dict(self.contact) if self.contact else None,
            "license": dict(self.license) if self.license else None,
        }
        info.update({key: value for key, value in optional.items() if value is not None})
        return info


__all__ = ["OPENAPI_VERSION", "OpenAPI"]
