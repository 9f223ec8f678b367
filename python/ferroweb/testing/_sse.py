"""Reading a ``text/event-stream`` body back into events, as a browser's ``EventSource``
does: lines end at ``\\r\\n``, ``\\r`` or ``\\n`` (and at nothing else), fields are interpreted
by the event stream algorithm of the HTML standard."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

from ferroweb.sse import ServerSentEvent


def split_lines(text: str) -> list[str]:
    """Splits on \\r\\n, \\r and \\n; the last element is the unfinished rest (a trailing \\r
    stays there: it may be the first half of \\r\\n)."""
    lines: list[str] = []
    start = 0
    i = 0
    while i < len(text):
        char = text[i]
        if char == "\n" or char == "\r":
            if char == "\r" and i + 1 == len(text):
                break
            lines.append(text[start:i])
            if char == "\r" and text[i + 1] == "\n":
                i += 1
            start = i + 1
        i += 1
    lines.append(text[start:])
    return lines


class EventParser:
    """The event stream interpretation algorithm, fed one line at a time."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._seen = False

    def feed(self, line: str) -> ServerSentEvent | None:
        """The event a blank line completes, else None."""
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


def iter_events(texts: Iterator[str]) -> Iterator[ServerSentEvent]:
    """The events of a body given as decoded text chunks."""
    parser = EventParser()
    pending = ""
    for text in texts:
        pending += text
        *lines, pending = split_lines(pending)
        for line in lines:
            event = parser.feed(line)
            if event is not None:
                yield event
    if pending:
        parser.feed(pending)


async def aiter_events(texts: AsyncIterator[str]) -> AsyncIterator[ServerSentEvent]:
    parser = EventParser()
    pending = ""
    async for text in texts:
        pending += text
        *lines, pending = split_lines(pending)
        for line in lines:
            event = parser.feed(line)
            if event is not None:
                yield event
    if pending:
        parser.feed(pending)
