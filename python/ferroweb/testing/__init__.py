"""In-process test clients. ``TestClient`` and ``AsyncTestClient`` are httpx clients whose
transport drives the app through the same Rust router, limits and handlers as a real server;
only the socket is missing. Needs httpx (``pip install ferroweb[testing]``).

    from ferroweb.testing import TestClient

    with TestClient(app) as client:
        assert client.get("/items/1").json() == {"item_id": 1}
        with client.stream("GET", "/events") as response:
            for event in response.iter_events(): ...
        with client.websocket_connect("/ws") as ws:
            ws.send_text("hi")
"""

from httpx import RemoteProtocolError

from ferroweb.testing._client import AsyncTestClient, TestClient
from ferroweb.testing._response import TestResponse
from ferroweb.testing._transport import AsyncFerrowebTransport, FerrowebTransport
from ferroweb.testing._websocket import AsyncWebSocketSession, WebSocketRejected, WebSocketSession

__all__ = [
    "AsyncFerrowebTransport",
    "AsyncTestClient",
    "AsyncWebSocketSession",
    "FerrowebTransport",
    "RemoteProtocolError",
    "TestClient",
    "TestResponse",
    "WebSocketRejected",
    "WebSocketSession",
]
