#!/usr/bin/env bash
# A refit's memory and time on the default data, with and without glibc malloc settings: for
# each ENV (a comma-separated list of VAR=VALUE, or "default" for none), starts a server on a
# fresh data directory, times the start (seeding and first training) and two refits on the idle
# server, and prints its RSS after start, after the refits, and its peak (VmHWM).
# usage: bench/refit_memory.sh [BUILD_DIR] ENV...
#   e.g. bench/refit_memory.sh build default MALLOC_MMAP_THRESHOLD_=1048576
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR ENV...}
shift
cd "$(dirname "$0")/.."
cli="$build/clients/cli/perfcast"
for spec in "$@"; do
  environment=()
  [[ "$spec" != default ]] && IFS=, read -r -a environment <<< "$spec"
  data_dir=$(mktemp -d)
  port_file="$data_dir/port"
  start=$(date +%s.%N)
  env "${environment[@]}" "$build/server/perfcast-server" --port=0 --port-file="$port_file" \
    --metrics-port=-1 --data-dir="$data_dir" --seed-data=data/default_benchmarks.csv \
    --log-level=warn &
  server_pid=$!
  until [[ -s "$port_file" ]]; do sleep 0.2; done
  server="--server 127.0.0.1:$(cat "$port_file")"
  until $cli status $server --json 2>/dev/null | grep -q AVAILABLE; do sleep 0.2; done
  serving=$(echo "$(date +%s.%N) - $start" | bc)
  rss_start=$(ps -o rss= -p $server_pid)
  refits=""
  for i in 1 2; do
    refits+="$($cli refit $server --wait | grep -o 'trained in [0-9.]* s') "
  done
  echo "$spec: serving after ${serving} s, RSS ${rss_start// /} KB; refits: ${refits}; RSS" \
    "$(ps -o rss= -p $server_pid) KB after, peak $(awk '/VmHWM/ {print $2}' /proc/$server_pid/status) KB"
  kill -TERM $server_pid
  wait $server_pid || true
  rm -rf "$data_dir"
done
