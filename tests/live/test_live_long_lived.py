"""Long-lived paths against a real server: SSE to a slow reader, disconnects, many WebSocket
clients, and background tasks drained at SIGTERM."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from tests.live.conftest import REPO_ROOT, LiveServer, free_port

TARGET = "tests.live.long_lived_app:app"


def _state(server: LiveServer) -> dict:
    return httpx.get(f"{server.base_url}/state", timeout=5).json()


def test_ten_thousand_events_to_a_slow_reader_keep_memory_bounded(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(target=TARGET)
    baseline = _state(server)["max_rss_kib"]
    received = 0
    with (
        httpx.Client(timeout=30) as client,
        client.stream("GET", f"{server.base_url}/events?count=10000&pad=4000") as response,
    ):
        assert response.headers["content-type"] == "text/event-stream"
        for line in response.iter_lines():
            if line.startswith("data: "):
                received += 1
                if received % 1000 == 0:
                    time.sleep(0.05)  # a slow reader
                if received == 200:
                    # The producer is held back by the bounded buffer, not racing ahead.
                    time.sleep(0.5)
                    ahead = _state(server)["events_produced"] - received
                    assert ahead < 5000, f"the generator ran {ahead} events ahead of a paused reader"
    assert received == 10_000
    grown = _state(server)["max_rss_kib"] - baseline
    # 10,000 events of 4 KiB are 40 MB: buffering them would show here
    assert grown < 24 * 1024, f"server memory grew by {grown} KiB while streaming 10,000 events"


def test_a_client_leaving_mid_stream_closes_the_generator_quietly(
    start_server: Callable[..., LiveServer],
) -> None:
    server = start_server(target=TARGET)
    for _ in range(3):
        with socket.create_connection((server.host, server.port)) as sock:
            sock.sendall(b"GET /endless HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536)
    deadline = time.monotonic() + 5
    while _state(server)["generators_closed"] < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _state(server)["generators_closed"] == 3
    log = server.log()
    assert "Traceback" not in log and "ERROR" not in log, log


def test_two_hundred_concurrent_websocket_echo_clients(start_server: Callable[..., LiveServer]) -> None:
    server = start_server(target=TARGET)

    async def client(number: int) -> int:
        async with connect(f"ws://{server.host}:{server.port}/ws/echo") as ws:
            for round_ in range(10):
                message = f"{number}:{round_}"
                await ws.send(message)
                assert await ws.recv() == message
        return 1

    async def all_clients() -> int:
        return sum(await asyncio.gather(*(client(n) for n in range(200))))

    assert asyncio.run(all_clients()) == 200


def test_websocket_messages_larger_than_one_socket_read_echo_intact(
    start_server: Callable[..., LiveServer],
) -> None:
    # The core reads the socket 16 KiB at a time: these cross one, several and many reads,
    # with multi-byte characters split across read boundaries, whole and fragmented.
    server = start_server(target=TARGET)
    pattern = "ab\u00e9\u20ac\U0001f600"  # 1-, 2-, 3- and 4-byte UTF-8
    sizes = [16 * 1024 - 1, 16 * 1024 + 1, 100_003, 1024 * 1024]
    messages = [(pattern * (size // len(pattern) + 1))[:size] for size in sizes]

    async def fragments(message: str) -> AsyncIterator[str]:
        for start in range(0, len(message), 40_000):
            yield message[start : start + 40_000]

    async def echo_all() -> list[str]:
        echoed = []
        async with connect(f"ws://{server.host}:{server.port}/ws/echo", max_size=None) as ws:
            for message in messages:
                await ws.send(message)
                echoed.append(await ws.recv())
            await ws.send(fragments(messages[-1]))
            echoed.append(await ws.recv())
        return echoed

    assert asyncio.run(echo_all()) == [*messages, messages[-1]]


def test_background_tasks_still_running_at_sigterm_drain_before_exit(
    start_server: Callable[..., LiveServer], tmp_path: Path
) -> None:
    server = start_server(target=TARGET)
    markers = [tmp_path / f"marker-{n}" for n in range(3)]
    for marker in markers:
        response = httpx.post(f"{server.base_url}/later", params={"path": str(marker), "delay": 1.0})
        assert response.status_code == 200
    assert server.terminate() == 0
    assert all(marker.read_text() == "done" for marker in markers)
    assert "draining" in server.log()


def test_a_failing_startup_hook_stops_the_server_with_an_error() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO_ROOT))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ferroweb",
            "run",
            "tests.live.failing_startup_app:app",
            "--port",
            str(free_port()),
        ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert "database unreachable" in result.stderr + result.stdout
