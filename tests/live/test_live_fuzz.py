"""schemathesis fuzzes live servers from their own OpenAPI documents: the example app and
``fuzz_app`` (many kinds of inputs and outputs). Bounded in examples and time.

The checks are the promises a document makes about answers: no server error, no
undocumented status code or content type, every body and header as documented. Checks about
which *requests* must be refused are left out on purpose: JSON Schema's ``integer`` admits
``2.0``, which the spec (``testing_data/edge_cases/edge_int_one_point_zero_refused.json``)
refuses in a parameter, and pydantic's lax mode takes ``false`` for an ``int``, as FastAPI does.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable

import pytest

from tests.live.conftest import REPO_ROOT, LiveServer

pytest.importorskip("schemathesis")
pytestmark = pytest.mark.live

CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    )
)


def schemathesis_command(document_url: str, *options: str) -> list[str]:
    """The schemathesis run both fuzz tests make: our checks, one worker, a fixed seed."""
    return [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        document_url,
        "--checks",
        CHECKS,
        *options,
        "--workers",
        "1",
        "--seed",
        "20261207",
        "--no-color",
        "--request-timeout",
        "5",
    ]


@pytest.mark.parametrize("target", ["examples.hello:app", "tests.live.fuzz_app:app"])
def test_fuzzing_finds_nothing(
    target: str, start_server: Callable[..., LiveServer], tmp_path: object
) -> None:
    server = start_server(target=target)
    command = schemathesis_command(f"{server.base_url}/openapi.json", "--max-examples", "40")
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=240)
    report = done.stdout + done.stderr
    assert done.returncode == 0, (
        f"schemathesis found problems:\n{report[-6000:]}\nserver log:\n{server.log()[-2000:]}"
    )
    assert " passed" in report
