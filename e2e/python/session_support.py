"""WebSocket fixtures (a ``request.websocket`` script): the handshake, then the client's steps.

The same script runs through ``TestClient.websocket_connect`` (the app's real handshake and
socket code over an in-memory connection) and through the ``websockets`` library's sync client
against a live server. Both sides are wrapped in a small ``Transport`` (send text or bytes,
receive the next message or the server's close, close from the client), so ``run_steps`` runs
the steps and compares what arrives the same way for both:

- ``send_text`` / ``send_bytes`` (base64) / ``send_json`` (compact JSON in a text frame);
- ``receive_text`` / ``receive_bytes`` / ``receive_json``: the next message must be of that kind
  and equal (JSON strictly, as response bodies are compared);
- ``receive_close``: the next thing received is the server's close frame, with that code (and
  reason, when given);
- ``close``: the client closes with a code and reason and waits for the server's answer.

The first step that goes wrong ends the script (what follows would only repeat the problem).
A handshake the server refuses gives its HTTP answer (status, headers, body) instead: the caller
compares it with the fixture's expected response as for any HTTP request.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from ferroweb.testing import TestClient, WebSocketRejected, WebSocketSession
from ferroweb.websockets import WebSocketDisconnect

#: Seconds a step waits for the server's next message.
RECEIVE_TIMEOUT = 5.0
Differences = Callable[[Any, Any, str], list[str]]


class Closed(Exception):
    """The server's close frame arrived (1006: the connection was lost without one)."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class Transport(Protocol):
    def send_text(self, data: str) -> None: ...

    def send_bytes(self, data: bytes) -> None: ...

    def receive(self, timeout: float) -> str | bytes:
        """The next message; raises Closed, or TimeoutError when nothing came."""
        ...

    def close(self, code: int, reason: str) -> None: ...


