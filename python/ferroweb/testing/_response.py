"""The responses the test clients return: ``httpx.Response``, plus Server-Sent Events readers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx

from ferroweb.sse import ServerSentEvent
from ferroweb.testing._sse import aiter_events, iter_events


class TestResponse(httpx.Response):
    """An ``httpx.Response``. With ``client.stream(...)``, ``iter_events()`` /
    ``aiter_events()`` read a ``text/event-stream`` body event by event as it arrives
    (``data`` as str, keep-alive comments skipped)."""

    __test__ = False  # not a pytest test class

    def iter_events(self) -> Iterator[ServerSentEvent]:
        return iter_events(self.iter_text())

    def aiter_events(self) -> AsyncIterator[ServerSentEvent]:
        return aiter_events(self.aiter_text())
