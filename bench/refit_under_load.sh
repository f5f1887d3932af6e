#!/usr/bin/env bash
# Predict latency while a refit runs: starts a server on the default data, runs an 8 s Predict
# bench alone, then a 25 s bench with `perfcast refit --wait` started 2 s into it, and prints
# both benches (JSON), the refit's wall time and the server's peak RSS.
# usage: bench/refit_under_load.sh PRIORITY CONCURRENCY [TRAIN_THREADS] [BUILD_DIR] [RATE]
#   PRIORITY: the server's --train-priority (idle, or a nice value 0-19)
#   RATE: calls/s for an open-loop bench (at most CONCURRENCY in flight); closed loop without
set -euo pipefail
priority=${1:?usage: $0 PRIORITY CONCURRENCY [TRAIN_THREADS] [BUILD_DIR] [RATE]}
concurrency=${2:?usage: $0 PRIORITY CONCURRENCY [TRAIN_THREADS] [BUILD_DIR] [RATE]}
threads=${3:-1}
build=${4:-build}
rate=${5:-0}
cd "$(dirname "$0")/.."
source bench/default_data_server.sh
trap stop_server EXIT
start_server "$build" --metrics-port=0 --train-priority="$priority" --train-threads="$threads"
echo "train-priority $priority, concurrency $concurrency, rate $rate, train-threads $threads"
echo "alone:        $($cli bench $server --concurrency "$concurrency" --rate "$rate" --duration 8 --warmup 1 --json)"
$cli bench $server --concurrency "$concurrency" --rate "$rate" --duration 25 --warmup 0 --json \
  > "$data_dir/bench.json" &
bench_pid=$!
sleep 2
start=$(date +%s.%N)
$cli refit $server --wait > /dev/null
echo "refit wall:   $(echo "$(date +%s.%N) - $start" | bc) s"
wait $bench_pid
echo "with refit:   $(cat "$data_dir/bench.json")"
grep VmHWM "/proc/$server_pid/status"
