"""httpx transports that drive an app in process: what ``TestClient`` and ``AsyncTestClient``
send goes through the same Rust router, limits and handlers as on a real server; only the
socket is missing. The async transport serves the app on the loop the test runs; the sync one
runs a private loop while a request (or a streamed body) is being read."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from ferroweb.testing._engine import InProcessApp, ResponseBody
from ferroweb.testing._response import TestResponse

if TYPE_CHECKING:
    from ferroweb._served_app import ServedApp

T = TypeVar("T")
#: Runs a coroutine to its end on the sync client's loop.
Runner = Callable[[Coroutine[Any, Any, T]], T]


def _target(request: httpx.Request) -> str:
    """The request target as sent on the wire: path and query, already percent-encoded; in
    absolute form for ``https`` URLs, so the app sees the request as a secure one (as it does
    behind TLS: ``request.url.scheme``, HSTS). The ``target`` request extension replaces it
    exactly as written, as it does for httpx's network transports (to send paths that URL
    normalisation would change, such as ``/a/../b``)."""
    raw = request.extensions.get("target")
    if isinstance(raw, bytes):
        return raw.decode("ascii")
    target = request.url.raw_path.decode("ascii")
    if request.url.scheme == "https":
        return f"https://{request.url.netloc.decode('ascii')}{target}"
    return target


def _read_timeout(request: httpx.Request) -> float | None:
    timeout: dict[str, float | None] = request.extensions.get("timeout", {})
    return timeout.get("read")


def _response(
    request: httpx.Request, status: int, headers: list[tuple[bytes, bytes]], stream: Any
) -> TestResponse:
    return TestResponse(
        status, headers=headers, stream=stream, request=request, extensions={"http_version": b"HTTP/1.1"}
    )


class _AsyncBody(httpx.AsyncByteStream):
    def __init__(self, body: ResponseBody, timeout: float | None) -> None:
        self._body = body
        self._timeout = timeout

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while (chunk := await self._body.next(self._timeout)) is not None:
            yield chunk

    async def aclose(self) -> None:
        self._body.close()


class _SyncBody(httpx.SyncByteStream):
    def __init__(self, body: ResponseBody, timeout: float | None, run: Runner[Any]) -> None:
        self._body = body
        self._timeout = timeout
        self._run = run

    def __iter__(self) -> Iterator[bytes]:
        while (chunk := self._run(self._body.next(self._timeout))) is not None:
            yield chunk

    def close(self) -> None:
        self._body.close()


class AsyncFerrowebTransport(httpx.AsyncBaseTransport):
    """Serves ``app`` on the running event loop. Entering the transport (``async with`` the
    client) runs the app's start-up; the first request does so too when it was not entered.
    Closing it shuts the app down: in-flight handlers finish, background tasks drain, shutdown
    hooks run."""

    def __init__(self, app: ServedApp) -> None:
        self.app = InProcessApp(app)

    async def __aenter__(self) -> AsyncFerrowebTransport:
        await self.app.start()
        return self

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        timeout = _read_timeout(request)
        status, headers, chunks = await self.app.request(
            request.method, _target(request), request.headers.raw, body, timeout
        )
        return _response(request, status, headers, _AsyncBody(chunks, timeout))

    async def aclose(self) -> None:
        await self.app.stop()


class FerrowebTransport(httpx.BaseTransport):
    """The synchronous transport: the app runs on a loop of this transport's, driven on the
    calling thread while a request or a streamed body is read."""

    def __init__(self, app: ServedApp) -> None:
        self.app = InProcessApp(app)
        self._loop: asyncio.AbstractEventLoop | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Runs ``coro`` on this transport's loop (the app starts on first use)."""
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.new_event_loop()
            try:
                loop.run_until_complete(self.app.start())
            except BaseException:
                coro.close()
                self._loop = None
                loop.close()
                raise
        return loop.run_until_complete(coro)

    def __enter__(self) -> FerrowebTransport:
        self.run(self.app.start())
        return self

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        timeout = _read_timeout(request)
        status, headers, chunks = self.run(
            self.app.request(request.method, _target(request), request.headers.raw, body, timeout)
        )
        return _response(request, status, headers, _SyncBody(chunks, timeout, self.run))

    def close(self) -> None:
        loop, self._loop = self._loop, None
        if loop is not None:
            try:
                loop.run_until_complete(self.app.stop())
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.close()
