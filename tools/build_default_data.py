#!/usr/bin/env python3
"""Builds data/campaigns/<campaign>.csv and data/default_benchmarks.csv from the tidy raw CSVs.

Usage: python3 tools/build_default_data.py [RAW_DIR] [--out DATA_DIR]
RAW_DIR defaults to ../shared/data/raw (relative to the repository root), DATA_DIR to data/.
Standard library only. Output is deterministic: numbers keep the raw text, rows are sorted
stably by a fixed key (the Argonne main rows keep the order of argonne_main.csv), campaigns are
written in a fixed order. See data/README.md for what is kept, what is dropped and why.
"""
import argparse
import collections
import csv
import os
import statistics
import sys

COLUMNS = [
    "source", "source_file", "hardware", "hardware_raw", "num_gpus", "framework", "model",
    "precision", "input_tokens", "output_tokens", "batch_size", "concurrency", "batch_semantics",
    "throughput_tokens_per_s", "throughput_kind", "output_tokens_per_s", "requests_per_s",
    "latency_s", "ttft_s", "itl_s", "p99_ttft_s", "p99_tpot_s", "repeat", "notes",
]
STATIC, CONCURRENCY, MAX_THROUGHPUT = "static", "concurrency", "max_throughput"
# argonne_main.csv's llama.cpp rows: batch_size is llama-bench's -b (prompt chunk) for ONE
# sequence. None of the three tokens fits, and perfcast's reader filters these rows by this text,
# so it is kept verbatim (see data/README.md).
LLAMA_BENCH = "llama-bench -b (prompt chunk); single sequence"

ARGONNE = "argonne-llm-inference-bench"
ARGONNE_FIGURES = "argonne-llm-inference-bench-figures"
CAMPAIGN_ORDER = [ARGONNE, ARGONNE_FIGURES, "inferencemax", "splitwise-perf-model",
                  "trtllm-perf-overview", "aiconfigurator-silicon"]


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def fmt(x):
    return "%.6g" % x


def join_notes(*parts):
    return "; ".join(p for p in parts if p)


class Counts:
    def __init__(self):
        self.c = collections.OrderedDict()

    def add(self, campaign, what, n=1):
        self.c.setdefault(campaign, collections.Counter())[what] += n


def base(row):
    return {c: row.get(c, "") for c in COLUMNS}


def ensure_output(out, counts, campaign):
    """Derives output tokens/s from total tokens/s when only the total is given."""
    if out["output_tokens_per_s"] or not out["throughput_tokens_per_s"]:
        return
    if "total" not in out["throughput_kind"]:
        return
    try:
        isl, osl = float(out["input_tokens"]), float(out["output_tokens"])
        total = float(out["throughput_tokens_per_s"])
    except ValueError:
        return
    out["output_tokens_per_s"] = fmt(total * osl / (isl + osl))
    out["notes"] = join_notes(out["notes"], "output_tokens_per_s derived as total*osl/(isl+osl)")
    counts.add(campaign, "output_tokens_per_s derived from total")


def usable(out):
    return bool(out["output_tokens_per_s"] and out["input_tokens"] and out["output_tokens"])


def keep_if_usable(row, out, counts, campaign, needs_batch_size=False):
    """Completes the output throughput, then appends the row to `out` if it has throughput and
    lengths (and a batch size when `needs_batch_size`), counting either outcome; whether it did."""
    ensure_output(row, counts, campaign)
    if not usable(row) or (needs_batch_size and not row["batch_size"]):
        counts.add(campaign, "dropped: no concurrency, throughput or lengths" if needs_batch_size
                   else "dropped: no throughput or lengths")
        return False
    out.append(row)
    counts.add(campaign, "kept")
    return True


def fastest_layout_per_point(layouts_of_rows, rows, counts, campaign):
    """Keeps, at each point (configuration, lengths, batch), the rows of the parallel layout whose
    median output throughput is highest. The schema has no layout column, so two layouts of one
    configuration measured at one point would be merged by their median into a figure neither
    layout measured; the fastest is what the configuration reaches with its layout chosen well.
    Repeats of the kept layout all stay (the reader merges them). `layouts_of_rows[i]` is
    `rows[i]`'s layout."""
    if len(layouts_of_rows) != len(rows):
        raise ValueError("%d layouts for %d rows" % (len(layouts_of_rows), len(rows)))
    by_point = collections.OrderedDict()
    for layout, row in zip(layouts_of_rows, rows):
        key = tuple(row[c] for c in ("hardware", "num_gpus", "framework", "model", "precision",
                                     "input_tokens", "output_tokens", "batch_semantics",
                                     "batch_size"))
        by_point.setdefault(key, collections.OrderedDict()).setdefault(layout, []).append(row)
    out = []
    dropped = 0
    for layouts in by_point.values():
        if len(layouts) == 1:
            out.extend(next(iter(layouts.values())))
            continue
        best = max(layouts, key=lambda layout: (statistics.median(
            float(r["output_tokens_per_s"]) for r in layouts[layout]), layout))
        dropped += sum(len(rows_of) for layout, rows_of in layouts.items() if layout != best)
        for row in layouts[best]:
            row["notes"] = join_notes(row["notes"], "fastest of %d layouts measured at this point"
                                      % len(layouts))
            out.append(row)
    if dropped:
        counts.add(campaign, "dropped: another layout measured faster at the same point", dropped)
        counts.add(campaign, "kept", -dropped)
    return out


