from __future__ import annotations

import subprocess
import sys

import pytest

from ferroweb.cli import load_app


def test_load_app_finds_the_example() -> None:
    app = load_app("examples.hello:app")
    assert any(route.path == "/echo" for route in app.routes)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("no_colon", "expected 'module:attribute'"),
        ("examples.nothere:app", "cannot import"),
        ("examples.hello:missing", "has no attribute"),
        ("examples.hello:index", "not a ferroweb App"),
    ],
)
def test_load_app_errors_are_clear(target: str, message: str) -> None:
    with pytest.raises(SystemExit, match=message):
        load_app(target)


def test_cli_help_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ferroweb", "--version"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0
    assert result.stdout.startswith("ferroweb ")
    result = subprocess.run(
        [sys.executable, "-m", "ferroweb", "run", "--help"], capture_output=True, text=True, timeout=30
    )
    assert "--workers" in result.stdout


def test_port_in_use_is_a_clear_error_and_exit_code() -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "ferroweb", "run", "examples.hello:app", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode == 1
    assert f"error: cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "Traceback" not in result.stderr
