"""``ferroweb run --reload``: a change to the app's file restarts the server with the new code;
stopping the watcher stops its server, leaving no process and no bound socket behind. Also
``--env-file`` settings reaching ``ferroweb run``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.live.conftest import HOST, REPO_ROOT, free_port

pytest.importorskip("watchfiles")
pytestmark = pytest.mark.live

APP_SOURCE = """
from ferroweb import App

app = App()


@app.get("/plaintext")
def plaintext() -> str:
    return "{version}"
"""


def answer(port: int) -> str | None:
    try:
        response = httpx.get(f"http://{HOST}:{port}/plaintext", timeout=1.0, headers={"connection": "close"})
    except httpx.HTTPError:
        return None
    return response.text if response.status_code == 200 else None


def wait_for(
    port: int, expected: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 30
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the watcher exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        if answer(port) == expected:
            return
        time.sleep(0.1)
    pytest.fail(f"never answered {expected!r}:\n{log.read_text(errors='replace')}")


def processes_running(marker: str) -> list[str]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if marker in command:
                found.append(command)
    return found


def test_a_change_restarts_with_the_new_code_and_stopping_leaves_nothing(tmp_path: Path) -> None:
    module = f"reload_target_{os.getpid()}"
    app_file = tmp_path / f"{module}.py"
    app_file.write_text(APP_SOURCE.format(version="v1"))
    port = free_port()
    log = tmp_path / "watcher.log"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join((str(tmp_path), str(REPO_ROOT))),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "ferroweb", "run", f"{module}:app", "--host", HOST, "--port", str(port)]
    with log.open("wb") as out:
        watcher = subprocess.Popen(
            [*command, "--reload", "--reload-dir", str(tmp_path)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_for(port, "v1", watcher, log)
        time.sleep(0.5)  # the watcher is watching once the first server answers; let it settle
        app_file.write_text(APP_SOURCE.format(version="v2"))
        wait_for(port, "v2", watcher, log)
        (tmp_path / "notes.txt").write_text("not a watched file")
        time.sleep(1.0)
        assert answer(port) == "v2"
    finally:
        watcher.send_signal(signal.SIGTERM)
        code = watcher.wait(timeout=30)
    assert code == 0, log.read_text(errors="replace")
    assert processes_running(f"{module}:app") == []
    with socket.socket() as sock:  # nothing listens on the port any more (closed connections
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # may linger in TIME_WAIT)
        sock.bind((HOST, port))
        sock.listen()
    assert "restarting" in log.read_text(errors="replace")


def test_env_file_settings_reach_the_server(tmp_path: Path) -> None:
    port = free_port()
    env_file = tmp_path / "server.env"
    env_file.write_text(f"FERROWEB_PORT={port}\nFERROWEB_HOST={HOST}\n")
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("FERROWEB_PORT", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "ferroweb", "run", "tests.live.apps:app", "--env-file", str(env_file)],
            cwd=REPO_ROOT,
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        wait_for(port, "Hello, World!", server, log)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
