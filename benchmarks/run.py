"""Load-test harness: ferroweb against real peers and a pure-Rust ceiling.

Each server runs as one worker process pinned to core 0 (``taskset``); wrk runs pinned to core
1; loopback only; every run is bounded (warm-up, then a fixed duration). Servers are started
from their own virtualenvs (made here from PyPI, see ``peers/servers.json``), found ready by
polling, checked for correct answers (including rejections of bad input) before any load, and
stopped by PID. Rounds interleave the frameworks so machine drift hits all alike; the report
gives medians and states every figure as a ratio to the best Python peer and to the Rust
ceiling measured in the same run.

    python benchmarks/run.py                      # full run: all servers, c=64 and c=256, 3 rounds
    python benchmarks/run.py --only ferroweb --only ceiling --rounds 1
    python benchmarks/run.py --smoke              # ~10 s correctness smoke: ferroweb + ceiling

HTTP workloads are loaded by wrk; ``ws-echo`` (WebSocket ping-pong) by ``loadgen ws``
(``benchmarks/loadgen``, built here), its msgs/s reported in the req/s column.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
PEERS = BENCH / "peers"
RESULTS = BENCH / "results"

ITEM = {
    "name": "Widget",
    "price": 12.5,
    "tags": ["tools", "hardware", "blue", "small"],
    "description": "A small blue widget, used to benchmark JSON bodies validated into a model.",
}
ITEM_BODY = json.dumps(ITEM, separators=(",", ":")).encode()
MIB = 1024 * 1024

Check = Callable[[int, bytes], bool]


def _json_equals(expected: object) -> Check:
    def check(status: int, body: bytes) -> bool:
        try:
            return status == 200 and json.loads(body) == expected
        except ValueError:
            return False

    return check


def _rejected(status: int, _body: bytes) -> bool:
    return 400 <= status < 500


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    check: Check
    body: bytes | None = None
    #: Requests that must be refused with a 4xx (typed validation really happens).
    rejects: tuple[tuple[str, str, bytes | None], ...] = ()
    #: "http" (wrk) or "ws" (WebSocket echo through loadgen; ``check`` unused)
    kind: str = "http"


WORKLOADS = [
    Workload("plaintext", "GET", "/plaintext", lambda s, b: s == 200 and b == b"Hello, World!"),
    Workload("json", "GET", "/json", _json_equals({"message": "Hello, World!"})),
    Workload(
        "items-get",
        "GET",
        "/items/42?q=hello",
        _json_equals({"item_id": 42, "q": "hello"}),
        rejects=(("GET", "/items/abc?q=hello", None), ("GET", "/items/42", None)),
    ),
    Workload(
        "items-post",
        "POST",
        "/items",
        _json_equals(ITEM),
        body=ITEM_BODY,
        rejects=(("POST", "/items", b'{"name": "x", "price": "free"}'),),
    ),
    # The same item as items-post, declared as a pydantic model (FastAPI's own way): the body
    # validated into it, and a response model applied to a returned dict.
    Workload(
        "pydantic-post",
        "POST",
        "/pydantic/items",
        _json_equals(ITEM),
        body=ITEM_BODY,
        rejects=(("POST", "/pydantic/items", b'{"name": "x", "price": "free"}'),),
    ),
    Workload(
        "pydantic-get",
        "GET",
        "/pydantic/items/42",
        _json_equals({**ITEM, "description": "item 42"}),
        rejects=(("GET", "/pydantic/items/abc", None),),
    ),
    # /json's answer made from two dependencies ("Hello", "World"), and from one generator
    # dependency (its cleanup runs after the response): what dependency injection costs.
    Workload("deps-2", "GET", "/deps/two", _json_equals({"message": "Hello, World!"})),
    Workload("deps-generator", "GET", "/deps/generator", _json_equals({"message": "Hello, World!"})),
    # /json's answer from a route with one no-op on_request hook, and from /json under one
    # @app.middleware("http") (served by its own app: that middleware wraps every route)
    Workload("hook-1", "GET", "/hooks/one", _json_equals({"message": "Hello, World!"})),
    Workload("http-middleware", "GET", "/json", _json_equals({"message": "Hello, World!"})),
    # the app's OpenAPI document (ferroweb: built at start-up, served by the core)
    Workload("openapi", "GET", "/openapi.json", lambda s, b: s == 200 and b"3.1" in b and b"/json" in b),
    Workload(
        "async-sleep",
        "GET",
        "/async-sleep",
        lambda s, b: s == 200 and b.strip() in (b'{"slept":true}', b'{"slept": true}', b"slept"),
    ),
    # 16 x 64 KiB from an async generator, sent as a stream
    Workload("stream-1mb", "GET", "/stream-1mb", lambda s, b: s == 200 and len(b) == MIB),
    # 64-byte text messages, each client waiting for the echo before sending the next
    Workload("ws-echo", "GET", "/ws", lambda s, b: True, kind="ws"),
]
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}
#: Workloads about a Python model library or Python dependency injection, which the pure-Rust
#: ceiling has no counterpart of.
PYTHON_ONLY = (
    "pydantic-post", "pydantic-get", "deps-2", "deps-generator", "hook-1", "http-middleware", "openapi",
)  # fmt: skip
#: Workloads served by a ferroweb app of their own, under the server named here.
OWN_APP = {
    "http-middleware": ("ferroweb+http-middleware", "benchmarks.apps.ferroweb_http_middleware_app:app"),
}


@dataclass
class ServerSpec:
    name: str
    argv: list[str]
    cwd: Path
    workloads: list[str]
    requirements: str | None = None  # peers only: their venv's requirements file
    kind: str = "peer"  # "ferroweb", "ceiling" or "peer"
    #: workloads put under load (default: all of ``workloads``; all are still checked)
    load_workloads: list[str] | None = None


@dataclass
class Measurement:
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass
class ServerResult:
    spec: ServerSpec
    runs: dict[tuple[str, int], list[Measurement]] = field(default_factory=dict)
    rss_mib: list[float] = field(default_factory=list)
    #: the server as a whole could not be measured (did not start, crashed)
    failure: str | None = None
    #: workloads that failed their correctness check: not measured, the others still are
    failed_workloads: dict[str, str] = field(default_factory=dict)


# -- setup ---------------------------------------------------------------------------------


def ensure_wrk() -> None:
    """wrk comes from Debian's packages, installed here when missing."""
    if shutil.which("wrk"):
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        sys.exit("wrk is not installed and cannot be installed here (needs root and apt-get)")
    subprocess.run(["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "wrk"],
        check=True,
        stdout=subprocess.DEVNULL,
        env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
    )


def ensure_venv(requirements: str) -> Path:
    """One venv per requirements file, rebuilt only when the file changes."""
    venv = ROOT / f".venv-peers-{Path(requirements).stem.removeprefix('requirements-')}"
    wanted = (PEERS / requirements).read_text()
    stamp = venv / ".requirements"
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check",
             "-r", str(PEERS / requirements)],
            check=True,
        )  # fmt: skip
        stamp.write_text(wanted)
    return venv / "bin"


