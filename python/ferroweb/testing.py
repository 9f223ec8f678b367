"""In-process test clients. Requests go through the same Rust router, limits and handlers as
on a real server; only the socket is missing. The API follows httpx."""

from __future__ import annotations

import asyncio
import atexit
import codecs
import contextlib
import json as jsonlib
import operator
import secrets
import weakref
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from http import HTTPStatus
from typing import Any, Union
from urllib.parse import urlencode, urljoin, urlsplit

import msgspec

from ferroweb import background
from ferroweb._dispatch import Dispatcher
from ferroweb._ferroweb import RequestQueue, TestStream, TestTransport, TestWebSocket
from ferroweb._lifespan import Lifespan
from ferroweb.applications import App
from ferroweb.datastructures import Headers
from ferroweb.requests import parse_cookie_header
from ferroweb.sse import ServerSentEvent
from ferroweb.websockets import WebSocketDisconnect

#: Transports not closed yet. Their runtime threads call back into Python, which must not
#: happen once the interpreter is finalising: they are closed (threads joined) at exit.
_open_transports: weakref.WeakSet[TestTransport] = weakref.WeakSet()


@atexit.register
def _close_open_transports() -> None:
    for transport in list(_open_transports):
        transport.close()


QueryArg = Union[Mapping[str, Any], Iterable[tuple[str, Any]], str, None]
#: httpx-style files: ``{"field": (filename, content[, content_type])}`` or a list of such pairs.
FilesArg = Union[Mapping[str, Any], Iterable[tuple[str, Any]], None]
_REDIRECTS = (301, 302, 303, 307, 308)


