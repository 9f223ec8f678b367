"""Long-lived paths: streamed responses, server-sent events and WebSocket echo.

ferroweb (``apps/ferroweb_stream_app.py``) against Starlette on uvicorn and on granian
(``peers/starlette_stream_app.py``, servers in ``peers/servers-streaming.json``), measured by
``loadgen`` (``benchmarks/loadgen``, a small Rust load generator: wrk cannot count MB/s of a
100 MB body, SSE events or WebSocket round trips). Same conventions as ``run.py``, whose helpers
this reuses: one worker process pinned to core 0, loadgen pinned to core 1, loopback only,
readiness by polling, answers checked before load, medians of interleaved rounds, ratios to the
best peer.

Workloads (cells):

- ``stream`` at 1 and 4 connections: ``GET /stream?mb=100`` again and again (100 MiB produced by
  an async generator of 64 KiB chunks); MB/s of body bytes, every response's length checked.
- ``sse`` at 100 clients: ``GET /sse``, the generator yields ``tick`` events as fast as it is
  asked for (it never awaits anything itself); complete events/s across the clients, each event
  parsed and its JSON data, id and sequence checked.
- ``sse-sleep0``: the same with ``await asyncio.sleep(0)`` after each event, the usual way to
  let other clients' tasks run on an asyncio server.
- ``ws`` at 50 clients: 64-byte text messages, each client waits for the echo before sending
  the next; round trips/s and round-trip p50/p99.

Each cell starts the server afresh (a server left with runaway generators after the clients of
one cell leave must not slow the next) and stops it after. Before load, ``stream`` and ``ws``
are checked on that server (full 1 MiB body, a bad ``mb`` refused with a 4xx, WebSocket echoes);
``sse`` is checked by the measurement itself (loadgen verifies every event), because any SSE
client that leaves early would leave a generator running. A server whose check fails is reported
as failed for that workload, not measured.

    python benchmarks/streaming.py                        # all servers, 3 rounds, 10 s cells
    python benchmarks/streaming.py --only starlette+granian --rounds 1 --duration 5
    python benchmarks/streaming.py --smoke                # 1 s cells, one round: correctness
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # benchmarks/run.py: pinning, start/stop, readiness, venvs, machine info
from run import PEERS, RESULTS, ROOT, ServerSpec

MIB = 1024 * 1024
SERVERS_FILE = PEERS / "servers-streaming.json"
#: grace before SIGKILL: servers with runaway SSE generators ignore SIGTERM
STOP_GRACE_S = 5.0


@dataclass(frozen=True)
class Cell:
    workload: str  # "stream", "sse", "sse-sleep0" or "ws"
    connections: int

    @property
    def unit(self) -> str:
        return {"stream": "MB/s", "ws": "msgs/s"}.get(self.workload, "events/s")


@dataclass
class Outcome:
    """One loadgen run, reduced to what the report needs."""

    value: float
    p50_ms: float
    p99_ms: float
    errors: int
    served: int
    rss_mib: float
    #: CPU (% of one core) used by other processes on the machine during the run
    other_cpu: float = 0.0
    #: the server ignored SIGTERM after the cell and was killed
    killed: bool = False


@dataclass
class ServerResult:
    spec: ServerSpec
    runs: dict[Cell, list[Outcome]] = field(default_factory=dict)
    #: why a workload (or, under "*", the whole server) was not measured
    failures: dict[str, str] = field(default_factory=dict)
    #: cells after which the server had to be killed (it ignored SIGTERM)
    killed: dict[Cell, int] = field(default_factory=dict)

    def failed(self, workload: str) -> str | None:
        return self.failures.get("*") or self.failures.get(workload)


# -- servers and loadgen ---------------------------------------------------------------------


def server_specs(only: list[str] | None) -> list[ServerSpec]:
    wanted = (lambda name: name in only) if only else (lambda name: True)
    workloads = ["stream", "sse", "sse-sleep0", "ws"]
    specs = []
    if wanted("ferroweb"):
        argv = [sys.executable, "-m", "ferroweb", "run", "benchmarks.apps.ferroweb_stream_app:app",
                "--port", "{port}", "--log-level", "warning"]  # fmt: skip
        specs.append(ServerSpec("ferroweb", argv, ROOT, workloads, kind="ferroweb"))
    for entry in json.loads(SERVERS_FILE.read_text()):
        if wanted(entry["name"]):
            specs.append(
                ServerSpec(entry["name"], list(entry["argv"]), PEERS, list(entry["workloads"]),
                           requirements=entry["requirements"])
            )  # fmt: skip
    return specs


def loadgen(binary: Path, argv: list[str], seconds: float) -> dict[str, object]:
    """Runs loadgen pinned to core 1; its JSON report."""
    done = subprocess.run(
        run.pinned([str(binary), *argv], 1),
        capture_output=True,
        text=True,
        timeout=seconds + 90,
    )
    if done.returncode != 0:
        raise RuntimeError(f"loadgen {' '.join(argv)} exited {done.returncode}: {done.stderr.strip()[-500:]}")
    report = json.loads(done.stdout)
    assert isinstance(report, dict)
    return report


def loadgen_argv(cell: Cell, port: int, args: argparse.Namespace) -> list[str]:
    timing = ["--duration", str(args.duration), "--warmup", str(args.warmup), "--timeout", "30"]
    base = f"127.0.0.1:{port}"
    if cell.workload == "stream":
        return ["stream", "--url", f"http://{base}/stream?mb={args.mb}", "--expect-bytes",
                str(args.mb * MIB), "--connections", str(cell.connections), *timing]  # fmt: skip
    if cell.workload in ("sse", "sse-sleep0"):
        return ["sse", "--url", f"http://{base}/{cell.workload}", "--clients", str(cell.connections),
                "--event", "tick", *timing]  # fmt: skip
    if cell.workload == "ws":
        return ["ws", "--url", f"ws://{base}/ws", "--clients", str(cell.connections),
                "--message-size", str(args.message_size), *timing]  # fmt: skip
    raise ValueError(cell.workload)


def log_tail(log: Path, lines: int = 3) -> str:
    try:
        text = log.read_text(errors="replace").strip().splitlines()
    except OSError:
        return ""
    return " | ".join(text[-lines:])


# -- checks ----------------------------------------------------------------------------------


def check(cell: Cell, port: int, binary: Path) -> str | None:
    """Pre-load check of ``stream`` and ``ws`` on the server about to be measured."""
    if cell.workload == "stream":
        try:
            status, body = run.http(port, "GET", "/stream?mb=1")
        except OSError as exc:
            return f"GET /stream?mb=1 failed: {exc}"
        if status != 200 or len(body) != MIB or body.strip(b"x"):
            return f"GET /stream?mb=1 answered {status} with {len(body)} bytes {body[:60]!r}"
        try:
            status, _ = run.http(port, "GET", "/stream?mb=abc")
        except OSError as exc:
            return f"GET /stream?mb=abc failed: {exc}"
        if not 400 <= status < 500:
            return f"GET /stream?mb=abc should be refused with a 4xx, got {status}"
        return None
    if cell.workload == "ws":
        argv = ["ws", "--url", f"ws://127.0.0.1:{port}/ws", "--clients", "2", "--duration", "1",
                "--warmup", "0.2", "--timeout", "5"]  # fmt: skip
        try:
            report = loadgen(binary, argv, 2)
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            return f"ws check: {exc}"
        if not report.get("ok"):
            errors = f"{report.get('errors')} errors: {report.get('error_samples')}"
            return f"ws check: no verified echo ({errors})"
    return None


def measured_problem(cell: Cell, report: dict[str, object]) -> str | None:
    """Whether a run failed: nothing verified (for stream: no response of the right length),
    or, for sse (whose only check is the run itself), any error. Other runs with errors are
    kept and their errors shown."""
    errors = f"{report.get('errors')} errors: {report.get('error_samples')}"
    if not _value(cell, report):
        return f"nothing verified in the measured window; {errors}"
    if cell.workload == "stream" and not report.get("responses_total"):
        return f"no response of the expected length; {errors}"
    if cell.workload.startswith("sse") and report.get("errors"):
        return errors
    return None


def _value(cell: Cell, report: dict[str, object]) -> float:
    key = {"stream": "mb_per_s", "ws": "msgs_per_s"}.get(cell.workload, "events_per_s")
    value = report.get(key)
    return float(value) if isinstance(value, int | float) else 0.0


def _latency(cell: Cell, report: dict[str, object]) -> tuple[float, float]:
    key = {"stream": "response_latency", "ws": "round_trip"}.get(cell.workload)
    latency = report.get(key) if key else None
    if isinstance(latency, dict):
        return float(latency["p50_ms"]), float(latency["p99_ms"])
    return float("nan"), float("nan")


def _served(report: dict[str, object]) -> int:
    spread = report.get("per_connection")
    return int(spread["served"]) if isinstance(spread, dict) else 0


# -- noise ----------------------------------------------------------------------------------


def _process_ticks() -> tuple[dict[int, int], dict[int, int]]:
    """utime + stime (clock ticks) of every user-space process, and each one's parent."""
    ticks: dict[int, int] = {}
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(entry.name), int(fields[1])
            if pid == 2 or ppid == 2:  # kernel threads (softirq work of our own traffic included)
                continue
            parents[pid] = ppid
            ticks[pid] = int(fields[11]) + int(fields[12])
    return ticks, parents


