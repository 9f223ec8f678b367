"""Streamed fixtures (handler behaviours ``stream``, ``sse`` and ``file``, or a ``request.read``):
what ``fixture_client`` needs beyond one request and one complete answer.

- ``write_files``: the file a ``file`` fixture serves, written before its request.
- ``fill_validators``: ``<<etag>>`` / ``<<last-modified>>`` in request headers, replaced by what
  a plain GET of the same target answered.
- ``BodyReader``: the body as it arrives, chunk by chunk, cut into lines and SSE events; it says
  when the fixture's ``request.read`` has been satisfied (the client then disconnects).
- ``stream_differences``: the streamed expectations (chunks, length, digest, lines, events,
  stream_error) against what was read.
- ``wait_for_probe``: polls the probe route of the app until the generator's record matches.

Nothing here sends requests itself: ``fixture_client`` does, through ``TestClient.stream`` and
``httpx.Client.stream``.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

STREAMED_BEHAVIOURS = ("stream", "sse", "file", "static_files")
PROBE_ROUTE = "/__e2e__/probes/{name}"
PROBE_TIMEOUT = 5.0
VALIDATOR_TOKENS = {"<<etag>>": "etag", "<<last-modified>>": "last-modified"}
EVENT_KEYS = ("data", "event", "id", "retry")


def is_streamed(fixture: dict[str, Any]) -> bool:
    return fixture["handler"].get("behaviour") in STREAMED_BEHAVIOURS or "read" in fixture["request"]


# -- before the request -------------------------------------------------------------------------


def write_files(fixture: dict[str, Any], root: Path) -> None:
    """Writes the file of a ``file`` fixture into ``<root>/<fixture name>/`` (or makes sure it is
    absent when the fixture gives no content), with its declared modification time."""
    spec = fixture["handler"].get("file")
    if fixture["handler"].get("behaviour") != "file" or spec is None:
        return
    directory = root / fixture["name"]
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / spec["name"]
    content = spec.get("content")
    if content is None:
        path.unlink(missing_ok=True)
        return
    text = content if isinstance(content, str) else content["repeat"] * content["times"]
    path.write_bytes(text.encode())
    if "mtime" in spec:
        moment = datetime.strptime(spec["mtime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        seconds = int(moment.timestamp())
        os.utime(path, (seconds, seconds))


def needs_validators(headers: list[tuple[str, str]]) -> bool:
    return any(token in value for _, value in headers for token in VALIDATOR_TOKENS)


def fill_validators(headers: list[tuple[str, str]], answered: dict[str, str]) -> list[tuple[str, str]]:
    """The headers with the validator tokens replaced by the values of ``answered`` (lower-case
    header names of the plain GET's response)."""
    filled = []
    for name, value in headers:
        for token, header in VALIDATOR_TOKENS.items():
            if token in value:
                if header not in answered:
                    raise AssertionError(f"a plain GET answered no {header} header to put into {name}")
                value = value.replace(token, answered[header])
        filled.append((name, value))
    return filled


# -- reading ----------------------------------------------------------------------------------


def split_lines(text: str) -> tuple[list[str], str]:
    """Complete lines (ended by \\r\\n, \\r or \\n) and the unfinished rest. A final \\r stays in
    the rest: it may be the first half of \\r\\n."""
    lines: list[str] = []
    start = index = 0
    while index < len(text):
        char = text[index]
        if char in "\r\n":
            if char == "\r" and index + 1 == len(text):
                break
            lines.append(text[start:index])
            if char == "\r" and text[index + 1] == "\n":
                index += 1
            start = index + 1
        index += 1
    return lines, text[start:]


class EventParser:
    """The event stream interpretation of the HTML standard, line by line, as ferroweb.testing
    does it: comments are skipped, the id carries over from one event to the next, and a block
    of fields without data lines is an event too (data None)."""

    def __init__(self) -> None:
        self._data: list[str] = []
        self._event: str | None = None
        self._id: str | None = None
        self._retry: int | None = None
        self._seen = False

    def feed(self, line: str) -> dict[str, Any] | None:
        if line == "":
            if not self._seen:
                return None
            event = {
                "data": "\n".join(self._data) if self._data else None,
                "event": self._event,
                "id": self._id,
                "retry": self._retry,
            }
            self._data, self._event, self._retry, self._seen = [], None, None, False
            return event
        if line.startswith(":"):
            return None
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


@dataclass
class BodyReader:
    """Collects a body as it arrives. ``read`` is the fixture's ``request.read`` (None: all)."""

    read: dict[str, int] | None
    chunks: list[bytes] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    _rest: str = ""
    _decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="replace"))
    _parser: EventParser = field(default_factory=EventParser)

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)

    def feed(self, chunk: bytes) -> bool:
        """Takes a chunk; True once enough was read."""
        self.chunks.append(chunk)
        self._take_text(self._decoder.decode(chunk))
        return self.satisfied()

    def feed_event(self, event: dict[str, Any]) -> bool:
        """Takes an event parsed by the client itself (TestClient.iter_events)."""
        self.events.append(event)
        return self.satisfied()

    def finish(self) -> None:
        """The body ended: what is left of the text is the last line."""
        self._take_text(self._decoder.decode(b"", final=True))
        rest, self._rest = self._rest, ""
        if rest:
            self.lines.append(rest)
            self._feed_line(rest)

    def _take_text(self, text: str) -> None:
        lines, self._rest = split_lines(self._rest + text)
        for line in lines:
            self.lines.append(line)
            self._feed_line(line)

    def _feed_line(self, line: str) -> None:
        event = self._parser.feed(line)
        if event is not None:
            self.events.append(event)

    def satisfied(self) -> bool:
        if not self.read:
            return False
        ((unit, count),) = self.read.items()
        if unit == "lines":
            return len(self.lines) >= count
        if unit == "events":
            return len(self.events) >= count
        return sum(len(chunk) for chunk in self.chunks) >= count

    def lines_read(self) -> list[str]:
        if self.read and "lines" in self.read:
            return self.lines[: self.read["lines"]]
        return self.lines

    def events_read(self) -> list[dict[str, Any]]:
        if self.read and "events" in self.read:
            return self.events[: self.read["events"]]
        return self.events


