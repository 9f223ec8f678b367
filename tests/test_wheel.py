"""The built wheel works where there is no Rust toolchain: maturin builds it (and the sdist),
a fresh venv installs it with its dependencies, and with neither cargo nor rustc on ``PATH``
the installed package serves the example app and answers a TestClient request.

The wheel here is a debug build (it shares the suite's compiled crates, so it is quick);
``./dev wheel`` makes the release one, with the same packaging."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(sys.executable).parent

pytestmark = [
    pytest.mark.live,
    pytest.mark.skipif(
        shutil.which("maturin", path=str(TOOLS)) is None, reason="needs maturin beside python"
    ),
]


def without_rust() -> str:
    """``PATH`` with every folder that holds cargo or rustc left out."""
    kept = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and not any(Path(folder, tool).exists() for tool in ("cargo", "rustc"))
    ]
    return os.pathsep.join(kept)


def run(argv: list[str], **options: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, **options)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{argv} failed:\n{done.stdout}\n{done.stderr}"
    return done  # type: ignore[no-any-return]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "VIRTUAL_ENV": str(TOOLS.parent), "PATH": f"{TOOLS}{os.pathsep}{os.environ['PATH']}"}
    maturin = str(TOOLS / "maturin")
    run([maturin, "build", "--quiet", "--out", str(out), "--interpreter", sys.executable], cwd=ROOT, env=env)
    run([maturin, "sdist", "--out", str(out)], cwd=ROOT, env=env)
    return out


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the wheel (and httpx, for TestClient) installed; its python."""
    venv = tmp_path_factory.mktemp("venv")
    run([sys.executable, "-m", "venv", str(venv)])
    (wheel,) = dist.glob("*.whl")
    python = venv / "bin" / "python"
    env = {**os.environ, "PATH": without_rust()}
    env.pop("VIRTUAL_ENV", None)
    pins = [line.strip() for line in (ROOT / "requirements-dev.txt").read_text().splitlines()]
    httpx = [pin for pin in pins if pin.split(";")[0].split("==")[0] in ("httpx", "httpcore", "h11", "anyio")]
    run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(wheel), *httpx],
        env=env,
    )
    return python


def test_the_wheel_holds_the_extension_stub_and_metadata(dist: Path) -> None:
    (wheel,) = dist.glob("*.whl")
    assert wheel.name.startswith("ferroweb-") and "-cp310-abi3-manylinux" in wheel.name
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        (metadata,) = [name for name in names if name.endswith(".dist-info/METADATA")]
        text = archive.read(metadata).decode()
    assert any(name.startswith("ferroweb/_ferroweb.") and name.endswith(".so") for name in names)
    assert {"ferroweb/_ferroweb.pyi", "ferroweb/py.typed", "ferroweb/__init__.py"} <= set(names)
    assert "Requires-Dist: msgspec" in text and "Provides-Extra: pydantic" in text


def test_the_sdist_holds_everything_a_build_needs(dist: Path) -> None:
    (sdist,) = dist.glob("*.tar.gz")
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "Cargo.toml", "Cargo.lock", "LICENSE", "README.md"} <= names
    assert {"crates/ferroweb-core/Cargo.toml", "crates/ferroweb-py/Cargo.toml"} <= names
    assert "python/ferroweb/_ferroweb.pyi" in names


def test_no_rust_toolchain_is_needed_to_use_it(installed: Path, tmp_path: Path) -> None:
    env = {"PATH": without_rust(), "HOME": str(tmp_path), "LANG": "C.UTF-8"}
    assert shutil.which("cargo", path=env["PATH"]) is None and shutil.which("rustc", path=env["PATH"]) is None
    shutil.copy(ROOT / "examples" / "hello.py", tmp_path / "hello.py")
    where = run(
        [str(installed), "-c", "import ferroweb._ferroweb as m; print(m.__file__)"], cwd=tmp_path, env=env
    )
    assert Path(where.stdout.strip()).is_relative_to(installed.parent.parent)

    check = (
        "from ferroweb.testing import TestClient\n"
        "from hello import app\n"
        "with TestClient(app) as client:\n"
        "    response = client.get('/items/7')\n"
        "    print(response.status_code, response.text)\n"
    )
    answered = run([str(installed), "-c", check], cwd=tmp_path, env=env)
    assert answered.stdout.split(None, 1) == ["200", '{"item_id":"7"}\n']

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen(
        [str(installed.parent / "ferroweb"), "run", "hello:app", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body = None
        deadline = time.monotonic() + 30
        while body is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = json.loads(response.read())
            except OSError:
                time.sleep(0.1)
        assert body == {"message": "Hello, World!"}, server.stdout.read() if server.poll() is not None else ""
    finally:
        server.terminate()
        server.wait(timeout=15)
