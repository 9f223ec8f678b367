"""Authentication and rate limiting: what ferroweb's Rust-core ``JWTAuth`` and ``RateLimit`` cost,
and ferroweb's JWT-protected route against Litestar's and FastAPI's.

ferroweb (``apps/ferroweb_security_app.py``) against Litestar on uvicorn (its own
``litestar.security.jwt.JWTAuth``, ``peers/litestar_security_app.py``) and FastAPI on uvicorn (a
``Depends`` on ``HTTPBearer`` decoding with PyJWT, ``peers/fastapi_security_app.py``); servers in
``peers/servers-security.json``, venvs from ``peers/requirements-litestar-security.txt`` and
``peers/requirements-fastapi-security.txt``. Same conventions as ``run.py`` and
``middleware.py``, whose helpers this reuses: one worker process pinned to core 0, wrk
(``-t1 --latency``, a Lua script for the header) pinned to core 1, loopback only, readiness by
polling, every answer checked before any load, each cell on a freshly started server, medians
of interleaved rounds whose order rotates.

Every request of every workload carries the same valid HS256 token
(``Authorization: Bearer ...``, ``sub`` and ``iat`` claims, ``exp`` in 2100), so the requests
differ only in their path. Workloads, at 64 connections:

- ``plain-json``: ``GET /json-plain``, ``{"message": "Hello, World!"}``, no auth, no middleware
  (the baseline; on the peers too, to show what their own auth costs them).
- ``jwt-json``: ``GET /json``, protected by HS256 JWT auth; the handler answers the message and
  the token's ``sub`` from the claims (ferroweb: ``request.auth``).
- ``ratelimit-json`` (ferroweb only): ``GET /json-limited``, the baseline under
  ``RateLimit("1000000/second")``, counted in memory; a limit the benchmark never reaches, so
  it measures the cost of counting.
- ``ratelimit-redis-json`` (ferroweb only): ``GET /json-limited-redis``, the same limit with
  ``store="redis://..."`` (one Lua script on Redis per request, ``fail_open=False`` so a Redis
  that does not answer shows as 503 errors, not as uncounted requests). The harness starts a
  ``redis-server`` (Debian's package; ``tests/redis_server.py``) on a free port, pinned to core
  1 with wrk (Redis is on another machine in a real deployment; its CPU is reported per cell).

Targets (release build): ``jwt-json`` >= 0.85x ``plain-json``; ``ratelimit-json`` >= 0.9x
``plain-json``; ``ratelimit-redis-json`` reported (req/s, p99, Redis scripts per request);
ferroweb's ``jwt-json`` >= 4x the better of Litestar's and FastAPI's.

Checks before load, on every framework: the protected route answers 200 with the token (and
the token's ``sub``) and 401 without one, with a token signed by another secret, with an expired
token and with a malformed one; the baseline answers 200 with and without the token; the
rate-limited routes answer 200 with ``RateLimit-Limit``/``RateLimit-Remaining`` headers (absent
from the baseline), and the Redis-backed one leaves its counter in Redis.

    python benchmarks/security.py                    # 3 rounds, 2 s warm-up + 5 s cells
    python benchmarks/security.py --only ferroweb --workload jwt-json --workload plain-json
    python benchmarks/security.py --smoke            # one round of 2 s cells
    python benchmarks/security.py --check            # answers only, no load
    python benchmarks/security.py --wheel dist/ferroweb-*.whl --wheel-revision REV   # a built wheel

The servers import a copy of the ferroweb package made at the start (the installed one, or
``--wheel``'s), so a ``maturin develop`` elsewhere in the checkout cannot change the build under
a run; each ferroweb server is checked to have loaded that copy's extension.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import csv
import hashlib
import hmac
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(1, str(Path(__file__).resolve().parent.parent))  # for tests/redis_server.py

import redis  # the dev dependency the tests use too
import run  # benchmarks/run.py: pinning, start/stop, readiness, venvs, wrk parsing, machine info
from apps.ferroweb_security_app import LIMIT, REDIS_ENV, SECRET, SUBJECT
from middleware import Answer, request, wrk
from run import PEERS, RESULTS, ROOT, Measurement, ServerSpec
from streaming import OtherCpu
from tests.redis_server import RedisServer  # the tests' redis-server helper

SERVERS_FILE = PEERS / "servers-security.json"
HELLO = {"message": "Hello, World!"}
LIMIT_COUNT = LIMIT.split("/", 1)[0]  # the default burst: RateLimit-Limit's value

Check = Callable[[int], "str | None"]


# -- the token ---------------------------------------------------------------------------------


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_token(claims: dict[str, object], secret: str = SECRET) -> str:
    """A compact HS256 JWS (RFC 7515), made by hand so the harness needs no JWT library."""
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


ISSUED_AT = 1_700_000_000  # 2023-11-14
#: The one token every request carries: exp 2100-01-01.
TOKEN = hs256_token({"sub": SUBJECT, "iat": ISSUED_AT, "exp": 4_102_444_800})
FORGED = hs256_token({"sub": SUBJECT, "iat": ISSUED_AT, "exp": 4_102_444_800}, secret="not-the-secret")
EXPIRED = hs256_token({"sub": SUBJECT, "iat": ISSUED_AT, "exp": ISSUED_AT + 3600})
AUTH = (("Authorization", f"Bearer {TOKEN}"),)


# -- workloads and targets ---------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    name: str
    path: str
    #: also run on the peers (the others are ferroweb only)
    peers: bool


WORKLOADS = [
    Workload("plain-json", "/json-plain", peers=True),
    Workload("jwt-json", "/json", peers=True),
    Workload("ratelimit-json", "/json-limited", peers=False),
    Workload("ratelimit-redis-json", "/json-limited-redis", peers=False),
]
WORKLOADS_BY_NAME = {w.name: w for w in WORKLOADS}


@dataclass(frozen=True)
class Target:
    """``numerator``'s median req/s over ``denominator``'s (the best of them), against ``target``."""

    what: str
    numerator: tuple[str, str]  # (workload, server)
    denominator: tuple[tuple[str, str], ...]
    #: None: reported, with no target
    target: float | None


PEER_NAMES = [entry["name"] for entry in json.loads(SERVERS_FILE.read_text())]
TARGETS = [
    Target("JWT auth: jwt-json / plain-json (ferroweb)", ("jwt-json", "ferroweb"),
           (("plain-json", "ferroweb"),), 0.85),
    Target("in-memory RateLimit: ratelimit-json / plain-json (ferroweb)", ("ratelimit-json", "ferroweb"),
           (("plain-json", "ferroweb"),), 0.9),
    Target("Redis RateLimit: ratelimit-redis-json / plain-json (ferroweb)",
           ("ratelimit-redis-json", "ferroweb"), (("plain-json", "ferroweb"),), None),
    Target("jwt-json: ferroweb / the better of the peers", ("jwt-json", "ferroweb"),
           tuple(("jwt-json", name) for name in PEER_NAMES), 4.0),
    *(Target(f"{name}'s own JWT auth: jwt-json / plain-json", ("jwt-json", name),
             (("plain-json", name),), None) for name in PEER_NAMES),
]  # fmt: skip


# -- checks ------------------------------------------------------------------------------------


def _json_is(answer: Answer, expected: object) -> bool:
    try:
        return json.loads(answer.body) == expected
    except ValueError:
        return False


def _show(answer: Answer) -> str:
    return f"{answer.status} {answer.headers} {answer.body[:120]!r}"


def _limit_headers(answer: Answer) -> set[str]:
    return {name for name in answer.headers if name.startswith("ratelimit-")}


def check_plain(port: int) -> str | None:
    for headers, how in ((AUTH, "with the token"), ((), "without a token")):
        answer = request(port, "GET", "/json-plain", headers)
        if answer.status != 200 or not _json_is(answer, HELLO):
            return f"GET /json-plain {how} answered {_show(answer)}"
        if _limit_headers(answer):
            return f"GET /json-plain has rate-limit headers: {answer.headers}"
    return None


def check_jwt(port: int) -> str | None:
    answer = request(port, "GET", "/json", AUTH)
    if answer.status != 200 or not _json_is(answer, {**HELLO, "sub": SUBJECT}):
        return f"GET /json with the token answered {_show(answer)}"
    refusals = {
        "without a token": (),
        "with a token signed by another secret": (("Authorization", f"Bearer {FORGED}"),),
        "with an expired token": (("Authorization", f"Bearer {EXPIRED}"),),
        "with a malformed token": (("Authorization", "Bearer not.a-jwt"),),
    }
    for how, headers in refusals.items():
        refused = request(port, "GET", "/json", headers)
        if refused.status != 401:
            return f"GET /json {how} should be a 401, got {_show(refused)}"
    return None


def script_calls(client: redis.Redis) -> int:
    """How many Lua scripts (EVALSHA, EVAL) Redis has run since it started."""
    stats = client.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0)) for name in ("evalsha", "eval"))


def check_limited(path: str, redis: RedisServer | None = None) -> Check:
    def check(port: int) -> str | None:
        answer = request(port, "GET", path, AUTH)
        if answer.status != 200 or not _json_is(answer, HELLO):
            return f"GET {path} answered {_show(answer)}"
        if answer.headers.get("ratelimit-limit") != LIMIT_COUNT:
            return f"GET {path}: want RateLimit-Limit: {LIMIT_COUNT} ({answer.headers})"
        remaining = answer.headers.get("ratelimit-remaining", "")
        if not remaining.isdigit() or int(remaining) >= int(LIMIT_COUNT):
            return f"GET {path}: RateLimit-Remaining {remaining!r} does not show the request counted"
        if redis is not None:
            # the counter itself expires within a millisecond at this rate: look for the script
            client = redis.client()
            before = script_calls(client)
            again = request(port, "GET", path, AUTH)
            ran = script_calls(client) - before
            if again.status != 200 or ran != 1:
                return f"GET {path} ran the GCRA script on Redis {ran} times (want 1): {_show(again)}"
        return None

    return check


# -- contestants -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Contestant:
    """One server on one workload's path."""

    server: str
    workload: Workload
    spec: ServerSpec
    check: Check
    #: ferroweb: the extension file its process must have loaded (the run's snapshot)
    extension: Path | None = None


