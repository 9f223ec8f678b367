"""The client side of a test WebSocket: a real handshake and socket, in memory."""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
from collections.abc import AsyncIterator, Coroutine, Iterable
from typing import Any, TypeVar

import httpx
import msgspec

from ferroweb._ferroweb import TestWebSocket
from ferroweb.testing._engine import Closed, InProcessApp, WebSocketRefused
from ferroweb.testing._response import TestResponse
from ferroweb.websockets import WebSocketDisconnect

T = TypeVar("T")


class WebSocketRejected(Exception):
    """The server answered the WebSocket handshake with an HTTP response (``response``)."""

    def __init__(self, response: TestResponse) -> None:
        super().__init__(f"WebSocket handshake refused with {response.status_code}: {response.text[:200]}")
        self.response = response


class AsyncWebSocketSession:
    """``async with client.websocket_connect("/ws") as ws: await ws.send_text("hi")``."""

    __test__ = False

    def __init__(self, socket: TestWebSocket, messages: asyncio.Queue[Any], headers: httpx.Headers) -> None:
        self._socket = socket
        self._messages = messages
        self._closed: Closed | None = None
        #: Headers of the 101 response.
        self.headers = headers

    @property
    def accepted_subprotocol(self) -> str | None:
        chosen: str | None = self.headers.get("sec-websocket-protocol")
        return chosen

    async def send_text(self, data: str) -> None:
        self._socket.send_text(data)

    async def send_bytes(self, data: bytes) -> None:
        self._socket.send_bytes(data)

    async def send_json(self, data: Any, mode: str = "text") -> None:
        encoded = msgspec.json.encode(data)
        if mode == "binary":
            await self.send_bytes(encoded)
        else:
            await self.send_text(encoded.decode())

    async def receive(self, timeout: float | None = 30.0) -> str | bytes:
        """The next message; raises ``WebSocketDisconnect`` once the server closed."""
        if self._closed is None:
            item = await asyncio.wait_for(self._messages.get(), timeout)
            if not isinstance(item, Closed):
                return item  # type: ignore[no-any-return]
            self._closed = item
        raise self._closed.error()

    async def receive_text(self, timeout: float | None = 30.0) -> str:
        message = await self.receive(timeout)
        if not isinstance(message, str):
            raise AssertionError(f"expected a text message, got {message!r}")
        return message

    async def receive_bytes(self, timeout: float | None = 30.0) -> bytes:
        message = await self.receive(timeout)
        if not isinstance(message, bytes):
            raise AssertionError(f"expected a binary message, got {message!r}")
        return message

    async def receive_json(self, timeout: float | None = 30.0) -> Any:
        return jsonlib.loads(await self.receive(timeout))

    async def close(self, code: int = 1000, reason: str = "") -> None:
        """Closes from the client side and waits for the server's answer."""
        self._socket.close(code, reason)
        with contextlib.suppress(WebSocketDisconnect, asyncio.TimeoutError):
            while True:
                await self.receive(timeout=5.0)

    def abort(self) -> None:
        """Drops the connection without a close frame (the server sees code 1006)."""
        self._socket.abort()


class WebSocketSession:
    """Synchronous wrapper of :class:`AsyncWebSocketSession` for ``TestClient``."""

    __test__ = False

    def __init__(self, session: AsyncWebSocketSession, run: Any) -> None:
        self._session = session
        self._run = run
        self.headers = session.headers

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        result: T = self._run(coro)
        return result

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._session.accepted_subprotocol

    def send_text(self, data: str) -> None:
        self._call(self._session.send_text(data))

    def send_bytes(self, data: bytes) -> None:
        self._call(self._session.send_bytes(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        self._call(self._session.send_json(data, mode))

    def receive(self, timeout: float | None = 30.0) -> str | bytes:
        return self._call(self._session.receive(timeout))

    def receive_text(self, timeout: float | None = 30.0) -> str:
        return self._call(self._session.receive_text(timeout))

    def receive_bytes(self, timeout: float | None = 30.0) -> bytes:
        return self._call(self._session.receive_bytes(timeout))

    def receive_json(self, timeout: float | None = 30.0) -> Any:
        return self._call(self._session.receive_json(timeout))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._call(self._session.close(code, reason))

    def abort(self) -> None:
        self._session.abort()


#: Set by the WebSocket client itself for the handshake.
_HANDSHAKE_HEADERS = frozenset({b"host", b"connection", b"upgrade"})


@contextlib.asynccontextmanager
async def connect(
    app: InProcessApp, request: httpx.Request, subprotocols: Iterable[str] | None
) -> AsyncIterator[AsyncWebSocketSession]:
    """Opens a WebSocket to ``request``'s URL with its headers and cookies (as the client
    built them); raises :class:`WebSocketRejected` when the handshake is answered with HTTP."""
    headers = [(name, value) for name, value in request.headers.raw if name.lower() not in _HANDSHAKE_HEADERS]
    if subprotocols:
        headers.append((b"sec-websocket-protocol", ", ".join(subprotocols).encode()))
    socket, opened, messages = await app.websocket(request.url.raw_path.decode("ascii"), headers)
    try:
        try:
            response_headers = await opened
        except WebSocketRefused as refused:
            response = TestResponse(
                refused.status, headers=refused.headers, content=refused.body, request=request
            )
            raise WebSocketRejected(response) from None
        yield AsyncWebSocketSession(socket, messages, httpx.Headers(response_headers))
    finally:
        socket.close()
        await asyncio.sleep(0)
