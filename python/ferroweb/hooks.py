"""Request hooks: functions run at fixed points of every request of an app, a router or a route.

>>> app = App()
>>> @app.on_request
... def require_token(request: Request) -> Response | None:
...     if "x-token" not in request.headers:
...         return JSONResponse({"detail": "no token"}, status_code=401)
...     return None

The five points, in the order a request meets them:

- ``on_request(request)``: the request was routed; nothing was read yet;
- ``pre_validation(request)``: before the parameters and the body are validated;
- ``pre_handler(request)``: after validation, before the dependencies and the handler;
- ``on_response(request, response)``: a ``Response`` was made from the outcome (the handler's
  value, a short-circuit, an error); return it, changed or not, or another one;
- ``on_error(request, exc)``: something above raised; return a response to answer with, or
  None to leave the exception to the exception handlers.

``on_request`` and ``pre_*`` hooks short-circuit by returning anything but None (a
``Response``, or any value a handler may return): that is the answer, and the rest of the
request is skipped (``on_response`` hooks still see it). Hooks may be sync or ``async def``,
run in registration order (the app's, then the routers', then the route's) and see
``request.state``, which is one object per request. Only HTTP routes run hooks; a route
that has none pays nothing for the feature.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Union

Hook = Callable[..., Any]

#: The hook points, in the order a request meets them (``on_error`` when something raised).
HOOK_POINTS = ("on_request", "pre_validation", "pre_handler", "on_response", "on_error")

#: What ``hooks=`` accepts on a route: a ``Hooks``, or a mapping from hook point to one hook or
#: a sequence of them.
HooksArgument = Union["Hooks", Mapping[str, Union[Hook, Sequence[Hook]]]]


class Hooks:
    """The hooks of one layer (an app, a router or a route), each point's in registration order."""

    __slots__ = HOOK_POINTS

    on_request: list[Hook]
    pre_validation: list[Hook]
    pre_handler: list[Hook]
    on_response: list[Hook]
    on_error: list[Hook]

    def __init__(
        self,
        *,
        on_request: Sequence[Hook] = (),
        pre_validation: Sequence[Hook] = (),
        pre_handler: Sequence[Hook] = (),
        on_response: Sequence[Hook] = (),
        on_error: Sequence[Hook] = (),
    ) -> None:
        given = {
            "on_request": on_request,
            "pre_validation": pre_validation,
            "pre_handler": pre_handler,
            "on_response": on_response,
            "on_error": on_error,
        }
        for point, hooks in given.items():
            setattr(self, point, [])
            for hook in hooks:
                self.add(point, hook)

    def add(self, point: str, hook: Hook) -> Hook:
        """Registers ``hook`` at ``point`` (one of ``HOOK_POINTS``) after the ones already there."""
        if point not in HOOK_POINTS:
            raise ValueError(f"unknown hook point {point!r}; use one of {', '.join(HOOK_POINTS)}")
        if not callable(hook):
            raise TypeError(f"a {point} hook must be callable, not {type(hook).__name__}")
        hooks: list[Hook] = getattr(self, point)
        hooks.append(hook)
        return hook

    def __bool__(self) -> bool:
        return any(getattr(self, point) for point in HOOK_POINTS)

    def __repr__(self) -> str:
        counts = ", ".join(
            f"{point}={len(getattr(self, point))}" for point in HOOK_POINTS if getattr(self, point)
        )
        return f"Hooks({counts})"

    @classmethod
    def of(cls, value: HooksArgument | None, where: str) -> Hooks:
        """A route's ``hooks=`` argument as a ``Hooks``."""
        if value is None:
            return cls()
        if isinstance(value, Hooks):
            return value
        if not isinstance(value, Mapping):
            raise TypeError(f"{where}: hooks= takes a Hooks or a mapping, not {type(value).__name__}")
        hooks = cls()
        for point, entry in value.items():
            for hook in entry if isinstance(entry, Sequence) else (entry,):
                try:
                    hooks.add(point, hook)
                except (TypeError, ValueError) as exc:
                    raise type(exc)(f"{where}: {exc}") from None
        return hooks


__all__ = ["HOOK_POINTS", "Hook", "Hooks", "HooksArgument"]
