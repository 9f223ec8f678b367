"""Builds an app's AsyncAPI 3.0 document for its event-driven routes, once, at start-up.

A WebSocket route is a channel: its address is the path (path parameters become channel
parameters, query and header parameters go in the ``ws`` binding), its ``receives=`` types
are messages of a ``receive`` operation and its ``sends=`` types messages of a ``send`` one.
An SSE route (returning ``EventSourceResponse[Data]``) is a channel with a ``send`` operation
whose messages are the event data types. Payload schemas come from the same describer as
the OpenAPI document's (``_openapi._Schemas``), so both documents name types alike.
"""

from __future__ import annotations

import re
import types
import typing
from typing import TYPE_CHECKING, Any

from ferroweb._openapi import _Operation, _Schemas, _SecuritySchemes, _template, documented_specs, unique_name
from ferroweb.openapi import OpenAPI
from ferroweb.sse import EventSourceResponse

if TYPE_CHECKING:
    from ferroweb._param_spec import ParamSpec
    from ferroweb.routing import Route

ASYNCAPI_VERSION = "3.0.0"
_KEY = re.compile(r"[^A-Za-z0-9_\-]+")


def _key(text: str) -> str:
    """A key AsyncAPI accepts for channels, operations and messages (``^[A-Za-z0-9_\\-]+$``)."""
    return _KEY.sub("_", text).strip("_") or "channel"


def _members(annotation: Any) -> tuple[Any, ...]:
    if annotation is None:
        return ()
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return tuple(member for member in typing.get_args(annotation) if member is not type(None))
    return (annotation,)


def sse_data_type(route: Route) -> Any:
    """The event data type an SSE route declares with ``-> EventSourceResponse[Data]``."""
    try:
        annotation = typing.get_type_hints(route.endpoint).get("return")
    except Exception:  # unresolvable forward references: nothing declared
        return None
    if typing.get_origin(annotation) is EventSourceResponse:
        (data,) = typing.get_args(annotation) or (None,)
        return None if data is Any else data
    return None


