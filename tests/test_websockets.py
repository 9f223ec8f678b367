"""WebSocket endpoints through the in-process client (the same handshake and socket code as
a live server, over an in-memory connection)."""

from __future__ import annotations

import asyncio
import time

import pytest

from ferroweb import App, ServerConfig, WebSocket, WebSocketDisconnect
from ferroweb.testing import TestClient, WebSocketRejected


def test_echo_with_typed_path_and_query_parameters(app: App, client: TestClient) -> None:
    @app.websocket("/ws/{room}")
    async def chat(ws: WebSocket, room: str, token: int | None = None) -> None:
        await ws.accept()
        async for message in ws.iter_text():
            await ws.send_json({"room": room, "token": token, "echo": message})

    with client.websocket_connect("/ws/lobby?token=7") as ws:
        for text in ("hello", "world", "é" * 1000):
            ws.send_text(text)
            assert ws.receive_json() == {"room": "lobby", "token": 7, "echo": text}


def test_invalid_parameters_refuse_the_handshake_with_422(app: App, client: TestClient) -> None:
    @app.websocket("/ws")
    async def endpoint(ws: WebSocket, token: int) -> None:
        await ws.accept()

    with pytest.raises(WebSocketRejected) as refused, client.websocket_connect("/ws?token=abc"):
        pass
    assert refused.value.response.status_code == 422
    assert refused.value.response.json()["errors"][0]["loc"] == ["query", "token"]


def test_a_handler_that_does_not_accept_refuses_with_403(app: App, client: TestClient) -> None:
    @app.websocket("/closed")
    async def closed(ws: WebSocket) -> None:
        await ws.close()

    @app.websocket("/returns")
    async def returns(ws: WebSocket) -> None:
        return None

    for path in ("/closed", "/returns"):
        with pytest.raises(WebSocketRejected) as refused, client.websocket_connect(path):
            pass
        assert refused.value.response.status_code == 403


def test_binary_frames_subprotocols_and_a_server_close(app: App, client: TestClient) -> None:
    @app.websocket("/bin")
    async def binary(ws: WebSocket) -> None:
        await ws.accept(subprotocol="v2", headers={"x-server": "ferroweb"})
        data = await ws.receive_bytes()
        await ws.send_bytes(data[::-1])
        await ws.close(4000, "done")
        await ws.send_text("ignored: the connection is closed")

    with client.websocket_connect("/bin", subprotocols=["v1", "v2"]) as ws:
        assert ws.accepted_subprotocol == "v2"
        assert ws.headers["x-server"] == "ferroweb"
        ws.send_bytes(b"\x00\x01\x02")
        assert ws.receive_bytes() == b"\x02\x01\x00"
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
    assert (closed.value.code, closed.value.reason) == (4000, "done")


