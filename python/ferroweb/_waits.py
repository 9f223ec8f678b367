"""Futures completed by the Rust side.

Rust cannot call into Python from its runtime threads (that would take the GIL there), so a
wait is registered under a token: Rust queues the token when the condition holds (a stream
has room, a WebSocket message arrived...) and the dispatcher resolves the future when it
drains its queue.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable


class Waits:
    """Token -> future, for one event loop."""

    __slots__ = ("_futures", "_loop", "_next")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._futures: dict[int, asyncio.Future[None]] = {}
        self._next = itertools.count(1).__next__

    def new(self) -> tuple[int, asyncio.Future[None]]:
        token = self._next()
        future: asyncio.Future[None] = self._loop.create_future()
        self._futures[token] = future
        return token, future

    def discard(self, token: int) -> None:
        """Forgets a wait whose condition can no longer happen (its stream finished)."""
        self._futures.pop(token, None)

    def resolve(self, tokens: Iterable[int]) -> None:
        futures = self._futures
        for token in tokens:
            future = futures.pop(token, None)
            if future is not None and not future.done():
                future.set_result(None)

    def __len__(self) -> int:
        return len(self._futures)
