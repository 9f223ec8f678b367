"""Draws results.csv as a PNG bar chart (req/s per workload, one panel per concurrency).

Run by run.py with the matplotlib venv from requirements-report.txt:
    python benchmarks/chart.py benchmarks/results/<run>/results.csv
"""

from __future__ import annotations

import csv
import sys
from collections import defaultdict
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def main(path: Path) -> None:
    rows = list(csv.DictReader(path.open()))
    by_conns: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:
        by_conns[row["connections"]].append(row)
    figure, axes = plt.subplots(len(by_conns), 1, figsize=(12, 4.5 * len(by_conns)), squeeze=False)
    for axis, (connections, group) in zip(
        axes[:, 0], sorted(by_conns.items(), key=lambda kv: int(kv[0])), strict=False
    ):
        workloads = list(dict.fromkeys(r["workload"] for r in group))
        frameworks = list(dict.fromkeys(r["framework"] for r in group))
        width = 0.8 / max(len(frameworks), 1)
        for index, framework in enumerate(frameworks):
            values = {r["workload"]: float(r["rps"]) for r in group if r["framework"] == framework}
            positions = [w + index * width for w in range(len(workloads))]
            axis.bar(positions, [values.get(w, 0.0) for w in workloads], width, label=framework)
        axis.set_xticks([w + 0.4 - width / 2 for w in range(len(workloads))], workloads)
        axis.set_ylabel("requests/s")
        axis.set_title(f"{connections} connections, 1 worker on one core")
        axis.grid(axis="y", alpha=0.3)
        axis.legend(fontsize="small", ncol=3)
    figure.tight_layout()
    figure.savefig(path.with_name("chart.png"), dpi=110)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
