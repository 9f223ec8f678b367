"""Multi-valued, case-insensitive headers and query parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, NamedTuple, TypeVar, overload

_T = TypeVar("_T")


class Address(NamedTuple):
    host: str
    port: int


class QueryParams(Mapping[str, str]):
    """Decoded query parameters. ``params[key]`` is the last value, ``getlist`` gives all."""

    __slots__ = ("_dict", "_items")

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._items = list(items)
        self._dict = dict(self._items)

    def __getitem__(self, key: str) -> str:
        return self._dict[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def __len__(self) -> int:
        return len(self._dict)

    def getlist(self, key: str) -> list[str]:
        return [value for name, value in self._items if name == key]

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"QueryParams({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, QueryParams):
            return sorted(self._items) == sorted(other._items)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


class Headers(Mapping[str, str]):
    """Case-insensitive headers that keep repeated names. ``headers[name]`` is the first value."""

    __slots__ = ("_items",)

    def __init__(
        self,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    ) -> None:
        if headers is None:
            self._items: list[tuple[str, str]] = []
            return
        # dict first: the common case, and much cheaper than the Mapping ABC check
        pairs = headers.items() if isinstance(headers, (dict, Mapping)) else headers
        self._items = [(k.lower(), v) for k, v in pairs]

    def __getitem__(self, key: str) -> str:
        key = key.lower()
        for name, value in self._items:
            if name == key:
                return value
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not isinstance(key, str):
            return False
        key = key.lower()
        return any(name == key for name, _ in self._items)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(name for name, _ in self._items))

    def __len__(self) -> int:
        return len(dict.fromkeys(name for name, _ in self._items))

    @overload
    def get(self, key: str) -> str | None: ...
    @overload
    def get(self, key: str, default: str | _T) -> str | _T: ...
    def get(self, key: str, default: object = None) -> object:
        try:
            return self[key]
        except KeyError:
            return default

    def getlist(self, key: str) -> list[str]:
        key = key.lower()
        return [value for name, value in self._items if name == key]

    @property
    def raw(self) -> list[tuple[str, str]]:
        """All (lower-case name, value) pairs in order, repeats included."""
        return list(self._items)

    def multi_items(self) -> list[tuple[str, str]]:
        return list(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._items!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Headers):
            return sorted(self._items) == sorted(other._items)
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]


class MutableHeaders(Headers):
    """Response headers: ``headers[name] = value`` replaces, ``append`` adds another."""

    __slots__ = ()

    def __setitem__(self, key: str, value: str) -> None:
        key = key.lower()
        self._items = [(n, v) for n, v in self._items if n != key]
        self._items.append((key, value))

    def __delitem__(self, key: str) -> None:
        key = key.lower()
        if key not in self:
            raise KeyError(key)
        self._items = [(n, v) for n, v in self._items if n != key]

    def append(self, key: str, value: str) -> None:
        self._items.append((key.lower(), value))

    def setdefault(self, key: str, value: str) -> str:
        existing = self.get(key)
        if existing is not None:
            return existing
        self.append(key, value)
        return value

    def update(self, other: Mapping[str, str]) -> None:
        for key, value in other.items():
            self[key] = value


class State:
    """An attribute bag: ``app.state.db = ...`` for the whole app, ``request.state.user = ...``
    for one request."""

    _values: dict[str, Any]

    def __init__(self, values: Mapping[str, Any] | None = None) -> None:
        object.__setattr__(self, "_values", dict(values) if values else {})

    def __setattr__(self, name: str, value: Any) -> None:
        self._values[name] = value

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(f"'State' object has no attribute {name!r}") from None

    def __delattr__(self, name: str) -> None:
        try:
            del self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __contains__(self, name: object) -> bool:
        return name in self._values

    def __repr__(self) -> str:
        return f"State({self._values!r})"