@dataclass
class SessionResult:
    """The handshake's answer (101 and its headers, or the refusal) and how the script went."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes = b""
    transcript: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


# -- the steps --------------------------------------------------------------------------------


def message_text(value: Any) -> str:
    """A text message of the fixture: a string, or ``{"repeat", "times"}``."""
    if isinstance(value, str):
        return value
    return str(value["repeat"]) * int(value["times"])


def _show(message: str | bytes, limit: int = 120) -> str:
    kind = "text" if isinstance(message, str) else "bytes"
    shown = repr(message if len(message) <= limit else message[:limit])
    return f"{kind} {shown}" + (f" ({len(message)} long)" if len(message) > limit else "")


def _expected_message(action: str, value: Any) -> str | bytes | None:
    if action == "receive_text":
        return message_text(value)
    if action == "receive_bytes":
        return base64.b64decode(value)
    return None


def run_steps(steps: list[dict[str, Any]], transport: Transport, differences: Differences) -> SessionResult:
    """Runs the client's steps; the transcript and the problems (the first one ends the run).
    The result's status and headers are the caller's to fill in."""
    result = SessionResult(101, [])
    log = result.transcript
    for index, step in enumerate(steps):
        ((action, value),) = step.items()
        where = f"steps[{index}] {action}"
        if action == "send_text":
            text = message_text(value)
            log.append(f"> {_show(text)}")
            transport.send_text(text)
        elif action == "send_bytes":
            data = base64.b64decode(value)
            log.append(f"> {_show(data)}")
            transport.send_bytes(data)
        elif action == "send_json":
            text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
            log.append(f"> {_show(text)}")
            transport.send_text(text)
        elif action == "close":
            code, reason = int(value.get("code", 1000)), str(value.get("reason", ""))
            log.append(f"> close {code} {reason!r}")
            transport.close(code, reason)
        elif action.startswith("receive_"):
            problem = _receive(action, value, transport, log, differences, where)
            if problem:
                result.problems.append(problem)
                return result
        else:
            raise AssertionError(f"unknown client step {action!r}")
    return result


def _receive(
    action: str, value: Any, transport: Transport, log: list[str], differences: Differences, where: str
) -> str | None:
    """One receive step: the problem, if any."""
    try:
        message = transport.receive(RECEIVE_TIMEOUT)
    except Closed as closed:
        log.append(f"< close {closed.code} {closed.reason!r}")
        if action != "receive_close":
            return f"{where}: the server closed the connection ({closed.code} {closed.reason!r})"
        found = differences(value.get("code", 1000), closed.code, f"{where}.code")
        if "reason" in value:
            found += differences(value["reason"], closed.reason, f"{where}.reason")
        return "; ".join(found) or None
    except TimeoutError:
        log.append("< (nothing)")
        return f"{where}: nothing arrived within {RECEIVE_TIMEOUT}s"
    log.append(f"< {_show(message)}")
    if action == "receive_close":
        return f"{where}: expected the server to close, got {_show(message)}"
    if action == "receive_json":
        if not isinstance(message, str):
            return f"{where}: expected a text message of JSON, got {_show(message)}"
        try:
            decoded = json.loads(message)
        except ValueError as exc:
            return f"{where}: not JSON ({exc}): {_show(message)}"
        return "; ".join(differences(value, decoded, where)) or None
    wanted = _expected_message(action, value)
    if type(message) is not type(wanted):
        return f"{where}: expected a {action.removeprefix('receive_')} message, got {_show(message)}"
    if message != wanted:
        assert wanted is not None
        return f"{where}: expected {_show(wanted)}, got {_show(message)}"
    return None


# -- TestClient -------------------------------------------------------------------------------


class TestClientTransport:
    __test__ = False

    def __init__(self, session: WebSocketSession) -> None:
        self._session = session

    def send_text(self, data: str) -> None:
        self._session.send_text(data)

    def send_bytes(self, data: bytes) -> None:
        self._session.send_bytes(data)

    def receive(self, timeout: float) -> str | bytes:
        try:
            return self._session.receive(timeout=timeout)
        except WebSocketDisconnect as exc:
            raise Closed(exc.code, exc.reason) from None
        except asyncio.TimeoutError:
            raise TimeoutError from None

    def close(self, code: int, reason: str) -> None:
        self._session.close(code, reason)


def run_testclient(
    client: TestClient,
    target: str,
    headers: list[tuple[str, str]],
    script: dict[str, Any],
    differences: Differences,
) -> SessionResult:
    """The handshake and the script through the in-process client."""
    try:
        with client.websocket_connect(target, script.get("subprotocols"), headers=dict(headers)) as session:
            result = run_steps(script.get("steps", []), TestClientTransport(session), differences)
            result.headers = [(k.lower(), v) for k, v in session.headers.multi_items()]
            return result
    except WebSocketRejected as refused:
        response = refused.response
        items = [(k.lower(), v) for k, v in response.headers.multi_items()]
        return SessionResult(response.status_code, items, response.content)
    except WebSocketDisconnect as lost:  # the handshake itself failed on the client's side
        problem = f"handshake: the client gave up ({lost.code} {lost.reason!r})"
        return SessionResult(0, [], problems=[problem])


# -- live server (the websockets library) -------------------------------------------------------


class LiveTransport:
    def __init__(self, connection: ClientConnection) -> None:
        self._connection = connection

    def send_text(self, data: str) -> None:
        self._connection.send(data)

    def send_bytes(self, data: bytes) -> None:
        self._connection.send(data)

    def receive(self, timeout: float) -> str | bytes:
        try:
            return self._connection.recv(timeout=timeout)
        except ConnectionClosed as exc:
            frame = exc.rcvd
            raise Closed(frame.code if frame else 1006, frame.reason if frame else "") from None

    def close(self, code: int, reason: str) -> None:
        self._connection.close(code, reason)


def run_live(
    base_url: str,
    target: str,
    headers: list[tuple[str, str]],
    script: dict[str, Any],
    differences: Differences,
) -> SessionResult:
    """The handshake and the script against a live server (``base_url``: ws://host:port)."""
    try:
        with connect(
            base_url + target,
            additional_headers=headers,
            subprotocols=script.get("subprotocols"),
            compression=None,  # the frames as written, whatever extensions the server offers
            max_size=None,
            open_timeout=10,
            close_timeout=5,
            ping_interval=None,
        ) as connection:
            result = run_steps(script.get("steps", []), LiveTransport(connection), differences)
            response = connection.response
            assert response is not None  # the handshake is done
            result.headers = [(k.lower(), v) for k, v in response.headers.raw_items()]
            result.status = response.status_code
            return result
    except InvalidStatus as refused:
        response = refused.response
        items = [(k.lower(), v) for k, v in response.headers.raw_items()]
        return SessionResult(response.status_code, items, bytes(response.body or b""))
    except InvalidHandshake as failed:
        return SessionResult(0, [], problems=[f"handshake: the client gave up ({failed!r})"])
