#!/usr/bin/env bash
# What a campaign's first results cost a server: for each CAMPAIGN of the default data, starts a
# server seeded with the other campaigns, streams in a seeded SHARE of that campaign's whole
# curves (`perfcast submit`), refits (`perfcast refit --wait`) and prints the refit's time, its
# cross-fit (reused, or grown and why) and its peak RSS (VmHWM reset after the start).
# usage: bench/new_campaign_refit.sh BUILD_DIR SHARE CAMPAIGN...
#   e.g. bench/new_campaign_refit.sh build 0.1 argonne-llm-inference-bench trtllm-perf-overview
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR SHARE CAMPAIGN...}
share=${2:?usage: $0 BUILD_DIR SHARE CAMPAIGN...}
shift 2
cd "$(dirname "$0")/.."
source bench/default_data_server.sh
work=$(mktemp -d)
server_pid=""
data_dir=""
trap 'stop_server; rm -rf "$work"' EXIT
for campaign in "$@"; do
  # The campaign's curves: rows of one (source, hardware, GPUs, framework, model, precision,
  # batch axis, shape); a share of them drawn with a fixed seed, at least one.
  python3 - "$campaign" "$share" "$work" <<'PY'
import csv, random, sys
campaign, share, work = sys.argv[1], float(sys.argv[2]), sys.argv[3]
with open("data/default_benchmarks.csv", newline="") as f:
    reader = csv.DictReader(f)
    header, rows = reader.fieldnames, list(reader)
key = lambda r: tuple(r[c] for c in ("hardware", "num_gpus", "framework", "model", "precision",
                                     "batch_semantics", "input_tokens", "output_tokens"))
mine = [r for r in rows if r["source"] == campaign]
if not mine:
    sys.exit(f"no rows of campaign {campaign}")
curves = sorted({key(r) for r in mine})
drawn = set(random.Random(42).sample(curves, max(1, int(share * len(curves)))))
for name, keep in (("seed.csv", lambda r: r["source"] != campaign),
                   ("shots.csv", lambda r: r["source"] == campaign and key(r) in drawn)):
    with open(f"{work}/{name}", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=header)
        writer.writeheader()
        writer.writerows(r for r in rows if keep(r))
print(f"{campaign}: {len(drawn)} of {len(curves)} curves submitted", file=sys.stderr)
PY
  # No refit but the one asked for: the submitted results, or a quiet spell after them, would
  # otherwise start one of their own.
  start_server "$build" --metrics-port=-1 --seed-data="$work/seed.csv" --log-level=info \
    --retrain-after-results=0 --retrain-quiet-seconds=0 > "$work/server.log" 2>&1
  echo 5 > /proc/$server_pid/clear_refs
  $cli submit $server --data "$work/shots.csv" > /dev/null
  refit=$($cli refit $server --wait | grep -o 'trained in [0-9.]* s') ||
    { echo "perfcast refit --wait did not say how long it trained" >&2; exit 1; }
  sleep 0.5
  cross_fit=$(grep -o 'refit_succeeded refit_id=2 .*cross_fit=[a-z_]*' "$work/server.log" |
    grep -o 'cross_fit=.*') || { echo "no second refit in $work/server.log" >&2; exit 1; }
  echo "$campaign at share $share: refit ${refit}, ${cross_fit}, peak of the refit" \
    "$(awk '/VmHWM/ {print $2}' /proc/$server_pid/status) KB"
  stop_server
  server_pid=""
done
