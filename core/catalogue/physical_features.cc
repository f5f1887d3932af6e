#include "core/catalogue/physical_features.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace perfcast {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kBytesPerGib = 1024.0 * 1024.0 * 1024.0;

double OrNaN(const std::optional<double>& value) { return value.value_or(kNaN); }

// Memory bandwidth of all the configuration's GPUs in bytes/s. Tensor parallelism splits the
// weights and the KV cache evenly, so each GPU streams 1/num_gpus of the bytes at its own rate:
// the bandwidths add.
double TotalBandwidthBytesPerS(const ResolvedConfiguration& c) {
  return OrNaN(c.accelerator->memory_bandwidth_gb_per_s) * 1e9 * c.num_gpus;
}

// Peak FLOP/s of all GPUs at the precision's math. A part without FP8 units (A100, MI250) runs
// FP8 checkpoints through 16-bit matrix units, so FP8 math falls back to the BF16 peak.
double TotalFlopsPerS(const ResolvedConfiguration& c) {
  double tflops = OrNaN(c.accelerator->bf16_dense_tflops);
  if (c.precision->math == PrecisionSpec::Math::kFp8 &&
      c.accelerator->fp8_dense_tflops.has_value()) {
    tflops = *c.accelerator->fp8_dense_tflops;
  }
  return tflops * 1e12 * c.num_gpus;
}

// A forward pass costs 2 FLOP (multiply and add) per active parameter per token; attention's
// own FLOPs are left out, which is what makes this a ceiling.
double FlopsPerToken(const ResolvedConfiguration& c) { return 2.0 * c.model->active_parameters; }

// Decode attends over the context the sequence has reached: the whole prompt plus, on average
// over the generation, half the output.
double MeanDecodeContextTokens(const Shape& shape) {
  return shape.input_tokens + shape.output_tokens / 2.0;
}

// Tensor parallelism ends each layer's attention and its MLP with an all-reduce of the step's
// activations (batch x hidden values, 16-bit whatever the weights' precision) over the GPUs. A
// decode step's messages are small, so each costs mostly a fixed latency that no datasheet
// states: kAllReduceLatencyS is an assumed figure, the order that small-message all-reduce within
// one node takes with NCCL or RCCL. The transfer adds a ring's 2 (n - 1) / n of the message over
// one direction of the interconnect, where the catalogue gives it (its figure is bidirectional).
constexpr double kAllReduceLatencyS = 10e-6;
constexpr double kActivationBytes = 2;

double AllReduceSecondsPerDecodeStep(const ResolvedConfiguration& c, double batch_size) {
  if (c.num_gpus <= 1) return 0;
  const double n = c.num_gpus;
  double seconds = kAllReduceLatencyS;
  if (c.accelerator->interconnect_gb_per_s.has_value()) {
    const double message_bytes = batch_size * c.model->hidden_size * kActivationBytes;
    seconds += 2 * (n - 1) / n * message_bytes / (*c.accelerator->interconnect_gb_per_s / 2 * 1e9);
  }
  return 2.0 * c.model->layers * seconds;
}

}  // namespace

double WeightBytesReadPerDecodeStep(const ResolvedConfiguration& c, double batch_size) {
  const ModelSpec& m = *c.model;
  const double bytes = c.precision->weight_bytes_per_parameter;
  if (m.experts <= 1) return m.parameters * bytes;
  // A mixture of experts is a shared part S plus experts E in total, of which a token uses a
  // share k/n: active = S + E k/n and total = S + E, so E = (total - active) / (1 - k/n). A
  // step over B tokens routed independently touches an expert with probability
  // 1 - (1 - k/n)^B, so it reads S + E (1 - (1 - k/n)^B): the active weights at B = 1, rising
  // towards all of them as the batch grows.
  const double share = static_cast<double>(m.experts_per_token) / m.experts;
  const double expert_parameters = (m.parameters - m.active_parameters) / (1.0 - share);
  const double shared_parameters = m.parameters - expert_parameters;
  const double touched = 1.0 - std::pow(1.0 - share, batch_size);
  return (shared_parameters + expert_parameters * touched) * bytes;
}