class OtherCpu:
    """CPU (% of one core) that processes other than the server (with its children), loadgen and
    this harness used during a measurement: other work on a shared machine shows here instead of
    silently in the numbers. Processes that start and end within the window are not seen."""

    def __init__(self, server_pid: int) -> None:
        self.server = server_pid
        self.started = time.monotonic()
        self.before, _ = _process_ticks()

    def percent(self) -> float:
        elapsed = time.monotonic() - self.started
        after, parents = _process_ticks()
        ours = {self.server, os.getpid()}
        other = 0
        for pid, ticks in after.items():
            ancestor, seen = pid, 0
            while ancestor not in ours and ancestor in parents and seen < 64:
                ancestor, seen = parents[ancestor], seen + 1
            if ancestor not in ours:
                other += ticks - self.before.get(pid, 0)
        return 100.0 * max(other, 0) / os.sysconf("SC_CLK_TCK") / max(elapsed, 1e-9)


# -- one cell ---------------------------------------------------------------------------------


def bench_cell(
    result: ServerResult, cell: Cell, binary: Path, args: argparse.Namespace, logs: Path, raw: Path
) -> None:
    spec = result.spec
    port = run.free_port()
    log = logs / f"{spec.name}.log"
    try:
        process = run.start(spec, port, log)
    except RuntimeError as exc:
        # a server that cannot start is failed as a whole (no retry for every cell)
        result.failures["*"] = f"did not start: {exc}: {log_tail(log)}"
        return
    try:
        problem = check(cell, port, binary)
        if problem is not None:
            result.failures[cell.workload] = problem
            return
        argv = loadgen_argv(cell, port, args)
        started = time.strftime("%H:%M:%S")
        other_cpu = OtherCpu(process.pid)
        try:
            report = loadgen(binary, argv, args.duration + args.warmup)
        except (RuntimeError, subprocess.SubprocessError, ValueError) as exc:
            result.failures[cell.workload] = str(exc)
            return
        other = other_cpu.percent()
        rss = run.process_tree_rss_mib(process.pid)
    finally:
        stopping = time.monotonic()
        run.stop(process, grace=STOP_GRACE_S)
        killed = time.monotonic() - stopping >= STOP_GRACE_S
        if killed:
            result.killed[cell] = result.killed.get(cell, 0) + 1
    with raw.open("a") as handle:
        record = {"server": spec.name, "cell": cell.workload, "started": started,
                  "other_cpu_pct": round(other, 1), "killed_after": killed, **report}  # fmt: skip
        handle.write(json.dumps(record) + "\n")
    problem = measured_problem(cell, report)
    if problem is not None:
        result.failures[cell.workload] = problem
        return
    p50, p99 = _latency(cell, report)
    errors = report.get("errors")
    outcome = Outcome(_value(cell, report), p50, p99, int(errors) if isinstance(errors, int) else -1,
                      _served(report), rss, other, killed)  # fmt: skip
    result.runs.setdefault(cell, []).append(outcome)