def contestants(
    workloads: list[Workload], only: list[str] | None, redis: RedisServer | None, snapshot: Snapshot
) -> tuple[list[Contestant], dict[str, str]]:
    """The cells to run, and those that cannot be (workload: why)."""
    wanted = (lambda name: name in only) if only else (lambda name: True)
    found: list[Contestant] = []
    skipped: dict[str, str] = {}
    checks: dict[str, Check] = {
        "plain-json": check_plain,
        "jwt-json": check_jwt,
        "ratelimit-json": check_limited("/json-limited"),
    }
    if redis is not None:
        checks["ratelimit-redis-json"] = check_limited("/json-limited-redis", redis)
    if wanted("ferroweb"):
        # the snapshot's package first (run.start sets PYTHONPATH to the repository only)
        argv = ["env", f"PYTHONPATH={snapshot.directory}{os.pathsep}{ROOT}", sys.executable, "-m", "ferroweb",
                "run", "benchmarks.apps.ferroweb_security_app:app", "--port", "{port}",
                "--log-level", "warning"]  # fmt: skip
        for workload in workloads:
            if workload.name not in checks:
                skipped[f"ferroweb {workload.name}"] = "redis-server is not installed"
                continue
            spec = ServerSpec("ferroweb", argv, ROOT, [workload.name], kind="ferroweb")
            found.append(Contestant("ferroweb", workload, spec, checks[workload.name], snapshot.extension))
    for entry in json.loads(SERVERS_FILE.read_text()):
        if not wanted(entry["name"]):
            continue
        for workload in workloads:
            if workload.peers and workload.name in entry["workloads"]:
                spec = ServerSpec(entry["name"], list(entry["argv"]), PEERS, [workload.name],
                                  requirements=entry["requirements"])  # fmt: skip
                found.append(Contestant(entry["name"], workload, spec, checks[workload.name]))
    return found, skipped


