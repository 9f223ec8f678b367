"""Where a handler parameter comes from, and the constraints it must meet.

Used the FastAPI way, either in ``Annotated`` or as the default value::

    def orders(limit: Annotated[int, Query(ge=1, le=100)] = 10, x_tenant: str = Header("default")): ...

Unmarked parameters are path parameters when the route template names them, the request body
when their type is a Struct / dataclass / TypedDict, and query parameters otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ferroweb.uploads import UploadFile


class _Undefined:
    """The default of a parameter that has none: it is required."""

    _instance: _Undefined | None = None

    def __new__(cls) -> _Undefined:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "Undefined"

    def __bool__(self) -> bool:
        return False


Undefined: Any = _Undefined()


class Param:
    """A parameter marker. ``source`` names the part of the request the value is read from."""

    source = "query"

    def __init__(
        self,
        default: Any = Undefined,
        *,
        default_factory: Callable[[], Any] | None = None,
        alias: str | None = None,
        title: str | None = None,
        description: str | None = None,
        gt: float | None = None,
        ge: float | None = None,
        lt: float | None = None,
        le: float | None = None,
        multiple_of: float | None = None,
        min_length: int | None = None,
        max_length: int | None = None,
        pattern: str | None = None,
        deprecated: bool | None = None,
        examples: list[Any] | None = None,
        include_in_schema: bool = True,
    ) -> None:
        if default is not Undefined and default is not Ellipsis and default_factory is not None:
            raise TypeError("give a parameter either a default or a default_factory, not both")
        # ``Query(...)`` is FastAPI's spelling of "required"
        self.default = Undefined if default is Ellipsis else default
        self.default_factory = default_factory
        self.alias = alias
        self.title = title
        self.description = description
        self.gt = gt
        self.ge = ge
        self.lt = lt
        self.le = le
        self.multiple_of = multiple_of
        self.min_length = min_length
        self.max_length = max_length
        self.pattern = pattern
        self.deprecated = deprecated
        self.examples = examples
        self.include_in_schema = include_in_schema

    @property
    def required(self) -> bool:
        return self.default is Undefined and self.default_factory is None

    def constraints(self) -> dict[str, Any]:
        """The numeric/length/pattern constraints that were set, by name."""
        names = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")
        return {name: getattr(self, name) for name in names if getattr(self, name) is not None}

    def __repr__(self) -> str:
        shown = {"default": self.default} if self.default is not Undefined else {}
        shown.update(self.constraints())
        if self.alias:
            shown["alias"] = self.alias
        inner = ", ".join(f"{key}={value!r}" for key, value in shown.items())
        return f"{type(self).__name__}({inner})"


class Path(Param):
    """A path parameter; always required (the route template provides it)."""

    source = "path"

    def __init__(self, default: Any = Undefined, **options: Any) -> None:
        if default not in (Undefined, Ellipsis) or options.get("default_factory") is not None:
            raise TypeError("path parameters are always required and take no default")
        super().__init__(Undefined, **options)


class Query(Param):
    source = "query"


class Header(Param):
    """A request header. The parameter name's underscores become dashes (``x_token`` reads
    ``x-token``) unless ``convert_underscores=False``; lookup is case-insensitive."""

    source = "header"

    def __init__(self, default: Any = Undefined, *, convert_underscores: bool = True, **options: Any) -> None:
        super().__init__(default, **options)
        self.convert_underscores = convert_underscores


class Cookie(Param):
    source = "cookie"


class Body(Param):
    """The JSON request body (or, with ``embed=True``, one member of it named after the
    parameter). Several body parameters are embedded automatically."""

    source = "body"
    media_type = "application/json"

    def __init__(self, default: Any = Undefined, *, embed: bool = False, **options: Any) -> None:
        super().__init__(default, **options)
        self.embed = embed


class Form(Body):
    """One field of an ``application/x-www-form-urlencoded`` or ``multipart/form-data`` body."""

    source = "form"
    media_type = "application/x-www-form-urlencoded"

    def __init__(self, default: Any = Undefined, **options: Any) -> None:
        options.pop("embed", None)
        super().__init__(default, embed=True, **options)


class File(Form):
    """An uploaded file of a ``multipart/form-data`` body (annotate it ``UploadFile`` or
    ``bytes``)."""

    source = "file"
    media_type = "multipart/form-data"


__all__ = ["Body", "Cookie", "File", "Form", "Header", "Param", "Path", "Query", "Undefined", "UploadFile"]
