"""JSON Schema -> Python types for tools/generate_e2e.py: the annotations of the generated
handlers' parameters, and the classes (msgspec Structs, dataclasses, TypedDicts, pydantic models,
Enums) that the object and enum schemas of a fixture become, collected per app module by
``ModuleWriter``."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from e2e_source import FixtureError, identifier, kwargs, lit, member_name, pascal

SCALARS = {"integer": "int", "number": "float", "string": "str", "boolean": "bool"}
FORMATS = {
    "uuid": "uuid.UUID",
    "date": "datetime.date",
    "date-time": "datetime.datetime",
    "time": "datetime.time",
    "duration": "datetime.timedelta",
    "decimal": "decimal.Decimal",
    "binary": "UploadFile",
}
CONSTRAINTS = {
    "minimum": "ge",
    "maximum": "le",
    "exclusiveMinimum": "gt",
    "exclusiveMaximum": "lt",
    "multipleOf": "multiple_of",
    "minLength": "min_length",
    "maxLength": "max_length",
    "pattern": "pattern",
    "minItems": "min_length",
    "maxItems": "max_length",
}
DEFAULT_FACTORIES = {"list": "list", "dict": "dict", "str": "str", "int": "int"}

# -- JSON Schema -> Python types ----------------------------------------------------------------


def schema_types(schema: dict[str, Any]) -> tuple[list[str], bool]:
    """The schema's non-null JSON types, and whether null is allowed."""
    declared = schema.get("type")
    if declared is None:
        types: list[str] = []
    elif isinstance(declared, str):
        types = [declared]
    else:
        types = list(declared)
    nullable = "null" in types or None in schema.get("enum", [object()])
    return [t for t in types if t != "null"], nullable


