"""Dependency plans: each route's graph of ``Depends`` resolved once, at start-up, into one
function.

The factories' own parameters join the handler's as *leaves*: one flat parameter list the
route's binder reads from the request (so every validation error is reported together, and
the core extracts path/query/header/cookie values for all of them at once). The graph itself
becomes a generated function, ``solve(*leaves)``, that calls each factory in dependency order
and then the handler: no graph walk, no per-request dict, no cache lookup (a cached factory
is simply called once, its value passed wherever it is needed). A route without dependencies
has no plan and is compiled exactly as before.

Generator factories: the value is what they yield; an exception raised further on (by another
factory or the handler) is thrown into them, newest first, and their remaining code runs
after the response is sent (``Exits``).
"""

from __future__ import annotations

import asyncio
import contextvars
import dataclasses
import inspect
import logging
import threading
from collections.abc import Callable, Coroutine
from types import GeneratorType
from typing import TYPE_CHECKING, Any

from ferroweb._param_spec import ParamSpec
from ferroweb._params import analyse, positional_endpoint
from ferroweb._respond import Answered
from ferroweb.dependencies import Depends
from ferroweb.responses import StreamingResponse

if TYPE_CHECKING:
    from ferroweb.routing import Route

logger = logging.getLogger("ferroweb.error")

#: Where an argument comes from: ("leaf", index among the leaves) or ("node", index).
Ref = tuple[str, int]

#: The generators still open in the current request (set per request by the route's binder).
open_exits: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("ferroweb_exits", default=None)

_INJECTED = ("request", "websocket", "background", "response")


def _kind(factory: Any) -> str:
    if inspect.isclass(factory):
        return "call"
    call = factory if inspect.isroutine(factory) else type(factory).__call__
    if inspect.isasyncgenfunction(call):
        return "async_generator"
    if inspect.isgeneratorfunction(call):
        return "generator"
    if inspect.iscoroutinefunction(call):
        return "await"
    return "call"


@dataclasses.dataclass
class Node:
    index: int
    factory: Callable[..., Any]
    kind: str
    refs: list[Ref]
    scope: str
    name: str


@dataclasses.dataclass
class DependencyPlan:
    """A route's dependency graph: the leaves to bind, the factories in calling order, and
    where each of the handler's arguments comes from."""

    leaves: list[ParamSpec]
    nodes: list[Node]
    handler_refs: list[Ref]

    @property
    def is_async(self) -> bool:
        return any(node.kind in ("await", "async_generator") for node in self.nodes)

    @property
    def has_exits(self) -> bool:
        """Whether some request-scoped generator needs its cleanup run after the response."""
        return any(node.kind.endswith("generator") and node.scope == "request" for node in self.nodes)


class _Builder:
    def __init__(self, route: Route, overrides: dict[Any, Any]) -> None:
        self.route = route
        self.overrides = overrides
        self.leaves: list[ParamSpec] = []
        self.nodes: list[Node] = []
        self._leaf_at: dict[Any, int] = {}
        self._cached: dict[tuple[Any, str], int] = {}

    def refs(self, specs: list[ParamSpec], chain: tuple[Any, ...]) -> list[Ref]:
        found: list[Ref] = []
        for spec in specs:
            if spec.source == "depends":
                found.append(("node", self.node(spec.dependency, chain)))
            else:
                found.append(("leaf", self._leaf(spec)))
        return found

    def _leaf(self, spec: ParamSpec) -> int:
        """The same request value declared twice (the handler and a factory both reading
        ``q``) is one leaf: read, validated and reported once."""
        if spec.source in _INJECTED:
            key: Any = (spec.source,)
        else:
            key = (spec.source, spec.key, repr(spec.annotation), repr(spec.default))
        if key in self._leaf_at:
            return self._leaf_at[key]
        names = {leaf.name for leaf in self.leaves}
        if spec.name in names:  # two body members named alike under different keys
            spec = dataclasses.replace(spec, name=f"{spec.name}__{len(self.leaves)}")
        self.leaves.append(spec)
        self._leaf_at[key] = len(self.leaves) - 1
        return len(self.leaves) - 1

    def node(self, depends: Depends, chain: tuple[Any, ...]) -> int:
        original = depends.dependency
        assert original is not None  # the analysis fills in Depends()'s factory
        factory = self.overrides.get(original, original)
        name = getattr(original, "__qualname__", repr(original))
        if factory in chain:
            path = " -> ".join(getattr(f, "__qualname__", repr(f)) for f in (*chain, factory))
            raise TypeError(f"handler {self.route.name!r}: dependency cycle {path}")
        key = (factory, depends.scope)
        if depends.use_cache and key in self._cached:
            return self._cached[key]
        kind = _kind(factory)
        refs = self.refs(analyse(self.route, factory), (*chain, factory))
        node = Node(len(self.nodes), factory, kind, refs, depends.scope, name)
        self.nodes.append(node)
        if depends.use_cache:
            self._cached[key] = node.index
        return node.index