def test_a_handler_that_accepts_and_returns_at_once_still_opens_the_socket(
    app: App, client: TestClient
) -> None:
    # The handler's end and its accept are both ready when the engine looks: the accept wins.
    @app.websocket("/once")
    async def once(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hello")

    @app.websocket("/bye")
    async def bye(ws: WebSocket) -> None:
        await ws.accept()
        await ws.close(4000, "bye")

    for _ in range(40):
        with client.websocket_connect("/once") as ws:
            assert ws.receive_text() == "hello"
        with client.websocket_connect("/bye") as ws, pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert (closed.value.code, closed.value.reason) == (4000, "bye")


def test_accepting_without_any_of_the_offered_subprotocols_is_valid(app: App, client: TestClient) -> None:
    @app.websocket("/plain")
    async def plain(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text(ws.headers.get("sec-websocket-protocol", ""))

    with client.websocket_connect("/plain", subprotocols=["mqtt", "v9"]) as ws:
        assert ws.accepted_subprotocol is None
        assert ws.receive_text() == "mqtt, v9"


def test_wrong_message_kinds_close_with_the_matching_code(app: App, client: TestClient) -> None:
    @app.websocket("/text")
    async def text_only(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_text()

    @app.websocket("/json")
    async def json_only(ws: WebSocket) -> None:
        await ws.accept()
        await ws.receive_json()

    for path, payload, code in (("/text", b"\xff", 1003), ("/json", "{not json", 1007)):
        with client.websocket_connect(path) as ws:
            if isinstance(payload, bytes):
                ws.send_bytes(payload)
            else:
                ws.send_text(payload)
            with pytest.raises(WebSocketDisconnect) as closed:
                ws.receive()
            assert closed.value.code == code


def test_the_handler_sees_the_client_close_code(app: App, client: TestClient) -> None:
    seen: list[int] = []

    @app.websocket("/ws")
    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        try:
            while True:
                await ws.receive()
        except WebSocketDisconnect as exc:
            seen.append(exc.code)

    with client.websocket_connect("/ws") as ws:
        ws.close(4001, "bye")
    client._ferroweb.run(asyncio.sleep(0.05))
    assert seen == [4001]


def test_a_failing_handler_closes_with_1011(app: App, client: TestClient) -> None:
    @app.websocket("/ws")
    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        raise RuntimeError("bug")

    with client.websocket_connect("/ws") as ws, pytest.raises(WebSocketDisconnect) as closed:
        ws.receive()
    assert closed.value.code == 1011


def test_messages_over_the_size_limit_close_with_1009() -> None:
    app = App(ServerConfig(websocket_max_message_size=1024))

    @app.websocket("/ws")
    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.iter_text():
            await ws.send_text(message)

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        ws.send_text("a" * 1000)
        assert ws.receive_text() == "a" * 1000
        ws.send_text("b" * 5000)
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        assert closed.value.code == 1009


def test_a_silent_peer_is_closed_with_1001_after_the_idle_timeout() -> None:
    app = App(ServerConfig(websocket_idle_timeout=0.3, websocket_ping_interval=None))
    seen: list[int] = []

    @app.websocket("/ws")
    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        try:
            await ws.receive_text()
        except WebSocketDisconnect as exc:
            seen.append(exc.code)

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        started = time.monotonic()
        with pytest.raises(WebSocketDisconnect) as closed:
            ws.receive()
        waited = time.monotonic() - started
    assert closed.value.code == 1001
    assert 0.25 <= waited < 5
    assert seen == [1001]


def test_server_pings_keep_a_quiet_but_live_peer_open() -> None:
    # The client answers the server's pings (as every WebSocket client does); those pongs
    # count as traffic, so the idle timeout never fires while the peer is alive.
    app = App(ServerConfig(websocket_idle_timeout=0.4, websocket_ping_interval=0.1))

    @app.websocket("/ws")
    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        async for message in ws.iter_text():
            await ws.send_text(message.upper())

    with TestClient(app) as client, client.websocket_connect("/ws") as ws:
        time.sleep(1.2)
        ws.send_text("still here")
        assert ws.receive_text() == "STILL HERE"


def test_a_websocket_route_and_an_http_get_route_may_share_a_path(app: App, client: TestClient) -> None:
    @app.get("/room/{name}")
    def page(name: str) -> dict[str, str]:
        return {"page": name}

    @app.websocket("/room/{name}")
    async def socket(ws: WebSocket, name: str) -> None:
        await ws.accept()
        await ws.send_json({"socket": name})
        await ws.receive_text()

    assert client.get("/room/blue").json() == {"page": "blue"}
    assert client.post("/room/blue").status_code == 405
    with client.websocket_connect("/room/blue") as ws:
        assert ws.receive_json() == {"socket": "blue"}


def test_a_websocket_path_registered_twice_is_refused_at_start_up(app: App) -> None:
    @app.websocket("/ws")
    async def first(ws: WebSocket) -> None:
        await ws.accept()

    @app.websocket("/ws")
    async def second(ws: WebSocket) -> None:
        await ws.accept()

    with pytest.raises(ValueError, match='WebSocket route "/ws" is registered twice'), TestClient(app):
        pass


def test_plain_http_requests_to_a_websocket_route_are_refused(app: App, client: TestClient) -> None:
    @app.websocket("/ws")
    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()

    response = client.get("/ws")
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"] == "application/problem+json"


def test_websocket_handlers_must_be_async(app: App) -> None:
    with pytest.raises(TypeError):

        @app.websocket("/ws")
        def endpoint(ws: WebSocket) -> None: ...
