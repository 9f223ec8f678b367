"""Raw granian RSGI app, the "no framework" reference: the benchmark workloads (see
benchmarks/run.py) plus the older routes `/` and `POST /echo`, routed and validated by hand
(msgspec decodes the POST body straight into `Item`; the path parameter is int()-ed).
`GET /stream-1mb` sends 16 x 64 KiB chunks from an async generator through
`response_stream`; `WS /ws` echoes every message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from urllib.parse import parse_qs

import msgspec
from granian.rsgi import ProtocolClosed, WebsocketMessageType


class Item(msgspec.Struct):
    name: str
    price: float
    tags: list[str]
    description: str


_PLAIN_HDRS = [("content-type", "text/plain; charset=utf-8")]
_JSON_HDRS = [("content-type", "application/json")]
_ECHO_HDRS = [("content-type", "application/octet-stream"), ("x-echo", "1")]
_encode = msgspec.json.encode
_decode_item = msgspec.json.Decoder(Item).decode
_ITEMS_PREFIX = "/items/"
_OCTET_HDRS = [("content-type", "application/octet-stream")]
CHUNK = b"x" * 65536


def _json(protocol, status: int, content: object) -> None:
    protocol.response_bytes(status, _JSON_HDRS, _encode(content))


def _get_item(scope, protocol, raw_id: str) -> None:
    try:
        item_id = int(raw_id)
    except ValueError:
        _json(protocol, 422, {"detail": "item_id must be an integer"})
        return
    q = parse_qs(scope.query_string).get("q")
    if not q:
        _json(protocol, 422, {"detail": "query parameter q is required"})
        return
    _json(protocol, 200, {"item_id": item_id, "q": q[0]})


async def _create_item(protocol) -> None:
    body = await protocol()
    try:
        item = _decode_item(body)
    except msgspec.ValidationError as exc:
        _json(protocol, 422, {"detail": str(exc)})
        return
    except msgspec.DecodeError as exc:
        _json(protocol, 400, {"detail": str(exc)})
        return
    _json(protocol, 200, item)


async def _chunks(count: int) -> AsyncIterator[bytes]:
    for _ in range(count):
        yield CHUNK


async def _stream_1mb(protocol) -> None:
    transport = protocol.response_stream(200, _OCTET_HDRS)
    try:
        async for chunk in _chunks(16):
            await transport.send_bytes(chunk)
    except ProtocolClosed:  # the client left mid-body
        pass


async def _ws_echo(protocol) -> None:
    transport = await protocol.accept()
    try:
        while True:
            message = await transport.receive()
            if message.kind == WebsocketMessageType.close:
                return
            if message.kind == WebsocketMessageType.string:
                await transport.send_str(message.data)
            else:
                await transport.send_bytes(message.data)
    except ProtocolClosed:  # the client left without a close frame
        pass


async def app(scope, protocol):
    if scope.proto == "ws":
        if scope.path == "/ws":
            await _ws_echo(protocol)
        else:
            protocol.close(403)
        return
    if scope.proto != "http":
        return
    path = scope.path
    method = scope.method
    if path == "/plaintext":
        if method == "GET":
            protocol.response_str(200, _PLAIN_HDRS, "Hello, World!")
            return
    elif path == "/json" or path == "/":
        if method == "GET":
            _json(protocol, 200, {"message": "Hello, World!"})
            return
    elif path.startswith(_ITEMS_PREFIX) and "/" not in path[len(_ITEMS_PREFIX) :]:
        if method == "GET":
            _get_item(scope, protocol, path[len(_ITEMS_PREFIX) :])
            return
    elif path == "/items":
        if method == "POST":
            await _create_item(protocol)
            return
    elif path == "/async-sleep":
        if method == "GET":
            await asyncio.sleep(0.001)
            _json(protocol, 200, {"slept": True})
            return
    elif path == "/stream-1mb":
        if method == "GET":
            await _stream_1mb(protocol)
            return
    elif path == "/echo":
        if method == "POST":
            body = await protocol()
            protocol.response_bytes(201, _ECHO_HDRS, body)
            return
    else:
        protocol.response_str(404, _PLAIN_HDRS, "Not Found")
        return
    protocol.response_str(405, _PLAIN_HDRS, "Method Not Allowed")