@dataclass(frozen=True)
class Snapshot:
    """The ferroweb package the servers import, copied when the run starts (``$PYTHONPATH``):
    other work in the checkout that rebuilds the extension (``maturin develop``) cannot swap the
    build under a run halfway through."""

    directory: Path
    extension: Path
    info: dict[str, object]


def snapshot_ferroweb(directory: Path, wheel: Path | None) -> Snapshot:
    """Copies the installed ferroweb package, or unpacks ``wheel`` (a built ferroweb wheel: its
    Python files and extension, which belong together)."""
    if wheel is not None:
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(directory, [n for n in archive.namelist() if n.startswith("ferroweb/")])
        origin, built = str(wheel), time.localtime(wheel.stat().st_mtime)
    else:
        import ferroweb
        import ferroweb._ferroweb

        installed = Path(ferroweb._ferroweb.__file__)
        shutil.copytree(Path(ferroweb.__file__).parent, directory / "ferroweb",
                        ignore=shutil.ignore_patterns("__pycache__", "_ferroweb*.so"))  # fmt: skip
        shutil.copyfile(installed, directory / "ferroweb" / installed.name)
        origin, built = str(installed), time.localtime(installed.stat().st_mtime)
    extensions = sorted((directory / "ferroweb").glob("_ferroweb*.so"))
    if len(extensions) != 1:
        sys.exit(f"want one _ferroweb*.so in {origin}, found {[e.name for e in extensions]}")
    data = extensions[0].read_bytes()
    info: dict[str, object] = {
        "from": origin,
        "built": time.strftime("%Y-%m-%d %H:%M:%S", built),
        "extension_bytes": len(data),
        "extension_sha256": hashlib.sha256(data).hexdigest(),
        # debug builds here keep line tables (profile.dev); release builds have none
        "debug_line_tables": b".debug_line\x00" in data,
    }
    return Snapshot(directory, extensions[0], info)