# ---- Argonne -------------------------------------------------------------------------------

def argonne_semantics(raw):
    if raw.startswith("llama-bench"):
        return raw
    if raw.startswith("static"):
        return STATIC
    raise ValueError("unknown Argonne batch_semantics %r" % raw)


def argonne_main(raw_dir, counts):
    rows = read(os.path.join(raw_dir, ARGONNE, "argonne_main.csv"))
    out = []
    for r in rows:
        o = base(r)
        o["batch_semantics"] = argonne_semantics(r["batch_semantics"])
        if not usable(o):
            raise ValueError("argonne_main.csv row without throughput or lengths: %r" % r)
        out.append(o)
    counts.add(ARGONNE, "argonne_main.csv rows kept", len(out))
    return out  # file order kept


# Variants file: rows whose methodology the tidy schema can express are kept.
VARIANT_KEEP = {
    ("kv_cache", "With KV Cache"),
    ("parallelism", "Tensor Parallelism"),
    ("speculative_decoding", "Without Speculative Decoding"),
    ("perplexity_power", ""),
    ("power", ""),
}


def argonne_key(r):
    return (r["hardware"], r["num_gpus"], r["framework"], r["model"], r["precision"],
            r["input_tokens"], r["output_tokens"], r["batch_size"], r["output_tokens_per_s"])


def argonne_figures(raw_dir, main_rows, counts):
    in_main = {argonne_key(r) for r in main_rows}
    seen = set()
    out = []
    variants = read(os.path.join(raw_dir, ARGONNE, "argonne_variants.csv"))
    for r in variants:
        vt, vv = r["variant_type"], r["variant_value"]
        if not (vt == "quantization" or (vt, vv) in VARIANT_KEEP):
            counts.add(ARGONNE_FIGURES, "variants dropped: %s=%s" % (vt, vv or "(none)"))
            continue
        o = base(r)
        o["batch_semantics"] = argonne_semantics(r["batch_semantics"])
        o["notes"] = join_notes(r["notes"], "variant %s%s" % (vt, ("=" + vv) if vv else ""))
        key = argonne_key(o)
        if key in in_main:
            counts.add(ARGONNE_FIGURES, "variants dropped: same point as argonne_main.csv")
            continue
        if key in seen:
            counts.add(ARGONNE_FIGURES, "variants dropped: repeated within the variants file")
            continue
        if not usable(o):
            counts.add(ARGONNE_FIGURES, "variants dropped: no throughput or lengths")
            continue
        seen.add(key)
        out.append(o)
        counts.add(ARGONNE_FIGURES, "variants kept")
    for r in read(os.path.join(raw_dir, ARGONNE, "argonne_input_vs_output_bs1.csv")):
        o = base(r)
        o["batch_semantics"] = argonne_semantics(r["batch_semantics"])
        key = argonne_key(o)
        if key in in_main or key in seen:
            counts.add(ARGONNE_FIGURES, "input_vs_output_bs1 dropped: same point already kept")
            continue
        if not usable(o):
            counts.add(ARGONNE_FIGURES, "input_vs_output_bs1 dropped: no throughput or lengths")
            continue
        seen.add(key)
        out.append(o)
        counts.add(ARGONNE_FIGURES, "input_vs_output_bs1 kept")
    # argonne_ttft_e2e.csv: latencies only (no throughput column): left out.
    n = len(read(os.path.join(raw_dir, ARGONNE, "argonne_ttft_e2e.csv")))
    counts.add(ARGONNE_FIGURES, "argonne_ttft_e2e.csv left out (no throughput)", n)
    return out


# ---- InferenceMAX ----------------------------------------------------------------------------

