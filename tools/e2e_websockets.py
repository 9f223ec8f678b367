"""Handler bodies for WebSocket fixtures (behaviour ``websocket``), used by tools/generate_e2e.py.

The handler is ``@app.websocket(route) async def name(websocket: WebSocket, <parameters>)``: its
typed path, query, header and cookie parameters are converted (and validated: a failure refuses
the handshake with 422) as for an HTTP route. Its body runs the fixture's ``websocket.steps`` in
order, each turned into real statements over the converted parameters and the messages received:

- ``accept``: negotiates the subprotocol (the first of the handler's ``subprotocols`` the client
  offered, else none) and sends extra handshake headers;
- ``receive`` (text, bytes, json, any) and ``send_text`` / ``send_bytes`` / ``send_json`` with
  templates over the parameters, the subprotocol chosen (``{subprotocol}``) and the last message
  (``{message}``, ``{size}``, ``{kind}``);
- ``echo``: a loop receiving and replying ``times`` times, or until the client leaves (the
  ``WebSocketDisconnect`` ends the handler);
- ``close`` (before ``accept``: the handshake is refused with 403) and ``raise``.

When the fixture checks what the handler saw (``expected_response.handler``), the body records
it in a ``Session`` probe of ``e2e/python/handler_support.py``: accepted, messages received and
sent, the ``WebSocketDisconnect`` that ended it and whether it ran through its steps. Bytes are
templated as Latin-1 text (one character per byte), so any payload round-trips.
"""

from __future__ import annotations

import re
from typing import Any

from e2e_source import Behaviours, Extra, FixtureError, lit
from e2e_streams import count_expr, template, value_expr

NAMES = ("websocket",)
IMPORTS = (
    "import itertools",
    "from e2e.python.handler_support import start_session",
    "from ferroweb import HTTPException, WebSocket, WebSocketDisconnect",
)
MODULE_NAMES = frozenset({"itertools", "start_session", "HTTPException", "WebSocket", "WebSocketDisconnect"})
#: Local names of the generated bodies.
LOCALS = frozenset({"websocket", "session", "message", "received", "kind", "reply", "chosen", "i", "exc"})
#: Placeholders a template may use besides the parameters (when they are defined).
MESSAGE_NAMES = ("message", "size", "kind", "i", "subprotocol")


def is_websocket(fixture: dict[str, Any]) -> bool:
    return bool(fixture["handler"].get("behaviour") == "websocket")


def wants_probe(fixture: dict[str, Any]) -> bool:
    return is_websocket(fixture) and "handler" in fixture["expected_response"]


def check_expectations(fixture: dict[str, Any]) -> None:
    expected = fixture["expected_response"]
    if "handler" in expected and not is_websocket(fixture):
        raise FixtureError("expected_response.handler needs a websocket handler")
    script = fixture["request"].get("websocket")
    if script is not None and script.get("steps") and expected.get("status") != 101:
        raise FixtureError("a refused handshake (status other than 101) leaves no client steps to run")
    if is_websocket(fixture) and fixture["handler"]["method"] != "GET":
        raise FixtureError("a WebSocket route is an upgrade of GET")


def extra_parameters(fixture: dict[str, Any]) -> list[Extra]:
    return [Extra("websocket", "WebSocket", leading=True)]


def return_type(behaviour: str) -> str:
    return "None"


