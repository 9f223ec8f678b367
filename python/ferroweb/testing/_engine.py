"""An app served in process: its ``AppRuntime`` behind a ``TestTransport`` (the core's service
without a socket), on the event loop the test runs. The httpx transports and the WebSocket
sessions talk to it."""

from __future__ import annotations

import asyncio
import atexit
import weakref
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from ferroweb._ferroweb import (
    MessageKind,
    TestStream,
    TestTransport,
    TestWebSocket,
)
from ferroweb._runtime import AppRuntime
from ferroweb.websockets import WebSocketDisconnect

if TYPE_CHECKING:
    from ferroweb._engine_plan import EnginePlan
    from ferroweb._served_app import ServedApp

#: Transports not closed yet. Their runtime threads call back into Python, which must not
#: happen once the interpreter is finalising: they are closed (threads joined) at exit.
_open_transports: weakref.WeakSet[TestTransport] = weakref.WeakSet()

#: How long shutdown waits for handlers still running before it cancels them (a test client
#: closes; ``ServerConfig.shutdown_timeout`` is the network server's).
IN_FLIGHT_TIMEOUT = 5.0


@atexit.register
def _close_open_transports() -> None:
    for transport in list(_open_transports):
        transport.close()


class _End:
    """The end of a body: ``error`` says why it broke off, if it did."""

    __slots__ = ("error",)

    def __init__(self, error: str | None) -> None:
        self.error = error


