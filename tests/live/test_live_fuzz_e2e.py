"""schemathesis fuzzes the generated e2e apps (``e2e/python/apps``) from the documents they serve.

One app per fixture category, the one holding most fixtures (the apps of a category are split
only where routes would conflict, so the biggest covers most of its kinds of route). An
operation is left out when its fixture makes it answer, on purpose, what no document can
promise: a status taken from a request parameter (``echo_status``, ``raise_http_exception``),
an exception the handler raises (a 500 by design), a hook or middleware that answers for the
handler, a stream without end or one that breaks off by design, a status the response
object sets in the handler's body, a ``Timeout`` whose status is a 5xx, or a stream sent
without a Content-Type (schemathesis reads such a body as JSON). Everything else must hold
up: no server error, no undocumented status code or content type, every body and header as
documented. Bounded: a few examples per operation and a time budget per app.

The auth, rate_limit, sessions and csrf routes are fuzzed like the others, not left out: what
their layers answer for the handler (401 and 403 from ``auth=``, 429 from ``RateLimit`` once
the fuzzer has spent a budget, 403 from ``CSRF``) is an ``application/problem+json`` Problem,
which every operation's document promises under ``4XX`` (and ``auth=`` routes list their 401 /
403 too); the extra ``RateLimit-*`` and ``Set-Cookie`` headers break no declaration.
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.live.conftest import REPO_ROOT, LiveServer
from tests.live.test_live_fuzz import schemathesis_command

pytest.importorskip("schemathesis")
pytestmark = pytest.mark.live

APPS_DIR = REPO_ROOT / "e2e" / "python" / "apps"
FIXTURES_DIR = REPO_ROOT / "testing_data"
#: Behaviours whose answer is chosen by the request or by the fixture's script; and background
#: tasks, which wait on gates the fixture's test opens: fuzzed, they fill the bounded task queue
#: and the server answers 503 (its designed back-pressure, tested in tests/test_background.py).
UNDOCUMENTABLE_BEHAVIOURS = {"echo_status", "raise_http_exception", "background"}
#: Handler keys that make something other than the handler decide the answer.
ANSWERING_LAYERS = ("raise", "reply", "hooks", "app", "router", "lifespan")


def _fixture(category: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES_DIR / category / f"{name}.json").read_text())
    return loaded


def _endless(handler: dict[str, Any]) -> bool:
    """A stream that fails on purpose or repeats without end (``repeat.times`` null)."""
    specs = [handler[kind] for kind in ("stream", "sse") if kind in handler]
    return any("fail" in spec or ("repeat" in spec and spec["repeat"].get("times") is None) for spec in specs)


def _own_status(handler: dict[str, Any]) -> bool:
    """A response object given its own status in the handler's body (``EventSourceResponse(...,
    status_code=201)``): the route's decorator, which the document comes from, never sees it."""
    return any("status_code" in handler[kind] for kind in ("stream", "sse", "file") if kind in handler)


def _untyped_stream(handler: dict[str, Any]) -> bool:
    """A stream sent without a Content-Type (no media type given): schemathesis reads a body
    without one as JSON, which such a body is not."""
    spec = handler.get("stream")
    if handler.get("behaviour") != "stream" or spec is None:
        return False
    headers = {name.lower() for name in spec.get("headers", {})}
    return "media_type" not in spec and "content-type" not in headers


def _server_error_by_design(handler: dict[str, Any]) -> bool:
    """A ``Timeout`` answering with a 5xx status (``Timeout(..., status_code=504)``)."""
    return any(
        spec.get("class") == "Timeout" and spec.get("args", {}).get("status_code", 408) >= 500
        for spec in handler.get("middleware", []) + handler.get("app_middleware", [])
    )


def excluded(fixture: dict[str, Any]) -> bool:
    """Whether the fixture's route answers, on purpose, what its document cannot promise."""
    handler = fixture["handler"]
    if handler.get("behaviour") in UNDOCUMENTABLE_BEHAVIOURS or _endless(handler) or _own_status(handler):
        return True
    if fixture["expected_response"].get("stream_error"):
        return True  # a stream that breaks off by design (an event that cannot be sent)
    if _untyped_stream(handler) or _server_error_by_design(handler):
        return True
    if any(key in handler for key in ANSWERING_LAYERS):
        return True
    factories = handler.get("factories", {})
    return any("raise" in factory or "cleanup_fail" in factory for factory in factories.values())


#: Apps where the fuzzer has findings not yet sorted into framework bugs and fixture choices:
#: expected to fail until examined, strictly, so a fix is noticed.
OPEN_FINDINGS: set[str] = set()


def fuzz_targets() -> list[Any]:
    """(module, app variable) of the biggest app of each category."""
    found = []
    for path in sorted(APPS_DIR.glob("app_*.py")):
        module = importlib.import_module(f"e2e.python.apps.{path.stem}")
        sizes = Counter(module.FIXTURE_APP.values())
        target = (path.stem, max(sorted(sizes), key=lambda app: sizes[app]))
        marks = (
            [pytest.mark.xfail(strict=True, reason="open fuzz findings")]
            if path.stem in OPEN_FINDINGS
            else []
        )
        found.append(pytest.param(*target, marks=marks, id=f"{target[0]}-{target[1]}"))
    return found


def exclusion_regex(module_name: str, app_var: str) -> str | None:
    module = importlib.import_module(f"e2e.python.apps.{module_name}")
    category = module_name.removeprefix("app_")
    routes = sorted(
        {
            fixture["handler"]["route"]
            for name, var in module.FIXTURE_APP.items()
            if var == app_var and excluded(fixture := _fixture(category, name))
        }
    )
    return f"^({'|'.join(re.escape(route) for route in routes)})$" if routes else None


@pytest.mark.parametrize(("module_name", "app_var"), fuzz_targets())
def test_fuzzing_an_e2e_app_finds_nothing(
    module_name: str,
    app_var: str,
    start_server: Callable[..., LiveServer],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # where the apps that serve or note files (static files, streaming, lifespan) keep them
    monkeypatch.setenv("FERROWEB_E2E_FILES", str(tmp_path / "fixture-files"))
    server = start_server(target=f"e2e.python.apps.{module_name}:{app_var}", ready_path="/openapi.json")
    command = schemathesis_command(
        f"{server.base_url}/openapi.json",
        *("--phases", "examples,coverage,fuzzing", "--max-examples", "10", "--max-time", "10"),
    )
    regex = exclusion_regex(module_name, app_var)
    if regex is not None:
        command += ["--exclude-path-regex", regex]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    report = done.stdout + done.stderr
    if re.search(r"no (api )?operations", report, re.IGNORECASE):
        # every route left out, or none documented at all (static mounts are not operations)
        pytest.skip(f"{module_name}:{app_var} has no operation the fuzzer can hold to its document")
    assert done.returncode == 0, (
        f"schemathesis found problems:\n{report[-6000:]}\nserver log:\n{server.log()[-2000:]}"
    )
    assert " passed" in report
