"""Fixtures that run ``tests.live.apps:app`` in a real ``ferroweb run`` subprocess."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"
APP_TARGET = "tests.live.apps:app"
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class LiveServer:
    base_url: str
    host: str
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path
    _log_file: IO[bytes] = field(repr=False)

    def log(self) -> str:
        self._log_file.flush()
        return self.log_path.read_text(errors="replace")

    def terminate(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM, then waits for the exit code (SIGKILL, and a failure, if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            pytest.fail(f"server did not exit within {timeout}s of SIGTERM; log:\n{self.log()}")

    def stop(self) -> None:
        """Teardown: stops the server whatever state it is in, without failing."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self._log_file.close()


def _wait_ready(server: LiveServer, deadline: float, path: str = "/plaintext") -> None:
    last_error: BaseException | None = None
    with httpx.Client(timeout=1.0) as client:
        while time.monotonic() < deadline:
            code = server.process.poll()
            if code is not None:
                raise RuntimeError(f"server exited with {code} before it was ready; log:\n{server.log()}")
            try:
                response = client.get(f"{server.base_url}{path}", headers={"connection": "close"})
            except httpx.HTTPError as exc:
                last_error = exc
            else:
                if response.status_code == 200:
                    return
                last_error = RuntimeError(f"readiness probe answered {response.status_code}")
            time.sleep(0.05)
    raise RuntimeError(f"server not ready within {READY_TIMEOUT}s ({last_error!r}); log:\n{server.log()}")


@pytest.fixture
def start_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    """Factory: ``start_server("--workers", "2")`` starts a server and waits until it answers
    (a 200 from ``ready_path``)."""
    servers: list[LiveServer] = []

    def start(
        *extra_args: str, args: Sequence[str] = (), target: str = APP_TARGET, ready_path: str = "/plaintext"
    ) -> LiveServer:
        # The free port is released before the server binds it; retry if another process took it.
        for attempt in range(3):
            server = _launch(*extra_args, *args, target=target)
            try:
                _wait_ready(server, time.monotonic() + READY_TIMEOUT, ready_path)
            except RuntimeError:
                server.stop()
                if attempt < 2 and "in use" in server.log_path.read_text(errors="replace").lower():
                    continue
                raise
            return server
        raise AssertionError("unreachable")

    def _launch(*extra_args: str, target: str = APP_TARGET) -> LiveServer:
        port = free_port()
        log_path = tmp_path / f"server-{len(servers)}-{port}.log"
        log_file = open(log_path, "wb")  # noqa: SIM115 - closed by LiveServer.stop
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(REPO_ROOT), env.get("PYTHONPATH", "")) if p)
        env["PYTHONUNBUFFERED"] = "1"
        command = [
            sys.executable,
            "-m",
            "ferroweb",
            "run",
            target,
            "--host",
            HOST,
            "--port",
            str(port),
            *extra_args,
        ]
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        server = LiveServer(f"http://{HOST}:{port}", HOST, port, process, log_path, log_file)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def live_server(start_server: Callable[..., LiveServer]) -> LiveServer:
    return start_server()
