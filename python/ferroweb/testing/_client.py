"""``TestClient`` and ``AsyncTestClient``: ``httpx.Client`` / ``httpx.AsyncClient`` whose
transport drives the app in process. Everything httpx offers works as it does against a
server (params, cookies, redirects, auth, event hooks, timeouts, streaming); the additions are
``websocket_connect`` and, on streamed responses, ``iter_events`` / ``aiter_events``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import httpx

from ferroweb.testing._transport import AsyncFerrowebTransport, FerrowebTransport
from ferroweb.testing._websocket import AsyncWebSocketSession, WebSocketSession, connect

if TYPE_CHECKING:
    from ferroweb._served_app import ServedApp

#: Sent unless the test sets its own.
USER_AGENT = "ferroweb-testclient"
#: A guard against a test hanging on a handler that never answers; in-process requests are
#: otherwise instant. Pass ``timeout=`` (httpx's) to change it.
DEFAULT_TIMEOUT = httpx.Timeout(30.0)


def _headers(headers: httpx._types.HeaderTypes | None) -> httpx.Headers:
    merged = httpx.Headers({"user-agent": USER_AGENT})
    if headers is not None:
        merged.update(headers)
    return merged


class TestClient(httpx.Client):
    """``with TestClient(app) as client: client.get("/")``.

    Entering runs the app's start-up (hooks, lifespan); leaving shuts it down after its
    in-flight handlers and background tasks finished. Without ``with``, the first request
    starts the app and ``close()`` shuts it down. Redirects are followed unless
    ``follow_redirects=False``.
    """

    __test__ = False

    def __init__(
        self,
        app: ServedApp,
        base_url: str = "http://testserver",
        *,
        headers: httpx._types.HeaderTypes | None = None,
        follow_redirects: bool = True,
        timeout: httpx._types.TimeoutTypes = DEFAULT_TIMEOUT,
        **options: Any,
    ) -> None:
        self.app = app
        self._ferroweb = FerrowebTransport(app)
        options.setdefault("trust_env", False)  # no proxies from the environment
        super().__init__(
            base_url=base_url,
            headers=_headers(headers),
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=self._ferroweb,
            **options,
        )

    @contextlib.contextmanager
    def websocket_connect(
        self,
        url: str,
        subprotocols: Iterable[str] | None = None,
        *,
        params: httpx._types.QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
    ) -> Iterator[WebSocketSession]:
        """``with client.websocket_connect("/ws") as ws: ws.send_text("hi"); ws.receive_text()``.
        Raises ``WebSocketRejected`` when the server answers the handshake with HTTP."""
        request = self.build_request("GET", url, params=params, headers=headers, cookies=cookies)
        run = self._ferroweb.run
        manager = connect(self._ferroweb.app, request, subprotocols)
        session = run(manager.__aenter__())
        try:
            yield WebSocketSession(session, run)
        finally:
            run(manager.__aexit__(None, None, None))


class AsyncTestClient(httpx.AsyncClient):
    """``async with AsyncTestClient(app) as client: await client.get("/")``; the app runs on
    the test's event loop. Start-up and shutdown as for :class:`TestClient`."""

    __test__ = False

    def __init__(
        self,
        app: ServedApp,
        base_url: str = "http://testserver",
        *,
        headers: httpx._types.HeaderTypes | None = None,
        follow_redirects: bool = True,
        timeout: httpx._types.TimeoutTypes = DEFAULT_TIMEOUT,
        **options: Any,
    ) -> None:
        self.app = app
        self._ferroweb = AsyncFerrowebTransport(app)
        options.setdefault("trust_env", False)
        super().__init__(
            base_url=base_url,
            headers=_headers(headers),
            follow_redirects=follow_redirects,
            timeout=timeout,
            transport=self._ferroweb,
            **options,
        )

    @contextlib.asynccontextmanager
    async def websocket_connect(
        self,
        url: str,
        subprotocols: Iterable[str] | None = None,
        *,
        params: httpx._types.QueryParamTypes | None = None,
        headers: Mapping[str, str] | None = None,
        cookies: httpx._types.CookieTypes | None = None,
    ) -> AsyncIterator[AsyncWebSocketSession]:
        """Opens a WebSocket through the app's real handshake and socket code, in memory."""
        request = self.build_request("GET", url, params=params, headers=headers, cookies=cookies)
        async with connect(self._ferroweb.app, request, subprotocols) as session:
            yield session