def inferencemax(raw_dir, counts):
    c = "inferencemax"
    out = []
    layouts = []  # out[i]'s parallel layout
    for r in read(os.path.join(raw_dir, c, "inferencemax_runs.csv")):
        if r["disagg"] != "false":
            counts.add(c, "dropped: disaggregated")
            continue
        if r["multinode"] != "false":
            counts.add(c, "dropped: multinode")
            continue
        if r["spec_decoding"] != "none":
            counts.add(c, "dropped: speculative decoding")
            continue
        o = base(r)
        o["source_file"] = "inferencemax_runs.csv run_id=" + r["run_id"]
        o["batch_semantics"] = CONCURRENCY
        o["batch_size"] = r["concurrency"] or r["batch_size"]
        o["requests_per_s"] = r["requests_per_s_est"]
        o["latency_s"] = r["mean_e2el_s"]
        o["ttft_s"] = r["mean_ttft_s"]
        o["itl_s"] = r["mean_tpot_s"]
        # The TPOT's, not the ITL's: p99_itl_s is of single gaps between tokens, another figure.
        o["p99_ttft_s"] = r["p99_ttft_s"]
        o["p99_tpot_s"] = r["p99_tpot_s"]
        o["repeat"] = ""
        layout = "tp%s ep%s dp_attention=%s" % (r["tp"], r["ep"], r["dp_attention"])
        o["notes"] = join_notes(r["notes"], layout, "lengths " + r["length_sampling"],
                                "itl_s = mean TPOT", "image " + r["framework_image"])
        if keep_if_usable(o, out, counts, c):
            layouts.append(layout)
    return fastest_layout_per_point(layouts, out, counts, c)


# ---- Splitwise -------------------------------------------------------------------------------

def splitwise(raw_dir, counts):
    c = "splitwise-perf-model"
    out = []
    for r in read(os.path.join(raw_dir, c, "splitwise_perf_model.csv")):
        o = base(r)
        o["source_file"] = "data/perf_model.csv"
        o["batch_semantics"] = STATIC
        o["itl_s"] = r["tpot_s"]
        o["notes"] = join_notes(r["notes"], "model_raw " + r["model_raw"],
                                "precision not given by the source", "itl_s = TPOT")
        keep_if_usable(o, out, counts, c)
    return out


# ---- TensorRT-LLM perf overview ----------------------------------------------------------------

def trtllm(raw_dir, counts):
    c = "trtllm-perf-overview"
    out = []
    for r in read(os.path.join(raw_dir, c, "trtllm_max_throughput.csv")):
        o = base(r)
        o["source_file"] = "docs/source/performance/perf-overview.md " + r["doc_version"]
        o["hardware_raw"] = r["hardware"]
        o["batch_semantics"] = MAX_THROUGHPUT
        o["batch_size"] = ""
        o["concurrency"] = ""
        o["notes"] = join_notes(r["notes"], "model_raw " + r["model_raw"],
                                "tp%s pp%s" % (r["tp"], r["pp"]))
        keep_if_usable(o, out, counts, c)
    return out


# ---- AIConfigurator silicon sample ------------------------------------------------------------

def aiconfigurator(raw_dir, counts):
    c = "aiconfigurator-silicon"
    out = []
    layouts = []  # out[i]'s parallel layout
    for r in read(os.path.join(raw_dir, c, "aiconfigurator_silicon.csv")):
        if r["mode"] != "agg":
            counts.add(c, "dropped: disaggregated (mode=disagg)")
            continue
        if r["duplicate_of"]:
            counts.add(c, "dropped: re-listed measurement (duplicate_of set)")
            continue
        o = base(r)
        o["batch_semantics"] = CONCURRENCY
        o["batch_size"] = r["concurrency"]
        o["latency_s"] = r["e2e_latency_s_derived"]
        o["itl_s"] = r["tpot_s"]
        o["repeat"] = ""
        # AIC's convention: tp * attention_dp == moe_tp * moe_ep GPUs per worker (pp 1). Where an
        # unflagged layout breaks it with a wider MoE part, the worker spans the MoE part's GPUs:
        # the model's weights do not fit in fewer (perfcast memory-check). Flagged rows already
        # carry the raw file's corrected count.
        moe_gpus = count(r["moe_tp"]) * count(r["moe_ep"]) * count(r["pp"])
        if not r["layout_flag"] and moe_gpus > float(o["num_gpus"]):
            o["num_gpus"] = str(moe_gpus)
            o["notes"] = join_notes(o["notes"], "num_gpus = moe_tp*moe_ep*pp: the recorded "
                                    "tp*attention_dp is narrower than the MoE layout")
            counts.add(c, "num_gpus widened to the recorded MoE layout")
        layout = "tp%s pp%s attention_dp%s moe_tp%s moe_ep%s" % (
            r["tp"], r["pp"], r["attention_dp"], r["moe_tp"], r["moe_ep"])
        o["notes"] = join_notes(
            o["notes"], "source_id " + r["source_id"], layout,
            "framework_version " + r["framework_version"] if r["framework_version"] else "",
            "quant gemm=%s moe=%s" % (r["gemm_quant_mode"], r["moe_quant_mode"]),
            "layout_flag " + r["layout_flag"] if r["layout_flag"] else "",
            "throughput DERIVED from TTFT/TPOT: concurrency*osl/(ttft+(osl-1)*tpot)",
            "latency_s = ttft+(osl-1)*tpot; itl_s = TPOT")
        if keep_if_usable(o, out, counts, c, needs_batch_size=True):
            layouts.append(aiconfigurator_layout(r, o["num_gpus"]))
    return fastest_layout_per_point(layouts, out, counts, c)


