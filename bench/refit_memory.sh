#!/usr/bin/env bash
# A refit's memory and time on the default data, with and without glibc malloc settings or
# server flags: for each SPEC (a comma-separated list of VAR=VALUE and --flag=value entries, or
# "default" for none), starts a server on a fresh data directory, times the start (seeding and
# first training) and two refits on the idle server, and prints its RSS and peak (VmHWM) after
# the start, its RSS after the refits, and the refits' peak.
# usage: bench/refit_memory.sh BUILD_DIR SPEC...
#   e.g. bench/refit_memory.sh build default MALLOC_MMAP_THRESHOLD_=1048576 --reuse-cross-fit=false
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR SPEC...}
shift
cd "$(dirname "$0")/.."
source bench/default_data_server.sh
trap stop_server EXIT
for spec in "$@"; do
  server_env=()
  server_flags=()
  if [[ "$spec" != default ]]; then
    IFS=, read -r -a entries <<< "$spec"
    for entry in "${entries[@]}"; do
      if [[ "$entry" == --* ]]; then server_flags+=("$entry"); else server_env+=("$entry"); fi
    done
  fi
  start=$(date +%s.%N)
  start_server "$build" --metrics-port=-1 ${server_flags[@]+"${server_flags[@]}"}
  serving=$(echo "$(date +%s.%N) - $start" | bc)
  rss_start=$(ps -o rss= -p $server_pid)
  peak_start=$(awk '/VmHWM/ {print $2}' /proc/$server_pid/status)
  # Resets the peak (VmHWM) to the current RSS: the peak printed last is the refits' own.
  echo 5 > /proc/$server_pid/clear_refs
  refits=""
  for i in 1 2; do
    refits+="$($cli refit $server --wait | grep -o 'trained in [0-9.]* s') "
  done
  echo "$spec: serving after ${serving} s, RSS ${rss_start// /} KB, peak ${peak_start} KB;" \
    "refits: ${refits}; RSS $(ps -o rss= -p $server_pid) KB after, peak of the refits" \
    "$(awk '/VmHWM/ {print $2}' /proc/$server_pid/status) KB"
  stop_server
done