def _cargo_binary(package: str, release: bool) -> Path:
    profile = ["--release"] if release else []
    subprocess.run(["cargo", "build", "-q", "-p", package, *profile], cwd=ROOT, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target")
    return target / ("release" if release else "debug") / package


def build_ceiling(release: bool) -> Path:
    return _cargo_binary("ferroweb-ceiling", release)


def build_loadgen(release: bool) -> Path:
    """The load generator for the WebSocket (and streaming.py's) workloads."""
    return _cargo_binary("loadgen", release)


def server_specs(release_ceiling: bool, only: list[str] | None) -> list[ServerSpec]:
    """The servers to run: ferroweb, the Rust ceiling (built here) and the peers."""
    wanted = (lambda name: name in only) if only else (lambda name: True)
    all_workloads = [w.name for w in WORKLOADS]
    specs = []
    if wanted("ferroweb"):
        specs.append(
            ServerSpec(
                "ferroweb",
                [
                    sys.executable,
                    "-m",
                    "ferroweb",
                    "run",
                    "benchmarks.apps.ferroweb_app:app",
                    "--port",
                    "{port}",
                    "--log-level",
                    "warning",
                ],
                ROOT,
                [name for name in all_workloads if name not in OWN_APP],
                kind="ferroweb",
            )
        )
    for workload_name, (server_name, target) in OWN_APP.items():
        if wanted("ferroweb") or wanted(server_name):
            argv = [sys.executable, "-m", "ferroweb", "run", target, "--port", "{port}",
                    "--log-level", "warning"]  # fmt: skip
            specs.append(ServerSpec(server_name, argv, ROOT, [workload_name], kind="ferroweb"))
    if wanted("rust-ceiling"):
        ceiling = build_ceiling(release_ceiling)
        specs.append(
            ServerSpec(
                "rust-ceiling",
                [str(ceiling), "--host", "127.0.0.1", "--port", "{port}", "--threads", "1"],
                ROOT,
                [name for name in all_workloads if name not in PYTHON_ONLY],
                kind="ceiling",
            )
        )
    ours = ("ferroweb", "rust-ceiling", *(server for server, _ in OWN_APP.values()))
    needs_peers = not only or any(name not in ours for name in only)
    entries = json.loads((PEERS / "servers.json").read_text()) if needs_peers else []
    for entry in entries:
        if wanted(entry["name"]):
            specs.append(
                ServerSpec(
                    entry["name"],
                    list(entry["argv"]),
                    PEERS,
                    [w for w in entry["workloads"] if w in WORKLOADS_BY_NAME],
                    requirements=entry["requirements"],
                )
            )
    return specs


# -- running one server ----------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def pinned(argv: list[str], core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", str(core), *argv]
    return argv


def http(port: int, method: str, path: str, body: bytes | None = None) -> tuple[int, bytes]:
    headers = {"content-type": "application/json"} if body is not None else {}
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", data=body, method=method, headers=headers
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def start(spec: ServerSpec, port: int, log: Path) -> subprocess.Popen[bytes]:
    bin_dir = str(ensure_venv(spec.requirements)) if spec.requirements else ""
    argv = [a.replace("{port}", str(port)).replace("{bin}", bin_dir).replace("{peers}", str(PEERS))
            for a in spec.argv]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)} if spec.kind == "ferroweb" else dict(os.environ)
    with log.open("ab") as out:
        process = subprocess.Popen(
            pinned(argv, 0),
            cwd=spec.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with {process.returncode} before it was ready; see {log}")
        try:
            http(port, "GET", "/plaintext")
            return process
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"not ready after 60 s; see {log}")


