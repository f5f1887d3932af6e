#!/usr/bin/env python3
"""TTFT and ITL of a bundle against Argonne's TTFT/E2E file, a campaign whose latencies the
default data lack: every row asked as campaign argonne-llm-inference-bench in fp16; prints median
and p90 APE, 90% coverage and median width (of the interval, relative to the measured value).

usage: bench/argonne_latency_check.py CLI BUNDLE [ARGONNE_TTFT_E2E_CSV]
  e.g. build/clients/cli/perfcast fit --data data/default_benchmarks.csv --out /tmp/b &&
       python3 bench/argonne_latency_check.py build/clients/cli/perfcast /tmp/b
"""
import csv, json, os, subprocess, sys, statistics
cli, bundle = sys.argv[1], sys.argv[2]
default = os.path.join(os.path.dirname(__file__), '..', '..', 'shared', 'data', 'raw',
                       'argonne-llm-inference-bench', 'argonne_ttft_e2e.csv')
rows = list(csv.DictReader(open(sys.argv[3] if len(sys.argv) > 3 else default)))
ttft_ape, itl_ape, ttft_in, itl_in, ttft_w, itl_w, unavailable = [], [], 0, 0, [], [], 0
for r in rows:
    out = subprocess.run([cli, 'predict', '--bundle', bundle, '--json', '--hardware', r['hardware'],
                          '--num-gpus', r['num_gpus'], '--framework', r['framework'], '--model', r['model'],
                          '--precision', 'fp16', '--input-tokens', r['input_tokens'],
                          '--output-tokens', r['e2e_output_tokens'], '--batch-size', r['batch_size'],
                          '--campaign', 'argonne-llm-inference-bench'], capture_output=True, text=True)
    if out.returncode != 0:
        print('failed', r['hardware'], r['framework'], r['model'], out.stderr.strip()[:200]); continue
    p = json.loads(out.stdout.splitlines()[0])
    if 'ttft_s' not in p:
        unavailable += 1; continue
    t = float(r['ttft_s'])
    ttft_ape.append(abs(p['ttft_s'] - t) / t * 100)
    ttft_in += p['ttft_lower_s'] <= t <= p['ttft_upper_s']
    ttft_w.append((p['ttft_upper_s'] - p['ttft_lower_s']) / t)
    if r['mean_itl_s_derived']:
        i = float(r['mean_itl_s_derived'])
        itl_ape.append(abs(p['itl_s'] - i) / i * 100); itl_in += p['itl_lower_s'] <= i <= p['itl_upper_s']
        itl_w.append((p['itl_upper_s'] - p['itl_lower_s']) / i)
n = len(ttft_ape)
def p90(v): v = sorted(v); return v[int(0.9 * (len(v) - 1))]
print(f'points {n} unavailable {unavailable}')
if n:
    print(f'ttft median_ape {statistics.median(ttft_ape):.2f}% p90 {p90(ttft_ape):.2f}% coverage {ttft_in/n*100:.1f}% median_width {statistics.median(ttft_w)*100:.1f}%')
    m = len(itl_ape)
    print(f'itl  points {m} median_ape {statistics.median(itl_ape):.2f}% p90 {p90(itl_ape):.2f}% coverage {itl_in/m*100:.1f}% median_width {statistics.median(itl_w)*100:.1f}%')
