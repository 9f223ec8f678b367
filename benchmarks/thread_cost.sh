#!/usr/bin/env bash
# CPU time per request, split by thread (tokio runtime vs Python event loop), under wrk load.
#
#   bash benchmarks/thread_cost.sh CONNECTIONS PATH [SECONDS]
#   bash benchmarks/thread_cost.sh 256 /async-sleep
#
# Starts benchmarks.apps.ferroweb_app pinned to core 0 (as the harness does), loads it from
# core 1 with wrk, and reads each thread's utime+stime from /proc before and after. Figures in
# microseconds per request do not depend on how busy the machine is as much as req/s does,
# which makes them the number to compare before and after a change (run each side a few
# times: the layout of 256 connections in a batch can move a run by 20%).
# Needs wrk (benchmarks/setup.sh installs it) and the release build (`task build-release`).
set -euo pipefail
cd "$(dirname "$0")/.."
conns=${1:?connections}
path=${2:?path}
seconds=${3:-8}
port=${PORT:-8766}
python=${PYTHON:-.venv/bin/python}

taskset -c 0 "$python" -m ferroweb run benchmarks.apps.ferroweb_app:app --port "$port" \
    --log-level warning >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
    curl -s -o /dev/null "http://127.0.0.1:$port/plaintext" && break
    sleep 0.1
done
taskset -c 1 wrk -t1 -c"$conns" -d2s "http://127.0.0.1:$port$path" >/dev/null  # warm-up

snapshot() {
    for task in /proc/$server/task/*; do
        echo "$(cat "$task/comm") $(awk '{print $14 + $15}' "$task/stat")"
    done
}
before=$(snapshot)
rps=$(taskset -c 1 wrk -t1 -c"$conns" -d"${seconds}s" "http://127.0.0.1:$port$path" |
    awk '/Requests\/sec/ {print $2}')
after=$(snapshot)
ticks=$(getconf CLK_TCK)
echo "$conns connections, $path: $rps req/s"
paste <(echo "$before") <(echo "$after") | awk -v rps="$rps" -v s="$seconds" -v hz="$ticks" '
    { used = ($4 - $2) / hz
      if (used > 0) printf "  %-14s %5.1f%% of a core  %6.2f us/request\n", $1, 100 * used / s, 1e6 * used / (rps * s) }'
