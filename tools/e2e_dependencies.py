"""Dependency factories and ``Depends`` parameters of the fixtures (``handler.factories``,
``handler.depends``, ``dependencies`` lists), used through tools/e2e_layers.py.

Each factory becomes a module-level function ``<fixture>_<name>`` (plain, ``async def``, a
generator or an async generator) or a dataclass ``<Fixture><Name>`` (kind ``class``: its typed
fields are its parameters, ``Depends()`` can take it from the annotation, and JSON encodes it
with its ``fields`` computed in ``__post_init__``). Its own request parameters are declared as
a handler's are (so their errors join the handler's in one 422), its sub-dependencies by
``depends``. When called it records ``record`` in the fixture's journal, raises its ``raise``
(an HTTPException, under ``when``/``unless``) and returns (or yields) ``returns`` computed from
its parameters. A generator's code after the yield records ``on_error`` when an exception is
thrown into it (and re-raises it, or ``translate``s it into an HTTPException), records
``cleanup`` in its ``finally`` (with ``cleanup_waits``, first waiting for the journal's gate,
which opens when the test first reads it after the response) and then raises ``cleanup_fail``.
"""

from __future__ import annotations

from typing import Any

from e2e_journal import PROBE_GUARD, guarded, raise_line, record_line
from e2e_source import Declarer, Definition, FixtureError, Parameter, identifier, lit, pascal
from e2e_streams import template, value_expr

KINDS = ("function", "async", "generator", "async_generator", "class")
SOURCES = ("path", "query", "header", "cookie")
RETURNS = {"generator": "Iterator[Any]", "async_generator": "AsyncIterator[Any]"}


