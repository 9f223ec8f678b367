"""``ParamSpec``: one handler parameter as resolved at registration (where its value comes
from, the name looked up, its converter and constraints), and the part of it the Rust core
extracts and converts per request (``core_param_spec``).

It sits on its own so that the signature analysis (``_params``) and the body readers
(``_body``) can both use it without importing each other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Literal

from ferroweb import params as markers
from ferroweb._convert import Converter
from ferroweb._errors import Loc
from ferroweb._ferroweb import ParamSpec as CoreParamSpec

#: What the core converts a value to; "raw" passes the strings as sent, converted in Python.
CoreScalar = Literal["str", "int", "float", "bool", "raw"]
#: Where the core reads a value from; other sources are read by the binder itself.
CORE_SOURCES = ("path", "query", "header", "cookie")
#: The core's numeric and length bounds, by the marker's names.
_CORE_BOUNDS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length")


@dataclasses.dataclass
class ParamSpec:
    """One handler parameter, resolved at registration."""

    name: str
    #: path, query, header, cookie, body, form, file, request, websocket, background,
    #: response, claims or depends.
    source: str
    key: str
    annotation: Any
    marker: markers.Param | None
    default: Any = markers.Undefined
    default_factory: Callable[[], Any] | None = None
    many: bool = False
    convert: Converter | None = None
    list_constraints: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: Position among the route template's parameters (path parameters only).
    path_index: int = 0
    #: Constraints on the (item) value: the marker's and msgspec.Meta's together.
    constraints: dict[str, Any] = dataclasses.field(default_factory=dict)
    #: How the core converts it.
    core_scalar: CoreScalar = "raw"
    #: ``Annotated[Model, Form()]``: the whole form read into a model (a ``FormModel``).
    form_model: Any = None
    #: source "depends": the ``Depends`` marker, its factory resolved.
    dependency: Any = None
    #: source "claims": decodes the authenticated claims into the declared type.
    claims_decoder: Any = None

    @property
    def required(self) -> bool:
        return self.default is markers.Undefined and self.default_factory is None

    @property
    def loc(self) -> Loc:
        return ("body" if self.source in ("form", "file") else self.source, self.key)

    def fallback(self) -> Any:
        """The value of an absent optional parameter: a fresh one per request."""
        if self.default_factory is not None:
            return self.default_factory()
        default = self.default
        if isinstance(default, (list, dict, set)):
            return default.copy()
        return default


def core_param_spec(spec: ParamSpec) -> CoreParamSpec:
    """The core's plan entry for a path/query/header/cookie parameter; its bounds only when
    the core converts the value (a raw value is checked in Python)."""
    if spec.source not in CORE_SOURCES:
        raise ValueError(f"parameter {spec.name!r} is read from the {spec.source}, not by the core")
    bounds = (
        {name: value for name, value in spec.constraints.items() if name in _CORE_BOUNDS}
        if spec.core_scalar != "raw"
        else {}
    )
    return CoreParamSpec(
        spec.source,  # type: ignore[arg-type]  # checked against CORE_SOURCES above
        spec.key,
        spec.core_scalar,
        many=spec.many,
        path_index=spec.path_index,
        **bounds,
    )