double KvCacheBytesPerToken(const ResolvedConfiguration& c) {
  // One key and one value vector per KV head and layer (2 x layers x kv_heads x head_dim
  // elements), or the model's own figure where it caches something else (a latent under MLA).
  return OrNaN(c.model->KvCacheElementsPerToken()) * c.precision->kv_cache_bytes_per_element;
}

PhysicalCeilings ComputePhysicalCeilings(const ResolvedConfiguration& c, const Shape& shape,
                                         double batch_size) {
  const double bandwidth = TotalBandwidthBytesPerS(c);
  const double flops = TotalFlopsPerS(c);
  const double kv_bytes_per_token = KvCacheBytesPerToken(c);
  const double context = MeanDecodeContextTokens(shape);

  // A decode step produces one token per sequence and must stream the weights once (shared by
  // the batch) plus every sequence's KV cache: tokens/s <= B x bandwidth / (weights + B x KV).
  // At B = 1 the weights dominate; as B grows the ceiling rises until the KV reads dominate
  // and it levels off at bandwidth / (KV per sequence), which is why throughput saturates.
  // Across GPUs the step also waits for its all-reduces, which do not shrink as GPUs are added
  // while the streaming does: why 8 GPUs decode less than 8 times as fast as one.
  auto decode = [&](double batch) {
    const double bytes_per_step =
        WeightBytesReadPerDecodeStep(c, batch) + batch * kv_bytes_per_token * context;
    return batch / (bytes_per_step / bandwidth + AllReduceSecondsPerDecodeStep(c, batch));
  };

  PhysicalCeilings ceilings;
  ceilings.decode_batch1_tokens_per_s = decode(1);
  ceilings.decode_tokens_per_s = decode(batch_size);
  // Prefill processes a prompt's tokens together: its matrix products are large enough to be
  // compute-bound, so tokens/s <= FLOP/s / (2 x active parameters).
  ceilings.prefill_tokens_per_s = flops / FlopsPerToken(c);
  // Memory left after the weights (all of them: every expert must be resident), divided by the
  // KV cache of one sequence at its longest (input + output tokens).
  const double free_bytes = OrNaN(c.accelerator->memory_gib) * kBytesPerGib * c.num_gpus -
                            c.model->parameters * c.precision->weight_bytes_per_parameter;
  ceilings.kv_cache_capacity_sequences =
      free_bytes / (kv_bytes_per_token * (shape.input_tokens + shape.output_tokens));

  // A static batch: B prompts prefilled at the compute bound, then output_tokens decode steps,
  // each as slow as the slower of streaming its bytes and computing B tokens.
  const double prefill_s = batch_size * shape.input_tokens / ceilings.prefill_tokens_per_s;
  const double memory_step_s = batch_size / ceilings.decode_tokens_per_s;
  const double compute_step_s = batch_size * FlopsPerToken(c) / flops;
  const double step_s = std::isnan(memory_step_s) || std::isnan(compute_step_s)
                            ? kNaN
                            : std::max(memory_step_s, compute_step_s);
  ceilings.roofline_output_tokens_per_s =
      batch_size * shape.output_tokens / (prefill_s + shape.output_tokens * step_s);
  return ceilings;
}

double KvCappedRoofline(const ResolvedConfiguration& configuration, const Shape& shape,
                        double batch_size, const PhysicalCeilings& at_batch) {
  const double capacity = at_batch.kv_cache_capacity_sequences;
  if (!(capacity >= 1) || !std::isfinite(capacity)) return kNaN;
  if (batch_size <= capacity) return at_batch.roofline_output_tokens_per_s;
  return ComputePhysicalCeilings(configuration, shape, capacity).roofline_output_tokens_per_s;
}

double KvCappedRoofline(const ResolvedConfiguration& configuration, const Shape& shape,
                        double batch_size) {
  return KvCappedRoofline(configuration, shape, batch_size,
                          ComputePhysicalCeilings(configuration, shape, batch_size));
}

}  // namespace perfcast