def extension_loaded(pid: int, extension: Path) -> bool:
    """Whether the process has mapped this very file."""
    try:
        return str(extension) in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def _check_served(contestant: Contestant, pid: int, port: int) -> str | None:
    if contestant.extension is not None and not extension_loaded(pid, contestant.extension):
        return f"the server did not load the run's snapshot of the extension ({contestant.extension})"
    return contestant.check(port)


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer | None]:
    """A redis-server on a free port, pinned to core 1 (wrk's), or None when not installed."""
    if shutil.which("redis-server") is None:
        yield None
        return
    server = RedisServer(run.free_port(), directory)
    server.start()
    try:
        assert server.process is not None
        if (os.cpu_count() or 1) > 1:
            os.sched_setaffinity(server.process.pid, {1})
        yield server
    finally:
        server.stop()


# -- one cell ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    measurement: Measurement
    rss_mib: float
    other_cpu: float
    #: the Redis-backed cells: Redis's CPU (% of one core) and GCRA scripts run per request
    redis_cpu: float | None = None
    redis_scripts: float | None = None


@dataclass
class Result:
    contestant: Contestant
    runs: list[Outcome] = field(default_factory=list)
    failure: str | None = None


class RedisUse:
    """Redis's CPU and the GCRA scripts it ran across a measurement."""

    def __init__(self, redis: RedisServer) -> None:
        assert redis.process is not None
        # one client, one connection for every count
        self.client, self.pid = redis.client(), redis.process.pid
        self.started, self.ticks, self.scripts = time.monotonic(), self._ticks(), self._scripts()

    def _ticks(self) -> int:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime

    def _scripts(self) -> int:
        return script_calls(self.client)

    def done(self, requests: float) -> tuple[float, float]:
        """(CPU % of one core, Lua scripts run per request) since the start."""
        elapsed = time.monotonic() - self.started
        cpu = 100.0 * (self._ticks() - self.ticks) / os.sysconf("SC_CLK_TCK") / max(elapsed, 1e-9)
        return cpu, (self._scripts() - self.scripts) / max(requests, 1.0)


