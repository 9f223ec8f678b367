"""Middleware and static files: ferroweb's Rust-core middleware against Starlette's Python middleware.

ferroweb (``apps/ferroweb_middleware_app.py``) against Starlette on uvicorn and on granian
(``peers/starlette_middleware_app.py``, servers in ``peers/servers-middleware.json``, venv from
``peers/requirements-starlette-stream.txt``). Same conventions as ``run.py``, whose helpers this
reuses: one worker process pinned to core 0, wrk (``-t1 --latency``, from Debian's packages)
pinned to core 1, loopback only, readiness by polling, every answer checked before any load,
medians of interleaved rounds whose order rotates.

Workloads, at 64 connections (targets are for a release build):

- ``mw-json`` (ferroweb only): ``GET /json``, a small JSON answer (below ``Compression``'s
  ``minimum_size``) through route-level ``CORS``, ``SecurityHeaders`` and ``Compression``, against
  the same handler with no middleware (``/json-plain``); both requests send ``Origin`` and
  ``Accept-Encoding: gzip``. Target: with >= 0.9x without.
- ``gzip-10k``: ``GET /json-10k`` (a ~10 KB JSON document) with ``Accept-Encoding: gzip``:
  ferroweb's ``Compression()`` against Starlette's ``GZipMiddleware(minimum_size=500)``, each
  with its default gzip level (ferroweb 1 through libdeflate, Starlette 9 through zlib), as a
  user gets them. Target: >= 3x the best peer.
- ``gzip-10k-l6``: the same document at the same level on both sides, 6 (zlib's default):
  ``Compression(level=6)`` against ``GZipMiddleware(compresslevel=6)``. No target: it shows how
  much of the difference is the encoder's level rather than the framework.
- ``static-small`` (1 KiB) and ``static-1mb`` (1 MiB): ``GET /static/<file>`` from a
  ``StaticFiles`` mount on both sides; the files are made here, in a temporary directory passed
  to the apps in ``$FERROWEB_BENCH_STATIC_DIR``. Target: >= 3x.
- ``preflight``: ``OPTIONS /json`` with ``Origin``, ``Access-Control-Request-Method: GET`` and
  ``Access-Control-Request-Headers: x-token``: app-level ``CORS`` against Starlette's
  ``CORSMiddleware`` with the same settings. Target: >= 4x.

Checks before load: gzip really negotiated and decoding to the right document (and identity
without ``Accept-Encoding``), CORS and security headers present (absent on ``/json-plain``),
preflights allowed (ferroweb 204, Starlette 200) with the allow headers and a disallowed origin
refused with 400, static files of the right length and bytes and a missing file a 404. Each cell
starts the server afresh (with the app for that workload: Starlette's middleware wraps a whole
app, so each workload has its own) and stops it after; a server failing a check is reported as
not measured for that workload.

    python benchmarks/middleware.py                         # 3 rounds, 2 s warm-up + 10 s cells
    python benchmarks/middleware.py --only ferroweb --only starlette+granian --workload preflight
    python benchmarks/middleware.py --smoke                 # one round of 2 s cells
    python benchmarks/middleware.py --check                 # answers only, no load
"""

from __future__ import annotations

import argparse
import csv
import gzip
import http.client
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # benchmarks/run.py: pinning, start/stop, readiness, venvs, wrk parsing, machine info
from apps.ferroweb_middleware_app import DOCUMENT_10K, ORIGIN, STATIC_DIR_ENV
from run import MIB, PEERS, RESULTS, ROOT, Measurement, ServerSpec
from streaming import OtherCpu

SERVERS_FILE = PEERS / "servers-middleware.json"
HELLO = {"message": "Hello, World!"}
SMALL_FILE, SMALL_SIZE = "small.txt", 1024
LARGE_FILE, LARGE_SIZE = "large.bin", MIB

Check = Callable[[int], "str | None"]