# -- comparing --------------------------------------------------------------------------------


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def stream_differences(
    expected: dict[str, Any],
    reader: BodyReader,
    *,
    exact_chunks: bool,
    differences: Callable[[Any, Any, str], list[str]],
) -> list[str]:
    """The streamed expectations that ``reader`` does not meet. ``exact_chunks``: the client
    sees the chunks as produced (TestClient), not as the network delivered them."""
    problems: list[str] = []
    body = reader.body
    text = body.decode("utf-8", errors="replace")
    if "chunks" in expected:
        want = expected["chunks"]
        if exact_chunks:
            got = [chunk.decode("utf-8", errors="replace") for chunk in reader.chunks]
            if got != want:
                problems.append(f"chunks: expected {_show(want)}, got {_show(got)}")
        elif text != "".join(want):
            problems.append(f"chunks: expected the body {_show(''.join(want))}, got {_show(text)}")
    if "body_length" in expected and len(body) != expected["body_length"]:
        problems.append(f"body_length: expected {expected['body_length']}, got {len(body)}")
    if "body_sha256" in expected:
        digest = hashlib.sha256(body).hexdigest()
        if digest != expected["body_sha256"]:
            problems.append(f"body_sha256: expected {expected['body_sha256']}, got {digest}")
    for wanted in expected.get("body_contains", []):
        if wanted not in text:
            problems.append(f"body_contains: {wanted!r} is not in the body")
    for unwanted in expected.get("body_excludes", []):
        if unwanted in text:
            problems.append(f"body_excludes: {unwanted!r} is in the body")
    if "lines" in expected and reader.lines_read() != expected["lines"]:
        problems.append(f"lines: expected {_show(expected['lines'])}, got {_show(reader.lines_read())}")
    if "events" in expected:
        problems += event_differences(expected["events"], reader.events_read(), differences)
    want_error = expected.get("stream_error", False)
    if want_error and reader.error is None:
        problems.append("stream_error: expected the body to break off, it ended cleanly")
    elif not want_error and reader.error is not None:
        problems.append(f"stream_error: the body broke off ({reader.error})")
    return problems


def event_differences(
    expected: list[dict[str, Any]],
    actual: list[dict[str, Any]],
    differences: Callable[[Any, Any, str], list[str]],
) -> list[str]:
    if len(expected) != len(actual):
        return [
            f"events: expected {len(expected)} events {_show(expected)}, got {len(actual)} {_show(actual)}"
        ]
    problems: list[str] = []
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        where = f"events[{index}]"
        for key, value in want.items():
            if key == "json":
                try:
                    decoded = json.loads(got["data"])
                except (TypeError, ValueError) as exc:
                    problems.append(f"{where}.json: the data {_show(got['data'])} is not JSON ({exc})")
                    continue
                problems += differences(value, decoded, f"{where}.json")
            else:
                problems += differences(value, got[key], f"{where}.{key}")
    return problems


def poll(
    fetch: Callable[[], dict[str, Any]],
    problems_of: Callable[[dict[str, Any]], list[str]],
    timeout: float = PROBE_TIMEOUT,
) -> tuple[dict[str, Any], list[str]]:
    """Fetches a probe's state until ``problems_of`` finds nothing wrong with it, or the
    timeout passes; the last state and what was still wrong with it."""
    deadline = time.monotonic() + timeout
    while True:
        state = fetch()
        found = problems_of(state)
        if not found or time.monotonic() > deadline:
            return state, found
        time.sleep(0.02)


def wait_for_probe(
    fetch: Callable[[], dict[str, Any]],
    want: dict[str, Any],
    differences: Callable[[Any, Any, str], list[str]],
    label: str = "generator",
) -> list[str]:
    """Polls a probe (a generator's; ``label`` names it in the differences) until it has every
    member of ``want``; the differences left after PROBE_TIMEOUT seconds."""

    def problems_of(state: dict[str, Any]) -> list[str]:
        return [
            found
            for key, value in want.items()
            for found in differences(value, state.get(key), f"{label}.{key}")
        ]

    return poll(fetch, problems_of)[1]