def wrk_script(directory: Path) -> Path:
    """wrk's Lua script: the token on every request."""
    script = directory / "token.lua"
    script.write_text("".join(f'wrk.headers["{name}"] = "{value}"\n' for name, value in AUTH))
    return script


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "-", text).strip("-")


def bench_cell(
    result: Result, script: Path, args: argparse.Namespace, logs: Path, redis: RedisServer | None
) -> None:
    contestant = result.contestant
    port = run.free_port()
    log = logs / f"{_slug(contestant.server)}-{contestant.workload.name}.log"
    uses_redis = contestant.workload.name == "ratelimit-redis-json" and redis is not None
    if uses_redis:
        assert redis is not None
        redis.client().flushall()
    try:
        process = run.start(contestant.spec, port, log)
    except RuntimeError as exc:
        result.failure = f"did not start: {exc}"
        return
    try:
        try:
            problem = _check_served(contestant, process.pid, port)
        except OSError as exc:
            problem = f"check failed: {exc}"
        if problem is not None:
            result.failure = problem
            return
        path = contestant.workload.path
        if args.warmup:
            wrk(port, path, script, args.connections, args.warmup)
        other_cpu = OtherCpu(process.pid)
        redis_use = RedisUse(redis) if uses_redis and redis is not None else None
        measured = wrk(port, path, script, args.connections, args.duration)
        other = other_cpu.percent()
        redis_cpu, redis_scripts = (
            redis_use.done(measured.rps * args.duration) if redis_use is not None else (None, None)
        )
        rss = run.process_tree_rss_mib(process.pid)
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        result.failure = str(exc)
        return
    finally:
        run.stop(process)
    result.runs.append(Outcome(measured, rss, other, redis_cpu, redis_scripts))


# -- report ------------------------------------------------------------------------------------