# -- workloads -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]
    #: the ratio the target is about (numerator / denominator)
    ratio: str
    #: None: measured and reported, with no target
    target: float | None
    #: ferroweb-only workloads: the path of the baseline (the denominator) on the same app
    baseline_path: str | None = None


SIMPLE_HEADERS = (("Origin", ORIGIN), ("Accept-Encoding", "gzip"))
PREFLIGHT_HEADERS = (
    ("Origin", ORIGIN),
    ("Access-Control-Request-Method", "GET"),
    ("Access-Control-Request-Headers", "x-token"),
)
WORKLOADS = [
    Workload("mw-json", "GET", "/json", SIMPLE_HEADERS, "with / without middleware", 0.9, "/json-plain"),
    Workload("gzip-10k", "GET", "/json-10k", (("Accept-Encoding", "gzip"),), "ferroweb / best peer", 3.0),
    Workload(
        "gzip-10k-l6", "GET", "/json-10k-l6", (("Accept-Encoding", "gzip"),), "ferroweb / best peer", None
    ),
    Workload("static-small", "GET", f"/static/{SMALL_FILE}", (), "ferroweb / best peer", 3.0),
    Workload("static-1mb", "GET", f"/static/{LARGE_FILE}", (), "ferroweb / best peer", 3.0),
    Workload("preflight", "OPTIONS", "/json", PREFLIGHT_HEADERS, "ferroweb / best peer", 4.0),
]
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}
#: the ferroweb app object serving each workload (module benchmarks.apps.ferroweb_middleware_app)
FERROWEB_APPS = {"mw-json": "app", "gzip-10k": "app", "gzip-10k-l6": "app", "static-small": "app",
                 "static-1mb": "app", "preflight": "cors_app"}  # fmt: skip


@dataclass
class Answer:
    status: int
    headers: dict[str, str]  # lower-cased names; repeated headers joined with ", "
    body: bytes


