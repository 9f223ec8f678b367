from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from ferroweb.cli import load_app, main


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


def test_openapi_command_writes_the_document(tmp_path: Path) -> None:
    out = tmp_path / "openapi.json"
    main(["openapi", "examples.hello:app", "-o", str(out)])
    document = json.loads(out.read_text())
    assert document["openapi"] == "3.1.0"
    assert "/items/{item_id}" in document["paths"]
    main(["openapi", "examples.hello:app", "--yaml", "-o", str(tmp_path / "openapi.yaml")])
    assert (tmp_path / "openapi.yaml").read_text().startswith("openapi: 3.1.0")


def test_routes_command_lists_the_routes(capsys: pytest.CaptureFixture[str]) -> None:
    main(["routes", "examples.hello:app"])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "HANDLER", "PARAMETERS", "AUTH", "MIDDLEWARE"]
    assert any(
        line.split()[:4] == ["GET", "/items/{item_id}", "examples.hello.get_item", "path:item_id"]
        for line in lines
    )


def test_the_routes_table_shows_each_routes_auth() -> None:
    from ferroweb import App
    from ferroweb.cli import routes_table
    from ferroweb.security import APIKeyAuth, JWTAuth

    app = App(auth=JWTAuth(secret="a-secret-of-some-length-0123"))

    @app.get("/me")
    def me() -> dict[str, bool]:
        return {}

    @app.get("/open", auth=None)
    def open_route() -> dict[str, bool]:
        return {}

    @app.get(
        "/admin",
        auth=[JWTAuth(secret="a-secret-of-some-length-0123", scopes=["admin"]), APIKeyAuth(keys=["k"])],
    )
    def admin() -> dict[str, bool]:
        return {}

    rows = {line.split()[1]: line for line in routes_table(app).splitlines()[1:]}
    assert "JWTAuth" in rows["/me"]
    assert rows["/open"].split()[4] == "-"
    assert "JWTAuth[admin] | APIKeyAuth" in rows["/admin"]
