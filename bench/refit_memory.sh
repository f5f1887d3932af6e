#!/usr/bin/env bash
# A refit's memory and time on the default data, with and without glibc malloc settings: for
# each ENV (a comma-separated list of VAR=VALUE, or "default" for none), starts a server on a
# fresh data directory, times the start (seeding and first training) and two refits on the idle
# server, and prints its RSS after start, after the refits, and its peak (VmHWM).
# usage: bench/refit_memory.sh BUILD_DIR ENV...
#   e.g. bench/refit_memory.sh build default MALLOC_MMAP_THRESHOLD_=1048576
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR ENV...}
shift
cd "$(dirname "$0")/.."
source bench/default_data_server.sh
trap stop_server EXIT
for spec in "$@"; do
  server_env=()
  [[ "$spec" != default ]] && IFS=, read -r -a server_env <<< "$spec"
  start=$(date +%s.%N)
  start_server "$build" --metrics-port=-1
  serving=$(echo "$(date +%s.%N) - $start" | bc)
  rss_start=$(ps -o rss= -p $server_pid)
  refits=""
  for i in 1 2; do
    refits+="$($cli refit $server --wait | grep -o 'trained in [0-9.]* s') "
  done
  echo "$spec: serving after ${serving} s, RSS ${rss_start// /} KB; refits: ${refits}; RSS" \
    "$(ps -o rss= -p $server_pid) KB after, peak $(awk '/VmHWM/ {print $2}' /proc/$server_pid/status) KB"
  stop_server
done