def aiconfigurator_layout(r, num_gpus):
    """A row's parallel layout (tp, pp, attention_dp, moe_tp, moe_ep), an empty degree 1. A row
    flagged ep_double_counted recorded a deployment of TP A with EP A on A GPUs (`num_gpus`, as
    corrected) with degrees for A*A GPUs, in one of three forms (raw README, "Layout problems"): one
    attention degree and one MoE degree carry an extra factor A, taken out here so that the
    deployment is the same layout as its unflagged listings."""
    tp, pp, attention_dp, moe_tp, moe_ep = (count(r[k]) for k in ("tp", "pp", "attention_dp",
                                                                   "moe_tp", "moe_ep"))
    if r["layout_flag"] == "ep_double_counted":
        a = count(num_gpus)
        if attention_dp >= a:
            attention_dp //= a
        else:
            tp //= a
        if moe_tp >= a:
            moe_tp //= a
        else:
            moe_ep //= a
        # Every flagged row of the raw file is in one of the three forms; another would not
        # read back as a layout of A GPUs.
        if tp * attention_dp != a or moe_tp * moe_ep != a:
            raise ValueError("source_id %s: an ep_double_counted layout of an unknown form"
                             % r.get("source_id", "?"))
    return (tp, pp, attention_dp, moe_tp, moe_ep)


def count(s):
    """A parallel degree as recorded; empty means 1."""
    return int(float(s)) if s else 1


def numeric(s):
    try:
        return (0, float(s))
    except ValueError:
        return (1, 0.0)


def sort_key(o):
    return (o["hardware"], numeric(o["num_gpus"]), o["framework"], o["model"], o["precision"],
            numeric(o["input_tokens"]), numeric(o["output_tokens"]), o["batch_semantics"],
            numeric(o["batch_size"]), numeric(o["repeat"]), o["source_file"], o["notes"],
            o["output_tokens_per_s"])


def write(path, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS, lineterminator="\n")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def main(argv):
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("raw_dir", nargs="?", default=os.path.join(here, "..", "shared", "data", "raw"))
    p.add_argument("--out", default=os.path.join(here, "data"))
    a = p.parse_args(argv)
    counts = Counts()
    main_rows = argonne_main(a.raw_dir, counts)
    campaigns = {
        ARGONNE: main_rows,
        ARGONNE_FIGURES: sorted(argonne_figures(a.raw_dir, main_rows, counts), key=sort_key),
        "inferencemax": sorted(inferencemax(a.raw_dir, counts), key=sort_key),
        "splitwise-perf-model": sorted(splitwise(a.raw_dir, counts), key=sort_key),
        "trtllm-perf-overview": sorted(trtllm(a.raw_dir, counts), key=sort_key),
        "aiconfigurator-silicon": sorted(aiconfigurator(a.raw_dir, counts), key=sort_key),
    }
    # MLPerf: no input/output lengths per point; left out of data/ (see data/README.md).
    n = len(read(os.path.join(a.raw_dir, "mlperf-inference-v4.1", "mlperf_llm_results.csv")))
    counts.add("mlperf-inference-v4.1", "left out (no input/output tokens)", n)
    os.makedirs(os.path.join(a.out, "campaigns"), exist_ok=True)
    merged = []
    for name in CAMPAIGN_ORDER:
        rows = campaigns[name]
        for r in rows:
            r["source"] = name
        write(os.path.join(a.out, "campaigns", name + ".csv"), rows)
        merged.extend(rows)
    write(os.path.join(a.out, "default_benchmarks.csv"), merged)
    for campaign, c in counts.c.items():
        for what, n in sorted(c.items()):
            print("%s: %s: %d" % (campaign, what, n))
    print("merged rows: %d" % len(merged))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
