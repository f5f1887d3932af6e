#!/usr/bin/env bash
# Predictions of a bundle for fixed queries (measured, new shapes, new configurations, hardware
# the data lacks; five batch sizes each, intervals included), one JSON line per batch size, and
# their md5 last. Two builds whose bundles print the same md5 predict the same.
# usage: bench/prediction_digest.sh CLI BUNDLE_DIR
#   e.g. build/clients/cli/perfcast fit --data data/default_benchmarks.csv --out /tmp/b &&
#        bench/prediction_digest.sh build/clients/cli/perfcast /tmp/b
set -euo pipefail
cli=${1:?usage: $0 CLI BUNDLE_DIR}
bundle=${2:?usage: $0 CLI BUNDLE_DIR}
query() { "$cli" predict --bundle "$bundle" --json --batch-size 1,7,16,64,200 "$@"; }
{
  query --hardware "NVIDIA GH200" --num-gpus 1 --framework tensorrt-llm \
    --model mistralai/Mistral-7B-v0.1 --precision fp16 --input-tokens 128 --output-tokens 128
  query --hardware "NVIDIA GH200" --num-gpus 1 --framework tensorrt-llm \
    --model mistralai/Mistral-7B-v0.1 --precision fp16 --input-tokens 300 --output-tokens 700
  query --hardware "NVIDIA H100" --num-gpus 4 --framework vllm \
    --model mistralai/Mistral-7B-v0.1 --precision fp16 --input-tokens 300 --output-tokens 700
  query --hardware "AMD MI300X" --num-gpus 2 --framework vllm \
    --model meta-llama/Meta-Llama-3-70B --precision fp16 --input-tokens 1000 --output-tokens 200
  query --hardware "NVIDIA B200" --num-gpus 8 --framework sglang \
    --model meta-llama/Meta-Llama-3-8B --precision fp8 --input-tokens 2048 --output-tokens 128
} | tee /dev/stderr | md5sum