def constraints(schema: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for key, name in CONSTRAINTS.items():
        if key in schema and name not in {n for n, _ in found}:
            found.append((name, lit(schema[key])))
    return found


def involves_upload(schema: dict[str, Any]) -> bool:
    if schema.get("format") == "binary":
        return True
    items = schema.get("items")
    return isinstance(items, dict) and involves_upload(items)


@dataclass
class ClassDef:
    name: str
    signature: str  # the source with the class name left out, to share identical definitions
    source: str


@dataclass
class ModuleWriter:
    """Collects the generated classes of one app module."""

    classes: list[ClassDef] = field(default_factory=list)
    taken: set[str] = field(default_factory=set)  # names already bound in the module
    # the container of objects without an x-container: a pydantic model's members are
    # pydantic models too (pydantic cannot validate a msgspec Struct)
    inherited: str = "struct"

    # Classes are shared between fixtures of a module when their definitions are identical;
    # a title used by two different definitions gets a numbered name.
    def register(self, wanted: str, render: Any) -> str:
        signature = render("@@NAME@@")
        for existing in self.classes:
            if existing.signature == signature and re.fullmatch(rf"{wanted}\d*", existing.name):
                return existing.name
        name = wanted if wanted not in self.taken else ""
        counter = 2
        while not name:
            if f"{wanted}{counter}" not in self.taken:
                name = f"{wanted}{counter}"
            counter += 1
        self.taken.add(name)
        self.classes.append(ClassDef(name, signature, render(name)))
        return name

    def core_type(self, schema: dict[str, Any], hint: str) -> str:
        """The Python type of a schema, without its null-ness and top-level constraints."""
        if "const" in schema:
            return f"Literal[{lit(schema['const'])}]"
        if "enum" in schema:
            values = [v for v in schema["enum"] if v is not None]
            if "x-enum-class" in schema:
                return self.enum_class(schema["x-enum-class"], values)
            return "Literal[" + ", ".join(lit(v) for v in values) + "]"
        types, nullable = schema_types(schema)
        if not types:
            if nullable and "type" in schema:
                return "None"  # type: "null"
            if "properties" in schema:
                types = ["object"]
            elif "items" in schema:
                types = ["array"]
            elif schema.get("format") in FORMATS:
                types = ["string"]
            else:
                return "Any"
        return " | ".join(self.single_type(t, schema, hint) for t in types)

    def single_type(self, json_type: str, schema: dict[str, Any], hint: str) -> str:
        fmt = schema.get("format")
        if fmt in FORMATS and json_type in ("string", "number"):
            return FORMATS[fmt]
        if json_type in SCALARS:
            return SCALARS[json_type]
        if json_type == "array":
            items = schema.get("items")
            return f"list[{self.nested_type(items, hint + 'Item')}]" if items else "list[Any]"
        if json_type == "object":
            if schema.get("properties"):
                return self.object_class(schema, hint)
            return "dict[str, Any]"
        raise FixtureError(f"unsupported JSON type {json_type!r}")

    def nested_type(self, schema: dict[str, Any], hint: str, *, optional: bool = False) -> str:
        """The type of a list item or an object member: constraints as ``msgspec.Meta``."""
        result = self.core_type(schema, hint)
        found = constraints(schema)
        if found:
            meta = "pydantic.Field" if self.inherited == "pydantic" else "msgspec.Meta"
            result = f"Annotated[{result}, {meta}({kwargs(found)})]"
        _, nullable = schema_types(schema)
        if (nullable or optional) and result not in ("None", "Any"):
            result += " | None"
        return result

    def enum_class(self, name: str, values: list[Any]) -> str:
        def render(class_name: str) -> str:
            members = []
            used: set[str] = set()
            for value in values:
                member = member_name(value)
                while member in used:
                    member += "_"
                used.add(member)
                members.append(f"    {member} = {lit(value)}")
            return f"class {class_name}(enum.Enum):\n" + "\n".join(members) + "\n"

        return self.register(pascal(name), render)

    def object_class(self, schema: dict[str, Any], hint: str) -> str:
        container = schema.get("x-container", self.inherited)
        outer, self.inherited = self.inherited, "pydantic" if container == "pydantic" else "struct"
        try:
            return self._object_class(schema, hint, container)
        finally:
            self.inherited = outer

    def _object_class(self, schema: dict[str, Any], hint: str, container: str) -> str:
        wanted = pascal(schema.get("title") or hint)
        required = schema.get("required", [])
        required = required if isinstance(required, list) else []
        members: list[tuple[str, str, str | None, str]] = []  # python name, type, default, key
        for key, prop in schema["properties"].items():
            prop = prop or {}
            is_required = key in required or prop.get("required") is True
            has_default = "default" in prop or "default_factory" in prop
            # an optional member without a default is None when absent (a TypedDict leaves it out)
            optional = not is_required and not has_default and container != "typeddict"
            annotation = self.nested_type(prop, wanted + pascal(key), optional=optional)
            if "default_factory" in prop:
                default: str | None = f"@factory:{DEFAULT_FACTORIES[prop['default_factory']]}"
            elif "default" in prop:
                default = self.default_value(prop["default"], prop, annotation)
            elif optional:
                default = "None"
            elif not is_required:
                default = "@absent"  # TypedDict: not required, no default
            else:
                default = None
            members.append((identifier(key), annotation, default, key))
        if container == "struct":
            return self.register(wanted, lambda name: self.struct_source(name, schema, members))
        if container == "dataclass":
            return self.register(wanted, lambda name: self.dataclass_source(name, members))
        if container == "typeddict":
            return self.register(wanted, lambda name: self.typeddict_source(name, members))
        if container == "pydantic":
            return self.register(wanted, lambda name: self.pydantic_source(name, schema, members))
        raise FixtureError(f"unknown x-container {container!r}")

    def default_value(self, value: Any, schema: dict[str, Any], annotation: str) -> str:
        """A default: a literal, ``@factory:<expr>`` for a mutable one, or a conversion."""
        if value is None:
            return "None"
        if isinstance(value, list) and not value:
            return "@factory:list"
        if isinstance(value, (list, dict)):
            return f"@factory:lambda: msgspec.convert({lit(value)}, {annotation})"
        if "x-enum-class" in schema and "enum" in schema:
            return f"{self.core_type(schema, 'Enum')}({lit(value)})"
        if schema.get("format") in FORMATS and schema["format"] != "binary":
            return f"msgspec.convert({lit(value)}, {FORMATS[schema['format']]})"
        return lit(value)

    @staticmethod
    def ordered(members: list[tuple[str, str, str | None, str]]) -> bool:
        """True when every member with a default comes after those without."""
        seen_default = False
        for _, _, default, _ in members:
            if default is None and seen_default:
                return False
            seen_default = seen_default or default is not None
        return True

    def struct_source(self, name: str, schema: dict[str, Any], members: list[Any]) -> str:
        options: list[tuple[str, str]] = []
        if schema.get("additionalProperties") is False:
            options.append(("forbid_unknown_fields", "True"))
        if not self.ordered(members):
            options.append(("kw_only", "True"))
        if "x-rename" in schema:
            options.append(("rename", lit(schema["x-rename"])))
        bases = ", ".join(["msgspec.Struct", *(f"{k}={v}" for k, v in options)])
        lines = [f"class {name}({bases}):"]
        for pyname, annotation, default, key in members:
            field_options: list[tuple[str, str]] = []
            if pyname != key:
                field_options.append(("name", lit(key)))
            if default is not None and default.startswith("@factory:"):
                field_options.append(("default_factory", default.removeprefix("@factory:")))
            elif default is not None and field_options:
                field_options.append(("default", default))
            if field_options:
                lines.append(f"    {pyname}: {annotation} = msgspec.field({kwargs(field_options)})")
            elif default is not None:
                lines.append(f"    {pyname}: {annotation} = {default}")
            else:
                lines.append(f"    {pyname}: {annotation}")
        if not members:
            lines.append("    pass")
        return "\n".join(lines) + "\n"

    def dataclass_source(self, name: str, members: list[Any]) -> str:
        decorator = (
            "@dataclasses.dataclass" if self.ordered(members) else "@dataclasses.dataclass(kw_only=True)"
        )
        lines = [decorator, f"class {name}:"]
        for pyname, annotation, default, key in members:
            if pyname != key:
                raise FixtureError(f"dataclass member {key!r} is not a Python identifier")
            if default is not None and default.startswith("@factory:"):
                factory = default.removeprefix("@factory:")
                lines.append(f"    {pyname}: {annotation} = dataclasses.field(default_factory={factory})")
            elif default is not None:
                lines.append(f"    {pyname}: {annotation} = {default}")
            else:
                lines.append(f"    {pyname}: {annotation}")
        if not members:
            lines.append("    pass")
        return "\n".join(lines) + "\n"

    def pydantic_source(self, name: str, schema: dict[str, Any], members: list[Any]) -> str:
        if "x-rename" in schema:
            raise FixtureError("x-rename is for msgspec Structs; a pydantic model names its keys")
        lines = [f"class {name}(pydantic.BaseModel):"]
        if schema.get("additionalProperties") is False:
            lines.append('    model_config = pydantic.ConfigDict(extra="forbid")')
        for pyname, annotation, default, key in members:
            field_options: list[tuple[str, str]] = []
            if pyname != key:
                field_options.append(("alias", lit(key)))
            if default is not None and default.startswith("@factory:"):
                field_options.append(("default_factory", default.removeprefix("@factory:")))
            elif default is not None:
                field_options.append(("default", default))
            if field_options:
                lines.append(f"    {pyname}: {annotation} = pydantic.Field({kwargs(field_options)})")
            else:
                lines.append(f"    {pyname}: {annotation}")
        if len(lines) == 1:
            lines.append("    pass")
        return "\n".join(lines) + "\n"

    def typeddict_source(self, name: str, members: list[Any]) -> str:
        for pyname, _, _, key in members:
            if pyname != key:
                raise FixtureError(f"TypedDict member {key!r} is not a Python identifier")
        required = [m for m in members if m[2] is None]
        optional = [m for m in members if m[2] is not None]

        def body(group: list[Any]) -> list[str]:
            # TypedDicts have no defaults: a member with one is simply not required.
            return [f"    {pyname}: {annotation}" for pyname, annotation, _, _ in group] or ["    pass"]

        if not optional:
            return f"class {name}(TypedDict):\n" + "\n".join(body(required)) + "\n"
        if not required:
            return f"class {name}(TypedDict, total=False):\n" + "\n".join(body(optional)) + "\n"
        return (
            f"class _{name}Required(TypedDict):\n"
            + "\n".join(body(required))
            + f"\n\n\nclass {name}(_{name}Required, total=False):\n"
            + "\n".join(body(optional))
            + "\n"
        )
