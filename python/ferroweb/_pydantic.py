"""pydantic v2 models wherever msgspec types go: JSON bodies, form models, response models.

pydantic is an optional dependency and this module never imports it on its own: a type can
only be a pydantic one when the application has imported pydantic already, so the test is
``sys.modules`` first. msgspec stays the default for everything else.

Validation failures become the same error records as msgspec's (pydantic's ``type``, ``loc``
and ``msg`` are already that vocabulary), placed under ``body``.
"""

from __future__ import annotations

import sys
import typing
from collections.abc import Callable
from typing import Any

import msgspec

from ferroweb._convert import INVALID, constraints_of, sequence_item, strip_optional
from ferroweb._errors import Loc, make_error
from ferroweb.exceptions import RequestValidationError
from ferroweb.uploads import UploadFile


def _pydantic() -> Any:
    return sys.modules.get("pydantic")


def is_pydantic_class(value: Any) -> bool:
    """A ``BaseModel`` subclass or a pydantic dataclass (both carry a compiled validator)."""
    return isinstance(value, type) and hasattr(value, "__pydantic_validator__") and _pydantic() is not None


def uses_pydantic(annotation: Any) -> bool:
    """Whether ``annotation`` needs pydantic to validate: it is, or holds, a pydantic model,
    or carries pydantic ``Field(...)`` metadata (``Annotated[list[int], Field(min_length=1)]``)."""
    pydantic = _pydantic()
    return pydantic is not None and _holds_pydantic(annotation, pydantic, fields=True)


def holds_pydantic_model(annotation: Any) -> bool:
    """Whether ``annotation`` is, or holds, a pydantic model (what makes it a JSON body)."""
    pydantic = _pydantic()
    return pydantic is not None and _holds_pydantic(annotation, pydantic, fields=False)


def _holds_pydantic(annotation: Any, pydantic: Any, fields: bool, depth: int = 0) -> bool:
    if depth > 16:  # a recursive alias: whatever it holds was seen higher up
        return False
    if isinstance(annotation, type) and hasattr(annotation, "__pydantic_validator__"):
        return True
    if fields and typing.get_origin(annotation) is typing.Annotated:
        metadata = typing.get_args(annotation)[1:]
        if any(isinstance(extra, pydantic.fields.FieldInfo) for extra in metadata):
            return True
    return any(_holds_pydantic(arg, pydantic, fields, depth + 1) for arg in typing.get_args(annotation))


def _holds_upload(annotation: Any) -> bool:
    item = sequence_item(annotation)
    target = strip_optional(constraints_of(strip_optional(annotation if item is None else item))[0])
    return isinstance(target, type) and issubclass(target, UploadFile)


def adapter(annotation: Any, where: str) -> Any:
    """A ``TypeAdapter`` for ``annotation``; a TypeError naming ``where`` if pydantic cannot
    make one."""
    pydantic = _pydantic()
    try:
        return pydantic.TypeAdapter(annotation)
    except pydantic.PydanticSchemaGenerationError as exc:
        raise TypeError(f"{where}: pydantic cannot validate {annotation!r}: {exc}") from None


def json_schema(annotation: Any, ref_template: str = "#/$defs/{model}") -> dict[str, Any]:
    """The JSON Schema of a pydantic type (``model_json_schema`` for a model), for documents
    that describe the API; nested models are referenced through ``ref_template``."""
    if isinstance(annotation, type) and hasattr(annotation, "model_json_schema"):
        schema = dict(annotation.model_json_schema(ref_template=ref_template))
    else:
        schema = dict(_pydantic().TypeAdapter(annotation).json_schema(ref_template=ref_template))
    if ref_template != "#/$defs/{model}" and isinstance(annotation, type) and "title" in schema:
        # the model itself becomes a component too, referenced like the models it nests
        name = annotation.__name__
        defs = schema.pop("$defs", {})
        defs[name] = schema
        return {"$ref": ref_template.format(model=name), "$defs": defs}
    return schema


def errors_of(exc: Any, prefix: Loc) -> list[dict[str, Any]]:
    """A pydantic ``ValidationError`` as our error records, each ``loc`` under ``prefix``."""
    records = []
    for error in exc.errors(include_url=False):
        ctx = error.get("ctx")
        if ctx:
            # a custom validator's ValueError sits in ctx: sent as its message
            ctx = {key: value if _plain(value) else str(value) for key, value in ctx.items()}
        record = make_error(error["type"], (*prefix, *error["loc"]), _sendable(error.get("input")), ctx)
        record["msg"] = error["msg"]  # pydantic's own wording, custom messages included
        records.append(record)
    return records


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _sendable(value: Any) -> Any:
    """An error's input as JSON can carry it (an uploaded file by its name)."""
    try:
        msgspec.json.encode(value)
    except (TypeError, ValueError, OverflowError):
        filename = getattr(value, "filename", None)
        return filename if isinstance(filename, str) else repr(value)
    return value


