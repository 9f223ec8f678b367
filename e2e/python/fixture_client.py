"""Sends a fixture's request and checks the answer against its ``expected_response``.

The generated tests (``e2e/python/test_<category>.py``) call ``TestClientPool.check`` and
``LiveServerPool.check``. Both send exactly the same bytes, built once by ``build_request``: the
path as written plus the encoded query, the fixture's headers, cookies as one ``Cookie`` header,
and a JSON / raw / base64 / url-encoded / multipart body. Both compare the answer with
``compare``:

- ``status``: equal.
- ``body``: the whole body; JSON responses (``application/json``, ``*+json``) compared as decoded
  JSON values, strictly (``1`` is not ``1.0`` nor ``true``), others as text.
- ``body_partial``: every member given is present and equal, recursively for objects (lists:
  same length, items compared the same way).
- ``headers``: case-insensitive names; a value (one of the header's values, or all of them joined
  with ``, ``), the tokens ``<<present>>`` / ``<<absent>>``, or ``<<match:REGEX>>`` (one of the
  values holds a match of the regular expression: ``re.search``).
- ``document``: fragments of a served JSON document (``/openapi.json``) by JSON Pointer, compared
  partially with their ``$ref`` targets inlined, or ``<<absent>>`` (``e2e/python/document_support.py``).
- ``validation_errors``: the body's ``errors`` has as many entries, and they pair off one to one
  with the expected ones, in any order, each pair equal on the keys the expected entry gives.

A mismatch fails the test with the request, every difference and the response as received (and,
for live servers, the end of the server's log).

Streamed fixtures (handler behaviours ``stream``, ``sse`` and ``file``) are sent with
``TestClient.stream`` / ``httpx.Client.stream`` instead and read as the body arrives, up to what
``request.read`` asks (then the client disconnects); besides the checks above, their streamed
expectations (chunks, lines, SSE events, a body that must break off, what the generator did) are
compared by ``e2e/python/stream_support.py``, which also writes the files ``file`` fixtures serve.

WebSocket fixtures (a ``request.websocket`` script) open the socket instead and run the client's
steps (``e2e/python/session_support.py``); the handshake's answer (101, or the HTTP refusal) is
compared like a response. Background fixtures have their journal checked after the response,
lifespan fixtures (an app with a start-up and a shutdown) get a TestClient or a live server of
their own, started and stopped around the request, and their notes are read once it has
stopped (``e2e/python/lifecycle_support.py``). Dependency and hook fixtures have the events their
factories, hooks and handler recorded checked after the response (``recorded``), and what
ferroweb logged (``logged``: captured in this process for TestClient, the server's log
otherwise); ``request.repeat`` sends a request several times (the last answer is compared).
``request.before`` lists requests sent first by the same client, which keeps the cookies their
answers set; header values may name one as ``<<cookie:NAME>>`` (``e2e/python/before_support.py``).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import IO, Any
from urllib.parse import urlencode

import httpx
import pytest

from e2e.python import before_support, handler_support, lifecycle_support, session_support
from e2e.python.document_support import document_problems
from e2e.python.stream_support import (
    PROBE_ROUTE,
    BodyReader,
    fill_validators,
    is_streamed,
    needs_validators,
    stream_differences,
    wait_for_probe,
    write_files,
)
from ferroweb._lifespan import StartupFailed
from ferroweb.testing import RemoteProtocolError, TestClient, TestResponse

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES_DIR = REPO_ROOT / "testing_data"
HOST = "127.0.0.1"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0
REQUEST_TIMEOUT = 10.0
#: Fixed, so that a request's bytes are the same on every run.
MULTIPART_BOUNDARY = "ferroweb-e2e-7MA4YWxkTrZu0gW"
#: The part Content-Type of a file the fixture gives none for (as ferroweb's TestClient sends).
DEFAULT_FILE_CONTENT_TYPE = "application/octet-stream"
PRESENT, ABSENT = "<<present>>", "<<absent>>"
MATCH = re.compile(r"<<match:(.*)>>", re.DOTALL)
READY_PATH = handler_support.PROBE_PREFIX + "ready"
#: How much of a live server's log ``expected_response.logged`` searches (its end).
LOG_READ = 200_000


@functools.cache
def _load(category: str, name: str) -> str:
    return (FIXTURES_DIR / category / f"{name}.json").read_text(encoding="utf-8")


def load_fixture(category: str, name: str) -> dict[str, Any]:
    """A fresh copy of the fixture (tests cannot alter each other's)."""
    fixture: dict[str, Any] = json.loads(_load(category, name))
    return fixture


def with_xfails(category: str, names: list[str], mode: str) -> list[Any]:
    """The parametrize cases for ``mode`` (testclient or live): a fixture whose ``xfail`` names
    the mode (a known framework bug) is marked as a strict expected failure, so that a fix is
    noticed."""
    cases: list[Any] = []
    for name in names:
        reason = load_fixture(category, name).get("xfail", {}).get(mode)
        marks = [pytest.mark.xfail(reason=f"known bug: {reason}", strict=True)] if reason else []
        cases.append(pytest.param(name, marks=marks))
    return cases


# -- requests ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class WireRequest:
    """A request as it goes out: method, request target, headers and body bytes."""

    method: str
    target: str
    headers: list[tuple[str, str]]
    body: bytes

    def describe(self) -> str:
        lines = [f"{self.method} {self.target}"]
        lines += [f"  {name}: {value}" for name, value in self.headers]
        if self.body:
            lines.append("  " + _preview(self.body))
        return "\n".join(lines)


def _pairs(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Mapping with list values -> (key, value) pairs, a list repeating its key."""
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        for item in value if isinstance(value, list) else [value]:
            pairs.append((key, str(item)))
    return pairs


def _multipart(form: dict[str, Any], files: list[dict[str, str]]) -> bytes:
    """The multipart body, encoded by httpx (as ferroweb's TestClient and a live httpx client
    encode one), with the fixed boundary."""
    encoded = httpx.Request(
        "POST",
        "http://fixture/",
        data=dict(_grouped(_pairs(form))),
        files=[
            (
                upload["field"],
                (
                    upload["filename"],
                    upload["content"].encode(),
                    upload.get("content_type", DEFAULT_FILE_CONTENT_TYPE),
                ),
            )
            for upload in files
        ],
        headers={"content-type": f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"},
    )
    return encoded.read()


def _grouped(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for key, value in pairs:
        grouped.setdefault(key, []).append(value)
    return grouped


def build_request(spec: dict[str, Any]) -> WireRequest:
    """The bytes a fixture's ``request`` stands for."""
    target = spec["path"]
    raw_query = spec.get("query_string")
    query = "&".join(q for q in (urlencode(_pairs(spec.get("query", {}))), raw_query) if q)
    if query or raw_query == "":
        target += ("&" if "?" in target else "?") + query

    headers = [(name, value) for name, value in spec.get("headers", {}).items()]
    given = {name.lower() for name, _ in headers}
    body = b""
    content_type: str | None = None
    if "json" in spec:
        body = json.dumps(spec["json"], ensure_ascii=False, separators=(",", ":")).encode()
        content_type = "application/json"
    elif "body" in spec:
        body = spec["body"].encode()
    elif "body_base64" in spec:
        body = base64.b64decode(spec["body_base64"])
    elif "files" in spec:
        body = _multipart(spec.get("form", {}), spec["files"])
        content_type = f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"
    elif "form" in spec:
        body = urlencode(_pairs(spec["form"])).encode()
        content_type = "application/x-www-form-urlencoded"
    if content_type is not None and "content-type" not in given:
        headers.append(("content-type", content_type))
    if spec.get("cookies"):
        jar = "; ".join(f"{name}={value}" for name, value in spec["cookies"].items())
        for index, (name, value) in enumerate(headers):
            if name.lower() == "cookie":
                headers[index] = (name, f"{value}; {jar}")
                break
        else:
            headers.append(("cookie", jar))
    return WireRequest(spec["method"], target, headers, body)


# -- comparison -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """A response as received: status, headers (lower-case names, in order) and body bytes."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header_values(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    @property
    def is_json(self) -> bool:
        values = self.header_values("content-type")
        media_type = values[0].split(";")[0].strip().lower() if values else ""
        return media_type == "application/json" or (
            media_type.startswith("application/") and media_type.endswith("+json")
        )

    def json(self) -> Any:
        return json.loads(self.body)

    def describe(self) -> str:
        lines = [f"{self.status}"]
        lines += [f"  {name}: {value}" for name, value in self.headers]
        lines.append("  " + (_preview(self.body) if self.body else "(empty body)"))
        return "\n".join(lines)


def _preview(body: bytes, limit: int = 2000) -> str:
    text = body.decode("utf-8", errors="replace")
    return text if len(text) <= limit else text[:limit] + f"... ({len(body)} bytes)"


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False) if not isinstance(value, float) else repr(value)


def _kind(value: Any) -> str:
    return {
        bool: "boolean",
        int: "integer",
        float: "number",
        str: "string",
        list: "array",
        dict: "object",
    }.get(type(value), "null" if value is None else type(value).__name__)


def differences(expected: Any, actual: Any, where: str = "$", *, partial: bool = False) -> list[str]:
    """Where actual differs from expected (empty: they match). JSON values are compared strictly
    by type: 1, 1.0 and true are three different values. With ``partial``, objects only need the
    expected members."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        found: list[str] = []
        for key, value in expected.items():
            if key not in actual:
                found.append(f"{where}.{key}: missing (expected {_show(value)})")
            else:
                found += differences(value, actual[key], f"{where}.{key}", partial=partial)
        if not partial:
            found += [
                f"{where}.{key}: unexpected member {_show(actual[key])}"
                for key in actual
                if key not in expected
            ]
        return found
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            return [
                f"{where}: expected {len(expected)} items {_show(expected)},"
                f" got {len(actual)} {_show(actual)}"
            ]
        found = []
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            found += differences(want, got, f"{where}[{index}]", partial=partial)
        return found
    if _kind(expected) != _kind(actual) or expected != actual:
        return [
            f"{where}: expected {_show(expected)} ({_kind(expected)}), got {_show(actual)} ({_kind(actual)})"
        ]
    return []


def _pair_errors(expected: list[dict[str, Any]], actual: list[Any]) -> tuple[list[int], list[int]]:
    """A one-to-one pairing of expected and actual errors (augmenting paths); returns the
    indexes of the expected and of the actual entries left unpaired."""

    def fits(want: dict[str, Any], got: Any) -> bool:
        return isinstance(got, dict) and all(
            key in got and not differences(value, got[key]) for key, value in want.items()
        )

    edges = [[j for j, got in enumerate(actual) if fits(want, got)] for want in expected]
    owner: dict[int, int] = {}  # actual index -> expected index

    def assign(i: int, seen: set[int]) -> bool:
        for j in edges[i]:
            if j not in seen:
                seen.add(j)
                if j not in owner or assign(owner[j], seen):
                    owner[j] = i
                    return True
        return False

    unpaired_expected = [i for i in range(len(expected)) if not assign(i, set())]
    unpaired_actual = [j for j in range(len(actual)) if j not in owner]
    return unpaired_expected, unpaired_actual


def compare(expected: dict[str, Any], answer: Answer) -> list[str]:
    """Every way the answer differs from the fixture's expected_response."""
    problems: list[str] = []
    if answer.status != expected["status"]:
        problems.append(f"status: expected {expected['status']}, got {answer.status}")

    for name, want in expected.get("headers", {}).items():
        values = answer.header_values(name)
        if want == PRESENT:
            if not values:
                problems.append(f"header {name}: expected it to be present, it is absent")
        elif want == ABSENT:
            if values:
                problems.append(f"header {name}: expected it to be absent, got {values}")
        elif (match := MATCH.fullmatch(want)) is not None:
            if not any(re.search(match.group(1), value) for value in values):
                found = values or "nothing"
                problems.append(f"header {name}: expected a value matching {match.group(1)!r}, got {found}")
        elif want not in values and ", ".join(values) != want:
            problems.append(f"header {name}: expected {want!r}, got {values or 'nothing'}")

    # A JSON body is compared as a JSON value; an empty one (HEAD, 204) and others as text.
    json_body = answer.is_json and bool(answer.body)
    decoded: Any = None
    wants_json = "body_partial" in expected or "validation_errors" in expected or "document" in expected
    if wants_json or ("body" in expected and json_body):
        try:
            decoded = answer.json()
        except ValueError as exc:
            problems.append(f"body: expected JSON, could not decode it ({exc})")
            return problems

    if "body" in expected:
        want = expected["body"]
        if json_body:
            problems += [f"body {line}" for line in differences(want, decoded)]
        elif isinstance(want, str):
            text = answer.body.decode("utf-8", errors="replace")
            if text != want:
                problems.append(f"body: expected {want!r}, got {text!r}")
        else:
            problems.append(f"body: expected the JSON value {_show(want)}, got a non-JSON response")

    if "body_partial" in expected:
        if not isinstance(decoded, dict):
            problems.append(f"body_partial: expected a JSON object, got {_show(decoded)}")
        else:
            problems += [
                f"body_partial {line}"
                for line in differences(expected["body_partial"], decoded, partial=True)
            ]

    if "document" in expected:
        problems += document_problems(expected["document"], decoded, differences)

    if "validation_errors" in expected:
        want_errors = expected["validation_errors"]
        errors = decoded.get("errors") if isinstance(decoded, dict) else None
        if not isinstance(errors, list):
            problems.append(f"validation_errors: the body has no `errors` list (got {_show(errors)})")
        else:
            if len(errors) != len(want_errors):
                problems.append(f"validation_errors: expected {len(want_errors)} errors, got {len(errors)}")
            missing, extra = _pair_errors(want_errors, errors)
            problems += [
                f"validation_errors: no actual error matches {_show(want_errors[i])}" for i in missing
            ]
            problems += [f"validation_errors: unexpected error {_show(errors[j])}" for j in extra]
    return problems


def report(
    fixture: dict[str, Any],
    request: WireRequest,
    answer: Answer,
    via: str,
    problems: list[str],
    log: str = "",
    transcript: list[str] | None = None,
) -> None:
    """Fails the test with every problem found, unless there is none."""
    if not problems:
        return
    lines = [
        f"{fixture['category']}/{fixture['name']} via {via}: {fixture['description']}",
        "request:",
        "  " + request.describe().replace("\n", "\n  "),
        "differences:",
        *(f"  - {problem}" for problem in problems),
        "response:",
        "  " + answer.describe().replace("\n", "\n  "),
    ]
    if transcript:
        lines += ["websocket session:", *(f"  {line}" for line in transcript)]
    if log:
        lines += ["server log (end):", "  " + log.replace("\n", "\n  ")]
    pytest.fail("\n".join(lines), pytrace=False)


def _group(module: ModuleType, name: str) -> str:
    group: str = module.FIXTURE_APP[name]
    return group


def _streamed_problems(
    fixture: dict[str, Any],
    answer: Answer,
    reader: BodyReader,
    exact_chunks: bool,
    fetch_probe: Any,
) -> list[str]:
    """compare's checks plus the streamed expectations and the generator's probe."""
    expected = fixture["expected_response"]
    problems = compare(expected, answer)
    problems += stream_differences(expected, reader, exact_chunks=exact_chunks, differences=differences)
    if "generator" in expected:
        problems += wait_for_probe(fetch_probe, expected["generator"], differences)
    return problems


def _session_problems(
    fixture: dict[str, Any], result: session_support.SessionResult, fetch_probe: Any
) -> tuple[Answer, list[str]]:
    """A WebSocket session's handshake compared like a response, what went wrong in the
    script, and what the handler saw (its probe)."""
    expected = fixture["expected_response"]
    answer = Answer(result.status, result.headers, result.body)
    problems = compare(expected, answer) + result.problems
    if "handler" in expected:
        # the disconnect's reason is compared only when the fixture gives it
        loose = functools.partial(differences, partial=True)
        problems += wait_for_probe(fetch_probe, expected["handler"], loose, label="handler")
    return answer, problems


def _journal_problems(fixture: dict[str, Any], fetch_probe: Any) -> list[str]:
    want = fixture["expected_response"].get("background")
    return lifecycle_support.wait_for_journal(fetch_probe, want, differences) if want else []


def _layer_problems(fixture: dict[str, Any], fetch_probe: Any, read_log: Callable[[], str]) -> list[str]:
    """What the dependency factories and hooks recorded (the journal ``<fixture>.recorded``),
    and what the server logged."""
    expected = fixture["expected_response"]
    problems: list[str] = []
    if "recorded" in expected:
        name = fixture["name"] + handler_support.RECORDED_SUFFIX
        fetch = functools.partial(fetch_probe, name)
        problems += lifecycle_support.wait_for_recorded(fetch, expected["recorded"], differences)
    if "logged" in expected:
        problems += lifecycle_support.wait_for_log(read_log, expected["logged"])
    return problems


def _send_before(
    fixture: dict[str, Any], request: WireRequest, send: Callable[[WireRequest], Answer], jar: httpx.Cookies
) -> tuple[WireRequest, list[str]]:
    """Sends the fixture's ``request.before`` (its answers' cookies kept in ``jar``); the
    fixture's own request with its ``<<cookie:NAME>>`` placeholders filled in, and the problems."""
    problems = before_support.send_before(fixture["request"].get("before", []), build_request, send, jar)
    request, missing = before_support.filled(request, jar)
    return request, problems + missing


def _send_repeated(fixture: dict[str, Any], send: Callable[[], Answer]) -> tuple[Answer, list[str]]:
    """Sends the request ``request.repeat`` times (default once): the last answer, and the
    earlier ones that did not have the expected status."""
    times = int(fixture["request"].get("repeat", 1))
    answers = [send() for _ in range(times)]
    want = fixture["expected_response"]["status"]
    problems = [
        f"request {index + 1} of {times}: status {answer.status}, expected {want}"
        for index, answer in enumerate(answers[:-1])
        if answer.status != want
    ]
    return answers[-1], problems


class _LogCapture(logging.Handler):
    """What ferroweb logs in this process (TestClient runs the app here), as text."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))

    def text(self) -> str:
        return "\n".join(self.lines)


@contextlib.contextmanager
def captured_log() -> Iterator[_LogCapture]:
    capture = _LogCapture()
    logger = logging.getLogger("ferroweb")
    logger.addHandler(capture)
    try:
        yield capture
    finally:
        logger.removeHandler(capture)


def _event_dict(event: Any) -> dict[str, Any]:
    return {"data": event.data, "event": event.event, "id": event.id, "retry": event.retry}


def _read_testclient(response: TestResponse, reader: BodyReader, parse_events: bool) -> None:
    """Reads through the TestClient's own iterators: its SSE parser when only events are
    checked, else the raw chunks."""
    try:
        if parse_events:
            for event in response.iter_events():
                if reader.feed_event(_event_dict(event)):
                    return
        else:
            for chunk in response.iter_bytes():
                if reader.feed(chunk):
                    return
    except RemoteProtocolError as exc:
        reader.error = str(exc)
    if not parse_events:
        reader.finish()


#: Expectations about the raw body: with none of them, TestClient's SSE parser reads the events.
RAW_EXPECTATIONS = (
    "body",
    "body_partial",
    "chunks",
    "body_length",
    "body_sha256",
    "body_contains",
    "body_excludes",
    "lines",
)


# -- in-process ---------------------------------------------------------------------------------


class TestClientPool:
    """One ``TestClient`` per generated app (module, group), closed by ``close``."""

    __test__ = False

    def __init__(self, files_root: Path | None = None) -> None:
        self._clients: dict[tuple[str, str], TestClient | str] = {}
        self._files_root = files_root
        if files_root is not None:
            handler_support.use_files_root(files_root)

    def client(self, module: ModuleType, group: str) -> TestClient:
        key = (module.__name__, group)
        if key not in self._clients:
            try:
                client = TestClient(module.APPS[group], follow_redirects=False)
                client.__enter__()
                self._clients[key] = client
            except Exception as exc:  # the app cannot be served: every fixture of it fails alike
                self._clients[key] = f"{type(exc).__name__}: {exc}"
        found = self._clients[key]
        if isinstance(found, str):
            pytest.fail(f"TestClient for {module.__name__}:{group} could not start: {found}", pytrace=False)
        return found

    def check(self, module: ModuleType, category: str, name: str) -> None:
        fixture = load_fixture(category, name)
        group = _group(module, name)
        request = build_request(fixture["request"])
        via = f"TestClient ({module.__name__}:{group})"
        if "lifespan" in fixture["handler"]:
            self._check_lifespan(fixture, request, module.APPS[group], via)
            return
        client = self.client(module, group)
        client.cookies.clear()  # no cookie from one fixture's answer reaches the next request

        def fetch_probe(name: str = fixture["name"]) -> dict[str, Any]:
            state: dict[str, Any] = client.get(PROBE_ROUTE.format(name=name)).json()
            return state

        script = fixture["request"].get("websocket")
        with captured_log() as log:
            if script is not None:
                result = session_support.run_testclient(
                    client, request.target, request.headers, script, differences
                )
                answer, problems = _session_problems(fixture, result, fetch_probe)
                problems += _layer_problems(fixture, fetch_probe, log.text)
                report(fixture, request, answer, via, problems, transcript=result.transcript)
                return
            if is_streamed(fixture):
                self._check_streamed(fixture, request, client, via)
                return
            request, problems = _send_before(
                fixture, request, functools.partial(_send_testclient, client), client.cookies
            )
            answer, repeated = _send_repeated(fixture, lambda: _send_testclient(client, request))
            problems += repeated + compare(fixture["expected_response"], answer)
            problems += _journal_problems(fixture, fetch_probe)
            problems += _layer_problems(fixture, fetch_probe, log.text)
        report(fixture, request, answer, via, problems)

    def _check_lifespan(self, fixture: dict[str, Any], request: WireRequest, app: Any, via: str) -> None:
        """A client of its own, entered (start-up), sent the request, and closed (shutdown)."""
        if self._files_root is None:
            raise AssertionError("lifespan fixtures need a TestClientPool with a files_root")
        expected = fixture["expected_response"]
        lifecycle_support.clear_notes(self._files_root, fixture)
        client = TestClient(app, follow_redirects=False)
        answer: Answer | None = None
        error: str | None = None
        try:
            client.__enter__()
        except StartupFailed as exc:
            error = str(exc)
        else:
            if "startup_error" not in expected.get("lifespan", {}):
                answer = _send_testclient(client, request)
        finally:
            client.close()
        problems = lifecycle_support.startup_problems(expected, error)
        if answer is not None:
            problems += compare(expected, answer)
        problems += lifecycle_support.notes_differences(expected, self._files_root, fixture, differences)
        report(fixture, request, answer or Answer(0, [], b""), via, problems)

    def _check_streamed(
        self, fixture: dict[str, Any], request: WireRequest, client: TestClient, via: str
    ) -> None:
        if self._files_root is None:
            raise AssertionError("streamed fixtures need a TestClientPool with a files_root")
        write_files(fixture, self._files_root)
        headers = request.headers
        if needs_validators(headers):
            plain = client.request(
                "GET", request.target, follow_redirects=False, extensions=_as_written(request.target)
            )
            headers = fill_validators(headers, {k.lower(): v for k, v in plain.headers.multi_items()})
            request = WireRequest(request.method, request.target, headers, request.body)
        expected = fixture["expected_response"]
        parse_events = "events" in expected and not any(key in expected for key in RAW_EXPECTATIONS)
        reader = BodyReader(fixture["request"].get("read"))
        with client.stream(
            request.method,
            request.target,
            headers=dict(headers),
            content=request.body or None,
            extensions=_as_written(request.target),
        ) as response:
            _read_testclient(response, reader, parse_events)
            status = response.status_code
            response_headers = [(key.lower(), value) for key, value in response.headers.multi_items()]
        answer = Answer(status, response_headers, reader.body)

        def fetch_probe() -> dict[str, Any]:
            state: dict[str, Any] = client.get(PROBE_ROUTE.format(name=fixture["name"])).json()
            return state

        problems = _streamed_problems(fixture, answer, reader, True, fetch_probe)
        report(fixture, request, answer, via, problems)

    def close(self) -> None:
        for client in self._clients.values():
            if isinstance(client, TestClient):
                client.close()
        self._clients.clear()
        if self._files_root is not None:
            handler_support.use_files_root(None)


def _as_written(target: str) -> dict[str, Any]:
    """Sends the target as the fixture wrote it: httpx would resolve ``..`` segments first."""
    return {"target": target.encode("ascii")}


def _send_testclient(client: TestClient, request: WireRequest) -> Answer:
    if needs_validators(request.headers):  # <<etag>>: what a plain GET of the target answered
        plain = client.request(
            "GET", request.target, follow_redirects=False, extensions=_as_written(request.target)
        )
        answered = {k.lower(): v for k, v in plain.headers.multi_items()}
        request = WireRequest(
            request.method, request.target, fill_validators(request.headers, answered), request.body
        )
    response = client.request(
        request.method,
        request.target,
        headers=dict(request.headers),
        content=request.body or None,
        follow_redirects=False,
        extensions=_as_written(request.target),
    )
    return Answer(
        response.status_code,
        [(key.lower(), value) for key, value in response.headers.multi_items()],
        response.content,
    )


# -- live servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies (Linux), so that a killed
    test run leaves no server behind."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except Exception:
        pass


@dataclass
class LiveServer:
    target: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def log(self, tail: int = 4000) -> str:
        self.log_file.flush()
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return text[-tail:]

    def stop(self) -> str | None:
        """SIGTERM and wait; a problem description unless it exited 0 in time."""
        problem = None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
                problem = f"{self.target} did not exit within {STOP_TIMEOUT}s of SIGTERM"
        code = self.process.returncode
        if problem is None and code != 0:
            problem = f"{self.target} exited with {code}"
        if problem:
            problem += "; log:\n" + self.log()
        self.log_file.close()
        return problem


def _wait_ready(server: LiveServer) -> None:
    """Ready once the port accepts a connection and an HTTP request gets any answer."""
    deadline = time.monotonic() + READY_TIMEOUT
    last: BaseException | None = None
    with httpx.Client(timeout=1.0, trust_env=False) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise RuntimeError(f"exited with {code} before it was ready; log:\n{server.log()}")
            try:
                with socket.create_connection((HOST, server.port), timeout=0.5):
                    pass
                # under the probe prefix, which an app's own hooks and middleware pass on
                # unrecorded (any answer, a 404 too, means it is serving)
                client.get(f"{server.base_url}{READY_PATH}", headers={"connection": "close"})
                return
            except (OSError, httpx.HTTPError) as exc:
                last = exc
            time.sleep(0.05)
    raise RuntimeError(f"not ready within {READY_TIMEOUT}s ({last!r}); log:\n{server.log()}")


class LiveServerPool:
    """One ``python -m ferroweb run <module>:<group>`` process per generated app, started on
    first use and stopped (SIGTERM) once every fixture of its app has been checked, when more
    than ``max_running`` would run at once (least recently used first), or by ``close``. The
    generated tests list fixtures app by app, so normally one server runs at a time."""

    def __init__(self, log_dir: Path, max_running: int = 3, files_root: Path | None = None) -> None:
        self._log_dir = log_dir
        self._max_running = max_running
        self._files_root = files_root
        self._servers: OrderedDict[str, LiveServer | str] = OrderedDict()
        self._checked: dict[str, set[str]] = {}
        self._problems: list[str] = []

    def _launch(self, target: str) -> LiveServer:
        port = free_port()
        log_path = self._log_dir / f"{target.replace(':', '-')}-{port}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed by LiveServer.stop
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        if self._files_root is not None:
            env[handler_support.FILES_ENV] = str(self._files_root)
        command = [sys.executable, "-m", "ferroweb", "run", target, "--host", HOST, "--port", str(port)]
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        return LiveServer(target, port, process, log_path, log_file)

    def _start(self, target: str) -> LiveServer:
        # The free port is released before the server binds it: retry if someone took it.
        for attempt in range(3):
            server = self._launch(target)
            try:
                _wait_ready(server)
            except RuntimeError:
                server.stop()
                if attempt < 2 and "in use" in server.log_path.read_text(errors="replace").lower():
                    continue
                raise
            return server
        raise AssertionError("unreachable")

    def _stop(self, target: str) -> None:
        server = self._servers.pop(target, None)
        if isinstance(server, LiveServer):
            problem = server.stop()
            if problem:
                self._problems.append(problem)

    def server(self, module: ModuleType, group: str) -> LiveServer:
        target = f"{module.__name__}:{group}"
        if target in self._servers:
            self._servers.move_to_end(target)
        else:
            running = [t for t, s in self._servers.items() if isinstance(s, LiveServer)]
            for oldest in running[: max(0, len(running) - self._max_running + 1)]:
                self._stop(oldest)
            try:
                self._servers[target] = self._start(target)
            except RuntimeError as exc:
                self._servers[target] = str(exc)
        found = self._servers[target]
        if isinstance(found, str):
            pytest.fail(f"live server {target} could not start: {found}", pytrace=False)
        if found.process.poll() is not None:
            pytest.fail(
                f"live server {target} has died (exit {found.process.returncode}); log:\n{found.log()}"
            )
        return found

    def check(self, module: ModuleType, category: str, name: str) -> None:
        group = _group(module, name)
        try:
            self._check(module, category, name, group)
        finally:
            target = f"{module.__name__}:{group}"
            checked = self._checked.setdefault(target, set())
            checked.add(name)
            if checked >= {n for n, g in module.FIXTURE_APP.items() if g == group}:
                self._stop(target)  # its last fixture: free the process now

    def _check(self, module: ModuleType, category: str, name: str, group: str) -> None:
        fixture = load_fixture(category, name)
        request = build_request(fixture["request"])
        if "lifespan" in fixture["handler"]:
            self._check_lifespan(fixture, request, f"{module.__name__}:{group}")
            return
        server = self.server(module, group)
        via = f"live server ({server.target})"
        if is_streamed(fixture):
            self._check_streamed(fixture, request, server)
            return
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=REQUEST_TIMEOUT) as client:

            def fetch_probe(name: str = fixture["name"]) -> dict[str, Any]:
                probe = PROBE_ROUTE.format(name=name)
                state: dict[str, Any] = client.get(f"{server.base_url}{probe}").json()
                return state

            def read_log() -> str:
                return server.log(LOG_READ)

            script = fixture["request"].get("websocket")
            if script is not None:
                base = f"ws://{HOST}:{server.port}"
                result = session_support.run_live(base, request.target, request.headers, script, differences)
                answer, problems = _session_problems(fixture, result, fetch_probe)
                problems += _layer_problems(fixture, fetch_probe, read_log)
                log = server.log(1500)
                report(fixture, request, answer, via, problems, log=log, transcript=result.transcript)
                return
            send = functools.partial(_send_live, client, server, fixture)
            request, problems = _send_before(fixture, request, send, client.cookies)
            answer, repeated = _send_repeated(fixture, lambda: send(request))
            problems += repeated + compare(fixture["expected_response"], answer)
            problems += _journal_problems(fixture, fetch_probe)
            problems += _layer_problems(fixture, fetch_probe, read_log)
        report(fixture, request, answer, via, problems, log=server.log(1500))

    def _check_lifespan(self, fixture: dict[str, Any], request: WireRequest, target: str) -> None:
        """A server of its own: started, sent the request, stopped with SIGTERM (it must exit 0),
        then its notes are read; or, when start-up must fail, it must exit non-zero having
        logged the error."""
        if self._files_root is None:
            raise AssertionError("lifespan fixtures need a LiveServerPool with a files_root")
        expected = fixture["expected_response"]
        lifecycle_support.clear_notes(self._files_root, fixture)
        server = self._launch(target)
        answer: Answer | None = None
        if "startup_error" in expected.get("lifespan", {}):
            try:
                code = server.process.wait(timeout=READY_TIMEOUT)
            except subprocess.TimeoutExpired:
                code = 0  # it started: the problem is reported below
            problem = server.stop()  # closes the log (and stops a server that did start)
            log = server.log_path.read_text(encoding="utf-8", errors="replace")
            problems = lifecycle_support.startup_problems(expected, log if code else None)
            if code and problem:
                problem = None  # exiting non-zero is what start-up failing means here
        else:
            try:
                _wait_ready(server)
                with httpx.Client(trust_env=False, follow_redirects=False, timeout=REQUEST_TIMEOUT) as client:
                    answer = _send_live(client, server, fixture, request)
            finally:
                problem = server.stop()
            log = server.log_path.read_text(encoding="utf-8", errors="replace")
            problems = compare(expected, answer) if answer is not None else []
        if problem:
            problems.append(problem)
        problems += lifecycle_support.notes_differences(expected, self._files_root, fixture, differences)
        report(
            fixture,
            request,
            answer or Answer(0, [], b""),
            f"live server ({target})",
            problems,
            log=log[-1500:],
        )

    def _check_streamed(self, fixture: dict[str, Any], request: WireRequest, server: LiveServer) -> None:
        if self._files_root is None:
            raise AssertionError("streamed fixtures need a LiveServerPool with a files_root")
        write_files(fixture, self._files_root)
        reader = BodyReader(fixture["request"].get("read"))
        url = f"{server.base_url}/"
        with httpx.Client(trust_env=False, follow_redirects=False, timeout=REQUEST_TIMEOUT) as client:

            def send(method: str, target: str, headers: list[tuple[str, str]], body: bytes) -> Any:
                return client.stream(
                    method, url, headers=headers, content=body or None, extensions={"target": target.encode()}
                )

            try:
                if needs_validators(request.headers):
                    with send("GET", request.target, [], b"") as plain:
                        plain.read()
                        answered = {k.lower(): v for k, v in plain.headers.multi_items()}
                    headers = fill_validators(request.headers, answered)
                    request = WireRequest(request.method, request.target, headers, request.body)
                with send(request.method, request.target, request.headers, request.body) as response:
                    try:
                        # iter_bytes: the body as the app wrote it, any Content-Encoding undone
                        for chunk in response.iter_bytes():
                            if reader.feed(chunk):
                                break
                        else:
                            reader.finish()
                    except httpx.RemoteProtocolError as exc:
                        reader.error = f"{type(exc).__name__}: {exc}"
                        reader.finish()
                    status = response.status_code
                    response_headers = [(key.lower(), value) for key, value in response.headers.multi_items()]
                # leaving the block before the end closes the connection: the server sees the
                # client go away

                def fetch_probe() -> dict[str, Any]:
                    state: dict[str, Any] = client.get(
                        f"{server.base_url}{PROBE_ROUTE.format(name=fixture['name'])}"
                    ).json()
                    return state

                answer = Answer(status, response_headers, reader.body)
                problems = _streamed_problems(fixture, answer, reader, False, fetch_probe)
            except httpx.HTTPError as exc:
                pytest.fail(
                    f"{fixture['category']}/{fixture['name']}: {request.describe()}\nfailed: {exc!r}\n"
                    f"server log:\n{server.log()}",
                    pytrace=False,
                )
        report(fixture, request, answer, f"live server ({server.target})", problems, log=server.log(1500))

    def close(self) -> list[str]:
        """Stops every server; the problems of those that did not exit cleanly (now or when
        they were stopped earlier)."""
        for target in list(self._servers):
            self._stop(target)
        problems, self._problems = self._problems, []
        return problems


def _send_live(
    client: httpx.Client, server: LiveServer, fixture: dict[str, Any], request: WireRequest
) -> Answer:
    try:
        if needs_validators(request.headers):  # <<etag>>: what a plain GET of the target answered
            plain = client.get(f"{server.base_url}/", extensions={"target": request.target.encode()})
            answered = {k.lower(): v for k, v in plain.headers.multi_items()}
            headers = fill_validators(request.headers, answered)
            request = WireRequest(request.method, request.target, headers, request.body)
        response = client.request(
            request.method,
            f"{server.base_url}/",
            headers=request.headers,
            content=request.body or None,
            # the request target goes out exactly as written, not normalised by httpx
            extensions={"target": request.target.encode()},
        )
    except httpx.HTTPError as exc:
        pytest.fail(
            f"{fixture['category']}/{fixture['name']}: {request.describe()}\nfailed: {exc!r}\n"
            f"server log:\n{server.log()}",
            pytrace=False,
        )
    return Answer(
        response.status_code,
        [(key.lower(), value) for key, value in response.headers.multi_items()],
        response.content,
    )