def plan_dependencies(
    route: Route, specs: list[ParamSpec], overrides: dict[Any, Any]
) -> DependencyPlan | None:
    """The route's plan (``specs``: its handler's parameters); None when neither it nor its
    handler declares a dependency."""
    dependencies = getattr(route, "dependencies", ())
    if not dependencies and not any(spec.source == "depends" for spec in specs):
        return None
    builder = _Builder(route, overrides)
    for depends in dependencies:  # side-effect dependencies first, as FastAPI runs them
        builder.node(depends, ())
    handler_refs = builder.refs(specs, ())
    return DependencyPlan(builder.leaves, builder.nodes, handler_refs)


class AppScope:
    """The values of ``scope="app"`` dependencies of one running app, and the generators
    among them to close at shutdown."""

    def __init__(self) -> None:
        self.values: dict[Any, Any] = {}
        self._exits: list[Any] = []
        self._lock = asyncio.Lock()
        #: Sync factories may be reached from blocking handlers, on worker threads at once.
        self._thread_lock = threading.RLock()

    def make(self, key: Any, factory: Any, kind: str, args: tuple[Any, ...]) -> Any:
        """The value of the factory ``key`` (called as ``factory``), made once: a caller that
        finds another thread making it waits for that value."""
        with self._thread_lock:
            if key in self.values:
                return self.values[key]
            if kind == "generator":
                generator = factory(*args)
                value = next(generator)
                self._exits.append(generator)
            else:
                value = factory(*args)
            self.values[key] = value
            return value

    async def make_async(self, key: Any, factory: Any, kind: str, args: tuple[Any, ...]) -> Any:
        async with self._lock:  # two first requests at once make it once
            if key in self.values:
                return self.values[key]
            if kind == "async_generator":
                generator = factory(*args)
                value = await generator.__anext__()
                self._exits.append(generator)
            elif kind == "await":
                value = await factory(*args)
            else:
                return self.make(key, factory, kind, args)
            self.values[key] = value
            return value

    async def close(self) -> None:
        """Closes the generators, newest first; a failure is logged and the rest still run."""
        exits, self._exits = self._exits, []
        self.values.clear()
        await finish_exits(exits)


def _argument(ref: Ref) -> str:
    return f"a{ref[1]}" if ref[0] == "leaf" else f"d{ref[1]}"


def compile_solver(
    plan: DependencyPlan, handler: Callable[..., Any], handler_is_async: bool, app_scope: AppScope
) -> Callable[..., Any]:
    """``solve(exits, *leaves)`` (``exits`` only when the plan has request-scoped
    generators): the factories called in order, then the handler, whose result (or
    coroutine's result) it returns."""
    is_async = plan.is_async or handler_is_async
    namespace: dict[str, Any] = {
        "scope": app_scope,
        "scoped": app_scope.values,
        "throw_into": athrow_into if is_async else throw_into,
        "handler": positional_endpoint(handler),
    }
    exits = plan.has_exits
    leaves = ", ".join(f"a{index}" for index in range(len(plan.leaves)))
    params = ", ".join(p for p in ("exits" if exits else "", leaves) if p)
    body: list[str] = []
    for node in plan.nodes:
        namespace[f"f{node.index}"] = positional_endpoint(node.factory)
        namespace[f"k{node.index}"] = node.factory
        args = ", ".join(_argument(ref) for ref in node.refs)
        call = f"f{node.index}({args})"
        target = f"d{node.index}"
        if node.scope == "app":
            maker = "await scope.make_async" if is_async else "scope.make"
            made = f"{maker}(k{node.index}, f{node.index}, {node.kind!r}, ({args}{',' if args else ''}))"
            body.append(f"{target} = scoped[k{node.index}] if k{node.index} in scoped else {made}")
        elif node.kind == "call":
            body.append(f"{target} = {call}")
        elif node.kind == "await":
            body.append(f"{target} = await {call}")
        elif node.kind == "generator":
            body += [
                f"g{node.index} = {call}",
                f"{target} = next(g{node.index})",
                f"exits.append(g{node.index})",
            ]
        else:
            body += [
                f"g{node.index} = {call}",
                f"{target} = await g{node.index}.__anext__()",
                f"exits.append(g{node.index})",
            ]
    handler_args = ", ".join(_argument(ref) for ref in plan.handler_refs)
    body.append(f"return {'await ' if handler_is_async else ''}handler({handler_args})")
    lines = [f"{'async def' if is_async else 'def'} solve({params}):"]
    if exits:
        lines.append("    try:")
        lines += [f"        {line}" for line in body]
        lines.append("    except BaseException as exc:")
        lines.append(f"        {'await ' if is_async else ''}throw_into(exits, exc)")
        lines.append("        raise")
    else:
        lines += [f"    {line}" for line in body]
    exec("\n".join(lines), namespace)
    solve: Callable[..., Any] = namespace["solve"]
    return solve


def throw_into(exits: list[Any], exc: BaseException) -> None:
    """An exception raised after generators were entered, thrown into each (newest first):
    their ``except``/``finally`` run. One that raises another exception hands that on."""
    while exits:
        generator = exits.pop()
        try:
            generator.throw(exc)
        except StopIteration:
            pass
        except BaseException as raised:
            if raised is not exc:
                exc = raised
        else:
            logger.error("dependency %s yielded twice", getattr(generator, "__qualname__", generator))
    raise exc