def _median_of(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return run.median(present) if present else None


def report(results: list[Result], args: argparse.Namespace, out: Path, extra: dict[str, object]) -> str:
    medians = {
        (r.contestant.workload.name, r.contestant.server): run.median([o.measurement.rps for o in r.runs])
        for r in results
        if r.runs
    }
    summary: list[str] = []
    verdicts: list[dict[str, object]] = []
    for target in TARGETS:
        numerator = medians.get(target.numerator)
        below = max((medians[d] for d in target.denominator if d in medians), default=0.0)
        ratio = numerator / below if numerator is not None and below > 0 else float("nan")
        measured = ratio == ratio
        if not measured:
            verdict = "-"
        elif target.target is None:
            verdict = "(reported)"
        else:
            verdict = "pass" if ratio >= target.target else "**FAIL**"
        best = max((d for d in target.denominator if d in medians), key=medians.__getitem__, default=None)
        against = f"{best[1]} {best[0]}" if best else "-"
        shown_target = "-" if target.target is None else f">= {target.target:g}x"
        shown = f"{ratio:.2f}x" if measured else "-"
        summary.append(f"| {target.what} | {against} | {shown} | {shown_target} | {verdict} |")
        verdicts.append({"what": target.what, "ratio": round(ratio, 3) if measured else None,
                         "target": target.target, "verdict": verdict})  # fmt: skip

    rows: list[dict[str, object]] = []
    order = {w.name: i for i, w in enumerate(WORKLOADS)}
    for r in sorted(
        results, key=lambda r: (order[r.contestant.workload.name], r.contestant.server != "ferroweb")
    ):
        if not r.runs:
            continue
        rps = [o.measurement.rps for o in r.runs]
        redis_cpu = _median_of([o.redis_cpu for o in r.runs])
        redis_scripts = _median_of([o.redis_scripts for o in r.runs])
        rows.append({
            "workload": r.contestant.workload.name,
            "connections": args.connections,
            "server": r.contestant.server,
            "path": r.contestant.workload.path,
            "rps": round(run.median(rps)),
            "min": round(min(rps)),
            "max": round(max(rps)),
            "p50_ms": round(run.median([o.measurement.p50_ms for o in r.runs]), 3),
            "p99_ms": round(run.median([o.measurement.p99_ms for o in r.runs]), 3),
            "errors": sum(o.measurement.errors for o in r.runs),
            "rss_mib": round(run.median([o.rss_mib for o in r.runs]), 1),
            "other_cpu_pct": round(max(o.other_cpu for o in r.runs)),
            "redis_cpu_pct": "" if redis_cpu is None else round(redis_cpu),
            "redis_scripts_per_request": "" if redis_scripts is None else round(redis_scripts, 2),
            "rounds": len(r.runs),
        })  # fmt: skip
    fields = ["workload", "connections", "server", "path", "rps", "min", "max", "p50_ms", "p99_ms", "errors",
              "rss_mib", "other_cpu_pct", "redis_cpu_pct", "redis_scripts_per_request", "rounds"]  # fmt: skip
    with (out / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    lines = [
        f"# ferroweb authentication and rate-limit benchmark {out.name}",
        "",
        f"wrk -t1 -c{args.connections}, warm-up {args.warmup} s then {args.duration} s per cell, median of "
        f"{args.rounds} interleaved round(s); each server 1 worker pinned to core 0 and restarted for every "
        "cell, wrk pinned to core 1 (and redis-server with it), loopback. Every request carries the same "
        "valid HS256 token. Targets are for a release build (`./dev bench-security`). other CPU % = the most "
        "CPU (% of one core) that other processes used during a measured cell; Redis CPU % and scripts per "
        "request are redis-server's during the measured seconds.",
        f"Machine: {extra['machine']}",
        "",
        "| ratio | against | median | target | result |",
        "|---|---|---|---|---|",
        *summary,
        "",
        "| workload | server | path | req/s (median) | min - max | p50 ms | p99 ms | errors | RSS MiB "
        "| other CPU % | Redis CPU % | Redis scripts / request |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['workload']} | {r['server']} | {r['path']} | {r['rps']:,} | {r['min']:,} - {r['max']:,} | "
        f"{r['p50_ms']} | {r['p99_ms']} | {r['errors']} | {r['rss_mib']} | {r['other_cpu_pct']} | "
        f"{r['redis_cpu_pct'] or '-'} | {r['redis_scripts_per_request'] or '-'} |"
        for r in rows
    ]
    failures = [
        f"- {r.contestant.server} {r.contestant.workload.name}: {r.failure}" for r in results if r.failure
    ]
    failures += [f"- {what}: {why}" for what, why in dict(extra.get("skipped") or {}).items()]
    if failures:
        lines += ["", "Not measured (failed the correctness check or the run):", *failures]
    text = "\n".join(lines) + "\n"
    (out / "results.md").write_text(text)
    (out / "machine.json").write_text(
        json.dumps({**extra, "targets": verdicts}, indent=2, default=str) + "\n"
    )
    return text


# -- main --------------------------------------------------------------------------------------


def check_only(plan: list[Contestant]) -> int:
    """Starts each server once per workload, checks the answers (no load), stops it."""
    failed = 0
    with tempfile.TemporaryDirectory() as logs:
        for contestant in plan:
            port = run.free_port()
            log = Path(logs) / f"{_slug(contestant.server)}-{contestant.workload.name}.log"
            label = f"{contestant.workload.name} {contestant.server} {contestant.workload.path}"
            try:
                process = run.start(contestant.spec, port, log)
            except RuntimeError as exc:
                print(f"{label}: FAILED to start: {exc}: {log.read_text()[-500:]}")
                failed += 1
                continue
            try:
                problem = _check_served(contestant, process.pid, port)
            except OSError as exc:
                problem = f"check failed: {exc}"
            finally:
                run.stop(process)
            print(f"{label}: {'ok' if problem is None else 'FAILED ' + problem}", flush=True)
            failed += problem is not None
    return 1 if failed else 0


def _uncommitted() -> list[str]:
    """Files of the checkout that differ from the recorded revision (``git status --short``)."""
    done = subprocess.run(["git", "status", "--short", "--untracked-files=no"], cwd=ROOT,
                          capture_output=True, text=True)  # fmt: skip
    return done.stdout.splitlines()


def _redis_version() -> str:
    done = subprocess.run(["redis-server", "--version"], capture_output=True, text=True)
    return done.stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=int, default=5, help="seconds measured per cell")
    parser.add_argument("--warmup", type=int, default=2, help="seconds of warm-up per cell")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument(
        "--only", action="append", help="run only these servers (ferroweb, litestar+uvicorn, ...)"
    )
    parser.add_argument("--workload", action="append", choices=list(WORKLOADS_BY_NAME),
                        help="run only these workloads")  # fmt: skip
    parser.add_argument("--smoke", action="store_true", help="one round of 2 s cells, no warm-up")
    parser.add_argument("--check", action="store_true", help="only start each server and check its answers")
    parser.add_argument("--out", type=Path, help="output folder (default: results/security-<timestamp>)")
    parser.add_argument(
        "--wheel",
        type=Path,
        help="serve ferroweb from this built wheel (maturin build --release) instead of the "
        "installed package",
    )
    parser.add_argument("--wheel-revision", help="the revision --wheel was built from (recorded as such)")
    args = parser.parse_args(argv)
    if args.smoke:
        args.duration, args.warmup, args.rounds = 2, 0, 1
    workloads = [w for w in WORKLOADS if not args.workload or w.name in args.workload]
    needs_redis = any(w.name == "ratelimit-redis-json" for w in workloads) and (
        not args.only or "ferroweb" in args.only
    )

    with (
        tempfile.TemporaryDirectory(prefix="ferroweb-bench-redis-") as redis_dir,
        tempfile.TemporaryDirectory(prefix="ferroweb-bench-package-") as package_dir,
        contextlib.ExitStack() as stack,
    ):
        snapshot = snapshot_ferroweb(Path(package_dir), args.wheel)
        print(f"ferroweb served from a copy of the package with {snapshot.info}", flush=True)
        redis = stack.enter_context(redis_server(Path(redis_dir))) if needs_redis else None
        if redis is not None:
            os.environ[REDIS_ENV] = redis.url  # read by the ferroweb app at import (run.start passes it on)
        plan, skipped = contestants(workloads, args.only, redis, snapshot)
        if not plan:
            parser.error("no server matches --only / --workload")
        if args.check:
            for what, why in skipped.items():
                print(f"{what}: FAILED {why}")
            return check_only(plan) or (1 if skipped else 0)

        run.ensure_wrk()
        out = args.out or RESULTS / time.strftime("security-%Y%m%d-%H%M%S")
        out.mkdir(parents=True, exist_ok=True)
        logs = out / "logs"
        logs.mkdir(exist_ok=True)
        scripts = out / "wrk"
        scripts.mkdir(exist_ok=True)
        script = wrk_script(scripts)
        results = [Result(c) for c in plan]
        for round_index in range(args.rounds):
            # rotate the order each round so no cell always runs first or last
            shift = round_index * len(results) // args.rounds
            for result in results[shift:] + results[:shift]:
                if result.failure is not None:
                    continue
                bench_cell(result, script, args, logs, redis)
                status = result.failure or f"{result.runs[-1].measurement.rps:,.0f} req/s"
                print(f"round {round_index + 1}/{args.rounds} {result.contestant.workload.name} "
                      f"{result.contestant.server}: {status}", flush=True)  # fmt: skip
    specs = list({c.spec.name: c.spec for c in plan}.values())
    machine = run.machine_info(specs)
    machine["redis_server"] = _redis_version() if needs_redis and redis is not None else None
    machine["ferroweb_extension"] = snapshot.info
    if args.wheel is not None:  # the checkout's revision and changes say nothing about the wheel
        machine["ferroweb_revision"] = args.wheel_revision or "unknown (served from --wheel)"
    else:
        machine["ferroweb_uncommitted"] = _uncommitted()
    extra: dict[str, object] = {"machine": machine, "args": vars(args), "skipped": skipped}
    print(report(results, args, out, extra))
    print(f"results in {out}")
    # like middleware.py: a smoke run fails on a failed check or on errors; a full run reports them
    failed = any(r.failure for r in results) or bool(skipped)
    errored = any(o.measurement.errors for r in results for o in r.runs)
    return 1 if args.smoke and (failed or errored) else 0


if __name__ == "__main__":
    sys.exit(main())
