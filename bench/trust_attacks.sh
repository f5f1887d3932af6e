#!/usr/bin/env bash
# The issue "Trust"'s attacks on a server seeded with the default data, each on a fresh server:
# 36 results at 100x the measured values of one configuration (in its own campaign, where the
# quarantine applies, and in the submitter's unnamed campaign, a new one, where it does not), one
# at 1.797e308, 36 at 1e30; each followed by `perfcast refit --wait`. Prints, per attack, how
# many results the server accepted (trainable), quarantined and rejected, and the ratio
# after/before of the predictions (batch 1, 16, 32, 64 at 1024/1024 tokens) of the attacked
# configuration in its campaign, of the same configuration over all campaigns (no --campaign),
# and of a configuration it never measured (H100 x8, over all campaigns).
# usage: bench/trust_attacks.sh BUILD_DIR
set -euo pipefail
build=${1:?usage: $0 BUILD_DIR}
cd "$(dirname "$0")/.."
source bench/default_data_server.sh
trap stop_server EXIT

header="$(head -1 data/default_benchmarks.csv),campaign"
attacked='NVIDIA H100,NVIDIA H100,1,vllm,meta-llama/Meta-Llama-3-8B,fp16'
campaign=argonne-llm-inference-bench  # the source, hence the campaign, of the attacked curve
# The attacked configuration's measured curve: batch size and output tokens/s (field 17: the
# quoted throughput_kind before it holds a comma).
curve=$(awk -F, '$3=="NVIDIA H100" && $5==1 && $6=="vllm" && $7=="meta-llama/Meta-Llama-3-8B" &&
                 $8=="fp16" && $9==1024 && $10==1024 {print $11, $17}' data/default_benchmarks.csv)

rows() {  # rows VALUE_EXPRESSION COUNT CAMPAIGN: COUNT rows over the curve's batch sizes
  local expression=$1 count=$2 campaign=$3 i=0
  echo "$header"
  while ((i < count)); do
    while read -r batch measured; do
      ((i < count)) || break
      value=$(awk -v m="$measured" "BEGIN { printf \"%.17g\", $expression }")
      echo "attack-$i,attack,$attacked,1024,1024,$batch,$batch,static,$value,output,$value,,,,,0,,$campaign"
      i=$((i + 1))
    done <<<"$curve"
  done
}

predictions() {
  for configuration in "--num-gpus 1 --campaign $campaign" "--num-gpus 1" "--num-gpus 8"; do
    $cli predict $server --hardware "NVIDIA H100" $configuration --framework vllm \
      --model meta-llama/Meta-Llama-3-8B --precision fp16 --input-tokens 1024 \
      --output-tokens 1024 --batch-size 1,16,32,64 --json
  done | awk -F'"throughput_tokens_per_s":' '{split($2, a, ","); print a[1]}'
}

attack() {  # attack NAME VALUE_EXPRESSION COUNT CAMPAIGN
  local file reply
  file=$(mktemp)
  rows "$2" "$3" "$4" >"$file"
  start_server "$build"
  before=$(predictions)
  # Exit code 5 when some rows are rejected: that is the point of most attacks.
  reply=$({ $cli submit $server --data "$file" --json 2>/dev/null || true; } | tr -d '\n')
  accepted=$(echo "$reply" | sed -n 's/.*"accepted_count": *"\{0,1\}\([0-9]*\).*/\1/p')
  quarantined=$(echo "$reply" | sed -n 's/.*"quarantined_count": *"\{0,1\}\([0-9]*\).*/\1/p')
  rejected=$(echo "$reply" | sed -n 's/.*"rejected_count": *"\{0,1\}\([0-9]*\).*/\1/p')
  $cli refit $server --wait >/dev/null 2>&1 || true
  after=$(predictions)
  ratios=$(paste <(echo "$before") <(echo "$after") | awk '{printf "%.3f ", $2 / $1}')
  printf '%-30s accepted %-3s quarantined %-3s rejected %-3s after/before: H100 x1 @campaign %s| H100 x1 %s| H100 x8 %s\n' \
    "$1" "${accepted:-0}" "${quarantined:-0}" "${rejected:-0}" "$(echo "$ratios" | cut -d' ' -f1-4)" \
    "$(echo "$ratios" | cut -d' ' -f5-8)" "$(echo "$ratios" | cut -d' ' -f9-12)"
  stop_server
  rm -f "$file"
}

attack "36 at 100x, its campaign" "100 * m" 36 "$campaign"
attack "36 at 100x, unnamed campaign" "100 * m" 36 ""
attack "1 at 1.797e308" "1.797e308" 1 "$campaign"
attack "36 at 1e30" "1e30" 36 "$campaign"
