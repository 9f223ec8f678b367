"""Request bodies: JSON decoded by msgspec straight into the declared type, url-encoded and
multipart forms parsed into fields and uploaded files."""

from __future__ import annotations

import dataclasses
import re
import sys
import typing
import urllib.parse
from collections.abc import Callable
from typing import Annotated, Any, Optional

import msgspec
from msgspec import inspect as msgspec_inspect
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from ferroweb._convert import INVALID, constraints_of, convert_values, sequence_item, strip_optional
from ferroweb._durations import holds_duration, numbers_as_durations
from ferroweb._errors import make_error
from ferroweb._ferroweb import json_nesting_exceeds
from ferroweb._json_errors import collect_errors, errors_from_message
from ferroweb._pydantic import PydanticBody, embedded_body_model, uses_pydantic
from ferroweb._type_info import holds
from ferroweb.datastructures import Headers
from ferroweb.exceptions import HTTPException, RequestValidationError
from ferroweb.uploads import UploadFile

if typing.TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest
    from ferroweb._param_spec import ParamSpec
    from ferroweb.config import ServerConfig
    from ferroweb.routing import Route

_FORM_URLENCODED = "application/x-www-form-urlencoded"
_MULTIPART = "multipart/form-data"
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def media_type(content_type: str | None) -> str | None:
    if content_type is None:
        return None
    return content_type.partition(";")[0].strip().lower()


def is_json_media_type(media: str) -> bool:
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\";\s]*)", re.IGNORECASE)


def _check_charset(content_type: str) -> None:
    """JSON is UTF-8 (RFC 8259 section 8.1): a body declared in another charset is refused
    rather than misread."""
    if ";" not in content_type or "charset" not in content_type.lower():
        return
    match = _CHARSET.search(content_type)
    charset = match.group(1).lower() if match else ""
    if charset not in ("utf-8", "utf8"):
        raise HTTPException(
            415, f"Unsupported charset {charset!r} for a JSON body; JSON bodies must be UTF-8"
        )


def _unsupported(media: str | None, expected: str) -> HTTPException:
    shown = f"'{media}'" if media else "a body without Content-Type"
    return HTTPException(415, f"Unsupported media type {shown}; this endpoint reads {expected}")


def constrained(spec: ParamSpec, meta: Callable[..., Any]) -> Any:
    """The parameter's type with its marker's constraints (``Body(min_length=1)``) attached as
    ``meta(...)`` (``msgspec.Meta``, pydantic's ``Field``), for the decoder to check; on the
    non-None member of an optional type."""
    found = spec.marker.constraints() if spec.marker is not None else {}
    if not found:
        return spec.annotation
    bare, declared = constraints_of(spec.annotation)  # the marker's Annotated taken off
    inner = strip_optional(bare)
    wrapped: Any = Annotated[inner, meta(**{**declared, **found})]
    return wrapped if inner is bare else Optional[wrapped]  # noqa: UP045 (a runtime type)