class TestResponse:
    """A response as a test sees it (``status_code``, ``headers``, ``content``, ``text``...)."""

    __test__ = False  # not a pytest test class

    def __init__(self, method: str, url: str, status_code: int, headers: Headers, content: bytes) -> None:
        self.method = method
        self.url = url
        self.status_code = status_code
        self.headers = headers
        self.content = content
        self.history: list[TestResponse] = []

    @property
    def text(self) -> str:
        content_type = self.headers.get("content-type", "")
        charset = "utf-8"
        for part in content_type.split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                charset = value.strip('"')
        return self.content.decode(charset, errors="replace")

    def json(self) -> Any:
        return jsonlib.loads(self.content)

    @property
    def reason_phrase(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    @property
    def cookies(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for header in self.headers.getlist("set-cookie"):
            first = header.split(";", 1)[0]
            found.update(parse_cookie_header(first))
        return found

    def raise_for_status(self) -> TestResponse:
        if self.status_code >= 400:
            raise AssertionError(f"{self.method} {self.url} answered {self.status_code}: {self.text[:200]}")
        return self

    def __repr__(self) -> str:
        return f"<TestResponse [{self.status_code}]>"


class _StreamEnd:
    __slots__ = ("error",)

    def __init__(self, error: str | None) -> None:
        self.error = error


class StreamingTestResponse(TestResponse):
    """A response whose body is read as it arrives (see ``stream``). ``content`` is only
    filled by ``read``/``aread``."""

    __test__ = False

    def __init__(
        self,
        method: str,
        url: str,
        status_code: int,
        headers: Headers,
        chunks: asyncio.Queue[bytes | _StreamEnd],
        handle: TestStream,
    ) -> None:
        super().__init__(method, url, status_code, headers, b"")
        self._chunks = chunks
        self._handle = handle
        self._done = False
        #: Set when the transfer broke off (the handler failed mid-stream).
        self.stream_error: str | None = None
        self._sync_run: Any = None

    async def aiter_bytes(self) -> AsyncIterator[bytes]:
        while not self._done:
            item = await self._chunks.get()
            if isinstance(item, _StreamEnd):
                self._done = True
                self.stream_error = item.error
                if item.error is not None:
                    raise RemoteProtocolError(f"the response body broke off: {item.error}")
                return
            self._handle.consumed()
            yield item

    async def aiter_text(self) -> AsyncIterator[str]:
        decoder = codecs.getincrementaldecoder(self._charset())(errors="replace")
        async for chunk in self.aiter_bytes():
            text = decoder.decode(chunk)
            if text:
                yield text
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail

    async def aiter_lines(self) -> AsyncIterator[str]:
        pending = ""
        async for text in self.aiter_text():
            pending += text
            *lines, pending = _split_lines(pending)
            for line in lines:
                yield line
        if pending:
            yield pending

    async def aiter_events(self) -> AsyncIterator[ServerSentEvent]:
        """Parses a ``text/event-stream`` body into events (``data`` as str)."""
        parser = _EventParser()
        async for line in self.aiter_lines():
            event = parser.feed(line)
            if event is not None:
                yield event

    async def aread(self) -> bytes:
        self.content = b"".join([chunk async for chunk in self.aiter_bytes()])
        return self.content

    def _charset(self) -> str:
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset" and value:
                return value.strip('"')
        return "utf-8"

    # -- synchronous iteration (TestClient) ---------------------------------------------------

    def _sync(self, agen: AsyncIterator[Any]) -> Iterator[Any]:
        run = self._sync_run
        if run is None:
            raise RuntimeError("use the aiter_* methods with AsyncTestClient")
        while True:
            try:
                yield run(agen.__anext__())
            except StopAsyncIteration:
                return

    def iter_bytes(self) -> Iterator[bytes]:
        return self._sync(self.aiter_bytes())

    def iter_text(self) -> Iterator[str]:
        return self._sync(self.aiter_text())

    def iter_lines(self) -> Iterator[str]:
        return self._sync(self.aiter_lines())

    def iter_events(self) -> Iterator[ServerSentEvent]:
        return self._sync(self.aiter_events())

    def read(self) -> bytes:
        self.content = b"".join(self.iter_bytes())
        return self.content


class RemoteProtocolError(Exception):
    """The server broke a response off mid-body (as httpx's exception of that name)."""


def _split_lines(text: str) -> list[str]:
    """Splits on \r\n, \r and \n; the last element is the unfinished rest."""
    lines: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\n" or char == "\r":
            if char == "\r" and i + 1 == len(text):
                break  # may be the first half of \r\n
            lines.append(text[start:i])
            if char == "\r" and text[i + 1] == "\n":
                i += 1
            start = i + 1
        i += 1
    lines.append(text[start:])
    return lines


class _EventParser:
    """The event stream interpretation algorithm of the HTML standard, line by line."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._seen = False

    def feed(self, line: str) -> ServerSentEvent | None:
        if line == "":
            if not self._seen:
                return None
            event = ServerSentEvent(
                "\n".join(self._data) if self._data else None,
                event=self._event,
                id=self._id,
                retry=self._retry,
            )
            self._data, self._event, self._retry, self._seen = [], None, None, False
            return event
        if line.startswith(":"):
            return None  # a comment (keep-alive ping)
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        self._seen = True
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        elif name == "id" and "\0" not in value:
            self._id = value
        elif name == "retry" and value.isdigit():
            self._retry = int(value)
        return None


class WebSocketRejected(Exception):
    """The server answered the WebSocket handshake with an HTTP response (``response``)."""

    def __init__(self, response: TestResponse) -> None:
        super().__init__(f"WebSocket handshake refused with {response.status_code}: {response.text[:200]}")
        self.response = response


class _Closed:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code = code
        self.reason = reason


class AsyncWebSocketSession:
    """The client side of a test WebSocket (``async with client.websocket_connect(...)``)."""

    __test__ = False

    def __init__(
        self, socket: TestWebSocket, messages: asyncio.Queue[str | bytes | _Closed], headers: Headers
    ) -> None:
        self._socket = socket
        self._messages = messages
        self._closed: _Closed | None = None
        #: Headers of the 101 response.
        self.headers = headers

    @property
    def accepted_subprotocol(self) -> str | None:
        return self.headers.get("sec-websocket-protocol")

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
            if not isinstance(item, _Closed):
                return item
            self._closed = item
        raise WebSocketDisconnect(self._closed.code, self._closed.reason)

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

    @property
    def accepted_subprotocol(self) -> str | None:
        return self._session.accepted_subprotocol

    def send_text(self, data: str) -> None:
        self._run(self._session.send_text(data))

    def send_bytes(self, data: bytes) -> None:
        self._run(self._session.send_bytes(data))

    def send_json(self, data: Any, mode: str = "text") -> None:
        self._run(self._session.send_json(data, mode))

    def receive(self, timeout: float | None = 30.0) -> str | bytes:
        return self._run(self._session.receive(timeout))  # type: ignore[no-any-return]

    def receive_text(self, timeout: float | None = 30.0) -> str:
        return self._run(self._session.receive_text(timeout))  # type: ignore[no-any-return]

    def receive_bytes(self, timeout: float | None = 30.0) -> bytes:
        return self._run(self._session.receive_bytes(timeout))  # type: ignore[no-any-return]

    def receive_json(self, timeout: float | None = 30.0) -> Any:
        return self._run(self._session.receive_json(timeout))

    def close(self, code: int = 1000, reason: str = "") -> None:
        self._run(self._session.close(code, reason))

    def abort(self) -> None:
        self._session.abort()


class AsyncTestClient:
    """``async with AsyncTestClient(app) as client: await client.get("/")``."""

    __test__ = False

    def __init__(
        self,
        app: App,
        base_url: str = "http://testserver",
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> None:
        self.app = app
        self.base_url = base_url.rstrip("/")
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = dict(cookies or {})
        self.follow_redirects = follow_redirects
        self._transport: TestTransport | None = None
        self._dispatcher: Dispatcher | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._routes: list[Any] = []
        self._routing_errors = False
        self._lifespan: Lifespan | None = None

    async def __aenter__(self) -> AsyncTestClient:
        self._start()
        self._lifespan = Lifespan(self.app)
        # Start-up hooks may start background tasks: they run in the client's context.
        assert self._dispatcher is not None
        token = background._current.set(self._dispatcher.background)
        try:
            await self._lifespan.startup()
        finally:
            background._current.reset(token)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def _start(self) -> None:
        routes = self.app.routes
        routing_errors = self.app.handles_routing_errors()
        if self._transport is not None:
            if (
                routing_errors == self._routing_errors
                and len(routes) == len(self._routes)
                and all(map(operator.is_, routes, self._routes))
            ):
                return
            # Routes or handlers were added after the client started: rebuild the router, as
            # a restarted server would.
            assert self._dispatcher is not None
            self._dispatcher.detach()
            self._transport.close()
        self._routes = list(routes)
        self._routing_errors = routing_errors
        loop = asyncio.get_running_loop()
        queue = RequestQueue()
        dispatcher = Dispatcher(self.app, queue, loop)
        self._transport = TestTransport(
            self.app.config, dispatcher.route_specs, queue, dispatcher.error_route
        )
        _open_transports.add(self._transport)
        dispatcher.attach()
        self._dispatcher = dispatcher
        self._loop = loop

    async def aclose(self) -> None:
        if self._dispatcher is not None:
            self._dispatcher.end_event_streams()
            await self._dispatcher.drain_tasks(timeout=5.0)
            # Background tasks have completed when the client block exits.
            await self._dispatcher.background.drain()
            self._dispatcher.detach()
        if self._lifespan is not None:
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.shutdown()
        if self._transport is not None:
            self._transport.close()
        self._dispatcher = None
        self._transport = None

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: QueryArg = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
        files: FilesArg = None,
        follow_redirects: bool | None = None,
    ) -> TestResponse:
        self._start()
        content_type: str | None
        if files is not None:
            if json is not None or content is not None:
                raise TypeError("files= goes with data=, not json= or content=")
            body, content_type = _encode_multipart(data, files)
        else:
            body, content_type = _encode_body(json, content, data)
        response = await self._send(
            method.upper(), self._url(url, params), headers, cookies, body, content_type
        )
        follow = self.follow_redirects if follow_redirects is None else follow_redirects
        history: list[TestResponse] = []
        while follow and response.status_code in _REDIRECTS and "location" in response.headers:
            if len(history) >= 20:
                raise AssertionError("too many redirects")
            history.append(response)
            keep_body = response.status_code in (307, 308)
            next_method = method.upper() if keep_body or method.upper() == "HEAD" else "GET"
            next_url = urljoin(response.url, response.headers["location"])
            response = await self._send(
                next_method,
                next_url,
                headers,
                cookies,
                body if keep_body else b"",
                content_type if keep_body else None,
            )
        response.history = history
        return response

    def _url(self, url: str, params: QueryArg) -> str:
        full = url if "://" in url else self.base_url + (url if url.startswith("/") else "/" + url)
        if params:
            query = params if isinstance(params, str) else urlencode(_param_items(params), doseq=True)
            full += ("&" if "?" in full else "?") + query
        return full

    async def _send(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        body: bytes,
        content_type: str | None,
    ) -> TestResponse:
        assert self._transport is not None and self._loop is not None
        target, header_list = self._prepare(method, url, headers, cookies, body, content_type)
        loop = self._loop
        future: asyncio.Future[tuple[int, list[tuple[str, bytes]], bytes]] = loop.create_future()

        def done(status: int, raw_headers: list[tuple[str, bytes]], content: bytes) -> None:
            loop.call_soon_threadsafe(_resolve, future, (status, raw_headers, content))

        def failed(message: str) -> None:
            loop.call_soon_threadsafe(_reject, future, RuntimeError(message))

        self._transport.send(method, target, header_list, body, done, failed)
        status, raw_headers, content = await future
        response_headers = _wire_headers(status, raw_headers)
        response = TestResponse(method, url, status, response_headers, content)
        self._store_cookies(response)
        return response

    def _prepare(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        body: bytes,
        content_type: str | None,
    ) -> tuple[str, list[tuple[str, str]]]:
        """The request target and header list, with defaults and cookies merged in."""
        parts = urlsplit(url)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        merged = {"host": parts.netloc or "testserver", "user-agent": "ferroweb-testclient", "accept": "*/*"}
        merged.update({k.lower(): v for k, v in self.headers.items()})
        if content_type is not None:
            merged["content-type"] = content_type
        if body or method in ("POST", "PUT", "PATCH"):
            merged["content-length"] = str(len(body))
        # The caller's headers replace defaults of the same name; names that differ only in
        # case are kept apart, so a test can send a header twice ({"X-Tag": .., "x-tag": ..}).
        extra = [(k.lower(), v) for k, v in (headers or {}).items()]
        for name, _ in extra:
            merged.pop(name, None)
        jar = {**self.cookies, **(cookies or {})}
        if jar and "cookie" not in merged and all(name != "cookie" for name, _ in extra):
            merged["cookie"] = "; ".join(f"{k}={v}" for k, v in jar.items())

        return target, [*merged.items(), *extra]

    def stream(
        self,
        method: str,
        url: str,
        *,
        params: QueryArg = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        json: Any = None,
        content: bytes | str | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> contextlib.AbstractAsyncContextManager[StreamingTestResponse]:
        """``async with client.stream("GET", "/events") as response:`` - the body arrives as
        it is produced (``aiter_bytes``, ``aiter_lines``, ``aiter_events``). Leaving the block
        early drops the response, as a disconnecting client would."""
        return self._stream(
            method.upper(), self._url(url, params), headers, cookies, *_encode_body(json, content, data)
        )

    @contextlib.asynccontextmanager
    async def _stream(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str] | None,
        cookies: Mapping[str, str] | None,
        body: bytes,
        content_type: str | None,
    ) -> AsyncIterator[StreamingTestResponse]:
        self._start()
        assert self._transport is not None and self._loop is not None
        target, header_list = self._prepare(method, url, headers, cookies, body, content_type)
        loop = self._loop
        head: asyncio.Future[tuple[int, list[tuple[str, bytes]]]] = loop.create_future()
        chunks: asyncio.Queue[bytes | _StreamEnd] = asyncio.Queue()

        def on_head(status: int, raw_headers: list[tuple[str, bytes]]) -> None:
            loop.call_soon_threadsafe(_resolve, head, (status, raw_headers))

        def on_chunk(chunk: bytes) -> None:
            loop.call_soon_threadsafe(chunks.put_nowait, chunk)

        def on_end(error: str | None) -> None:
            loop.call_soon_threadsafe(chunks.put_nowait, _StreamEnd(error))
            loop.call_soon_threadsafe(_reject, head, RuntimeError(error or "no response"))

        handle = self._transport.send_streaming(method, target, header_list, body, on_head, on_chunk, on_end)
        try:
            status, raw_headers = await head
            response_headers = _wire_headers(status, raw_headers)
            response = StreamingTestResponse(method, url, status, response_headers, chunks, handle)
            self._store_cookies(response)
            yield response
        finally:
            handle.cancel()

    @contextlib.asynccontextmanager
    async def websocket_connect(
        self,
        url: str,
        subprotocols: Iterable[str] | None = None,
        *,
        params: QueryArg = None,
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
    ) -> AsyncIterator[AsyncWebSocketSession]:
        """Opens a WebSocket through the app's real handshake and socket code, in memory.
        Raises :class:`WebSocketRejected` when the server answers the handshake with HTTP."""
        self._start()
        assert self._transport is not None and self._loop is not None
        full = self._url(url, params)
        target, header_list = self._prepare("GET", full, headers, cookies, b"", None)
        # the handshake headers are set by the WebSocket client itself
        header_list = [(k, v) for k, v in header_list if k not in ("host", "connection", "upgrade")]
        if subprotocols:
            header_list.append(("sec-websocket-protocol", ", ".join(subprotocols)))
        loop = self._loop
        opened: asyncio.Future[Headers] = loop.create_future()
        messages: asyncio.Queue[str | bytes | _Closed] = asyncio.Queue()

        def on_open(status: int, raw_headers: list[tuple[str, bytes]]) -> None:
            headers_ = Headers([(n, v.decode("latin-1")) for n, v in raw_headers])
            loop.call_soon_threadsafe(_resolve, opened, headers_)

        def on_reject(status: int, raw_headers: list[tuple[str, bytes]], body: bytes) -> None:
            headers_ = Headers([(n, v.decode("latin-1")) for n, v in raw_headers])
            response = TestResponse("GET", full, status, headers_, body)
            loop.call_soon_threadsafe(_reject, opened, WebSocketRejected(response))

        def on_message(kind: int, payload: str | bytes) -> None:
            loop.call_soon_threadsafe(messages.put_nowait, payload)

        def on_close(code: int, reason: str) -> None:
            loop.call_soon_threadsafe(messages.put_nowait, _Closed(code, reason))
            loop.call_soon_threadsafe(_reject, opened, WebSocketDisconnect(code, reason))

        socket = self._transport.websocket_connect(
            target, header_list, on_open, on_reject, on_message, on_close
        )
        try:
            response_headers = await opened
            session = AsyncWebSocketSession(socket, messages, response_headers)
            yield session
        finally:
            socket.close()
            await asyncio.sleep(0)

    def _store_cookies(self, response: TestResponse) -> None:
        for header in response.headers.getlist("set-cookie"):
            pair, _, attributes = header.partition(";")
            name, _, value = pair.strip().partition("=")
            lowered = attributes.lower().replace(" ", "")
            if "max-age=0" in lowered or "expires=thu,01jan1970" in lowered:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value

    async def get(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("GET", url, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("PUT", url, **kwargs)

    async def patch(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("PATCH", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("DELETE", url, **kwargs)

    async def head(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("HEAD", url, **kwargs)

    async def options(self, url: str, **kwargs: Any) -> TestResponse:
        return await self.request("OPTIONS", url, **kwargs)


class TestClient:
    """Synchronous client: ``with TestClient(app) as client: client.get("/")``.

    It runs its own event loop on the calling thread while a request is in progress.
    """

    __test__ = False

    def __init__(
        self,
        app: App,
        base_url: str = "http://testserver",
        headers: Mapping[str, str] | None = None,
        cookies: Mapping[str, str] | None = None,
        follow_redirects: bool = True,
    ) -> None:
        self._client = AsyncTestClient(app, base_url, headers, cookies, follow_redirects)
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def app(self) -> App:
        return self._client.app

    @property
    def cookies(self) -> dict[str, str]:
        return self._client.cookies

    @property
    def headers(self) -> dict[str, str]:
        return self._client.headers

    def __enter__(self) -> TestClient:
        self._ensure_loop()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(self._client.__aenter__())
        return self._loop

    def close(self) -> None:
        if self._loop is not None:
            self._loop.run_until_complete(self._client.aclose())
            self._loop.close()
            self._loop = None

    def request(self, method: str, url: str, **kwargs: Any) -> TestResponse:
        loop = self._ensure_loop()
        return loop.run_until_complete(self._client.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("DELETE", url, **kwargs)

    def head(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("HEAD", url, **kwargs)

    def options(self, url: str, **kwargs: Any) -> TestResponse:
        return self.request("OPTIONS", url, **kwargs)

    @contextlib.contextmanager
    def websocket_connect(
        self, url: str, subprotocols: Iterable[str] | None = None, **kwargs: Any
    ) -> Iterator[WebSocketSession]:
        """``with client.websocket_connect("/ws") as ws: ws.send_text("hi"); ws.receive_text()``."""
        loop = self._ensure_loop()
        manager = self._client.websocket_connect(url, subprotocols, **kwargs)
        session = loop.run_until_complete(manager.__aenter__())
        try:
            yield WebSocketSession(session, loop.run_until_complete)
        finally:
            loop.run_until_complete(manager.__aexit__(None, None, None))

    @contextlib.contextmanager
    def stream(self, method: str, url: str, **kwargs: Any) -> Iterator[StreamingTestResponse]:
        """``with client.stream("GET", "/events") as response: for event in
        response.iter_events(): ...`` - chunks are read as the handler produces them."""
        loop = self._ensure_loop()
        manager = self._client.stream(method, url, **kwargs)
        response = loop.run_until_complete(manager.__aenter__())
        response._sync_run = loop.run_until_complete
        try:
            yield response
        finally:
            loop.run_until_complete(manager.__aexit__(None, None, None))


def _wire_headers(status: int, raw_headers: list[tuple[str, bytes]]) -> Headers:
    """The headers as a client on the network sees them: like hyper, no Content-Length on
    204 and 304 responses (RFC 9110 §8.6), which have no content."""
    no_content = status in (204, 304) or status < 200
    return Headers(
        [
            (name, value.decode("latin-1"))
            for name, value in raw_headers
            if not (no_content and name == "content-length")
        ]
    )


def _resolve(future: asyncio.Future[Any], value: Any) -> None:
    if not future.done():
        future.set_result(value)


def _reject(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)


def _param_items(params: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    items = params.items() if isinstance(params, Mapping) else params
    return [(key, _query_value(value)) for key, value in items]


def _query_value(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return [_query_value(v) for v in value]
    return "" if value is None else value


def _encode_body(
    json: Any, content: bytes | str | None, data: Mapping[str, Any] | None
) -> tuple[bytes, str | None]:
    if sum(x is not None for x in (json, content, data)) > 1:
        raise TypeError("pass only one of json=, content= and data=")
    if json is not None:
        return msgspec.json.encode(json), "application/json"
    if content is not None:
        return (content.encode() if isinstance(content, str) else bytes(content)), None
    if data is not None:
        return urlencode(_param_items(data), doseq=True).encode(), "application/x-www-form-urlencoded"
    return b"", None


def _file_parts(files: FilesArg) -> list[tuple[str, tuple[str | None, bytes, str | None]]]:
    items = files.items() if isinstance(files, Mapping) else (files or [])
    parts: list[tuple[str, tuple[str | None, bytes, str | None]]] = []
    for field, spec in items:
        if isinstance(spec, (bytes, str)):
            spec = (field, spec)
        filename, content = spec[0], spec[1]
        content_type = spec[2] if len(spec) > 2 else "application/octet-stream"
        if not isinstance(content, (bytes, str)):
            content = content.read()  # a file object
        parts.append(
            (field, (filename, content.encode() if isinstance(content, str) else content, content_type))
        )
    return parts


def _quote(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


def _encode_multipart(data: Mapping[str, Any] | None, files: FilesArg) -> tuple[bytes, str]:
    """A multipart/form-data body (RFC 7578) of ``data`` fields then ``files``, httpx-style:
    ``files={"field": (filename, content, content_type)}``."""
    boundary = secrets.token_hex(16)
    chunks: list[bytes] = []
    fields = [(k, v) for k, vs in _param_items(data or {}) for v in (vs if isinstance(vs, list) else [vs])]
    for name, value in fields:
        chunks.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n'.encode()
            + str(value).encode()
            + b"\r\n"
        )
    for name, (filename, content, content_type) in _file_parts(files):
        disposition = f'form-data; name="{_quote(name)}"'
        if filename is not None:
            disposition += f'; filename="{_quote(filename)}"'
        head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
        if content_type:
            head += f"Content-Type: {content_type}\r\n"
        chunks.append(head.encode() + b"\r\n" + content + b"\r\n")
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"
