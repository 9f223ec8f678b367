"""Server-Sent Events (the ``text/event-stream`` format of the HTML standard).

    @app.get("/events")
    async def events(request: Request, topic: str):
        async def gen():
            n = 0
            while True:
                n += 1
                yield ServerSentEvent(data={"n": n, "topic": topic}, event="tick", id=str(n))
                await asyncio.sleep(1)
        return EventSourceResponse(gen(), ping=15)

Keep-alive comments are sent by the Rust core whenever the stream was idle for ``ping``
seconds, so an idle stream costs Python nothing. A reconnecting browser sends the last id it
saw in the ``Last-Event-ID`` header: read it with :func:`last_event_id` (or a
``Header()`` parameter named ``last_event_id``).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic

import msgspec

from ferroweb._pydantic import encode_fallback
from ferroweb.responses import StreamingResponse

if TYPE_CHECKING:
    # a default, so a bare ``EventSourceResponse`` annotation stays valid under mypy --strict
    from typing_extensions import TypeVar

    from ferroweb.requests import Request

    Data = TypeVar("Data", default=Any)
else:
    from typing import TypeVar

    Data = TypeVar("Data")

__all__ = ["EventSourceResponse", "ServerSentEvent", "last_event_id"]

_encode_json = msgspec.json.Encoder(enc_hook=encode_fallback).encode
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
PING = b": ping\n\n"


def _single_line(name: str, value: str) -> str:
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"SSE {name} must be a single line without NUL, got {value!r}")
    return value


class ServerSentEvent(Generic[Data]):
    """One event. ``data`` is a str (sent as is, one ``data:`` line per line) or any value
    msgspec can encode (sent as JSON). ``comment`` lines are ignored by clients; ``retry``
    (milliseconds) tells them how long to wait before reconnecting."""

    __slots__ = ("comment", "data", "event", "id", "retry")

    def __init__(
        self,
        data: Data | None = None,
        *,
        event: str | None = None,
        id: str | None = None,
        retry: int | None = None,
        comment: str | None = None,
    ) -> None:
        self.data = data
        self.event = event
        self.id = id
        self.retry = retry
        self.comment = comment

    def encode(self) -> bytes:
        lines: list[str] = []
        if self.comment is not None:
            lines.extend(f": {line}" for line in _LINE_BREAK.split(self.comment))
        if self.id is not None:
            lines.append(f"id: {_single_line('id', self.id)}")
        if self.event is not None:
            lines.append(f"event: {_single_line('event', self.event)}")
        if self.retry is not None:
            if not isinstance(self.retry, int) or isinstance(self.retry, bool) or self.retry < 0:
                raise ValueError(f"SSE retry must be a non-negative int (milliseconds), got {self.retry!r}")
            lines.append(f"retry: {self.retry}")
        data: Any = self.data
        if data is not None:
            if isinstance(data, bytes):
                data = data.decode()
            text = data if isinstance(data, str) else _encode_json(data).decode()
            # Only \r\n, \r and \n end a line in the event stream format (str.splitlines
            # would also split on \u2028 and friends, and drop a trailing empty line).
            lines.extend(f"data: {line}" for line in _LINE_BREAK.split(text))
        if not lines:
            raise ValueError("an SSE event needs data, an id, an event name, retry or a comment")
        return ("\n".join(lines) + "\n\n").encode()

    def __repr__(self) -> str:
        fields = ", ".join(
            f"{name}={getattr(self, name)!r}" for name in self.__slots__ if getattr(self, name) is not None
        )
        return f"ServerSentEvent({fields})"


def encode_event(item: Any) -> bytes:
    """A generator item as stream bytes: events, mappings of event fields, or plain data."""
    if isinstance(item, ServerSentEvent):
        return item.encode()
    if isinstance(item, Mapping):
        return ServerSentEvent(**item).encode()
    return ServerSentEvent(data=item).encode()


async def _encode_async(content: AsyncIterator[Any]) -> AsyncIterator[bytes]:
    try:
        async for item in content:
            yield encode_event(item)
    finally:
        close = getattr(content, "aclose", None)
        if close is not None:
            await close()


def _encode_sync(content: Iterator[Any]) -> Iterator[bytes]:
    try:
        for item in content:
            yield encode_event(item)
    finally:
        close = getattr(content, "close", None)
        if close is not None:
            close()


class EventSourceResponse(StreamingResponse, Generic[Data]):
    """A ``text/event-stream`` response fed by a (sync or async) generator of events.

    ``-> EventSourceResponse[Tick]`` declares the events' data type: the AsyncAPI document
    describes the route's messages with it.

    Items may be :class:`ServerSentEvent`, mappings of its fields, or plain data. The status
    and headers are sent at once (a stream may stay silent for a while); ``ping`` seconds of
    silence send a keep-alive comment (``None`` or 0 disables it). Responses are marked
    uncacheable and unbuffered for proxies; ferroweb never compresses them. At server
    shutdown event streams are ended cleanly, so clients reconnect elsewhere.
    """

    media_type = "text/event-stream"
    send_head_early = True

    def __init__(
        self,
        content: Any,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        ping: float | None = 15,
    ) -> None:
        if hasattr(content, "__aiter__"):
            encoded: Any = _encode_async(content.__aiter__())
        elif hasattr(content, "__iter__") and not isinstance(content, (bytes, str)):
            encoded = _encode_sync(iter(content))
        else:
            raise TypeError(
                f"EventSourceResponse content must be an (async) iterable, not {type(content).__name__}"
            )
        merged = {"cache-control": "no-cache", "x-accel-buffering": "no"}
        merged.update({k.lower(): v for k, v in (headers or {}).items()})
        super().__init__(encoded, status_code, merged, "text/event-stream")
        if ping is not None and ping < 0:
            raise ValueError(f"ping must be >= 0 seconds, got {ping!r}")
        self.keep_alive = (float(ping), PING) if ping else None


def last_event_id(request: Request) -> str | None:
    """The id of the last event a reconnecting client saw (``Last-Event-ID``), if any."""
    return request.headers.get("last-event-id")
