"""Raw granian RSGI app: same three routes as starlette_app.py (no framework)."""

import msgspec

_PLAIN_HDRS = [("content-type", "text/plain; charset=utf-8")]
_JSON_HDRS = [("content-type", "application/json")]
_ECHO_HDRS = [("content-type", "application/octet-stream"), ("x-echo", "1")]
_encode = msgspec.json.encode


async def app(scope, protocol):
    if scope.proto != "http":
        return
    path = scope.path
    method = scope.method
    if path == "/plaintext":
        if method == "GET":
            protocol.response_str(200, _PLAIN_HDRS, "Hello, World!")
            return
    elif path == "/":
        if method == "GET":
            protocol.response_bytes(200, _JSON_HDRS, _encode({"message": "Hello, World!"}))
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