class StepWriter:
    """Turns server steps into statements, keeping track of what the templates may name."""

    def __init__(self, names: dict[str, str], probe: bool) -> None:
        clash = sorted(set(names) & set(MESSAGE_NAMES))
        if clash:
            raise FixtureError(f"parameters named {clash} would hide the message placeholders")
        self.params = names
        self.probe = probe
        self.lines: list[str] = []
        self.message: dict[str, str] = {}  # placeholder -> expression, once a message was received
        self.accepted: dict[str, str] = {}  # {subprotocol}, once negotiated
        self.ended = False

    def names(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {**self.params, **self.accepted, **self.message, **(extra or {})}

    def count(self, what: str) -> list[str]:
        return [f"session.{what} += 1"] if self.probe else []

    def step(self, step: dict[str, Any]) -> None:
        if self.ended:
            raise FixtureError("no step can follow a `raise`")
        ((action, arg),) = ((k, v) for k, v in step.items() if k != "binary")
        method = getattr(self, f"do_{action}", None)
        if method is None:
            raise FixtureError(f"unknown websocket step {action!r}")
        method(arg, step)

    def do_accept(self, arg: dict[str, Any], step: dict[str, Any]) -> None:
        options: list[str] = []
        if arg.get("subprotocols"):
            supported = lit(list(arg["subprotocols"]))
            self.lines.append(f"chosen = next((p for p in {supported} if p in websocket.subprotocols), None)")
            options.append("subprotocol=chosen")
            self.accepted["subprotocol"] = "chosen"
        if arg.get("headers"):
            pairs = ", ".join(f"{lit(k)}: {template(v, self.params)}" for k, v in arg["headers"].items())
            options.append(f"headers={{{pairs}}}")
        self.lines.append(f"await websocket.accept({', '.join(options)})")
        if self.probe:
            self.lines.append("session.accepted = True")

    def receive_lines(self, kind: str) -> list[str]:
        """Receives one message of a kind into ``message`` (bytes as Latin-1 text)."""
        if kind == "text":
            lines = ["message = await websocket.receive_text()"]
            self.message = {"message": "message", "size": "len(message)"}
        elif kind == "bytes":
            lines = ["message = (await websocket.receive_bytes()).decode('latin-1')"]
            self.message = {"message": "message", "size": "len(message)"}
        elif kind == "json":
            lines = ["message = await websocket.receive_json()"]
            self.message = {"message": "message"}
        elif kind == "any":
            lines = [
                "received = await websocket.receive()",
                "kind = 'text' if isinstance(received, str) else 'bytes'",
                "message = received if isinstance(received, str) else received.decode('latin-1')",
            ]
            self.message = {"message": "message", "size": "len(message)", "kind": "kind"}
        else:
            raise FixtureError(f"unknown message kind {kind!r}")
        return lines + self.count("received")

    def send_lines(self, kind: str, value: Any, names: dict[str, str], binary: bool = False) -> list[str]:
        if kind == "text":
            lines = [f"await websocket.send_text({template(value, names)})"]
        elif kind == "bytes":
            if any(ord(char) > 255 for char in str(value)):
                raise FixtureError(f"bytes template {value!r} is not Latin-1 text")
            lines = [f"await websocket.send_bytes({template(value, names)}.encode('latin-1'))"]
        elif kind == "json":
            mode = ", mode='binary'" if binary else ""
            lines = [f"await websocket.send_json({value_expr(value, names)}{mode})"]
        elif kind == "any":
            lines = [
                f"reply = {template(value, names)}",
                "if kind == 'text':",
                "    await websocket.send_text(reply)",
                "else:",
                "    await websocket.send_bytes(reply.encode('latin-1'))",
            ]
        else:
            raise FixtureError(f"unknown message kind {kind!r}")
        return lines + self.count("sent")

    def do_receive(self, arg: str, step: dict[str, Any]) -> None:
        self.lines += self.receive_lines(arg)

    def do_send_text(self, arg: str, step: dict[str, Any]) -> None:
        self.lines += self.send_lines("text", arg, self.names())

    def do_send_bytes(self, arg: str, step: dict[str, Any]) -> None:
        self.lines += self.send_lines("bytes", arg, self.names())

    def do_send_json(self, arg: Any, step: dict[str, Any]) -> None:
        self.lines += self.send_lines("json", arg, self.names(), bool(step.get("binary")))

    def do_echo(self, arg: dict[str, Any], step: dict[str, Any]) -> None:
        times = arg.get("times")
        body = self.receive_lines(arg["kind"])
        body += self.send_lines(arg["kind"], arg["reply"], self.names({"i": "i"}), bool(arg.get("binary")))
        if times == 1 and not any(re.search(r"\bi\b", line) for line in body):
            self.lines += body  # once: no loop
            return
        index = "i" if any(re.search(r"\bi\b", line) for line in body) else "_"
        if times is None:
            loop = f"for {index} in itertools.count():"
            self.ended = True  # the loop ends with the client's disconnect
        else:
            loop = f"for {index} in range({count_expr(times, self.params, 'echo.times')}):"
        self.lines += [loop, *("    " + line for line in body)]

    def do_close(self, arg: dict[str, Any], step: dict[str, Any]) -> None:
        args = []
        if "code" in arg or "reason" in arg:
            args.append(str(int(arg.get("code", 1000))))
        if "reason" in arg:
            args.append(template(arg["reason"], self.names()))
        self.lines.append(f"await websocket.close({', '.join(args)})")

    def do_raise(self, arg: dict[str, Any], step: dict[str, Any]) -> None:
        detail = lit(arg.get("detail", "the handler failed"))
        if "status" in arg:
            self.lines.append(f"raise HTTPException({int(arg['status'])}, {detail})")
        else:
            self.lines.append(f"raise RuntimeError({detail})")
        self.ended = True


def body_lines(fixture: dict[str, Any], names: dict[str, str]) -> list[str]:
    """The statements of a WebSocket handler (unindented)."""
    spec = fixture["handler"].get("websocket")
    if spec is None:
        raise FixtureError("behaviour websocket needs a `websocket` spec in the handler")
    probe = wants_probe(fixture)
    writer = StepWriter(names, probe)
    for step in spec["steps"]:
        writer.step(step)
    lines = writer.lines or ["pass"]
    if not probe:
        return lines
    if not writer.ended:
        lines = [*lines, "session.completed = True"]
    return [
        f"session = start_session({lit(fixture['name'])})",
        "try:",
        *("    " + line for line in lines),
        "except WebSocketDisconnect as exc:",
        "    session.disconnect = {'code': exc.code, 'reason': exc.reason}",
        "    raise",
    ]


PLUGIN = Behaviours(
    names=NAMES,
    imports=IMPORTS,
    module_names=MODULE_NAMES,
    body_names=MODULE_NAMES | LOCALS,
    return_type=return_type,
    body_lines=body_lines,
    check_expectations=check_expectations,
    wants_probe=wants_probe,
    extra_parameters=extra_parameters,
)