# -- report ----------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # NaN-free
    return statistics.median(values) if values else float("nan")


def _fmt(value: float, digits: int = 3) -> str:
    return "-" if value != value else f"{value:,.{digits}f}"


def report(results: list[ServerResult], cells: list[Cell], args: argparse.Namespace, out: Path,
           extra: dict[str, object]) -> str:  # fmt: skip
    rows: list[dict[str, object]] = []
    for cell in cells:
        medians: dict[str, Outcome] = {}
        for result in results:
            runs = result.runs.get(cell)
            if runs:
                medians[result.spec.name] = Outcome(
                    median([r.value for r in runs]),
                    median([r.p50_ms for r in runs]),
                    median([r.p99_ms for r in runs]),
                    sum(r.errors for r in runs),
                    min(r.served for r in runs),
                    median([r.rss_mib for r in runs]),
                    max(r.other_cpu for r in runs),
                )
        # a peer that starved some of its clients is not the bar to measure against
        peers = [
            m.value for name, m in medians.items() if name != "ferroweb" and m.served == cell.connections
        ]
        best_peer = max(peers) if peers else float("nan")
        for result in results:
            m = medians.get(result.spec.name)
            if m is None:
                continue
            rows.append({
                "workload": cell.workload,
                "connections": cell.connections,
                "framework": result.spec.name,
                "value": round(m.value, 1),
                "min": round(min(r.value for r in result.runs[cell]), 1),
                "max": round(max(r.value for r in result.runs[cell]), 1),
                "unit": cell.unit,
                "p50_ms": round(m.p50_ms, 3) if m.p50_ms == m.p50_ms else "",
                "p99_ms": round(m.p99_ms, 3) if m.p99_ms == m.p99_ms else "",
                "served": m.served,
                "errors": m.errors,
                "rss_mib": round(m.rss_mib, 1),
                "other_cpu_pct": round(m.other_cpu),
                "rounds": len(result.runs[cell]),
                "vs_best_peer": round(m.value / best_peer, 2) if peers and best_peer > 0 else "",
            })  # fmt: skip
    fields = ["workload", "connections", "framework", "value", "min", "max", "unit", "p50_ms", "p99_ms",
              "served", "errors", "rss_mib", "other_cpu_pct", "rounds", "vs_best_peer"]  # fmt: skip
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# ferroweb long-lived paths {out.name}",
        "",
        f"loadgen (benchmarks/loadgen), warm-up {args.warmup} s then {args.duration} s per cell, median of "
        f"{args.rounds} interleaved round(s); each server 1 worker pinned to core 0 and restarted for "
        "every cell, loadgen pinned to core 1, loopback. stream: GET /stream?mb="
        f"{args.mb} (64 KiB chunks from an async generator), MB = 10^6 bytes, p50/p99 = time per whole "
        "response. sse/sse-sleep0: events/s summed over the clients. ws: "
        f"{args.message_size}-byte text ping-pong, p50/p99 = round trip. served = connections that got "
        "data in the measured window (lowest over the rounds; a peer that starved clients is not the "
        "best peer). RSS = server after the cell. other CPU % = the most CPU (% of one core) that "
        "processes other than the server and loadgen used during a round of the cell: above a few %, "
        "the machine was not quiet and the figures are noisy.",
        f"Machine: {extra['machine']}",
        "",
        "| workload | conns | framework | result (median) | min - max | p50 ms | p99 ms | served | errors "
        "| RSS MiB | other CPU % | vs best peer |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        served = f"{r['served']}/{r['connections']}"
        if r["served"] != r["connections"]:
            served += " (!)"
        lines.append(
            f"| {r['workload']} | {r['connections']} | {r['framework']} | {r['value']:,} {r['unit']} | "
            f"{r['min']:,} - {r['max']:,} | {r['p50_ms'] or '-'} | {r['p99_ms'] or '-'} | {served} | "
            f"{r['errors']} | {r['rss_mib']} | {r['other_cpu_pct']} | {r['vs_best_peer']} |"
        )
    starved = [r for r in rows if r["served"] != r["connections"]]
    if starved:
        lines += ["", "(!) not every connection got data during the measured window: "
                  + "; ".join(f"{r['framework']} {r['workload']} {r['served']}/{r['connections']}"
                              for r in starved)]  # fmt: skip
    kills = [
        f"{r.spec.name} after {cell.workload} ({count}x)" for r in results for cell, count in r.killed.items()
    ]
    if kills:
        lines += ["", f"Ignored SIGTERM for {STOP_GRACE_S:.0f} s after the cell and had to be killed: "
                  + "; ".join(kills)]  # fmt: skip
    failures = [
        f"- {r.spec.name} {workload if workload != '*' else '(all workloads)'}: {problem}"
        for r in results
        for workload, problem in r.failures.items()
    ]
    if failures:
        lines += ["", "Not measured (failed the correctness check or the run):", *failures]
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text)
    (out / "machine.json").write_text(json.dumps(extra, indent=2, default=str) + "\n")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds measured per cell")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of warm-up per cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", action="append", help="run only these servers (by name)")
    parser.add_argument("--workload", action="append", choices=["stream", "sse", "sse-sleep0", "ws"],
                        help="run only these workloads")  # fmt: skip
    parser.add_argument("--stream-connections", type=int, action="append", help="default 1 and 4")
    parser.add_argument("--sse-clients", type=int, default=100)
    parser.add_argument("--ws-clients", type=int, default=50)
    parser.add_argument("--mb", type=int, default=100, help="MiB per streamed response")
    parser.add_argument("--message-size", type=int, default=64, help="WebSocket message bytes")
    parser.add_argument("--smoke", action="store_true", help="1 s cells, one round, no warm-up")
    parser.add_argument("--loadgen", type=Path, help="loadgen binary (default: build it here)")
    parser.add_argument("--out", type=Path, help="output folder (default: results/streaming-<timestamp>)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup, args.rounds = 1, 0.5, 1
    stream_connections = args.stream_connections or [1, 4]
    cells = [Cell("stream", n) for n in stream_connections] + [
        Cell("sse", args.sse_clients),
        Cell("sse-sleep0", args.sse_clients),
        Cell("ws", args.ws_clients),
    ]
    if args.workload:
        cells = [c for c in cells if c.workload in args.workload]

    binary = args.loadgen or run.build_loadgen(release=not args.smoke)
    specs = server_specs(args.only)
    if not specs:
        parser.error("no server matches --only")
    out = args.out or RESULTS / time.strftime("streaming-%Y%m%d-%H%M%S")
    out.mkdir(parents=True, exist_ok=True)
    logs = out / "logs"
    logs.mkdir(exist_ok=True)
    raw = out / "runs.jsonl"
    results = [ServerResult(spec) for spec in specs]
    for round_index in range(args.rounds):
        for cell in cells:
            # rotate the order each round so no server always runs first or last
            shift = round_index % len(results)
            for result in results[shift:] + results[:shift]:
                if cell.workload not in result.spec.workloads or result.failed(cell.workload):
                    continue
                bench_cell(result, cell, binary, args, logs, raw)
                outcome = result.runs.get(cell, [])
                status = result.failed(cell.workload) or (
                    f"{outcome[-1].value:,.1f} {cell.unit}" if outcome else "?"
                )
                print(f"round {round_index + 1}/{args.rounds} {cell.workload}@{cell.connections} "
                      f"{result.spec.name}: {status}", flush=True)  # fmt: skip
    extra: dict[str, object] = {"machine": run.machine_info(specs), "args": vars(args)}
    print(report(results, cells, args, out, extra))
    print(f"results in {out}")
    # like run.py: a smoke run fails on any failure; a full run reports them and succeeds
    return 1 if args.smoke and any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
