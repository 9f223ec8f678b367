"""``EnginePlan``: what the Rust engine of a running app serves, as the dispatcher compiled
it. Its own module so that the dispatcher and the runtime both use it without importing
each other."""

from __future__ import annotations

from dataclasses import dataclass

from ferroweb._ferroweb import RequestQueue, RoutingPlan


@dataclass(frozen=True, slots=True)
class EnginePlan:
    """What an engine serves (routes, the error route, the app's middleware, static mounts,
    the slash rule) and the queue it feeds."""

    routing: RoutingPlan
    queue: RequestQueue
