"""Form models: ``Annotated[Model, Form()]`` reads a whole form into a msgspec Struct, a
dataclass or a TypedDict (FastAPI's form models).

Each field is read from the form key its encoded name gives (lists from every occurrence, and
from ``name[]`` keys) and converted by the same string rules as any form parameter; a field
typed ``UploadFile`` (or a list of them) takes the file parts of its name. A Struct declared
with ``forbid_unknown_fields=True`` refuses keys it does not declare (``extra_forbidden``,
422), as it would refuse them in a JSON body.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb._body import form_list_values
from ferroweb._convert import (
    INVALID,
    Converter,
    compile_from_str,
    constraints_of,
    sequence_item,
    strip_optional,
)
from ferroweb._errors import make_error
from ferroweb._pydantic import PydanticFormModel, is_pydantic_class
from ferroweb.uploads import UploadFile


@dataclasses.dataclass
class _Field:
    name: str
    key: str
    required: bool
    many: bool
    upload: bool
    convert: Converter | None


def is_form_model(annotation: Any) -> bool:
    """Structs, dataclasses, TypedDicts and pydantic models: what ``Form()`` reads a whole
    form into."""
    bare = strip_optional(constraints_of(strip_optional(annotation))[0])
    if not inspect.isclass(bare):
        return False
    return (
        issubclass(bare, msgspec.Struct)
        or dataclasses.is_dataclass(bare)
        or typing.is_typeddict(bare)
        or is_pydantic_class(bare)
    )


def form_model(annotation: Any, where: str) -> FormModel | PydanticFormModel:
    """The reader of a form model (``is_form_model``), compiled once per route."""
    bare = strip_optional(constraints_of(strip_optional(annotation))[0])
    if is_pydantic_class(bare):
        return PydanticFormModel(bare)
    return FormModel(annotation, where)


def _declared_fields(model: Any) -> list[tuple[str, str, Any, bool]]:
    """(name, form key, annotation, required) of each field of ``model``."""
    if issubclass(model, msgspec.Struct):
        return [(f.name, f.encode_name, f.type, f.required) for f in msgspec.structs.fields(model)]
    hints = typing.get_type_hints(model, include_extras=True)
    if dataclasses.is_dataclass(model):
        missing = dataclasses.MISSING
        return [
            (f.name, f.name, hints[f.name], f.default is missing and f.default_factory is missing)
            for f in dataclasses.fields(model)
        ]
    required_keys = getattr(model, "__required_keys__", frozenset(hints))
    return [(name, name, hint, name in required_keys) for name, hint in hints.items()]


def _is_upload(annotation: Any) -> bool:
    target = strip_optional(constraints_of(strip_optional(annotation))[0])
    return inspect.isclass(target) and issubclass(target, UploadFile)


class FormModel:
    """Reads one form into one model; compiled once per route."""

    def __init__(self, annotation: Any, where: str) -> None:
        self.model: Any = strip_optional(constraints_of(strip_optional(annotation))[0])
        config = getattr(self.model, "__struct_config__", None)
        self._forbid_unknown = bool(getattr(config, "forbid_unknown_fields", False))
        self._fields: list[_Field] = []
        for name, key, field_type, required in _declared_fields(self.model):
            item = sequence_item(field_type)
            target = item if item is not None else field_type
            upload = _is_upload(target)
            try:
                convert = None if upload else compile_from_str(target)
            except TypeError as exc:
                raise TypeError(f"{where}: form model field {name!r}: {exc}") from None
            self._fields.append(_Field(name, key, required, item is not None, upload, convert))
        #: form keys read as file parts
        self.upload_keys = [f.key for f in self._fields if f.upload]
        self._known = frozenset(
            k for f in self._fields for k in ((f.key, f.key + "[]") if f.many else (f.key,))
        )
        self._build: Callable[..., Any] = dict if typing.is_typeddict(self.model) else self.model

    def read(
        self,
        fields: dict[str, list[str]],
        files: dict[str, list[UploadFile]],
        errors: list[dict[str, Any]],
    ) -> Any:
        """The model, or INVALID with the reasons appended to ``errors`` (at ``body.<key>``)."""
        found: list[dict[str, Any]] = []
        values: dict[str, Any] = {}
        for field in self._fields:
            value = self._value(field, fields, files, found)
            if value is not _ABSENT:
                values[field.name] = value
        if self._forbid_unknown:
            for key in [*fields, *files]:
                if key not in self._known:
                    sent: list[Any] = fields.get(key) or [upload.filename for upload in files.get(key, [])]
                    found.append(make_error("extra_forbidden", ("body", key), sent[-1] if sent else None))
        if found:
            errors.extend(found)
            return INVALID
        return self._build(**values)

    def _value(
        self,
        field: _Field,
        fields: dict[str, list[str]],
        files: dict[str, list[UploadFile]],
        errors: list[dict[str, Any]],
    ) -> Any:
        loc = ("body", field.key)
        if field.upload:
            uploads = files.get(field.key) or []
            if not uploads:
                return self._absent(field, loc, errors)
            return uploads if field.many else uploads[-1]
        raw = form_list_values(fields, field.key) if field.many else fields.get(field.key)
        if not raw:
            return self._absent(field, loc, errors)
        convert = field.convert
        assert convert is not None
        if not field.many:
            return convert(raw[-1], loc, errors)
        converted = [convert(value, (*loc, index), errors) for index, value in enumerate(raw)]
        return INVALID if any(item is INVALID for item in converted) else converted

    @staticmethod
    def _absent(field: _Field, loc: tuple[str, str], errors: list[dict[str, Any]]) -> Any:
        if field.required:
            errors.append(make_error("missing", loc, None))
            return INVALID
        return _ABSENT


#: A field the form does not give: the model's own default applies.
_ABSENT = object()

__all__ = ["FormModel", "form_model", "is_form_model"]