class ResponseBody:
    """The chunks of one in-process response, read as the handler produces them."""

    __slots__ = ("_chunks", "_done", "_handle")

    def __init__(self, chunks: asyncio.Queue[bytes | _End], handle: TestStream) -> None:
        self._chunks = chunks
        self._handle = handle
        self._done = False

    async def next(self, timeout: float | None) -> bytes | None:
        """The next chunk, or None at the end. Raises ``httpx.RemoteProtocolError`` when the
        body broke off (the handler failed mid-stream) and ``httpx.ReadTimeout`` when nothing
        came for ``timeout`` seconds."""
        if self._done:
            return None
        try:
            item = await asyncio.wait_for(self._chunks.get(), timeout)
        except asyncio.TimeoutError:
            raise httpx.ReadTimeout(f"no data from the app for {timeout}s") from None
        if isinstance(item, _End):
            self._done = True
            if item.error is not None:
                raise httpx.RemoteProtocolError(f"the response body broke off: {item.error}")
            return None
        self._handle.consumed()
        return item

    def close(self) -> None:
        """Drops the rest of the body, as a disconnecting client would."""
        self._done = True
        self._handle.cancel()


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _reject(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def wire_headers(status: int, raw_headers: list[tuple[str, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers as a client on the network sees them: like hyper, no Content-Length on
    1xx, 204 and 304 responses (RFC 9110 §8.6), which have no content."""
    no_content = status in (204, 304) or status < 200
    return [
        (name.encode("latin-1"), value)
        for name, value in raw_headers
        if not (no_content and name == "content-length")
    ]


class InProcessApp:
    """Serves ``app`` in process on the event loop that first uses it, until ``stop``."""

    def __init__(self, app: ServedApp) -> None:
        self.app = app
        self.runtime: AppRuntime | None = None
        self._starting: asyncio.Future[AppRuntime] | None = None
        self._stopped = False

    async def start(self) -> AppRuntime:
        """Starts the app once (its lifespan included); later calls return the runtime."""
        if self._stopped:
            raise RuntimeError("the test client was closed")
        if self.runtime is not None:
            return self.runtime
        if self._starting is not None:  # concurrent first requests wait for the one start
            return await asyncio.shield(self._starting)
        loop = asyncio.get_running_loop()
        self._starting = loop.create_future()
        try:
            runtime = AppRuntime(self.app, loop)
            await runtime.start(self._make_transport)
        except BaseException as exc:
            self._starting.set_exception(exc)
            self._starting.exception()  # retrieved: the caller gets it
            self._starting = None
            raise
        self.runtime = runtime
        self._starting.set_result(runtime)
        return runtime

    def _make_transport(self, plan: EnginePlan) -> TestTransport:
        transport = TestTransport(self.app.config, plan.routing, plan.queue)
        _open_transports.add(transport)
        return transport

    async def _transport(self) -> tuple[TestTransport, asyncio.AbstractEventLoop]:
        runtime = await self.start()
        if runtime.routes_changed():
            # routes were added after the client started: rebuild the router, as a
            # restarted server would
            runtime.reload_routes()
        transport = runtime.engine
        assert isinstance(transport, TestTransport)
        return transport, runtime.loop

    async def request(
        self,
        method: str,
        target: str,
        headers: Sequence[tuple[bytes, bytes]],
        body: bytes,
        timeout: float | None,
    ) -> tuple[int, list[tuple[bytes, bytes]], ResponseBody]:
        """Sends one request; returns the status, the headers and the body as it arrives."""
        transport, loop = await self._transport()
        head: asyncio.Future[tuple[int, list[tuple[str, bytes]]]] = loop.create_future()
        chunks: asyncio.Queue[bytes | _End] = asyncio.Queue()

        def on_head(status: int, raw_headers: list[tuple[str, bytes]]) -> None:
            loop.call_soon_threadsafe(_resolve, head, (status, raw_headers))

        def on_chunk(chunk: bytes) -> None:
            loop.call_soon_threadsafe(chunks.put_nowait, chunk)

        def on_end(error: str | None) -> None:
            loop.call_soon_threadsafe(chunks.put_nowait, _End(error))
            loop.call_soon_threadsafe(_reject, head, httpx.RemoteProtocolError(error or "no response"))

        handle = transport.send_streaming(method, target, headers, body, on_head, on_chunk, on_end)
        try:
            status, raw_headers = await asyncio.wait_for(head, timeout)
        except asyncio.TimeoutError:
            handle.cancel()
            raise httpx.ReadTimeout(f"the app did not answer {method} {target} within {timeout}s") from None
        except BaseException:
            handle.cancel()
            raise
        return status, wire_headers(status, raw_headers), ResponseBody(chunks, handle)

    async def websocket(
        self, target: str, headers: Sequence[tuple[bytes, bytes]]
    ) -> tuple[TestWebSocket, asyncio.Future[list[tuple[bytes, bytes]]], asyncio.Queue[Any]]:
        """Opens a WebSocket through the app's real handshake. The future resolves with the
        101's headers (or fails with the HTTP refusal: ``(status, headers, body)`` in a
        ``WebSocketRefused``); the queue receives messages, then a ``Closed``."""
        transport, loop = await self._transport()
        opened: asyncio.Future[list[tuple[bytes, bytes]]] = loop.create_future()
        messages: asyncio.Queue[Any] = asyncio.Queue()

        def on_open(status: int, raw_headers: list[tuple[str, bytes]]) -> None:
            loop.call_soon_threadsafe(_resolve, opened, wire_headers(status, raw_headers))

        def on_reject(status: int, raw_headers: list[tuple[str, bytes]], body: bytes) -> None:
            refusal = WebSocketRefused(status, wire_headers(status, raw_headers), body)
            loop.call_soon_threadsafe(_reject, opened, refusal)

        def on_message(kind: MessageKind, payload: str | bytes) -> None:
            loop.call_soon_threadsafe(messages.put_nowait, payload)

        def on_close(code: int, reason: str) -> None:
            loop.call_soon_threadsafe(messages.put_nowait, Closed(code, reason))
            loop.call_soon_threadsafe(_reject, opened, Closed(code, reason).error())

        socket = transport.websocket_connect(target, headers, on_open, on_reject, on_message, on_close)
        return socket, opened, messages

    async def stop(self) -> None:
        """Shuts the app down (lifespan end, background tasks drained) and releases it."""
        self._stopped = True
        runtime, self.runtime = self.runtime, None
        if runtime is not None:
            await runtime.stop(in_flight_timeout=IN_FLIGHT_TIMEOUT)


class WebSocketRefused(Exception):
    """The handshake was answered with an HTTP response."""

    def __init__(self, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers
        self.body = body


class Closed:
    """A WebSocket's end, as its close frame (or 1006 for a lost connection) said."""

    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason

    def error(self) -> WebSocketDisconnect:
        return WebSocketDisconnect(self.code, self.reason)