class BodyReader:
    """The JSON body parameter(s) of one route.

    One parameter that is not ``Body(embed=True)`` is the whole body; several (or an embedded one)
    are the members of one JSON object, decoded through a Struct made for the route.
    """

    def __init__(self, route: Route, specs: list[ParamSpec], config: ServerConfig) -> None:
        self._specs = specs
        self._max_depth = config.max_json_depth
        embedded = len(specs) > 1 or getattr(specs[0].marker, "embed", False)
        self._embedded = embedded
        self._loc: tuple[str, ...] = ("body",)
        #: a body with pydantic types in it is validated by pydantic, from the bytes
        self._pydantic: PydanticBody | None = None
        if any(uses_pydantic(spec.annotation) for spec in specs):
            self._pydantic = self._pydantic_body(route, specs, embedded)
            return
        if embedded:
            fields: list[Any] = []
            for spec in specs:
                annotation = constrained(spec, msgspec.Meta)
                if spec.required:
                    fields.append((spec.name, annotation))
                else:
                    fields.append((spec.name, annotation, msgspec.field(default_factory=spec.fallback)))
            self._type: Any = msgspec.defstruct(
                f"{route.name or 'endpoint'}_body",
                fields,
                rename={spec.name: spec.key for spec in specs},
            )
        else:
            self._type = constrained(specs[0], msgspec.Meta)
        try:
            self._decoder = msgspec.json.Decoder(self._type)
        except TypeError as exc:
            raise TypeError(f"handler {route.name!r}: unsupported body type: {exc}") from None
        self._info = msgspec_inspect.type_info(self._type)
        # Walking every decoded value costs more than decoding it: only types that can hold a
        # dataclass need it.
        self._materialise = holds(self._info, msgspec_inspect.DataclassType)
        # msgspec refuses numbers for timedelta fields; pydantic (and so clients) send seconds.
        self._durations = holds_duration(self._info)

    @staticmethod
    def _pydantic_body(route: Route, specs: list[ParamSpec], embedded: bool) -> PydanticBody:
        where = f"handler {route.name!r}"
        field = sys.modules["pydantic"].Field
        if not embedded:
            return PydanticBody(constrained(specs[0], field), where)
        members = [
            (spec.name, spec.key, constrained(spec, field), spec.required, spec.fallback) for spec in specs
        ]
        return PydanticBody(embedded_body_model(f"{route.name or 'endpoint'}_body", members, where), where)

    def read(self, raw: RawRequest, errors: list[dict[str, Any]]) -> dict[str, Any]:
        """Parameter name -> value; failures go to ``errors`` (422) or raise (400, 415)."""
        body = raw.body()
        media = media_type(raw.header("content-type"))
        if not body.strip():
            return self._absent(errors)
        if media is not None and not is_json_media_type(media):
            raise _unsupported(media, "application/json")
        if media is not None:
            _check_charset(raw.header("content-type") or "")
        if json_nesting_exceeds(body, self._max_depth):
            raise self._too_deep()
        if self._pydantic is not None:
            return self._read_pydantic(self._pydantic, body, errors)
        try:
            value = self._decoder.decode(body)
        except msgspec.ValidationError as exc:
            value = self._with_durations(body) if self._durations else INVALID
            if value is INVALID:
                self._collect(body, str(exc), errors)
                return {}
        except msgspec.DecodeError as exc:
            raise _json_invalid(exc) from None
        except RecursionError:  # a max_json_depth set beyond what the decoder can recurse
            raise self._too_deep("deeper than the decoder can recurse") from None
        if self._materialise:
            _materialise(value)
        if self._embedded:
            return {spec.name: getattr(value, spec.name) for spec in self._specs}
        return {self._specs[0].name: value}

    def _read_pydantic(
        self, reader: PydanticBody, body: bytes, errors: list[dict[str, Any]]
    ) -> dict[str, Any]:
        value = reader.decode(body, errors, self._loc)
        if value is INVALID:
            return {}
        if self._embedded:
            return {spec.name: getattr(value, spec.name) for spec in self._specs}
        return {self._specs[0].name: value}

    def _too_deep(self, how: str | None = None) -> RequestValidationError:
        how = how or f"more than {self._max_depth} levels deep"
        error = make_error("json_invalid", ("body",), None, {"error": f"nested {how}"})
        return RequestValidationError([error], 400, f"JSON body nested {how}")

    def _with_durations(self, body: bytes) -> Any:
        """The body decoded again with numbers of seconds in timedelta places; INVALID when
        it still does not fit (the errors are then collected as for any other body)."""
        try:
            plain = msgspec.json.decode(body)
            return msgspec.convert(numbers_as_durations(self._info, plain), self._type)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return INVALID

    def _absent(self, errors: list[dict[str, Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for spec in self._specs:
            if spec.required:
                loc = (*self._loc, spec.key) if self._embedded else self._loc
                errors.append(make_error("missing", loc, None))
            else:
                values[spec.name] = spec.fallback()
        return values

    def _collect(self, body: bytes, message: str, errors: list[dict[str, Any]]) -> None:
        """The slow path: re-check the plain JSON member by member to report every error."""
        try:
            plain = msgspec.json.decode(body)
        except msgspec.ValidationError:  # valid JSON msgspec cannot hold as plain data (1e400)
            errors.extend(errors_from_message(message, self._loc, None))
            return
        except msgspec.DecodeError as exc:  # the typed decode stopped before the syntax error
            raise _json_invalid(exc) from None
        found: list[dict[str, Any]] = []
        collect_errors(self._info, plain, self._loc, found)
        # The walk mirrors msgspec's rules; should it ever disagree, msgspec's own message is
        # still reported rather than letting an invalid body through.
        errors.extend(found or errors_from_message(message, self._loc, plain))


class FormReader:
    """The ``Form()`` and ``File()`` parameters of one route."""

    def __init__(self, route: Route, specs: list[ParamSpec], config: ServerConfig) -> None:
        self._specs = specs
        self._config = config
        model_uploads = [
            key for spec in specs if spec.form_model is not None for key in spec.form_model.upload_keys
        ]
        self._has_files = any(spec.source == "file" for spec in specs) or bool(model_uploads)
        #: parts read as files even when sent without a filename
        self._file_keys = frozenset([*(spec.key for spec in specs if spec.source == "file"), *model_uploads])
        for spec in specs:
            if spec.source == "file":
                item = sequence_item(spec.annotation)
                spec.many = item is not None
                target = strip_optional(constraints_of(strip_optional(item or spec.annotation))[0])
                if target not in (UploadFile, bytes):
                    raise TypeError(
                        f"handler {route.name!r}: file parameter {spec.name!r} must be UploadFile or bytes"
                    )

    def read(self, raw: RawRequest, errors: list[dict[str, Any]]) -> dict[str, Any]:
        media = media_type(raw.header("content-type"))
        body = raw.body()
        fields: dict[str, list[str]] = {}
        files: dict[str, list[UploadFile]] = {}
        if media == _FORM_URLENCODED and not self._has_files:
            fields = self._parse_urlencoded(body)
        elif media == _MULTIPART:
            fields, files = self._parse_multipart(raw.header("content-type") or "", body)
        elif body or media is not None:  # files need multipart; other types are not forms
            expected = _MULTIPART if self._has_files else f"{_FORM_URLENCODED} or {_MULTIPART}"
            raise _unsupported(media, expected)
        values: dict[str, Any] = {}
        for spec in self._specs:
            if spec.form_model is not None:
                values[spec.name] = spec.form_model.read(fields, files, errors)
            elif spec.source == "form":
                values[spec.name] = convert_values(spec, _form_values(spec, fields), errors)
            else:
                values[spec.name] = self._file_value(spec, files.get(spec.key), errors)
        return values

    def _file_value(self, spec: ParamSpec, uploads: list[UploadFile] | None, errors: list[Any]) -> Any:
        if not uploads:
            if spec.required:
                errors.append(make_error("missing", spec.loc, None))
                return INVALID
            return spec.fallback()
        target = sequence_item(spec.annotation) or spec.annotation
        wants_bytes = strip_optional(constraints_of(strip_optional(target))[0]) is bytes
        chosen = uploads if spec.many else [uploads[-1]]
        if wants_bytes:
            contents = []
            for upload in chosen:
                upload.file.seek(0)
                contents.append(upload.file.read())
            return contents if spec.many else contents[0]
        return chosen if spec.many else chosen[0]

    def _parse_urlencoded(self, body: bytes) -> dict[str, list[str]]:
        if len(body) > self._config.max_form_field_size * max(1, self._config.max_form_parts):
            raise HTTPException(413, "Form body too large")
        try:
            pairs = urllib.parse.parse_qsl(
                body.decode("latin-1"),
                keep_blank_values=True,
                encoding="utf-8",
                errors="replace",
                max_num_fields=self._config.max_form_parts,
            )
        except ValueError:
            raise HTTPException(413, f"Form has more than {self._config.max_form_parts} fields") from None
        fields: dict[str, list[str]] = {}
        for key, value in pairs:
            if len(value) > self._config.max_form_field_size:
                raise HTTPException(413, f"Form field {key!r} is too large")
            fields.setdefault(key, []).append(value)
        return fields

    def _parse_multipart(
        self, content_type: str, body: bytes
    ) -> tuple[dict[str, list[str]], dict[str, list[UploadFile]]]:
        _, options = parse_options_header(content_type)
        boundary = options.get(b"boundary")
        if not boundary:
            raise _multipart_invalid("the Content-Type has no boundary")
        collector = _MultipartCollector(self._config, self._file_keys)
        parser = MultipartParser(boundary, typing.cast(Any, collector.callbacks()))
        try:
            parser.write(body)
            parser.finalize()
        except MultipartParseError as exc:
            collector.close_files()
            raise _multipart_invalid(str(exc)) from None
        except HTTPException:
            collector.close_files()
            raise
        if not collector.finished:
            collector.close_files()
            raise _multipart_invalid("the body ends before the closing boundary")
        return collector.fields, collector.files


def _form_values(spec: ParamSpec, fields: dict[str, list[str]]) -> list[str] | None:
    """A field's values; a list field also takes ``name[]`` keys."""
    return form_list_values(fields, spec.key) if spec.many else fields.get(spec.key)


def form_list_values(fields: dict[str, list[str]], key: str) -> list[str] | None:
    """Every value of a list field: plain ``key`` ones, then ``key[]`` ones (as PHP, Rails
    and jQuery's ``$.param`` send arrays)."""
    values = fields.get(key)
    bracketed = fields.get(key + "[]")
    if bracketed is None:
        return values
    return [*values, *bracketed] if values else bracketed


def _json_invalid(exc: msgspec.DecodeError) -> RequestValidationError:
    error = make_error("json_invalid", ("body",), None, {"error": str(exc)})
    return RequestValidationError([error], 400, "Malformed JSON body")


def _materialise(value: Any) -> Any:
    """msgspec leaves a decoded dataclass's defaulted fields on the class, not the instance, so
    encoding it again would drop them: copy them onto the instance (nested ones too)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            current = getattr(value, field.name)
            if field.name not in value.__dict__:
                setattr(value, field.name, current)
            _materialise(current)
    elif isinstance(value, list):
        for item in value:
            _materialise(item)
    elif isinstance(value, msgspec.Struct):
        for name in value.__struct_fields__:
            _materialise(getattr(value, name))
    return value


def _multipart_invalid(reason: str) -> RequestValidationError:
    error = make_error("multipart_invalid", ("body",), None, {"error": reason})
    return RequestValidationError([error], 400, "Malformed multipart body")


def sanitise_filename(filename: str) -> str:
    """The last path component, without control characters (a client's path is not ours)."""
    name = _CONTROL_CHARACTERS.sub("", filename.replace("\\", "/").rsplit("/", 1)[-1]).strip()
    return name if name not in ("", ".", "..") else ""


class _MultipartCollector:
    """Receives python-multipart's callbacks: headers per part, then the part's data in chunks."""

    def __init__(self, config: ServerConfig, file_keys: frozenset[str] = frozenset()) -> None:
        self._config = config
        self._file_keys = file_keys
        self.fields: dict[str, list[str]] = {}
        self.files: dict[str, list[UploadFile]] = {}
        self.finished = False
        self._parts = 0
        self._header_name = b""
        self._header_value = b""
        self._headers: list[tuple[str, str]] = []
        self._disposition: bytes | None = None
        self._name = ""
        self._field_data = bytearray()
        self._file: UploadFile | None = None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_part_begin": self._on_part_begin,
            "on_header_field": self._on_header_field,
            "on_header_value": self._on_header_value,
            "on_header_end": self._on_header_end,
            "on_headers_finished": self._on_headers_finished,
            "on_part_data": self._on_part_data,
            "on_part_end": self._on_part_end,
            "on_end": self._on_end,
        }

    def close_files(self) -> None:
        for uploads in self.files.values():
            for upload in uploads:
                upload.file.close()
        if self._file is not None:
            self._file.file.close()

    def _on_part_begin(self) -> None:
        self._parts += 1
        if self._parts > self._config.max_form_parts:
            raise HTTPException(413, f"Multipart body has more than {self._config.max_form_parts} parts")
        self._headers = []
        self._disposition = None
        self._field_data = bytearray()
        self._file = None
        self._name = ""

    def _on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def _on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def _on_header_end(self) -> None:
        name = self._header_name.decode("latin-1").lower()
        if name == "content-disposition" and self._disposition is None:
            # Kept as bytes: names and filenames are UTF-8 (RFC 7578 section 5.1), and the
            # option parser would encode a str as Latin-1 and fail on anything else.
            self._disposition = bytes(self._header_value)
        self._headers.append((name, self._header_value.decode("utf-8", "replace")))
        self._header_name = b""
        self._header_value = b""

    def _on_headers_finished(self) -> None:
        headers = Headers(self._headers)
        disposition = self._disposition
        if disposition is None:
            raise MultipartParseError("a part has no Content-Disposition header")
        _, options = parse_options_header(disposition)
        name = options.get(b"name")
        if name is None:
            raise MultipartParseError("a part's Content-Disposition has no name")
        self._name = name.decode("utf-8", "replace")
        filename = options.get(b"filename")
        # A part for a file parameter is a file even without a filename (some clients send
        # none for generated content); its filename is then None.
        if filename is not None or self._name in self._file_keys:
            self._file = UploadFile.spooled(
                filename=None if filename is None else sanitise_filename(filename.decode("utf-8", "replace")),
                content_type=headers.get("content-type", "application/octet-stream"),
                headers=headers,
            )

    def _on_part_data(self, data: bytes, start: int, end: int) -> None:
        chunk = data[start:end]
        upload = self._file
        if upload is None:
            if len(self._field_data) + len(chunk) > self._config.max_form_field_size:
                raise HTTPException(413, f"Form field {self._name!r} is too large")
            self._field_data += chunk
            return
        size = (upload.size or 0) + len(chunk)
        limit = self._config.max_upload_file_size
        if limit is not None and size > limit:
            raise HTTPException(413, f"Uploaded file {upload.filename!r} is larger than {limit} bytes")
        upload.file.write(chunk)
        upload.size = size

    def _on_part_end(self) -> None:
        if self._file is not None:
            self._file.file.seek(0)
            self.files.setdefault(self._name, []).append(self._file)
            self._file = None
        else:
            self.fields.setdefault(self._name, []).append(self._field_data.decode("utf-8", "replace"))

    def _on_end(self) -> None:
        self.finished = True


__all__ = ["BodyReader", "FormReader", "form_list_values", "is_json_media_type", "media_type"]