def request(port: int, method: str, path: str, headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """One request with exactly these headers (plus Host; ``Accept-Encoding: identity`` when none
    is given), body not decoded."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request(method, path, headers=dict(headers))
        response = connection.getresponse()
        merged: dict[str, str] = {}
        for name, value in response.getheaders():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return Answer(response.status, merged, response.read())
    finally:
        connection.close()


def _tokens(value: str | None) -> set[str]:
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


def _json_is(answer: Answer, expected: object) -> bool:
    try:
        return json.loads(answer.body) == expected
    except ValueError:
        return False


def _show(answer: Answer) -> str:
    return f"{answer.status} {answer.headers} {answer.body[:80]!r}"


def check_mw_json(port: int) -> str | None:
    answer = request(port, "GET", "/json", SIMPLE_HEADERS)
    if answer.status != 200 or not _json_is(answer, HELLO):
        return f"GET /json answered {_show(answer)}"
    if answer.headers.get("access-control-allow-origin") != ORIGIN:
        return f"GET /json: no access-control-allow-origin: {ORIGIN} ({answer.headers})"
    if answer.headers.get("x-content-type-options") != "nosniff" or "x-frame-options" not in answer.headers:
        return f"GET /json: security headers missing ({answer.headers})"
    if "content-encoding" in answer.headers:
        return f"GET /json: a body below minimum_size was compressed ({answer.headers})"
    other = request(port, "GET", "/json", (("Origin", "https://evil.example"),))
    if other.status != 200 or "access-control-allow-origin" in other.headers:
        return f"GET /json from a disallowed origin answered {_show(other)}"
    return None


def check_mw_json_plain(port: int) -> str | None:
    answer = request(port, "GET", "/json-plain", SIMPLE_HEADERS)
    if answer.status != 200 or not _json_is(answer, HELLO):
        return f"GET /json-plain answered {_show(answer)}"
    extra = {"access-control-allow-origin", "x-content-type-options", "x-frame-options", "content-encoding"}
    if extra & answer.headers.keys():
        return f"GET /json-plain has middleware headers: {answer.headers}"
    return None


def check_gzip(path: str) -> Check:
    def check(port: int) -> str | None:
        answer = request(port, "GET", path, (("Accept-Encoding", "gzip"),))
        if answer.status != 200 or answer.headers.get("content-encoding") != "gzip":
            return f"GET {path} with Accept-Encoding: gzip was not gzipped: {_show(answer)}"
        try:
            decoded = gzip.decompress(answer.body)
        except (OSError, EOFError) as exc:
            return f"GET {path}: the gzip body does not decode: {exc}"
        if decoded != DOCUMENT_10K or not _json_is(Answer(200, {}, decoded), json.loads(DOCUMENT_10K)):
            return f"GET {path}: decoded body is not the document ({len(decoded)} bytes)"
        if len(answer.body) * 5 > len(DOCUMENT_10K):
            return f"GET {path}: {len(answer.body)} gzip bytes for a {len(DOCUMENT_10K)}-byte document"
        plain = request(port, "GET", path)
        if plain.status != 200 or "content-encoding" in plain.headers or plain.body != DOCUMENT_10K:
            return f"GET {path} without Accept-Encoding answered {_show(plain)}"
        return None

    return check


def check_static(name: str, content: bytes) -> Check:
    def check(port: int) -> str | None:
        answer = request(port, "GET", f"/static/{name}")
        if answer.status != 200 or answer.body != content:
            got = f"{answer.status} with {len(answer.body)} bytes"
            return f"GET /static/{name} answered {got} (want 200 with {len(content)})"
        if answer.headers.get("content-length") != str(len(content)):
            return f"GET /static/{name}: content-length {answer.headers.get('content-length')}"
        missing = request(port, "GET", "/static/missing.txt")
        if missing.status != 404:
            return f"GET /static/missing.txt should be a 404, got {missing.status}"
        return None

    return check


def check_preflight(statuses: tuple[int, ...]) -> Check:
    def check(port: int) -> str | None:
        answer = request(port, "OPTIONS", "/json", PREFLIGHT_HEADERS)
        if answer.status not in statuses:
            return f"preflight answered {_show(answer)} (want {' or '.join(map(str, statuses))})"
        if answer.headers.get("access-control-allow-origin") != ORIGIN:
            return f"preflight: no access-control-allow-origin: {ORIGIN} ({answer.headers})"
        if "get" not in _tokens(answer.headers.get("access-control-allow-methods")):
            return f"preflight: GET not in access-control-allow-methods ({answer.headers})"
        if "x-token" not in _tokens(answer.headers.get("access-control-allow-headers")):
            return f"preflight: x-token not in access-control-allow-headers ({answer.headers})"
        refused = request(
            port, "OPTIONS", "/json", (("Origin", "https://evil.example"), *PREFLIGHT_HEADERS[1:])
        )
        if refused.status != 400 or "access-control-allow-origin" in refused.headers:
            return f"preflight from a disallowed origin should be a 400, got {_show(refused)}"
        simple = request(port, "GET", "/json", (("Origin", ORIGIN),))
        if simple.status != 200 or simple.headers.get("access-control-allow-origin") != ORIGIN:
            return f"GET /json with Origin answered {_show(simple)}"
        return None

    return check


# -- contestants ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contestant:
    """One server (with the app for one workload) and the path it is loaded on."""

    label: str
    spec: ServerSpec
    path: str
    check: Check
    #: the numerator of the workload's ratio (ferroweb; for mw-json, ferroweb with middleware)
    primary: bool


def _ferroweb_spec(workload: str) -> ServerSpec:
    argv = [sys.executable, "-m", "ferroweb", "run",
            f"benchmarks.apps.ferroweb_middleware_app:{FERROWEB_APPS[workload]}",
            "--port", "{port}", "--log-level", "warning"]  # fmt: skip
    return ServerSpec("ferroweb", argv, ROOT, [workload], kind="ferroweb")


def contestants(workload: Workload, only: list[str] | None, files: dict[str, bytes]) -> list[Contestant]:
    wanted = (lambda name: name in only) if only else (lambda name: True)
    name = workload.name
    ferroweb_checks: dict[str, Check] = {
        "mw-json": check_mw_json,
        "gzip-10k": check_gzip("/json-10k"),
        "gzip-10k-l6": check_gzip("/json-10k-l6"),
        "static-small": check_static(SMALL_FILE, files[SMALL_FILE]),
        "static-1mb": check_static(LARGE_FILE, files[LARGE_FILE]),
        "preflight": check_preflight((204,)),
    }
    found: list[Contestant] = []
    if wanted("ferroweb"):
        spec = _ferroweb_spec(name)
        label = "ferroweb (middleware)" if workload.baseline_path else "ferroweb"
        found.append(Contestant(label, spec, workload.path, ferroweb_checks[name], primary=True))
        if workload.baseline_path:
            found.append(Contestant("ferroweb (no middleware)", spec, workload.baseline_path,
                                    check_mw_json_plain, primary=False))  # fmt: skip
    if workload.baseline_path:
        return found  # ferroweb only
    peer_checks = {**ferroweb_checks, "preflight": check_preflight((200, 204))}
    for entry in json.loads(SERVERS_FILE.read_text()):
        app = entry["apps"].get(name)
        if app and wanted(entry["name"]):
            argv = [a.replace("{app}", app) for a in entry["argv"]]
            spec = ServerSpec(entry["name"], argv, PEERS, [name], requirements=entry["requirements"])
            found.append(Contestant(entry["name"], spec, workload.path, peer_checks[name], primary=False))
    return found


def make_files(directory: Path) -> dict[str, bytes]:
    """The static files: 1 KiB of text and 1 MiB of (seeded) random bytes."""
    line = b"ferroweb static file benchmark: a small text file served from a StaticFiles mount.\n"
    files = {
        SMALL_FILE: (line * (SMALL_SIZE // len(line) + 1))[:SMALL_SIZE],
        LARGE_FILE: random.Random(0).randbytes(LARGE_SIZE),
    }
    for name, content in files.items():
        (directory / name).write_bytes(content)
    return files


# -- one cell --------------------------------------------------------------------------------


@dataclass
class Outcome:
    measurement: Measurement
    rss_mib: float
    other_cpu: float


@dataclass
class Result:
    contestant: Contestant
    runs: list[Outcome] = field(default_factory=list)
    failure: str | None = None


def wrk_script(workload: Workload, directory: Path) -> Path:
    """wrk's Lua script: the method and the headers of every request."""
    lines = [f'wrk.method = "{workload.method}"']
    lines += [f'wrk.headers["{name}"] = "{value}"' for name, value in workload.headers]
    script = directory / f"{workload.name}.lua"
    script.write_text("\n".join(lines) + "\n")
    return script


def wrk(port: int, path: str, script: Path, connections: int, seconds: int) -> Measurement:
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s",
            "-s", str(script), f"http://127.0.0.1:{port}{path}"]  # fmt: skip
    done = subprocess.run(
        run.pinned(argv, 1), capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return run.parse_wrk(done.stdout)


def _slug(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", label).strip("-")


def bench_cell(
    result: Result, workload: Workload, script: Path, args: argparse.Namespace, logs: Path
) -> None:
    contestant = result.contestant
    port = run.free_port()
    log = logs / f"{_slug(contestant.label)}.log"
    try:
        process = run.start(contestant.spec, port, log)
    except RuntimeError as exc:
        result.failure = f"did not start: {exc}"
        return
    try:
        try:
            problem = contestant.check(port)
        except OSError as exc:
            problem = f"check failed: {exc}"
        if problem is not None:
            result.failure = problem
            return
        if args.warmup:
            wrk(port, contestant.path, script, args.connections, args.warmup)
        other_cpu = OtherCpu(process.pid)
        measured = wrk(port, contestant.path, script, args.connections, args.duration)
        other = other_cpu.percent()
        rss = run.process_tree_rss_mib(process.pid)
    except (RuntimeError, subprocess.SubprocessError) as exc:
        result.failure = str(exc)
        return
    finally:
        run.stop(process)
    result.runs.append(Outcome(measured, rss, other))


# -- report ----------------------------------------------------------------------------------


def report(
    results: dict[str, list[Result]], args: argparse.Namespace, out: Path, extra: dict[str, object]
) -> str:
    rows: list[dict[str, object]] = []
    summary: list[str] = []
    for workload in WORKLOADS:
        entries = results.get(workload.name)
        if not entries:
            continue
        medians = {id(r): run.median([o.measurement.rps for o in r.runs]) for r in entries if r.runs}
        primary = next((medians.get(id(r)) for r in entries if r.contestant.primary), None)
        others = [medians[id(r)] for r in entries if not r.contestant.primary and id(r) in medians]
        ratio = primary / max(others) if primary and others and max(others) > 0 else float("nan")
        target = workload.target
        if ratio != ratio:
            verdict = "-"
        elif target is None:
            verdict = "(reported)"
        else:
            verdict = "pass" if ratio >= target else "**FAIL**"
        shown = f"{ratio:.2f}x" if ratio == ratio else "-"
        shown_target = "-" if target is None else f">= {target:g}x"
        summary.append(f"| {workload.name} | {workload.ratio} | {shown} | {shown_target} | {verdict} |")
        measured = ratio == ratio
        for r in entries:
            if not r.runs:
                continue
            rps = [o.measurement.rps for o in r.runs]
            rows.append({
                "workload": workload.name,
                "connections": args.connections,
                "server": r.contestant.label,
                "path": r.contestant.path,
                "rps": round(medians[id(r)]),
                "min": round(min(rps)),
                "max": round(max(rps)),
                "p50_ms": round(run.median([o.measurement.p50_ms for o in r.runs]), 3),
                "p99_ms": round(run.median([o.measurement.p99_ms for o in r.runs]), 3),
                "errors": sum(o.measurement.errors for o in r.runs),
                "rss_mib": round(run.median([o.rss_mib for o in r.runs]), 1),
                "other_cpu_pct": round(max(o.other_cpu for o in r.runs)),
                "rounds": len(r.runs),
                "ratio": round(ratio, 2) if r.contestant.primary and ratio == ratio else "",
                "target": target if r.contestant.primary and target is not None else "",
                "pass": (ratio >= target) if r.contestant.primary and measured and target is not None else "",
            })  # fmt: skip
    fields = ["workload", "connections", "server", "path", "rps", "min", "max", "p50_ms", "p99_ms", "errors",
              "rss_mib", "other_cpu_pct", "rounds", "ratio", "target", "pass"]  # fmt: skip
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# ferroweb middleware benchmark {out.name}",
        "",
        f"wrk -t1 -c{args.connections}, warm-up {args.warmup} s then {args.duration} s per cell, median of "
        f"{args.rounds} interleaved round(s); each server 1 worker pinned to core 0 and restarted for every "
        "cell, wrk pinned to core 1, loopback. Targets are for a release build (`./dev bench-middleware`). "
        "other CPU % = the most CPU (% of one core) that other processes used during a measured cell.",
        f"Machine: {extra['machine']}",
        "",
        "| workload | ratio | median | target | result |",
        "|---|---|---|---|---|",
        *summary,
        "",
        "| workload | server | path | req/s (median) | min - max | p50 ms | p99 ms | errors | RSS MiB "
        "| other CPU % |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['workload']} | {r['server']} | {r['path']} | {r['rps']:,} | {r['min']:,} - {r['max']:,} | "
        f"{r['p50_ms']} | {r['p99_ms']} | {r['errors']} | {r['rss_mib']} | {r['other_cpu_pct']} |"
        for r in rows
    ]
    failures = [
        f"- {r.contestant.label} {workload}: {r.failure}"
        for workload, entries in results.items()
        for r in entries
        if r.failure
    ]
    if failures:
        lines += ["", "Not measured (failed the correctness check or the run):", *failures]
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text)
    (out / "machine.json").write_text(json.dumps(extra, indent=2, default=str) + "\n")
    return text


