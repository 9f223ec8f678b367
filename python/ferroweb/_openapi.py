"""Builds an app's OpenAPI 3.1 document from its routes, once, at start-up.

Each route's parameters are the ones the binder uses (``_params.analyse``, dependencies'
included), so the document cannot drift from what is validated. Types are described by
msgspec (Structs, dataclasses, TypedDicts, enums, constrained scalars), all in one call so
component names are unique across the app (two ``Item``s from different modules become
``shop.Item`` and ``crm.Item``); pydantic models by pydantic itself.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
import typing
from typing import TYPE_CHECKING, Any

import msgspec

from ferroweb._convert import constraints_of, sequence_item
from ferroweb._dependencies import plan_dependencies
from ferroweb._params import analyse
from ferroweb._pydantic import holds_pydantic_model, json_schema
from ferroweb._response_model import _declared_model
from ferroweb.openapi import OPENAPI_VERSION, OpenAPI
from ferroweb.responses import Response

if TYPE_CHECKING:
    from ferroweb._param_spec import ParamSpec
    from ferroweb.routing import Route
    from ferroweb.security import AuthScheme

logger = logging.getLogger("ferroweb")

_REF = "#/components/schemas/{name}"
_BOUNDS = {
    "gt": "exclusiveMinimum",
    "ge": "minimum",
    "lt": "exclusiveMaximum",
    "le": "maximum",
    "multiple_of": "multipleOf",
    "min_length": "minLength",
    "max_length": "maxLength",
    "pattern": "pattern",
}
_LIST_BOUNDS = {"min_length": "minItems", "max_length": "maxItems"}
_PARAMETER_SOURCES = ("path", "query", "header", "cookie")
_PROBLEM = {
    "type": "object",
    "description": "An RFC 9457 problem: every error answer has this shape.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "required": ["type", "title", "status"],
}
_VALIDATION_PROBLEM = {
    "allOf": [
        {"$ref": _REF.format(name="Problem")},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {
                            "type": {"type": "string"},
                            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                            "msg": {"type": "string"},
                            "input": {},
                            "ctx": {"type": "object"},
                        },
                        "required": ["type", "loc", "msg"],
                    },
                }
            },
            "required": ["errors"],
        },
    ]
}


def _bare(annotation: Any) -> Any:
    """The type inside ``Annotated[...]`` (markers and constraints are described apart)."""
    return constraints_of(annotation)[0]


class _Schemas:
    """The types a document describes: each ``schema()`` call returns a dict that is filled
    in by ``resolve()``, when every type is known."""

    def __init__(self) -> None:
        self._pending: list[tuple[Any, dict[str, Any]]] = []
        self.components: dict[str, Any] = {}

    def schema(self, annotation: Any) -> dict[str, Any]:
        slot: dict[str, Any] = {}
        self._pending.append((_bare(annotation), slot))
        return slot

    def resolve(self) -> None:
        plain: list[tuple[Any, dict[str, Any]]] = []
        for annotation, slot in self._pending:
            if holds_pydantic_model(annotation):
                try:
                    schema = json_schema(annotation, ref_template=_REF.format(name="{model}"))
                except Exception as exc:  # a field type pydantic cannot describe
                    logger.warning("OpenAPI: no schema for %r: %s", annotation, exc)
                    schema = {}
                self.components.update(schema.pop("$defs", {}))
                slot.update(schema)
            else:
                plain.append((annotation, slot))
        schemas: typing.Sequence[dict[str, Any]]
        try:
            schemas, components = msgspec.json.schema_components([t for t, _ in plain], ref_template=_REF)
        except (TypeError, ValueError):  # a type msgspec cannot describe: each alone
            schemas, components = self._one_by_one([t for t, _ in plain])
        self.components.update(components)
        for (_, slot), schema in zip(plain, schemas, strict=True):
            slot.update(schema)

    def _one_by_one(self, annotations: list[Any]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        schemas: list[dict[str, Any]] = []
        components: dict[str, Any] = {}
        for annotation in annotations:
            try:
                (schema,), found = msgspec.json.schema_components([annotation], ref_template=_REF)
            except (TypeError, ValueError) as exc:
                logger.warning("OpenAPI: no schema for %r: %s", annotation, exc)
                schema, found = {}, {}  # described as "any value"
            schemas.append(schema)
            components.update(found)
        return schemas, components


class _SecuritySchemes:
    """The ``securitySchemes`` of the document: one per distinct scheme description (two
    ``JWTAuth`` objects with different scopes are the same bearer scheme)."""

    def __init__(self) -> None:
        self.components: dict[str, dict[str, Any]] = {}
        self._names: dict[str, str] = {}

    def name_of(self, scheme: AuthScheme) -> str:
        described = scheme.openapi_scheme()
        key = msgspec.json.encode(described, order="sorted").decode()
        if key not in self._names:
            base = "bearerAuth" if described.get("scheme") == "bearer" else "apiKeyAuth"
            name = unique_name(base, self.components)
            self._names[key] = name
            self.components[name] = described
        return self._names[key]


@dataclasses.dataclass
class _Operation:
    route: Route
    specs: list[ParamSpec]
    schemas: _Schemas
    operation_ids: set[str]
    security: _SecuritySchemes

    def build(self, method: str) -> dict[str, Any]:
        route = self.route
        operation: dict[str, Any] = {"operationId": self._operation_id(method)}
        if route.tags:
            operation["tags"] = list(route.tags)
        summary = route.summary or (route.name or "").replace("_", " ").strip().capitalize()
        if summary:
            operation["summary"] = summary
        if route.description:
            operation["description"] = route.description
        if route.deprecated:
            operation["deprecated"] = True
        parameters = [self._parameter(spec) for spec in self.specs if self._documented(spec)]
        if parameters:
            operation["parameters"] = parameters
        body = self._request_body()
        if body is not None:
            operation["requestBody"] = body
        operation["responses"] = self._responses(validated=bool(parameters) or body is not None)
        if route.auth:
            # any one of the requirements suffices, as any one of the route's schemes does
            operation["security"] = [
                {self.security.name_of(scheme): list(getattr(scheme, "scopes", ()))} for scheme in route.auth
            ]
            problem = {"application/problem+json": {"schema": {"$ref": _REF.format(name="Problem")}}}
            operation["responses"]["401"] = {"description": "Not authenticated", "content": problem}
            if any(getattr(scheme, "scopes", ()) for scheme in route.auth):
                operation["responses"]["403"] = {"description": "Missing scope", "content": problem}
        return operation

    def _operation_id(self, method: str) -> str:
        """The route's own, or ``<name>_<path>_<method>``; unique in the document (a route
        serving several methods gets one per method)."""
        chosen = self.route.operation_id
        if chosen is not None:
            if len([m for m in self.route.methods if m != "HEAD"]) > 1:
                chosen = f"{chosen}_{method.lower()}"
            if chosen in self.operation_ids:
                raise ValueError(f"route {self.route.path!r}: operation_id {chosen!r} is used twice")
            self.operation_ids.add(chosen)
            return chosen
        words = f"{self.route.name or 'route'}_{self.route.path}_{method.lower()}"
        base = re.sub(r"_+", "_", re.sub(r"[^A-Za-z0-9_]+", "_", words)).strip("_")
        candidate = unique_name(base, self.operation_ids)
        self.operation_ids.add(candidate)
        return candidate

    @staticmethod
    def _documented(spec: ParamSpec) -> bool:
        marker = spec.marker
        return spec.source in _PARAMETER_SOURCES and (marker is None or marker.include_in_schema)

    def _parameter(self, spec: ParamSpec) -> dict[str, Any]:
        annotation = _bare(spec.annotation)
        if spec.many:
            item = sequence_item(annotation) or Any
            schema: dict[str, Any] = {"type": "array", "items": self._constrained(item, spec.constraints)}
            schema.update({_LIST_BOUNDS[k]: v for k, v in spec.list_constraints.items() if k in _LIST_BOUNDS})
        else:
            schema = self._constrained(annotation, spec.constraints)
        if not spec.required and spec.default_factory is None and spec.default is not None:
            # set on the dict itself: it may be a slot that resolve() fills in later
            with contextlib.suppress(TypeError):  # a default msgspec cannot show is left out
                schema["default"] = msgspec.to_builtins(spec.default)
        parameter: dict[str, Any] = {"name": spec.key, "in": spec.source, "schema": schema}
        if spec.source == "path" or spec.required:
            parameter["required"] = True
        marker = spec.marker
        if marker is not None:
            if marker.description:
                parameter["description"] = marker.description
            if marker.deprecated:
                parameter["deprecated"] = True
            if marker.examples:
                parameter["examples"] = {str(i): {"value": v} for i, v in enumerate(marker.examples)}
        if spec.many and spec.source == "query":
            parameter["style"], parameter["explode"] = "form", True
        return parameter

    def _constrained(self, annotation: Any, constraints: dict[str, Any]) -> dict[str, Any]:
        bounds = {_BOUNDS[k]: v for k, v in constraints.items() if k in _BOUNDS}
        schema = self.schemas.schema(annotation)
        if not bounds:
            return schema
        return {"allOf": [schema], **bounds}

    def _request_body(self) -> dict[str, Any] | None:
        bodies = [spec for spec in self.specs if spec.source == "body"]
        fields = [spec for spec in self.specs if spec.source in ("form", "file")]
        if bodies:
            embedded = len(bodies) > 1 or getattr(bodies[0].marker, "embed", False)
            if not embedded:
                schema = self.schemas.schema(bodies[0].annotation)
            else:
                schema = {
                    "type": "object",
                    "properties": {spec.key: self.schemas.schema(spec.annotation) for spec in bodies},
                    "required": [spec.key for spec in bodies if spec.required],
                }
            required = any(spec.required for spec in bodies)
            return {"required": required, "content": {"application/json": {"schema": schema}}}
        if fields:
            properties: dict[str, Any] = {}
            for spec in fields:
                if spec.form_model is not None:
                    model_schema = self.schemas.schema(spec.annotation)
                    return {"required": True, "content": {"multipart/form-data": {"schema": model_schema}}}
                if spec.source == "file":  # an UploadFile or bytes part
                    binary = {"type": "string", "format": "binary"}
                    properties[spec.key] = {"type": "array", "items": binary} if spec.many else binary
                else:
                    properties[spec.key] = self._constrained(spec.annotation, spec.constraints)
            schema = {"type": "object", "properties": properties}
            required_fields = [spec.key for spec in fields if spec.required]
            if required_fields:
                schema["required"] = required_fields
            media = "multipart/form-data" if any(spec.source == "file" for spec in fields) else None
            content = {media or "application/x-www-form-urlencoded": {"schema": schema}}
            if media is None:
                content["multipart/form-data"] = {"schema": schema}
            return {"required": bool(required_fields), "content": content}
        return None

    def _success_content(self, model: Any) -> dict[str, Any]:
        """What a successful answer holds: the declared model, or what the plain return
        annotation says (``str`` is text, ``bytes`` octets, ``dict``/``list`` JSON)."""
        if model is not None:
            return {"application/json": {"schema": self.schemas.schema(model)}}
        try:
            annotation = typing.get_type_hints(self.route.endpoint).get("return")
        except Exception:  # unresolvable forward references: nothing to say about it
            annotation = None
        plain = typing.get_origin(annotation) or annotation
        if isinstance(plain, type) and issubclass(plain, Response):
            # a handler that builds its own response: its class may fix the media type
            return {plain.media_type or "*/*": {"schema": {}}}
        if plain is str:
            return {"text/plain": {"schema": {"type": "string"}}}
        if plain in (bytes, bytearray):
            return {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}
        if plain is dict:
            return {"application/json": {"schema": {"type": "object"}}}
        if plain is list:
            return {"application/json": {"schema": {"type": "array"}}}
        return {"application/json": {"schema": {}}}

    def _responses(self, *, validated: bool) -> dict[str, Any]:
        route = self.route
        status = str(route.status_code or 200)
        success: dict[str, Any] = {"description": "Successful response"}
        model = _declared_model(route)
        if status not in ("204", "304"):
            success["content"] = self._success_content(model)
        responses: dict[str, Any] = {status: success}
        for code, declared in (route.responses or {}).items():
            entry = {"description": declared.get("description") or "Response"}
            if "model" in declared:
                media = declared.get("media_type", "application/json")
                entry["content"] = {media: {"schema": self.schemas.schema(declared["model"])}}
            responses[str(code)] = entry
        problem = {"application/problem+json": {"schema": {"$ref": _REF.format(name="Problem")}}}
        if validated:
            responses["422"] = {
                "description": "Validation error",
                "content": {
                    "application/problem+json": {"schema": {"$ref": _REF.format(name="ValidationProblem")}}
                },
            }
        responses["4XX"] = {"description": "Client error", "content": problem}
        responses["5XX"] = {"description": "Server error", "content": problem}
        return responses


def unique_name(base: str, taken: typing.Container[str]) -> str:
    """``base``, or ``base_2``, ``base_3``... : the first one not ``taken``."""
    candidate, suffix = base, 2
    while candidate in taken:
        candidate, suffix = f"{base}_{suffix}", suffix + 1
    return candidate


def documented_specs(route: Route, overrides: Any) -> list[ParamSpec]:
    """The parameters a route's request carries: its own, or with dependencies, the leaves
    of its dependency plan (each factory's parameters included)."""
    specs = analyse(route)
    dependencies = plan_dependencies(route, specs, overrides)
    return specs if dependencies is None else list(dependencies.leaves)


def build_document(app: Any) -> dict[str, Any]:
    """The OpenAPI document of ``app`` (an ``App``), as a dict of JSON values."""
    config: OpenAPI = getattr(app, "openapi_config", None) or OpenAPI()
    schemas = _Schemas()
    security = _SecuritySchemes()
    operation_ids: set[str] = set()
    paths: dict[str, dict[str, Any]] = {}
    overrides = getattr(app, "dependency_overrides", None) or {}
    for route in app.routes:
        if route.websocket or not route.include_in_schema:
            continue
        specs = documented_specs(route, overrides)
        item = paths.setdefault(_template(route.path), {})
        for method in route.methods:
            if method == "HEAD" and "GET" in route.methods:
                continue
            item[method.lower()] = _Operation(route, specs, schemas, operation_ids, security).build(method)
    schemas.resolve()
    components = {"Problem": _PROBLEM, "ValidationProblem": _VALIDATION_PROBLEM, **schemas.components}
    document: dict[str, Any] = {"openapi": OPENAPI_VERSION, "info": config.info()}
    if config.servers:
        document["servers"] = [dict(server) for server in config.servers]
    document["paths"] = paths
    document["components"] = {"schemas": components}
    if security.components:
        document["components"]["securitySchemes"] = security.components
    if config.tags:
        document["tags"] = [dict(tag) for tag in config.tags]
    return document


def _template(path: str) -> str:
    """``/files/{name:path}`` -> ``/files/{name}``: OpenAPI templates carry no converter."""
    return re.sub(r"\{([^{}:]+):[^{}]*\}", r"{\1}", path)
