"""WebSocket endpoints.

    @app.websocket("/ws/{room}")
    async def chat(ws: WebSocket, room: str, token: str | None = None):
        await ws.accept()
        async for message in ws.iter_text():
            await ws.send_json({"room": room, "echo": message})

The Rust core owns the socket: the handshake, framing and fragment reassembly, ping/pong,
the close handshake, ``ServerConfig.websocket_max_message_size`` (1009), the idle timeout
(1001) and the send queue. A handler sees whole messages. Receiving after the peer closed
raises :class:`WebSocketDisconnect`; sending after the connection closed does nothing.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from ferroweb._ferroweb import MessageKind, WriteOutcome
from ferroweb._pydantic import encode_fallback
from ferroweb._respond import Problem
from ferroweb._ws_messages import MessageRejected
from ferroweb.requests import Request

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest, WebSocketConnection
    from ferroweb._respond import Responder
    from ferroweb._waits import Waits
    from ferroweb._ws_messages import WebSocketMessages

__all__ = ["WebSocket", "WebSocketDisconnect", "WebSocketState"]

_encode_json = msgspec.json.Encoder(enc_hook=encode_fallback).encode
_decode_json = msgspec.json.Decoder().decode
_CLOSED = MessageKind.CLOSED
_FULL = WriteOutcome.FULL
#: Close codes sent when a client's message cannot be used (RFC 6455 §7.4.1).
UNSUPPORTED_DATA = 1003
INVALID_PAYLOAD = 1007


class WebSocketState(enum.Enum):
    CONNECTING = 0
    CONNECTED = 1
    DISCONNECTED = 2


class WebSocketDisconnect(Exception):
    """The connection is closed; ``code`` says why (1000 normal, 1001 going away, 1006 lost)."""

    def __init__(self, code: int = 1000, reason: str | None = None) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason or ""

    def __repr__(self) -> str:
        return f"WebSocketDisconnect(code={self.code}, reason={self.reason!r})"


class WebSocket(Request):
    """One WebSocket connection. Request attributes (``headers``, ``query_params``,
    ``path_params``, ``cookies``, ``url``, ``client``) describe the handshake."""

    __slots__ = ("_connection", "_messages", "_responder", "_waits", "application_state", "client_state")

    def __init__(
        self,
        raw: RawRequest,
        connection: WebSocketConnection,
        waits: Waits,
        param_names: tuple[str, ...],
        app: Any,
        responder: Responder,
        messages: WebSocketMessages | None = None,
    ) -> None:
        super().__init__(raw, param_names, app)
        self._connection = connection
        #: The route's declared ``receives=`` / ``sends=`` checks, if any.
        self._messages = messages
        self._waits = waits
        #: Answers the handshake with HTTP when the handler refuses it.
        self._responder = responder
        #: The peer's side: CONNECTING until accepted, DISCONNECTED once it closed.
        self.client_state = WebSocketState.CONNECTING
        #: This side: DISCONNECTED once ``close`` was called.
        self.application_state = WebSocketState.CONNECTING

    @property
    def subprotocols(self) -> list[str]:
        """The subprotocols the client offered, in its order of preference."""
        offered = self.headers.get("sec-websocket-protocol", "")
        return [p.strip() for p in offered.split(",") if p.strip()]

    async def accept(
        self,
        subprotocol: str | None = None,
        headers: Sequence[tuple[str, str]] | dict[str, str] | None = None,
    ) -> None:
        if self.application_state is not WebSocketState.CONNECTING:
            raise RuntimeError("the WebSocket was already accepted or closed")
        if subprotocol is not None and subprotocol not in self.subprotocols:
            raise ValueError(
                f"subprotocol {subprotocol!r} was not offered by the client ({self.subprotocols})"
            )
        items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        self._connection.accept(subprotocol, items)
        self.application_state = WebSocketState.CONNECTED
        self.client_state = WebSocketState.CONNECTED

    # -- receiving -----------------------------------------------------------------------------

    async def receive(self) -> str | bytes:
        """The next message: ``str`` for text frames, ``bytes`` for binary ones."""
        if self.application_state is WebSocketState.CONNECTING:
            raise RuntimeError("accept the WebSocket before receiving")
        connection = self._connection
        while True:
            item = connection.receive()
            if item is not None:
                kind, payload = item
                if kind == _CLOSED:
                    self.client_state = WebSocketState.DISCONNECTED
                    code, reason = payload
                    raise WebSocketDisconnect(code, reason)
                return payload  # type: ignore[no-any-return]
            token, ready = self._waits.new()
            connection.notify_when_readable(token)
            try:
                await ready
            finally:
                self._waits.discard(token)

    async def _refuse(self, code: int, reason: str) -> WebSocketDisconnect:
        await self.close(code, reason)
        return WebSocketDisconnect(code, reason)

    async def receive_text(self) -> str:
        message = await self.receive()
        if not isinstance(message, str):
            raise await self._refuse(UNSUPPORTED_DATA, "expected a text message")
        return message

    async def receive_bytes(self) -> bytes:
        message = await self.receive()
        if not isinstance(message, bytes):
            raise await self._refuse(UNSUPPORTED_DATA, "expected a binary message")
        return message

    async def receive_json(self) -> Any:
        """A JSON message (text or binary frame). Invalid JSON closes with 1007, and so does
        a message that does not match the route's ``receives=`` type (decoded into it)."""
        message = await self.receive()
        declared = self._messages.receive if self._messages is not None else None
        if declared is not None:
            try:
                return declared(message)
            except MessageRejected as rejected:
                raise await self._refuse(INVALID_PAYLOAD, rejected.reason) from None
        try:
            return _decode_json(message)
        except msgspec.DecodeError:
            raise await self._refuse(INVALID_PAYLOAD, "invalid JSON") from None

    async def iter_text(self) -> AsyncIterator[str]:
        """Text messages until the peer closes (the disconnect ends the loop quietly)."""
        try:
            while True:
                yield await self.receive_text()
        except WebSocketDisconnect:
            return

    async def iter_bytes(self) -> AsyncIterator[bytes]:
        try:
            while True:
                yield await self.receive_bytes()
        except WebSocketDisconnect:
            return

    async def iter_json(self) -> AsyncIterator[Any]:
        try:
            while True:
                yield await self.receive_json()
        except WebSocketDisconnect:
            return

    # -- sending -------------------------------------------------------------------------------

    async def _send(self, send: Any, payload: Any) -> None:
        if self.application_state is WebSocketState.CONNECTING:
            raise RuntimeError("accept the WebSocket before sending")
        while True:
            outcome = send(payload)
            if outcome != _FULL:
                # queued, or closed: sending on a closed connection is a no-op
                return
            token, room = self._waits.new()
            self._connection.notify_when_writable(token)
            try:
                await room
            finally:
                self._waits.discard(token)

    async def send_text(self, data: str) -> None:
        await self._send(self._connection.send_text, data)

    async def send_bytes(self, data: bytes) -> None:
        await self._send(self._connection.send_bytes, data)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        """Sends ``data`` as JSON; with ``sends=`` declared on the route, data that does not
        match it raises ``ResponseValidationError`` and nothing is sent."""
        declared = self._messages.send if self._messages is not None else None
        encoded = _encode_json(data) if declared is None else declared(data)
        if mode == "binary":
            await self.send_bytes(encoded)
        else:
            await self.send_text(encoded.decode())

    async def close(self, code: int = 1000, reason: str | None = None) -> None:
        """Closes the connection (before ``accept``: refuses the handshake with 403)."""
        if self.application_state is WebSocketState.DISCONNECTED:
            return
        if self.application_state is WebSocketState.CONNECTING:
            self.application_state = WebSocketState.DISCONNECTED
            refusal = Problem(403, reason or "the WebSocket handler refused the connection")
            self._responder.send(self._raw, refusal)
            return
        self.application_state = WebSocketState.DISCONNECTED
        self._connection.close(code, reason or "")

    @property
    def close_status(self) -> tuple[int, str] | None:
        return self._connection.close_status
