"""The core's middleware against a real ``ferroweb run`` process, with real clients: httpx
decoding gzip/br/zstd, curl ``--compressed``, a browser-shaped CORS exchange, an SSE stream
that is never compressed, the Host rules over raw sockets, and the static-file traversal
corpus sent byte for byte."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.live.middleware_app import DOCUMENT, ORIGIN
from tests.test_staticfiles import TRAVERSALS

if TYPE_CHECKING:
    from .conftest import LiveServer

pytestmark = pytest.mark.live

TARGET = "tests.live.middleware_app:app"
SECRET = "TOP-SECRET-OUTSIDE"


@pytest.fixture
def server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, start_server: Callable[..., LiveServer]
) -> LiveServer:
    (tmp_path / "secret.txt").write_text(SECRET)
    public = tmp_path / "public"
    (public / "docs").mkdir(parents=True)
    (public / "hello.txt").write_text("hello")
    (public / "docs" / "index.html").write_text("<h1>docs</h1>")
    (public / "404.html").write_text("<h1>gone</h1>")
    (public / "link-out").symlink_to(tmp_path / "secret.txt")
    (public / "dir-link-out").symlink_to(tmp_path)
    monkeypatch.setenv("FERROWEB_LIVE_STATIC", str(public))
    return start_server(target=TARGET)


def raw_exchange(server: LiveServer, request: bytes) -> tuple[int, bytes]:
    """Sends ``request`` as it is and reads until the server closes (requests say
    ``Connection: close``): the status and the whole answer."""
    with socket.create_connection((server.host, server.port), timeout=5) as sock:
        sock.sendall(request)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    status_line = answer.split(b"\r\n", 1)[0]
    return int(status_line.split(b" ")[1]), answer


@pytest.mark.parametrize("encoding", ["gzip", "br", "zstd"])
def test_httpx_decodes_each_encoding(server: LiveServer, encoding: str) -> None:
    response = httpx.get(f"{server.base_url}/document", headers={"accept-encoding": encoding})
    assert response.headers["content-encoding"] == encoding
    assert response.json() == DOCUMENT
    assert len(response.content) > int(response.headers.get("content-length", "0"))


def test_curl_compressed(server: LiveServer) -> None:
    curl = shutil.which("curl")
    assert curl is not None, "curl is installed by ./dev"
    done = subprocess.run(
        [
            curl,
            "--silent",
            "--show-error",
            "--compressed",
            "--dump-header",
            "-",
            f"{server.base_url}/document",
        ],
        capture_output=True,
        timeout=30,
        check=True,
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    assert b"content-encoding: " in head.lower()
    assert json.loads(body) == DOCUMENT


def test_browser_shaped_cors_exchange(server: LiveServer) -> None:
    """What a browser does for a credentialed cross-origin PUT with a JSON body: a preflight,
    then the request with its cookie, each answered so that the browser lets the page read it."""
    with httpx.Client(base_url=server.base_url) as browser:
        preflight = browser.options(
            "/profile",
            headers={
                "origin": ORIGIN,
                "access-control-request-method": "PUT",
                "access-control-request-headers": "content-type, x-csrf-token",
                "sec-fetch-mode": "cors",
            },
        )
        assert preflight.status_code == 204
        assert preflight.headers["access-control-allow-origin"] == ORIGIN
        assert preflight.headers["access-control-allow-credentials"] == "true"
        assert "PUT" in preflight.headers["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}
        assert {"content-type", "x-csrf-token"} <= allowed
        assert int(preflight.headers["access-control-max-age"]) > 0
        actual = browser.put(
            "/profile",
            json={"name": "Ada"},
            headers={"origin": ORIGIN, "x-csrf-token": "t", "cookie": "session=abc"},
        )
        assert actual.status_code == 200
        assert actual.json() == {"session": "abc", "body": {"name": "Ada"}}
        assert actual.headers["access-control-allow-origin"] == ORIGIN
        assert actual.headers["access-control-allow-credentials"] == "true"
        assert actual.headers["access-control-expose-headers"] == "X-Request-Count"
        assert "origin" in actual.headers["vary"].lower()
        refused = browser.options(
            "/profile", headers={"origin": "https://evil.example", "access-control-request-method": "PUT"}
        )
        assert refused.status_code == 400
        assert not [name for name in refused.headers if name.startswith("access-control-allow")]


def test_an_sse_stream_is_never_compressed(server: LiveServer) -> None:
    with httpx.stream(
        "GET", f"{server.base_url}/events", headers={"accept-encoding": "gzip, br, zstd"}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert "content-encoding" not in response.headers
        raw = b"".join(response.iter_raw())
    assert raw.count(b"data: event ") == 5
    with pytest.raises(gzip.BadGzipFile):
        gzip.decompress(raw)


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GET /plaintext HTTP/1.1\r\nConnection: close\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\nConnection: close\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: bad host\r\nConnection: close\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.1\r\nHost: user@a.example\r\nConnection: close\r\n\r\n", 400),
        (b"GET /plaintext HTTP/1.0\r\n\r\n", 200),
        (b"GET /plaintext HTTP/1.1\r\nHost: a.example:8080\r\nConnection: close\r\n\r\n", 200),
        (b"GET /guarded HTTP/1.1\r\nHost: v2.api.example\r\nConnection: close\r\n\r\n", 200),
        (b"GET /guarded HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n", 400),
    ],
)
def test_host_rules_over_a_raw_socket(server: LiveServer, request_bytes: bytes, status: int) -> None:
    got, answer = raw_exchange(server, request_bytes)
    assert got == status, answer
    if status == 400:
        assert b"application/problem+json" in answer


def test_static_traversal_corpus_over_raw_sockets(server: LiveServer) -> None:
    assert len(TRAVERSALS) >= 30
    escaped = []
    for target in TRAVERSALS:
        request = f"GET /static{target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        status, answer = raw_exchange(server, request.encode("latin-1"))
        if SECRET.encode() in answer or b"root:" in answer or status not in (400, 404):
            escaped.append((target, status))
    assert escaped == []
    # and what is inside is served
    status, answer = raw_exchange(
        server, b"GET /static/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert status == 200 and answer.endswith(b"hello")
