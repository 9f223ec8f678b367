"""Dependency injection: ``Depends(factory)`` declares a parameter whose value a factory makes.

Used the FastAPI way, in ``Annotated`` or as the default::

    async def get_db():
        conn = await pool.acquire()
        try:
            yield conn               # cleanup runs after the response is sent
        finally:
            await pool.release(conn)

    @app.get("/items", dependencies=[Depends(require_tenant)])
    async def items(db: Annotated[Conn, Depends(get_db)], page: Page = Depends(pagination)): ...

A factory is a function (sync or async), a generator (sync or async: the value is what it
yields, the rest runs as cleanup) or a class. Its own parameters are declared like a handler's
and are read from the same request, so every validation error of a request is reported at
once. Each route's graph is resolved at start-up; a request pays only for the factories it
calls.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

Scope = Literal["request", "app"]


class Depends:
    """A parameter made by ``dependency`` (a callable; ``Depends()`` takes the parameter's
    annotation as the factory, as FastAPI does for classes).

    ``use_cache``: the factory is called once per request however many parameters (of the
    handler and of other factories) depend on it; ``False`` calls it for each. ``scope="app"``
    makes the value once, at first use, shares it between requests and closes a generator
    factory at shutdown.
    """

    __slots__ = ("dependency", "scope", "use_cache")

    def __init__(
        self,
        dependency: Callable[..., Any] | None = None,
        *,
        use_cache: bool = True,
        scope: Scope = "request",
    ) -> None:
        if dependency is not None and not callable(dependency):
            raise TypeError(f"Depends() takes a callable, not {type(dependency).__name__}")
        if scope not in ("request", "app"):
            raise ValueError(f"unknown dependency scope {scope!r}; use 'request' or 'app'")
        self.dependency = dependency
        self.use_cache = use_cache
        self.scope: Scope = scope

    def __repr__(self) -> str:
        name = getattr(self.dependency, "__qualname__", repr(self.dependency))
        options = "" if self.use_cache else ", use_cache=False"
        options += "" if self.scope == "request" else f", scope={self.scope!r}"
        return f"Depends({name}{options})"


__all__ = ["Depends", "Scope"]
