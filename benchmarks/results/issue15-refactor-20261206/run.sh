#!/usr/bin/env bash
# Before/after the issue-15 refactor: ferroweb only, c64, 4 cells, 3 alternating rounds.
set -u
for round in 1 2 3; do
  if [ $((round % 2)) -eq 1 ]; then order="before after"; else order="after before"; fi
  for side in $order; do
    cd /tmp/fw-$side
    .venv/bin/python benchmarks/run.py --only ferroweb --workload plaintext --workload json \
      --workload items-get --workload items-post --concurrency 64 --rounds 1 --leak-requests 0 \
      --out /tmp/bench/$side-$round > /tmp/bench/$side-$round.log 2>&1
    echo "$side $round rc=$?" >> /tmp/bench/progress
  done
done
echo finished >> /tmp/bench/progress