def stop(process: subprocess.Popen[bytes], grace: float = 15) -> None:
    """SIGTERM to the server's process group (servers with a worker child stop together);
    SIGKILL when it is still there after ``grace`` seconds."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=grace)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def loadgen_ws(
    loadgen: Path, port: int, path: str, clients: int, seconds: float, warmup: float
) -> dict[str, object]:
    """``loadgen ws`` pinned to core 1 (64-byte text ping-pong); its JSON report."""
    argv = [str(loadgen), "ws", "--url", f"ws://127.0.0.1:{port}{path}", "--clients", str(clients),
            "--duration", str(seconds), "--warmup", str(warmup), "--timeout", "5"]  # fmt: skip
    done = subprocess.run(pinned(argv, 1), capture_output=True, text=True, timeout=seconds + warmup + 60)
    if done.returncode != 0:
        raise RuntimeError(f"loadgen ws exited {done.returncode}: {done.stderr.strip()[-300:]}")
    report = json.loads(done.stdout)
    if not isinstance(report, dict):
        raise RuntimeError(f"unexpected loadgen output: {done.stdout[:200]}")
    return report


def verify_workload(workload: Workload, port: int, loadgen: Path | None) -> str | None:
    if workload.kind == "ws":
        if loadgen is None:
            return "needs loadgen"
        try:
            report = loadgen_ws(loadgen, port, workload.path, 2, 1, 0.2)
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            return str(exc)
        if not report.get("ok"):
            return f"WS {workload.path}: no verified echo ({report.get('error_samples')})"
        return None
    try:
        status, body = http(port, workload.method, workload.path, workload.body)
    except OSError as exc:
        return f"{workload.method} {workload.path} failed: {exc}"
    if not workload.check(status, body):
        return f"{workload.method} {workload.path} answered {status} {body[:120]!r}"
    for method, path, bad_body in workload.rejects:
        status, body = http(port, method, path, bad_body)
        if not _rejected(status, body):
            return f"{method} {path} should be refused with a 4xx, got {status}"
    return None


def verify(spec: ServerSpec, port: int, loadgen: Path | None) -> dict[str, str]:
    """A framework that answers errors fast is not a result: check before loading.
    The workloads that fail, with why (they are not measured; the others are)."""
    failed = {}
    for name in spec.workloads:
        problem = verify_workload(WORKLOADS_BY_NAME[name], port, loadgen)
        if problem is not None:
            failed[name] = problem
    return failed


def process_tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    total_kib, todo = 0, [pid]
    while todo:
        current = todo.pop()
        todo.extend(children.get(current, []))
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        total_kib += int(match.group(1)) if match else 0
    return total_kib / 1024


def wrk(port: int, workload: Workload, connections: int, seconds: int) -> Measurement:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    script: Path | None = None
    if workload.body is not None:
        handle, name = tempfile.mkstemp(suffix=".lua")
        os.close(handle)
        script = Path(name)
        body = workload.body.decode().replace("\\", "\\\\").replace('"', '\\"')
        script.write_text(
            f'wrk.method = "{workload.method}"\nwrk.body = "{body}"\n'
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        argv += ["-s", str(script)]
    try:
        output = subprocess.run(
            pinned([*argv, f"http://127.0.0.1:{port}{workload.path}"], 1),
            capture_output=True,
            text=True,
            check=True,
            timeout=seconds + 60,
        ).stdout
    finally:
        if script is not None:
            script.unlink()
    return parse_wrk(output)


def parse_wrk(output: str) -> Measurement:
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if rps is None:
        raise RuntimeError(f"unexpected wrk output:\n{output}")

    def percentile(label: str) -> float:
        found = re.search(rf"\s{label}%\s+([\d.]+)(us|ms|s)\b", output)
        if found is None:
            return float("nan")
        return float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)]

    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        # read errors count connections the server closed; timeouts are lost requests
        errors += int(socket_errors.group(1)) + int(socket_errors.group(4))
    return Measurement(float(rps.group(1)), percentile("50"), percentile("99"), errors)


def ws_measure(
    loadgen: Path, port: int, workload: Workload, clients: int, seconds: int, warmup: int
) -> Measurement:
    """WebSocket echo round trips/s (as rps) and round-trip p50/p99."""
    report = loadgen_ws(loadgen, port, workload.path, clients, seconds, warmup)
    latency = report.get("round_trip")
    if not isinstance(latency, dict):
        latency = {"p50_ms": float("nan"), "p99_ms": float("nan")}
    rate, errors = report.get("msgs_per_s"), report.get("errors")
    return Measurement(
        float(rate) if isinstance(rate, int | float) else 0.0,
        float(latency["p50_ms"]),
        float(latency["p99_ms"]),
        int(errors) if isinstance(errors, int) else 0,
    )


def bench_server(
    result: ServerResult,
    concurrencies: list[int],
    warmup: int,
    duration: int,
    logs: Path,
    loadgen: Path | None = None,
) -> None:
    spec = result.spec
    port = free_port()
    process = start(spec, port, logs / f"{spec.name}.log")
    try:
        result.failed_workloads.update(verify(spec, port, loadgen))
        for connections in concurrencies:
            for name in spec.workloads if spec.load_workloads is None else spec.load_workloads:
                if name in result.failed_workloads:
                    continue
                workload = WORKLOADS_BY_NAME[name]
                if workload.kind == "ws":
                    assert loadgen is not None  # verify() failed the workload otherwise
                    measured = ws_measure(loadgen, port, workload, connections, duration, warmup)
                else:
                    if warmup:
                        wrk(port, workload, connections, warmup)
                    measured = wrk(port, workload, connections, duration)
                result.runs.setdefault((name, connections), []).append(measured)
        result.rss_mib.append(process_tree_rss_mib(process.pid))
    finally:
        stop(process)


def leak_check(spec: ServerSpec, requests: int, logs: Path) -> dict[str, float]:
    """Idle RSS after start, then RSS growth across ``requests`` plaintext requests."""
    port = free_port()
    process = start(spec, port, logs / f"{spec.name}-leak.log")
    try:
        idle = process_tree_rss_mib(process.pid)
        plaintext = WORKLOADS_BY_NAME["plaintext"]
        warm = wrk(port, plaintext, 64, 3)  # allocator pools and caches settle first
        before = process_tree_rss_mib(process.pid)
        seconds = max(1, round(requests / max(warm.rps, 1.0)))
        loaded = wrk(port, plaintext, 64, seconds)
        after = process_tree_rss_mib(process.pid)
        return {
            "idle_rss_mib": idle,
            "rss_before_mib": before,
            "rss_after_mib": after,
            "requests": loaded.rps * seconds,
            "growth_mib": after - before,
        }
    finally:
        stop(process)


# -- reporting -------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def machine_info(specs: list[ServerSpec]) -> dict[str, object]:
    cpu = "unknown"
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    versions: dict[str, str] = {}
    for spec in specs:
        if spec.requirements:
            pins = (PEERS / spec.requirements).read_text().splitlines()
            versions[spec.name] = ", ".join(p for p in pins if "==" in p and not p.startswith("#"))
    revision = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ferroweb_revision": revision.stdout.strip(),
        "peer_versions": versions,
    }


def report(results: list[ServerResult], args: argparse.Namespace, out: Path, extra: dict[str, object]) -> str:
    rows: list[dict[str, object]] = []
    for connections in args.concurrency:
        for workload in WORKLOADS:
            medians: dict[str, Measurement] = {}
            for result in results:
                runs = result.runs.get((workload.name, connections))
                if runs:
                    medians[result.spec.name] = Measurement(
                        median([r.rps for r in runs]),
                        median([r.p50_ms for r in runs]),
                        median([r.p99_ms for r in runs]),
                        sum(r.errors for r in runs),
                    )
            ours = {r.spec.name for r in results if r.spec.kind != "peer"}
            peers = [m.rps for n, m in medians.items() if n not in ours]
            best_peer = max(peers) if peers else float("nan")
            ceiling = medians.get("rust-ceiling")
            for result in results:
                m = medians.get(result.spec.name)
                if m is None:
                    continue
                rows.append({
                    "workload": workload.name,
                    "connections": connections,
                    "framework": result.spec.name,
                    "rps": round(m.rps),
                    "p50_ms": round(m.p50_ms, 3),
                    "p99_ms": round(m.p99_ms, 3),
                    "errors": m.errors,
                    "rss_mib": round(median(result.rss_mib), 1),
                    "vs_best_peer": round(m.rps / best_peer, 2) if peers else "",
                    "vs_ceiling": round(m.rps / ceiling.rps, 2) if ceiling else "",
                })  # fmt: skip
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]) if rows else ["workload"])
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# ferroweb benchmark {out.name}",
        "",
        f"wrk -t1, warm-up {args.warmup} s then {args.duration} s per cell, median of {args.rounds} "
        "interleaved round(s); each server 1 worker pinned to core 0, wrk pinned to core 1, loopback.",
        f"Machine: {extra['machine']}",
        "",
        "| workload | conns | framework | req/s (ws-echo: msgs/s) | p50 ms | p99 ms | errors | RSS MiB "
        "| vs best peer | vs ceiling |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['workload']} | {r['connections']} | {r['framework']} | {r['rps']:,} | {r['p50_ms']} | "
        f"{r['p99_ms']} | {r['errors']} | {r['rss_mib']} | {r['vs_best_peer']} | {r['vs_ceiling']} |"
        for r in rows
    ]
    failures = [f"- {r.spec.name}: {r.failure}" for r in results if r.failure]
    failures += [
        f"- {r.spec.name} {name}: {problem}" for r in results for name, problem in r.failed_workloads.items()
    ]
    if failures:
        lines += ["", "Not measured (failed the correctness check):", *failures]
    if "leak_check" in extra:
        leak = extra["leak_check"]
        assert isinstance(leak, dict)
        lines += [
            "",
            f"ferroweb memory: idle RSS {leak['idle_rss_mib']:.1f} MiB; "
            f"RSS growth {leak['growth_mib']:+.1f} MiB over {leak['requests']:,.0f} requests "
            f"({leak['rss_before_mib']:.1f} -> {leak['rss_after_mib']:.1f} MiB).",
        ]
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text)
    (out / "machine.json").write_text(json.dumps(extra, indent=2, default=str) + "\n")
    return text


def chart(out: Path) -> None:
    """The PNG bar chart, drawn by matplotlib in its own small venv."""
    bin_dir = ensure_venv("requirements-report.txt")
    subprocess.run([str(bin_dir / "python"), str(BENCH / "chart.py"), str(out / "results.csv")], check=True)


def loadgen_for(specs: list[ServerSpec], release: bool) -> Path | None:
    """loadgen, built when a server has a WebSocket workload."""
    ws = {w.name for w in WORKLOADS if w.kind == "ws"}
    return build_loadgen(release) if any(ws & set(spec.workloads) for spec in specs) else None


def check_servers(specs: list[ServerSpec], loadgen: Path | None) -> int:
    """Starts each server, checks every workload's answers (no load), stops it."""
    failed = 0
    with tempfile.TemporaryDirectory() as logs:
        for spec in specs:
            port = free_port()
            try:
                process = start(spec, port, Path(logs) / f"{spec.name}.log")
            except RuntimeError as exc:
                print(f"{spec.name}: FAILED to start: {exc}")
                failed += 1
                continue
            try:
                problems = verify(spec, port, loadgen)
            finally:
                stop(process)
            passed = [name for name in spec.workloads if name not in problems]
            print(f"{spec.name}: {'ok' if passed else 'FAILED'} ({', '.join(passed)})")
            for name, problem in problems.items():
                print(f"  {name}: FAILED {problem}")
            failed += bool(problems)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, action="append", help="connections (default 64 and 256)")
    parser.add_argument("--only", action="append", help="run only these servers (by name)")
    parser.add_argument("--workload", action="append", help="run only these workloads (by name)")
    parser.add_argument("--leak-requests", type=int, default=1_000_000, help="0 skips the memory check")
    parser.add_argument("--smoke", action="store_true", help="quick correctness run: ferroweb + ceiling only")
    parser.add_argument("--out", type=Path, help="output folder (default: results/<timestamp>)")
    parser.add_argument("--check", action="store_true", help="only start each server and check its answers")
    args = parser.parse_args(argv)
    if args.check:
        specs = server_specs(False, args.only)
        return check_servers(specs, loadgen_for(specs, release=False))
    if args.smoke:
        args.duration, args.warmup, args.rounds, args.leak_requests = 1, 0, 1, 0
        args.concurrency = args.concurrency or [64]
        args.only = ["ferroweb", "rust-ceiling"]
    args.concurrency = args.concurrency or [64, 256]

    ensure_wrk()
    specs = server_specs(not args.smoke, args.only)
    loadgen = loadgen_for(specs, release=not args.smoke)
    if args.workload:
        unknown = set(args.workload) - WORKLOADS_BY_NAME.keys()
        if unknown:
            parser.error(f"unknown workload(s): {', '.join(sorted(unknown))}")
        # servers still answer every workload's correctness check; only the load is narrowed
        for spec in specs:
            spec.load_workloads = [w for w in spec.workloads if w in args.workload]
    out = args.out or RESULTS / time.strftime("%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    results = [ServerResult(spec) for spec in specs]
    for round_index in range(args.rounds):
        # rotate the order each round so no framework always runs first or last
        shift = round_index % len(results)
        for result in results[shift:] + results[:shift]:
            if result.failure is None:
                try:
                    bench_server(result, args.concurrency, args.warmup, args.duration, logs, loadgen)
                except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
                    result.failure = str(exc)
            failed_workloads = ", ".join(result.failed_workloads)
            print(f"round {round_index + 1}/{args.rounds}: {result.spec.name} "
                  f"{'failed: ' + result.failure if result.failure else 'done'}"
                  f"{' (failed their check: ' + failed_workloads + ')' if failed_workloads else ''}",
                  flush=True)  # fmt: skip
    extra: dict[str, object] = {"machine": machine_info(specs), "args": vars(args)}
    ferroweb = next((s for s in specs if s.name == "ferroweb"), None)
    if args.leak_requests and ferroweb is not None:
        extra["leak_check"] = leak_check(ferroweb, args.leak_requests, logs)
    print(report(results, args, out, extra))
    if not args.smoke:
        chart(out)
        # Only a complete run (every server and workload, both concurrencies, 3+ rounds)
        # becomes LATEST.md: a narrowed one must not pass for the project's standing.
        narrowed = bool(args.only or args.workload) or not {64, 256} <= set(args.concurrency)
        complete = not narrowed and args.rounds >= 3
        if complete and out.resolve().parent == RESULTS.resolve():
            shutil.copy(out / "results.md", RESULTS / "LATEST.md")
        print(f"results in {out}")
    failed = [r for r in results if r.failure or r.failed_workloads]
    errored = [r for r in results if any(m.errors for runs in r.runs.values() for m in runs)]
    if args.smoke and (failed or errored):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