def factories(fixture: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = fixture["handler"].get("factories", {})
    return found


def factory_of(fixture: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in factories(fixture):
        raise FixtureError(f"no factory named {name!r} in handler.factories")
    return factories(fixture)[name]


def factory_var(fixture: dict[str, Any], name: str) -> str:
    """The factory's Python name: ``<fixture>_<name>``, a class ``<Fixture><Name>``."""
    if factory_of(fixture, name).get("kind") == "class":
        return pascal(f"{fixture['name']}_{name}")
    return f"{fixture['name']}_{identifier(name)}"


def reference(ref: Any) -> dict[str, Any]:
    """A dependency reference: a factory name, or ``{factory, use_cache, scope, style}``."""
    return {"factory": ref} if isinstance(ref, str) else dict(ref)


def depends_expr(fixture: dict[str, Any], ref: Any, *, bare: bool = False) -> str:
    ref = reference(ref)
    args = [] if bare else [factory_var(fixture, ref["factory"])]
    if ref.get("use_cache") is False:
        args.append("use_cache=False")
    if ref.get("scope", "request") != "request":
        args.append(f"scope={lit(ref['scope'])}")
    return f"Depends({', '.join(args)})"


def dependency_list(fixture: dict[str, Any], refs: list[Any]) -> str:
    """A ``dependencies=`` value: ``[Depends(a), Depends(b, use_cache=False)]``."""
    return "[" + ", ".join(depends_expr(fixture, ref) for ref in refs) + "]"


def dependency_parameter(fixture: dict[str, Any], key: str, ref: Any, pyname: str) -> Parameter:
    """A parameter whose value a factory makes: ``Annotated[T, Depends(f)]`` (style
    ``annotated``, the default), ``Annotated[Class, Depends()]`` (``annotation``: the class
    from the annotation) or ``T = Depends(f)`` (``default``)."""
    ref = reference(ref)
    is_class = factory_of(fixture, ref["factory"]).get("kind") == "class"
    kind = factory_var(fixture, ref["factory"]) if is_class else "Any"
    style = ref.get("style", "annotated")
    if style == "annotation":
        if not is_class:
            raise FixtureError(f"{key}: Depends() takes its factory from a class annotation only")
        return Parameter(
            key, pyname, f"Annotated[{kind}, {depends_expr(fixture, ref, bare=True)}]", None, False
        )
    if style == "default":
        return Parameter(key, pyname, kind, depends_expr(fixture, ref), False)
    return Parameter(key, pyname, f"Annotated[{kind}, {depends_expr(fixture, ref)}]", None, False)


def check(fixture: dict[str, Any]) -> None:
    for name, spec in factories(fixture).items():
        kind = spec.get("kind", "function")
        generator = kind.endswith("generator")
        for key in ("on_error", "cleanup", "cleanup_fail"):
            if key in spec and not generator:
                raise FixtureError(f"factory {name}: {key} needs a generator factory")
        if spec.get("cleanup_waits") and kind != "async_generator":
            # a sync generator's cleanup runs on the event loop's thread: it cannot wait there
            raise FixtureError(f"factory {name}: cleanup_waits needs an async_generator factory")
        if kind == "class" and "returns" in spec:
            raise FixtureError(f"factory {name}: a class returns itself (give it fields)")
        for ref in spec.get("depends", {}).values():
            factory_of(fixture, reference(ref)["factory"])


def _parameters(
    fixture: dict[str, Any], spec: dict[str, Any], declare: Declarer, guard: bool
) -> list[Parameter]:
    params: list[Parameter] = []
    used: set[str] = set()

    def unique(key: str) -> str:
        pyname = identifier(key)
        if pyname in used or pyname in ("record", "recorded", "self", "exc"):
            pyname += "_"
        used.add(pyname)
        return pyname

    if guard:
        params.append(Parameter("@request", unique("request"), "Request", None, False))
    for source in SOURCES:
        for key, schema in spec.get("parameters", {}).get(source, {}).items():
            params.append(declare.parameter(source, key, schema, unique(key)))
    if "body" in spec:
        params.append(declare.body(spec["body"], unique(spec["body"].get("name", "body"))))
    for key, ref in spec.get("depends", {}).items():
        params.append(dependency_parameter(fixture, key, ref, unique(key)))
    # Python wants parameters without a default first
    return [p for p in params if p.default is None] + [p for p in params if p.default is not None]


def _setup(fixture: dict[str, Any], spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    lines = [record_line(fixture, spec["record"], names)] if "record" in spec else []
    if "raise" in spec:
        lines += guarded(spec["raise"], names, [raise_line(spec["raise"], names)])
    return lines


def _generator_lines(fixture: dict[str, Any], spec: dict[str, Any], names: dict[str, str]) -> list[str]:
    """``yield`` the value, then what runs after the response (or when an exception is
    thrown in)."""
    value = value_expr(spec.get("returns"), names)
    inner = [f"yield {value}"]
    error = spec.get("on_error")
    body: list[str] = inner
    if error is not None or "cleanup" in spec:
        body = ["try:", *("    " + line for line in inner)]
    if error is not None:
        seen = {**names, "error": "str(exc)", "error_type": "type(exc).__name__"}
        handling = [record_line(fixture, error["record"], seen)] if "record" in error else []
        translate = error.get("translate")
        handling.append(f"{raise_line(translate, seen)} from exc" if translate else "raise")
        body += ["except Exception as exc:", *("    " + line for line in handling)]
    if "cleanup" in spec:
        closing = []
        if spec.get("cleanup_waits"):
            closing.append(f"await recorded({lit(fixture['name'])}).pass_gate()")
        closing.append(record_line(fixture, spec["cleanup"], names))
        body += ["finally:", *("    " + line for line in closing)]
    if "cleanup_fail" in spec:
        body.append(f"raise RuntimeError({template(spec['cleanup_fail'], names)})")
    return body


def definition(fixture: dict[str, Any], name: str, declare: Declarer, app_level: bool) -> Definition:
    """The factory's module-level code. One used by the app's ``dependencies`` also runs for
    the probe route the test reads the journal through: it records nothing there."""
    spec = factory_of(fixture, name)
    kind = spec.get("kind", "function")
    if kind not in KINDS:
        raise FixtureError(f"factory {name}: unknown kind {kind!r}")
    if app_level and kind not in ("function", "async"):
        raise FixtureError(f"factory {name}: an app-level dependency is a function or async function")
    var = factory_var(fixture, name)
    doc = f'"""Dependency {name} of {fixture["name"]}."""'
    params = _parameters(fixture, spec, declare, app_level)
    if kind == "class":
        return Definition(var, _class_source(fixture, spec, var, doc, params))
    names = {p.key: p.pyname for p in params}
    if "body" in spec:  # {order.sku}: a member of the decoded body
        key = spec["body"].get("name", "body")
        for member in spec["body"]["schema"].get("properties", {}):
            names[f"{key}.{member}"] = f"{names[key]}.{identifier(member)}"
    lines = [PROBE_GUARD, "    return None"] if app_level else []
    lines += _setup(fixture, spec, names)
    if kind.endswith("generator"):
        lines += _generator_lines(fixture, spec, names)
    else:
        lines.append(f"return {value_expr(spec.get('returns'), names)}")
    head = "async def" if kind.startswith("async") else "def"
    signature = ", ".join(
        f"{p.pyname}: {p.annotation}" + (f" = {p.default}" if p.default else "") for p in params
    )
    source = [
        f"{head} {var}({signature}) -> {RETURNS.get(kind, 'Any')}:",
        f"    {doc}",
        *("    " + x for x in lines),
    ]
    return Definition(var, "\n".join(source) + "\n")


def _class_source(
    fixture: dict[str, Any], spec: dict[str, Any], var: str, doc: str, params: list[Parameter]
) -> str:
    """A dataclass whose fields are the factory's parameters; ``fields`` are computed (templates
    over the parameters) after ``__init__``, when it also records and may raise."""
    lines = ["@dataclasses.dataclass", f"class {var}:", f"    {doc}", ""]
    for p in params:
        default = f" = {p.default}" if p.default else ""
        lines.append(f"    {p.pyname}: {p.annotation}{default}")
    computed = spec.get("fields", {})
    for key in computed:
        lines.append(f"    {identifier(key)}: Any = dataclasses.field(init=False)")
    names = {p.key: f"self.{p.pyname}" for p in params}
    post = _setup(fixture, spec, names)
    post += [f"self.{identifier(key)} = {value_expr(value, names)}" for key, value in computed.items()]
    if post:
        lines += ["", "    def __post_init__(self) -> None:", *("        " + line for line in post)]
    return "\n".join(lines) + "\n"