async def athrow_into(exits: list[Any], exc: BaseException) -> None:
    """``throw_into`` for plans with async generators (sync ones are thrown into as well)."""
    while exits:
        generator = exits.pop()
        try:
            if inspect.isasyncgen(generator):
                await generator.athrow(exc)
            else:
                generator.throw(exc)
        except (StopIteration, StopAsyncIteration):
            pass
        except BaseException as raised:
            if raised is not exc:
                exc = raised
        else:
            logger.error("dependency %s yielded twice", getattr(generator, "__qualname__", generator))
    raise exc


def finish_exits_sync(exits: list[Any]) -> list[Any]:
    """Runs the sync generators' cleanup, newest first, until an async one: that one and
    the rest are returned (to be finished on the loop)."""
    while exits:
        generator = exits[-1]
        if generator.__class__ is not GeneratorType:
            return exits
        exits.pop()
        try:
            # a for loop ends the generator without raising StopIteration in Python
            for _ in generator:
                logger.error("dependency %s yielded twice", generator.__qualname__)
                generator.close()
        except Exception:
            logger.exception("cleanup of dependency %s failed", generator.__qualname__)
    return exits


async def finish_exits(exits: list[Any]) -> None:
    """Runs every generator's cleanup, newest first; a failure is logged, never sent."""
    while exits:
        if finish_exits_sync(exits):
            generator = exits.pop()
            try:
                await generator.__anext__()
            except StopAsyncIteration:
                continue
            except Exception:
                logger.exception("cleanup of dependency %s failed", generator.__qualname__)
                continue
            logger.error("dependency %s yielded twice", generator.__qualname__)
            await generator.aclose()


def binding_exits(bind: Callable[..., list[Any]] | None) -> Callable[..., list[Any]]:
    """The route's binder, giving the solver a fresh list of open generators per request
    and leaving it where the responder finds it after sending (``open_exits``)."""
    set_exits = open_exits.set
    if bind is None:  # the solver takes nothing else

        def bind_exits_only(raw: Any, injected: dict[str, Any] | None = None) -> list[Any]:
            exits: list[Any] = []
            set_exits(exits)
            return [exits]

        return bind_exits_only

    def bind_with_exits(raw: Any, injected: dict[str, Any] | None = None) -> list[Any]:
        exits: list[Any] = []
        set_exits(exits)
        args = bind(raw) if injected is None else bind(raw, injected)
        args.insert(0, exits)
        return args

    return bind_with_exits


def exiting_after_send(
    send: Callable[..., None],
    track: Callable[[Coroutine[Any, Any, None]], Any],
    loop: asyncio.AbstractEventLoop,
) -> Callable[..., None]:
    """The responder's ``send`` for a route with generator dependencies: their cleanup runs
    once the response is handed to the core, or once a streamed body has ended."""
    get_exits, set_exits = open_exits.get, open_exits.set

    def send_then_exit(raw: Any, result: Any, *args: Any) -> None:
        exits = get_exits()
        if not exits:
            send(raw, result, *args)
            return
        set_exits(None)  # taken: a second send (an error after this one) finds none
        response = result.result if result.__class__ is Answered else result
        if isinstance(response, StreamingResponse):
            response.body_iterator = _exiting_stream(response.body_iterator, exits, track, loop)
            send(raw, result, *args)
            return
        try:
            send(raw, result, *args)
        finally:
            if finish_exits_sync(exits):
                track(finish_exits(exits))

    return send_then_exit


def exiting_after_error(
    on_error: Callable[[Any, Exception], None], track: Callable[[Coroutine[Any, Any, None]], Any]
) -> Callable[[Any, Exception], None]:
    """``on_error`` for such a route: generators still open when the request failed after
    the solver returned (a refused response model) are finished once the error is sent."""

    def on_error_then_exit(raw: Any, exc: Exception) -> None:
        exits = open_exits.get()
        open_exits.set(None)
        try:
            on_error(raw, exc)
        finally:
            if exits and finish_exits_sync(exits):
                track(finish_exits(exits))

    return on_error_then_exit


def _exiting_stream(
    content: Any, exits: list[Any], track: Callable[[Coroutine[Any, Any, None]], Any], loop: Any
) -> Any:
    if hasattr(content, "__aiter__"):

        async def stream_then_exit() -> Any:
            try:
                async for chunk in content:
                    yield chunk
            finally:
                await finish_exits(exits)

        return stream_then_exit()

    def iterate_then_exit() -> Any:  # stepped in a worker thread: cleanup goes to the loop
        try:
            yield from content
        finally:
            loop.call_soon_threadsafe(lambda: track(finish_exits(exits)))

    return iterate_then_exit()


__all__ = [
    "AppScope",
    "DependencyPlan",
    "binding_exits",
    "compile_solver",
    "exiting_after_error",
    "exiting_after_send",
    "finish_exits",
    "open_exits",
    "plan_dependencies",
]
