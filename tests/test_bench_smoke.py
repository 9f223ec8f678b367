"""A short run of the benchmark harness: ferroweb and the Rust ceiling answer every workload
correctly (including typed rejections) and survive a burst of load without errors. No speed
thresholds here; speed is judged by the full run (`./dev bench`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("plaintext", "json", "items-get", "items-post", "async-sleep", "stream-1mb", "ws-echo")


@pytest.mark.live
def test_benchmark_harness_smoke(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "benchmarks/run.py", "--smoke", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    table = (tmp_path / "results.md").read_text()
    for framework in ("ferroweb", "rust-ceiling"):
        for workload in WORKLOADS:
            row = next(
                (
                    line
                    for line in table.splitlines()
                    if line.startswith(f"| {workload} | 64 | {framework} |")
                ),
                None,
            )
            assert row is not None, f"no result for {framework} {workload}:\n{table}"
            requests_per_second = int(row.split("|")[4].strip().replace(",", ""))
            errors = int(row.split("|")[7].strip())
            assert requests_per_second > 0 and errors == 0, row
    assert (tmp_path / "results.csv").read_text().startswith("workload,connections,framework,rps")
