"""Load test: ferroweb beside starlette+uvicorn, starlette+granian and raw granian RSGI.

Each server runs as 1 worker pinned to core 0; wrk runs pinned to core 1; loopback only;
bounded runs. Every server's answers are checked before it is loaded. Prints a Markdown
table and writes it under benchmarks/results/.

    python benchmarks/quick.py [--duration 10] [--rounds 1] [--only ferroweb]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PEERS_VENV = ROOT / ".venv-peers"
BODY = b"x" * 200


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    expect_status: int
    expect_body: bytes | None


WORKLOADS = [
    Workload("plaintext", "GET", "/plaintext", 200, b"Hello, World!"),
    Workload("json", "GET", "/", 200, b'{"message":"Hello, World!"}'),
    Workload("echo-200B", "POST", "/echo", 201, BODY),
]


def ensure_tools() -> None:
    if shutil.which("wrk") is None:
        if os.geteuid() != 0:
            sys.exit("wrk is missing: install it (Debian package 'wrk')")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)


def ensure_peers() -> Path:
    python = PEERS_VENV / "bin" / "python"
    stamp = PEERS_VENV / ".requirements"
    wanted = (BENCH / "requirements-peers.txt").read_text()
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(BENCH / "requirements-peers.txt")],
            check=True,
        )
        stamp.write_text(wanted)
    return PEERS_VENV / "bin"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def servers(peer_bin: Path | None) -> dict[str, list[str]]:
    found = {
        "ferroweb": [sys.executable, "-m", "ferroweb", "run", "examples.hello:app", "--port", "{port}"],
    }
    if peer_bin is not None:
        found["starlette+uvicorn"] = [
            str(peer_bin / "uvicorn"), "starlette_app:app", "--port", "{port}", "--workers", "1",
            "--no-access-log", "--log-level", "warning", "--loop", "uvloop", "--http", "httptools",
        ]  # fmt: skip
        granian = [str(peer_bin / "granian"), "--host", "127.0.0.1", "--port", "{port}", "--workers", "1",
                   "--no-access-log", "--log-level", "warning"]  # fmt: skip
        found["starlette+granian"] = [*granian, "--interface", "asgi", "starlette_app:app"]
        found["granian-rsgi"] = [*granian, "--interface", "rsgi", "rsgi_app:app"]
    return found


def request(port: int, workload: Workload) -> tuple[int, bytes]:
    data = BODY if workload.method == "POST" else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{workload.path}", data=data, method=workload.method)
    try:
        with urllib.request.urlopen(req, timeout=2) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def start(name: str, command: list[str], port: int) -> subprocess.Popen[bytes]:
    argv = [part.format(port=port) for part in command]
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        argv = ["taskset", "-c", "0", *argv]
    cwd = ROOT if name == "ferroweb" else BENCH / "peers"
    process = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            request(port, WORKLOADS[0])
            return process
        except OSError:
            if process.poll() is not None:
                break
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"{name} did not start")


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wrk(port: int, workload: Workload, duration: int) -> tuple[float, float, float]:
    argv = ["wrk", "-t1", "-c64", f"-d{duration}s", "--latency"]
    if workload.method == "POST":
        script = BENCH / "results" / "post-body.lua"
        script.write_text(
            'wrk.method = "POST"\nwrk.body = string.rep("x", 200)\n'
            'wrk.headers["Content-Type"] = "application/octet-stream"\n'
        )
        argv += ["-s", str(script)]
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        argv = ["taskset", "-c", "1", *argv]
    output = subprocess.run(
        [*argv, f"http://127.0.0.1:{port}{workload.path}"],
        capture_output=True, text=True, check=True, timeout=duration + 30,
    ).stdout  # fmt: skip
    if "Non-2xx" in output or "Socket errors" in output:
        raise RuntimeError(f"errors under load:\n{output}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]

    def percentile(label: str) -> float:
        value, unit = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)", output).groups()  # type: ignore[union-attr]
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]

    return rps, percentile("50"), percentile("99")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--only", action="append", help="run only these servers")
    args = parser.parse_args()
    ensure_tools()
    peer_bin = None if args.only == ["ferroweb"] else ensure_peers()
    chosen = {k: v for k, v in servers(peer_bin).items() if not args.only or k in args.only}
    results: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    for _ in range(args.rounds):  # rounds interleave frameworks, so drift hits all alike
        for name, command in chosen.items():
            port = free_port()
            process = start(name, command, port)
            try:
                for workload in WORKLOADS:
                    status, body = request(port, workload)
                    if status != workload.expect_status or body != workload.expect_body:
                        raise RuntimeError(f"{name} answered {workload.name} wrongly: {status} {body[:80]!r}")
                    results.setdefault((name, workload.name), []).append(wrk(port, workload, args.duration))
            finally:
                stop(process)
    lines = ["| framework | workload | req/s | p50 ms | p99 ms | vs best peer |", "|---|---|---|---|---|---|"]
    for workload in WORKLOADS:
        medians = {}
        for name in chosen:
            runs = sorted(results[(name, workload.name)])
            medians[name] = runs[len(runs) // 2]
        peers = [rps for n, (rps, _, _) in medians.items() if n != "ferroweb"]
        best_peer = max(peers) if peers else None
        for name, (rps, p50, p99) in medians.items():
            ratio = f"{rps / best_peer:.2f}x" if best_peer else "-"
            lines.append(f"| {name} | {workload.name} | {rps:,.0f} | {p50:.2f} | {p99:.2f} | {ratio} |")
    table = "\n".join(lines)
    print(table)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    (BENCH / "results" / f"quick-{stamp}.md").write_text(
        f"# quick load test {stamp}\n\nwrk -t1 -c64 -d{args.duration}s, {args.rounds} round(s), "
        f"server on core 0, wrk on core 1, Python {sys.version.split()[0]}\n\n{table}\n"
    )


if __name__ == "__main__":
    main()
