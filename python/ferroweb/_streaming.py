"""Sending a ``StreamingResponse``: pull chunks from the handler's iterable and write them to
the Rust body channel, waiting when its bounded buffer is full.

A slow client therefore slows the generator down instead of growing memory, and a client that
disconnects cancels the pump: the cancellation (and so ``GeneratorExit``) reaches the
generator at its current ``await`` or ``yield``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from ferroweb._ferroweb import WriteOutcome

if TYPE_CHECKING:
    from ferroweb._ferroweb import RawRequest, ResponseStream
    from ferroweb._waits import Waits
    from ferroweb.responses import StreamingResponse

logger = logging.getLogger("ferroweb.error")

_WRITTEN = WriteOutcome.WRITTEN
_CLOSED = WriteOutcome.CLOSED
_EXHAUSTED = object()


class ClientDisconnected(Exception):
    """The client went away while a response was streamed."""


def _next_chunk(iterator: Iterator[Any]) -> Any:
    """One step of a sync iterator, run in a worker thread."""
    return next(iterator, _EXHAUSTED)


class ChunkSource:
    """Async or sync iterables behind one ``async next``; sync ones step in a thread."""

    __slots__ = ("_aiter", "_executor", "_iter", "_loop")

    def __init__(
        self, content: Any, loop: asyncio.AbstractEventLoop, executor: Callable[[], Executor]
    ) -> None:
        self._loop = loop
        self._aiter: AsyncIterator[Any] | None = None
        self._iter: Iterator[Any] | None = None
        self._executor = executor
        if hasattr(content, "__aiter__"):
            self._aiter = content.__aiter__()
        elif hasattr(content, "__iter__") and not isinstance(content, (bytes, str)):
            self._iter = iter(content)
        else:
            kind = type(content).__name__
            raise TypeError(f"StreamingResponse content must be an iterable or async iterable, not {kind}")

    async def next(self) -> Any:
        if self._aiter is not None:
            try:
                return await self._aiter.__anext__()
            except StopAsyncIteration:
                return _EXHAUSTED
        assert self._iter is not None
        return await self._loop.run_in_executor(self._executor(), _next_chunk, self._iter)

    async def aclose(self) -> None:
        """Closes the generator so its ``finally`` blocks run (GeneratorExit)."""
        if self._aiter is not None:
            close = getattr(self._aiter, "aclose", None)
            if close is not None:
                await close()
        elif self._iter is not None:
            close = getattr(self._iter, "close", None)
            if close is not None:
                close()


async def _write(stream: ResponseStream, chunk: Any, waits: Waits) -> None:
    while True:
        outcome = stream.write(chunk)
        if outcome == _WRITTEN:
            return
        if outcome == _CLOSED:
            raise ClientDisconnected
        token, room = waits.new()
        stream.notify_when_writable(token)
        try:
            await room
        finally:
            waits.discard(token)


async def send_stream(
    raw: RawRequest,
    response: StreamingResponse,
    waits: Waits,
    source: ChunkSource,
    on_error: Callable[[RawRequest, Exception], None],
    where: str,
) -> None:
    """Streams ``response`` to ``raw``'s client. Runs as its own task, started by the
    responder (``_respond``): an error before the head is sent goes to ``on_error``."""
    headers = response.headers._items
    first: Any = _EXHAUSTED
    if not response.send_head_early:
        # Pull the first chunk before the head goes out, so an error there is still a 500.
        try:
            first = await source.next()
        except Exception as exc:
            with contextlib.suppress(Exception):
                await source.aclose()
            on_error(raw, exc)
            return
    try:
        stream = raw.respond_stream(response.status_code, headers, response.keep_alive)
    except Exception as exc:  # a bad header value
        with contextlib.suppress(Exception):
            await source.aclose()
        on_error(raw, exc)
        return
    task = asyncio.current_task()
    closed_token, closed = waits.new()
    if task is not None:
        closed.add_done_callback(lambda _: task.cancel())
    stream.notify_when_closed(closed_token)
    try:
        if first is not _EXHAUSTED:
            await _write(stream, first, waits)
        while True:
            chunk = await source.next()
            if chunk is _EXHAUSTED:
                break
            await _write(stream, chunk, waits)
        stream.finish()
    except (ClientDisconnected, asyncio.CancelledError):
        if not closed.done() and not stream.closed:
            # A real cancellation (shutdown), not a disconnect: an event stream ends cleanly
            # (its clients reconnect), any other transfer is cut off as incomplete.
            if response.send_head_early:
                stream.finish()
            else:
                stream.abort("server shutdown")
            raise
        # The client left: nothing to report. The generator is closed below.
        # The disconnect's cancellation is handled: undo it (Python 3.11+ counts them).
        cancelling = getattr(task, "cancelling", None)
        if cancelling is not None and cancelling():
            task.uncancel()  # type: ignore[union-attr]
    except Exception as exc:
        logger.error(
            "Exception while streaming the response of %s for %s %s",
            where,
            raw.method,
            raw.path,
            exc_info=exc,
        )
        stream.abort(f"{type(exc).__name__} while streaming")
    finally:
        waits.discard(closed_token)
        with contextlib.suppress(Exception):
            await source.aclose()