def _asyncapi_scheme(described: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI security scheme as AsyncAPI 3.0 writes it (API keys in HTTP requests are
    ``httpApiKey``)."""
    if described.get("type") == "apiKey":
        return {"type": "httpApiKey", "name": described["name"], "in": described["in"]}
    return dict(described)


class _Channels:
    def __init__(self, schemas: _Schemas) -> None:
        self.schemas = schemas
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}
        self.security = _SecuritySchemes()

    def add(self, route: Route, specs: list[ParamSpec], *, receives: Any, sends: Any, sse: bool) -> None:
        channel_id = unique_name(_key(route.name or route.path), self.channels)
        channel: dict[str, Any] = {"address": _template(route.path)}
        if route.summary:
            channel["title"] = route.summary
        if route.description:
            channel["description"] = route.description
        parameters = {spec.key: self._parameter(spec) for spec in specs if spec.source == "path"}
        if parameters:
            channel["parameters"] = parameters
        binding = self._binding(route, specs, sse=sse)
        if binding:
            channel["bindings"] = binding
        channel_messages: dict[str, Any] = {}
        for action, declared in (("receive", receives), ("send", sends)):
            keys = [self._message(channel_id, channel_messages, member, sse) for member in _members(declared)]
            if not keys:
                continue
            operation: dict[str, Any] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{channel_id}"},
                "messages": [{"$ref": f"#/channels/{channel_id}/messages/{key}"} for key in keys],
            }
            if route.tags:
                operation["tags"] = [{"name": tag} for tag in route.tags]
            if route.auth:
                # any one of them suffices, as in the route's auth=
                names = [self.security.name_of(scheme) for scheme in route.auth]
                operation["security"] = [{"$ref": f"#/components/securitySchemes/{name}"} for name in names]
            self.operations[unique_name(f"{channel_id}_{action}", self.operations)] = operation
        if channel_messages:
            channel["messages"] = channel_messages
        self.channels[channel_id] = channel

    def _message(self, channel_id: str, channel_messages: dict[str, Any], member: Any, sse: bool) -> str:
        key = _key(getattr(member, "__name__", None) or "message")
        if key in channel_messages:  # the same type both ways: one message
            return key
        component = unique_name(f"{channel_id}-{key}", self.messages)
        text = member is str
        message: dict[str, Any] = {
            "name": key,
            "contentType": "text/plain" if text else "application/json",
            "payload": {"type": "string"} if text else self.schemas.schema(member),
        }
        if sse:
            message["description"] = "The data of a server-sent event (text/event-stream)."
        self.messages[component] = message
        channel_messages[key] = {"$ref": f"#/components/messages/{component}"}
        return key

    @staticmethod
    def _parameter(spec: ParamSpec) -> dict[str, Any]:
        parameter: dict[str, Any] = {}
        marker = spec.marker
        if marker is not None and marker.description:
            parameter["description"] = marker.description
        return parameter

    def _binding(self, route: Route, specs: list[ParamSpec], *, sse: bool) -> dict[str, Any]:
        """Query and header parameters, as the ``ws`` binding describes a handshake's."""
        if sse:
            return {}
        documented = _Operation(route, specs, self.schemas, set(), _SecuritySchemes())
        binding: dict[str, Any] = {"method": "GET"}
        for source, field in (("query", "query"), ("header", "headers")):
            chosen = [spec for spec in specs if spec.source == source and _Operation._documented(spec)]
            if not chosen:
                continue
            properties = {spec.key: documented._parameter(spec)["schema"] for spec in chosen}
            schema: dict[str, Any] = {"type": "object", "properties": properties}
            required = [spec.key for spec in chosen if spec.required]
            if required:
                schema["required"] = required
            binding[field] = schema
        binding["bindingVersion"] = "0.1.0"
        return {"ws": binding}


def build_asyncapi(app: Any) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of ``app`` (an ``App``), as a dict of JSON values."""
    config: OpenAPI = getattr(app, "openapi_config", None) or OpenAPI()
    schemas = _Schemas()
    channels = _Channels(schemas)
    overrides = getattr(app, "dependency_overrides", None) or {}
    for route in app.routes:
        if not route.include_in_schema:
            continue
        data = None if route.websocket else sse_data_type(route)
        if not route.websocket and data is None:
            continue
        specs = documented_specs(route, overrides)
        if route.websocket:
            channels.add(route, specs, receives=route.receives, sends=route.sends, sse=False)
        else:
            channels.add(route, specs, receives=None, sends=data, sse=True)
    schemas.resolve()
    info = config.info()
    info.pop("summary", None)  # AsyncAPI 3.0's info has no summary
    if "license" in info and "url" not in info["license"]:
        info["license"] = {"name": info["license"].get("name", "")}
    document: dict[str, Any] = {"asyncapi": ASYNCAPI_VERSION, "info": info}
    if config.asyncapi_servers:
        document["servers"] = {name: dict(server) for name, server in config.asyncapi_servers.items()}
    document["defaultContentType"] = "application/json"
    document["channels"] = channels.channels
    document["operations"] = channels.operations
    components: dict[str, Any] = {}
    if schemas.components:
        components["schemas"] = {_component_key(name): schema for name, schema in schemas.components.items()}
    if channels.messages:
        components["messages"] = channels.messages
    if channels.security.components:
        components["securitySchemes"] = {
            name: _asyncapi_scheme(described) for name, described in channels.security.components.items()
        }
    if components:
        document["components"] = components
    _rename_refs(document)
    return document


_SCHEMA_REF = "#/components/schemas/"


def _component_key(name: str) -> str:
    """``shop.Item`` -> ``shop-Item``: module-qualified names (two ``Item``s) keep apart, with
    keys every AsyncAPI tool accepts (hyphens cannot occur in Python names, so no clash)."""
    return name.replace(".", "-")


def _rename_refs(node: Any) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(_SCHEMA_REF):
            node["$ref"] = _SCHEMA_REF + _component_key(ref[len(_SCHEMA_REF) :])
        for value in node.values():
            _rename_refs(value)
    elif isinstance(node, list):
        for value in node:
            _rename_refs(value)


__all__ = ["ASYNCAPI_VERSION", "build_asyncapi", "sse_data_type"]
