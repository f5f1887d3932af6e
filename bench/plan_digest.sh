#!/usr/bin/env bash
# Plans of a bundle for fixed requests (four models; no objective, TTFT, ITL, a shape mix with
# both, a batch-latency objective with a demand too large for any candidate, one output token;
# every option and rejection, ranked by GPUs), then their md5. Two builds that print the same md5
# plan the same.
# usage: bench/plan_digest.sh CLI BUNDLE_DIR
set -euo pipefail
cli=${1:?usage: $0 CLI BUNDLE_DIR}
bundle=${2:?usage: $0 CLI BUNDLE_DIR}
plan() { "$cli" plan --bundle "$bundle" --json --limit 1000 --rank gpus "$@"; }
for model in meta-llama/Meta-Llama-3-8B meta-llama/Meta-Llama-3-70B mistralai/Mistral-7B-v0.1 \
  meta-llama/Llama-2-70b-hf; do
  plan --model "$model" --input-tokens 1000 --output-tokens 500 --demand-tokens-per-s 20000
  plan --model "$model" --input-tokens 1000 --output-tokens 500 --demand-tokens-per-s 20000 \
    --ttft-s 0.5
  plan --model "$model" --input-tokens 2048 --output-tokens 128 --demand-tokens-per-s 5000 \
    --itl-s 0.03 --confidence 0.8
  plan --model "$model" --shape 128:128:0.5 --shape 3000:300:0.5 --demand-requests-per-s 20 \
    --ttft-s 2 --itl-s 0.05
  plan --model "$model" --input-tokens 500 --output-tokens 2000 --demand-tokens-per-s 1000000 \
    --batch-latency-s 60
  plan --model "$model" --input-tokens 1000 --output-tokens 1 --demand-tokens-per-s 300 --ttft-s 1
done | md5sum