# -- main -------------------------------------------------------------------------------------


def check_only(plan: dict[str, list[Contestant]]) -> int:
    """Starts each server with each workload's app, checks the answers (no load), stops it."""
    failed = 0
    with tempfile.TemporaryDirectory() as logs:
        for name, entries in plan.items():
            for contestant in entries:
                port = run.free_port()
                log = Path(logs) / f"{_slug(contestant.label)}.log"
                try:
                    process = run.start(contestant.spec, port, log)
                except RuntimeError as exc:
                    print(f"{name} {contestant.label}: FAILED to start: {exc}: {log.read_text()[-500:]}")
                    failed += 1
                    continue
                try:
                    problem = contestant.check(port)
                except OSError as exc:
                    problem = f"check failed: {exc}"
                finally:
                    run.stop(process)
                print(f"{name} {contestant.label} {contestant.path}: {'ok' if problem is None else 'FAILED'}"
                      + (f" {problem}" if problem else ""), flush=True)  # fmt: skip
                failed += problem is not None
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=10, help="seconds measured per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--only", action="append", help="run only these servers (ferroweb, starlette+uvicorn, ...)"
    )
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS_BY_NAME),
                        help="run only these workloads")  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="one round of 2 s cells, no warm-up")
    parser.add_argument("--check", action="store_true", help="only start each server and check its answers")
    parser.add_argument("--out", type=Path, help="output folder (default: results/middleware-<timestamp>)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup, args.rounds = 2, 0, 1
    workloads = [w for w in WORKLOADS if not args.workload or w.name in args.workload]

    with tempfile.TemporaryDirectory(prefix="ferroweb-bench-static-") as static_dir:
        os.environ[STATIC_DIR_ENV] = static_dir  # read by both apps at import (run.start passes the env on)
        files = make_files(Path(static_dir))
        plan = {w.name: contestants(w, args.only, files) for w in workloads}
        plan = {name: entries for name, entries in plan.items() if entries}
        if not plan:
            parser.error("no server matches --only / --workload")
        if args.check:
            return check_only(plan)

        run.ensure_wrk()
        out = args.out or RESULTS / time.strftime("middleware-%Y%m%d-%H%M%S")
        out.mkdir(parents=True, exist_ok=True)
        logs = out / "logs"
        logs.mkdir(exist_ok=True)
        scripts = out / "wrk"
        scripts.mkdir(exist_ok=True)
        results = {name: [Result(c) for c in entries] for name, entries in plan.items()}
        for round_index in range(args.rounds):
            for workload in workloads:
                entries = results.get(workload.name, [])
                if not entries:
                    continue
                script = wrk_script(workload, scripts)
                # rotate the order each round so no server always runs first or last
                shift = round_index % len(entries)
                for result in entries[shift:] + entries[:shift]:
                    if result.failure is not None:
                        continue
                    bench_cell(result, workload, script, args, logs)
                    status = result.failure or f"{result.runs[-1].measurement.rps:,.0f} req/s"
                    print(f"round {round_index + 1}/{args.rounds} {workload.name} {result.contestant.label}: "
                          f"{status}", flush=True)  # fmt: skip
    specs = list({c.spec.name: c.spec for entries in plan.values() for c in entries}.values())
    extra: dict[str, object] = {"machine": run.machine_info(specs), "args": vars(args)}
    print(report(results, args, out, extra))
    print(f"results in {out}")
    # like run.py: a smoke run fails on a failed check or on errors; a full run reports them
    failed = any(r.failure for entries in results.values() for r in entries)
    errored = any(o.measurement.errors for entries in results.values() for r in entries for o in r.runs)
    return 1 if args.smoke and (failed or errored) else 0


if __name__ == "__main__":
    sys.exit(main())