class PydanticBody:
    """A JSON body validated by pydantic straight from the request bytes."""

    def __init__(self, annotation: Any, where: str) -> None:
        # a bare model validates itself; anything else (Item | None, list[Item]) needs an adapter
        validate = getattr(annotation, "model_validate_json", None) if is_pydantic_class(annotation) else None
        self._validate: Callable[[bytes], Any] = validate or adapter(annotation, where).validate_json
        self._pydantic = _pydantic()

    def decode(self, body: bytes, errors: list[dict[str, Any]], loc: Loc) -> Any:
        """The value; on failure, records appended to ``errors`` and INVALID returned. A body
        that is not JSON at all is a 400."""
        try:
            return self._validate(body)
        except self._pydantic.ValidationError as exc:
            found = errors_of(exc, loc)
            syntax = [record for record in found if record["type"] == "json_invalid"]
            if syntax:
                record = make_error("json_invalid", ("body",), None, {"error": syntax[0]["ctx"]["error"]})
                raise RequestValidationError([record], 400, "Malformed JSON body") from None
            errors.extend(found)
            return INVALID


def embedded_body_model(
    name: str, fields: list[tuple[str, str, Any, bool, Callable[[], Any]]], where: str
) -> Any:
    """A model for a body whose members are several parameters (or one embedded one):
    (parameter name, JSON key, annotation, required, default factory) each."""
    pydantic = _pydantic()
    definitions: dict[str, Any] = {}
    for field_name, key, annotation, required, fallback in fields:
        extra = {} if required else {"default_factory": fallback}
        definitions[field_name] = (annotation, pydantic.Field(alias=key, **extra))
    try:
        return pydantic.create_model(name, **definitions)
    except pydantic.PydanticSchemaGenerationError as exc:
        raise TypeError(f"{where}: pydantic cannot validate the body members: {exc}") from None


class PydanticFormModel:
    """A form read into a pydantic model: the form's values (strings, lists of strings for
    list fields, uploaded files) validated by the model, in pydantic's lax mode, which parses
    the strings. Unknown keys are the model's business (``extra="forbid"`` refuses them)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self._pydantic = _pydantic()
        #: form key -> whether it takes every value (a list field)
        self._lists: dict[str, bool] = {}
        self.upload_keys: list[str] = []
        self._validate = adapter(model, f"form model {model.__name__}").validate_python
        declared = getattr(model, "__pydantic_fields__", None) or model.model_fields
        for field_name, info in declared.items():
            key = (
                info.validation_alias if isinstance(info.validation_alias, str) else info.alias or field_name
            )
            self._lists[key] = sequence_item(info.annotation) is not None
            if _holds_upload(info.annotation):
                self.upload_keys.append(key)

    def read(
        self, fields: dict[str, list[str]], files: dict[str, list[UploadFile]], errors: list[dict[str, Any]]
    ) -> Any:
        data: dict[str, Any] = {}
        for source in (fields, files):
            for key, values in source.items():
                plain = key[:-2] if key.endswith("[]") and key[:-2] in self._lists else key
                if self._lists.get(plain, False):
                    data.setdefault(plain, []).extend(values)
                else:
                    data[plain] = values[-1]
        try:
            return self._validate(data)
        except self._pydantic.ValidationError as exc:
            errors.extend(errors_of(exc, ("body",)))
            return INVALID


class PydanticResponse:
    """A return value sent as the declared pydantic type: validated first (from attributes,
    which also drops members the type does not declare) unless it already is an instance of
    the declared model, then serialised to JSON by pydantic in one step, by alias (as
    FastAPI's ``response_model_by_alias`` default)."""

    def __init__(self, model: Any, where: str) -> None:
        self._adapter = adapter(model, where)
        # a class, not a parameterised alias such as list[Item] (which 3.10 calls a type)
        self._model = model if isinstance(model, type) and typing.get_origin(model) is None else None
        self._pydantic = _pydantic()

    def __call__(self, result: Any) -> msgspec.Raw:
        """The JSON, as a ``msgspec.Raw`` the responder sends as it is."""
        if self._model is None or not isinstance(result, self._model):
            result = self._adapter.validate_python(result, from_attributes=True)
        return msgspec.Raw(self._adapter.dump_json(result, by_alias=True))

    @property
    def validation_error(self) -> type[Exception]:
        return typing.cast("type[Exception]", self._pydantic.ValidationError)


def encode_fallback(value: Any) -> Any:
    """msgspec's ``enc_hook`` for the responder: a pydantic model returned without a declared
    response model is sent as pydantic serialises it."""
    serializer = getattr(value, "__pydantic_serializer__", None)
    if serializer is not None and _pydantic() is not None:
        return msgspec.Raw(serializer.to_json(value, by_alias=True))
    raise TypeError(f"Encoding objects of type {type(value).__name__} is unsupported")


__all__ = [
    "PydanticBody",
    "PydanticFormModel",
    "PydanticResponse",
    "embedded_body_model",
    "encode_fallback",
    "errors_of",
    "holds_pydantic_model",
    "is_pydantic_class",
    "json_schema",
    "uses_pydantic",
]
