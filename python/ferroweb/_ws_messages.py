"""The message types a WebSocket route declares: ``@app.websocket(path, receives=In, sends=Out)``.

When declared, ``receive_json`` decodes each message straight into ``In`` (one msgspec call,
or pydantic's ``validate_json`` for pydantic models): a message that does not match closes the
connection with 1007, as invalid JSON does, since the peer broke the declared protocol.
``send_json`` checks what the handler sends against ``Out`` before it is queued; a mismatch is
the server's bug, so it raises ``ResponseValidationError`` in the handler (which, uncaught,
closes with 1011 and is logged) instead of sending the peer something undocumented.
"""

from __future__ import annotations

import typing
from typing import Any

import msgspec

from ferroweb._pydantic import PydanticResponse, adapter, encode_fallback, holds_pydantic_model
from ferroweb.exceptions import ResponseValidationError

#: A close frame's reason is at most 123 bytes (RFC 6455 §5.5: 125 with the code).
_MAX_REASON = 123


class MessageRejected(Exception):
    """A received message does not match the declared type; ``reason`` goes in the close frame."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = _close_reason(reason)


def _close_reason(text: str) -> str:
    encoded = text.encode()
    if len(encoded) <= _MAX_REASON:
        return text
    return encoded[: _MAX_REASON - 3].decode(errors="ignore") + "..."


def _type_name(annotation: Any) -> str:
    return getattr(annotation, "__name__", None) or repr(annotation)


def _msgspec_decoder(annotation: Any, where: str, argument: str) -> msgspec.json.Decoder[Any]:
    try:
        return msgspec.json.Decoder(annotation)
    except TypeError as exc:
        raise TypeError(f"{where}: {argument}={annotation!r} is not a type msgspec can use: {exc}") from None


class _MsgspecReceive:
    def __init__(self, annotation: Any, where: str) -> None:
        self._decode = _msgspec_decoder(annotation, where, "receives").decode
        self._name = _type_name(annotation)

    def __call__(self, message: str | bytes) -> Any:
        try:
            return self._decode(message)
        except msgspec.ValidationError as exc:
            raise MessageRejected(f"message is not a valid {self._name}: {exc}") from None
        except msgspec.DecodeError:
            raise MessageRejected("invalid JSON") from None


class _PydanticReceive:
    def __init__(self, annotation: Any, where: str) -> None:
        self._adapter = adapter(annotation, where)
        self._name = _type_name(annotation)

    def __call__(self, message: str | bytes) -> Any:
        try:
            return self._adapter.validate_json(message)
        except ValueError as exc:  # pydantic's ValidationError is a ValueError
            errors = getattr(exc, "errors", None)
            first = errors(include_url=False)[0] if callable(errors) else None
            if first is not None and first.get("type") == "json_invalid":
                raise MessageRejected("invalid JSON") from None
            detail = f"{first['msg']} at {list(first['loc'])}" if first is not None else str(exc)
            raise MessageRejected(f"message is not a valid {self._name}: {detail}") from None


class _MsgspecSend:
    def __init__(self, annotation: Any, where: str) -> None:
        _msgspec_decoder(annotation, where, "sends")  # refused at start-up, not at first send
        self._annotation = annotation
        self._encode = msgspec.json.Encoder(enc_hook=encode_fallback).encode
        # a plain class (a Struct, a dataclass): its instances need no conversion
        plain_class = isinstance(annotation, type) and typing.get_origin(annotation) is None
        self._model = annotation if plain_class else None

    def __call__(self, data: Any) -> bytes:
        if self._model is None or not isinstance(data, self._model):
            try:
                data = msgspec.convert(data, self._annotation, from_attributes=True)
            except msgspec.ValidationError as exc:
                name = _type_name(self._annotation)
                raise ResponseValidationError(
                    f"send_json: the message does not match the declared {name}: {exc}"
                ) from None
        return self._encode(data)


class _PydanticSend:
    def __init__(self, annotation: Any, where: str) -> None:
        self._serialise = PydanticResponse(annotation, where)
        self._name = _type_name(annotation)

    def __call__(self, data: Any) -> bytes:
        try:
            return bytes(self._serialise(data))
        except self._serialise.validation_error as exc:
            raise ResponseValidationError(
                f"send_json: the message does not match the declared {self._name}: {exc}"
            ) from None


class WebSocketMessages:
    """The compiled receive and send checks of one route (None: that direction is undeclared)."""

    __slots__ = ("receive", "send")

    def __init__(self, receives: Any, sends: Any, where: str) -> None:
        self.receive: Any = None
        self.send: Any = None
        if receives is not None:
            pydantic_model = holds_pydantic_model(receives)
            self.receive = (
                _PydanticReceive(receives, where) if pydantic_model else _MsgspecReceive(receives, where)
            )
        if sends is not None:
            pydantic_model = holds_pydantic_model(sends)
            self.send = _PydanticSend(sends, where) if pydantic_model else _MsgspecSend(sends, where)


__all__ = ["MessageRejected", "WebSocketMessages"]
