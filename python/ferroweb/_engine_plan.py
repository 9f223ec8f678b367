"""``EnginePlan``: what the Rust engine of a running app serves, as the dispatcher compiled
it. Its own module so that the dispatcher and the runtime both use it without importing
each other."""

from __future__ import annotations

from dataclasses import dataclass

from ferroweb._ferroweb import MiddlewareStack, MountSpec, RequestQueue, RouteSpec


@dataclass(frozen=True, slots=True)
class EnginePlan:
    """What an engine serves: the route table and the queue it feeds."""

    routes: list[RouteSpec]
    queue: RequestQueue
    #: Where routing misses go when the app's exception handlers may answer them.
    error_route: int | None
    #: The app's own middleware, for requests no route serves.
    middleware: MiddlewareStack | None
    #: Static directories and their prefixes.
    mounts: list[MountSpec]
