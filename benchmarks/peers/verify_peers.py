"""Start every peer in servers.json once and check its answers (no load).

    python benchmarks/peers/verify_peers.py [NAME ...]

Uses the venvs benchmarks/run.py makes (`.venv-peers-<requirements stem without
'requirements-'>` at the repo root; they must exist). Each server gets a free 127.0.0.1 port,
is polled until ready (bounded), checked, then stopped by its process group. Exit 1 on any failure.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PEERS = Path(__file__).resolve().parent
ROOT = PEERS.parents[1]
ITEM = {"name": "Widget", "price": 12.5, "tags": ["tools", "blue"], "description": "A small blue widget."}
JSON = "application/json"


def http(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, str, bytes, dict]:
    headers = {"content-type": JSON} if body is not None else {}
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.headers.get("content-type", ""), resp.read(), dict(resp.headers)
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("content-type", ""), err.read(), dict(err.headers)


def ok_json(expected):
    return lambda s, ct, b: s == 200 and ct.startswith(JSON) and json.loads(b) == expected


def ok_text(expected: bytes):
    return lambda s, ct, b: s == 200 and ct.startswith("text/plain") and b == expected


def rejected(s, ct, b):
    return 400 <= s < 500


CHECKS = {
    "plaintext": [("GET", "/plaintext", None, ok_text(b"Hello, World!"))],
    "json": [("GET", "/json", None, ok_json({"message": "Hello, World!"}))],
    "items-get": [
        ("GET", "/items/42?q=hello", None, ok_json({"item_id": 42, "q": "hello"})),
        ("GET", "/items/-7?q=abc", None, ok_json({"item_id": -7, "q": "abc"})),
        ("GET", "/items/abc?q=hello", None, rejected),
        ("GET", "/items/4.5?q=hello", None, rejected),
        ("GET", "/items/42", None, rejected),
    ],
    "items-post": [
        ("POST", "/items", json.dumps(ITEM).encode(), ok_json(ITEM)),
        ("POST", "/items", json.dumps({**ITEM, "price": 3}).encode(), ok_json({**ITEM, "price": 3.0})),
        ("POST", "/items", b'{"name": "x", "price": "free"}', rejected),
        ("POST", "/items", json.dumps({**ITEM, "tags": [1]}).encode(), rejected),
        ("POST", "/items", b"not json", rejected),
    ],
    "async-sleep": [("GET", "/async-sleep", None, ok_json({"slept": True}))],
}
# Checked, but only reported: robyn 0.88 hands query values over still percent-encoded.
SOFT = [("GET", "/items/1?q=a%20b%2Bc", None, ok_json({"item_id": 1, "q": "a b+c"}))]
# The older routes kept by the starlette and RSGI apps.
LEGACY = [
    ("GET", "/", None, ok_json({"message": "Hello, World!"})),
    ("POST", "/echo", b"payload-123", lambda s, ct, b: s == 201 and b == b"payload-123"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


def verify(entry: dict) -> list[str]:
    with tempfile.TemporaryFile() as log:
        return _verify(entry, log)


def _verify(entry: dict, log) -> list[str]:
    venv = ROOT / f".venv-peers-{Path(entry['requirements']).stem.removeprefix('requirements-')}"
    port = free_port()
    argv = [
        a.replace("{port}", str(port)).replace("{bin}", str(venv / "bin")).replace("{peers}", str(PEERS))
        for a in entry["argv"]
    ]
    proc = subprocess.Popen(
        argv,
        cwd=entry["cwd"].replace("{peers}", str(PEERS)),
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    failures, notes, rejects = [], [], []
    try:
        deadline = time.monotonic() + 30
        while True:
            if proc.poll() is not None:
                log.seek(0)
                return [f"exited {proc.returncode} before ready: {log.read()[-2000:]!r}"]
            try:
                http(port, "GET", "/plaintext")
                break
            except OSError:
                if time.monotonic() > deadline:
                    return ["not ready after 30 s"]
                time.sleep(0.1)
        checks = [c for w in entry["workloads"] for c in CHECKS[w]]
        if entry["name"] in ("starlette+uvicorn", "starlette+granian", "granian-rsgi"):
            checks += LEGACY
        for method, path, body, check in checks:
            status, ctype, data, headers = http(port, method, path, body)
            if check is rejected:
                rejects.append(str(status))
            if not check(status, ctype, data):
                failures.append(f"{method} {path} {body!r:.40} -> {status} {ctype!r} {data[:160]!r}")
            if path == "/echo" and headers.get("x-echo") != "1":
                failures.append(f"POST /echo: no x-echo: 1 header ({headers})")
        if "items-get" in entry["workloads"]:
            for method, path, body, check in SOFT:
                status, ctype, data, _ = http(port, method, path, body)
                if not check(status, ctype, data):
                    notes.append(f"note: {method} {path} -> {status} {data[:100]!r}")
        print(f"  [{entry['name']}] 4xx statuses of the invalid requests: {' '.join(rejects)}")
        for note in notes:
            print(f"  [{entry['name']}] {note}")
        time.sleep(0.2)
        log.seek(0)
        noise = log.read().decode(errors="replace").strip()
        if noise:
            print(f"  [{entry['name']} output] {noise[:600]}")
    finally:
        stop(proc)
    return failures


def main() -> int:
    entries = json.loads((PEERS / "servers.json").read_text())
    wanted = set(sys.argv[1:])
    bad = 0
    for entry in entries:
        if wanted and entry["name"] not in wanted:
            continue
        failures = verify(entry)
        print(f"{entry['name']:20} {'OK' if not failures else 'FAIL'} ({', '.join(entry['workloads'])})")
        for f in failures:
            print("   ", f)
        bad += bool(failures)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
