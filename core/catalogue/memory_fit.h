#pragma once

#include <cstdint>
#include <string>

#include "absl/strings/string_view.h"
#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// Whether a configuration can hold a batch of a shape in its GPUs' memory (docs/METHOD.md §10).
// A closed set: a figure the rule needs and the catalogue lacks gives kUnknown, never a guess.
enum class MemoryVerdict { kUnknown, kFits, kDoesNotFit };

// "unknown", "fits", "does_not_fit": the API's enum value names without their prefix, in lower
// case; what the CLI prints.
absl::string_view MemoryVerdictName(MemoryVerdict verdict);

// The share of each GPU's memory a serving framework lets weights, KV cache and activations use
// by default; the rest is the runtime reserve (CUDA context, library workspaces, communication
// buffers, fragmentation). vLLM's gpu_memory_utilization defaults to 0.9 of the whole memory;
// TensorRT-LLM's kv_cache_free_gpu_mem_fraction defaults to 0.9 of what the weights leave free,
// which leaves at least as much usable. docs/METHOD.md §10 gives the sources.
inline constexpr double kUsableMemoryFraction = 0.9;

// The memory answer for one point.
struct MemoryFit {
  MemoryVerdict verdict = MemoryVerdict::kUnknown;
  // One sentence with the figures ("weights 128.5 GiB per GPU > 72.0 GiB usable of one NVIDIA
  // H100 SXM 80GB (90% of 80 GiB)"), or what is missing for kUnknown.
  std::string reason;
  // Per GPU, in GiB (2^30 bytes): what the point needs (weights plus the KV cache of the
  // sequences resident at once: the batch, or the largest fitting batch when it is larger, and
  // at least one) and what the rule lets it use (kUsableMemoryFraction of the accelerator's
  // memory). Both 0 when the verdict is kUnknown for a figure the catalogue lacks.
  double required_gib_per_gpu = 0;
  double available_gib_per_gpu = 0;
  // The largest batch (or concurrency) whose sequences of the query's shape are all resident at
  // once (beyond it they run in waves): the same for every point of a query. 0 when unknown or
  // when not even one sequence fits (the verdict tells the two apart).
  int largest_fitting_batch_size = 0;

  // Whether all `batch_size` sequences of the point are resident at once: it fits (or may), and
  // where the rule knows how many can be, no more than that. Beyond, they run in waves.
  bool AllResident(int batch_size) const {
    return verdict != MemoryVerdict::kDoesNotFit &&
           !(largest_fitting_batch_size > 0 && batch_size > largest_fitting_batch_size);
  }
};

// What one configuration needs per GPU for one shape, worked out once per query so that each
// point only multiplies (At). The rule (docs/METHOD.md §10), per GPU:
//   weights  = parameters x bytes per weight / num_gpus (every expert of a mixture resident;
//              tensor or pipeline parallelism splits them evenly)
//   KV cache = sequences x (input + output tokens) x KV bytes per token / num_gpus
//   usable   = kUsableMemoryFraction x memory
// The largest fitting batch is the most sequences of the shape whose KV cache fits beside the
// weights at once. A point fits when at least one does: the serving frameworks of the data
// (vLLM, TensorRT-LLM, SGLang, DeepSpeed-MII) keep the KV cache in pages and admit a batch's
// sequences as memory allows, the rest waiting, so a batch beyond that count runs in waves; what
// none of them can do is start without the weights and one full-length sequence (vLLM refuses a
// max_model_len whose KV cache does not fit).
// "Does not fit" must hold whatever the label leaves open: a point that needs more than the
// usable share but no more than the whole memory is unknown (a framework may be allowed more
// than its default share), not impossible. And where a layout would need more
// (KV heads replicated when GPUs outnumber them, an MLA latent on every tensor-parallel rank) the
// rule takes the even split, which data-parallel attention reaches.
//
// Thread safety: immutable once built; share freely. Holds a copy of the names it reports.
class MemoryBudget {
 public:
  // kUnknown for every point, with `reason` saying what is missing.
  static MemoryBudget Unknown(std::string reason);

  // The budget of `configuration` at `shape` from `catalogue` (null: unknown). Names are looked
  // up without building errors (Catalogue::Lookup*), so this is cheap enough for Predict.
  // REQUIRES: shape tokens > 0, num_gpus > 0.
  static MemoryBudget Of(const Catalogue* catalogue, const Configuration& configuration,
                         const Shape& shape);
  // Same for resolved entries. An accelerator without a memory figure, or a model whose KV
  // layout is unknown, gives kUnknown.
  static MemoryBudget Of(const ResolvedConfiguration& configuration, const Shape& shape);

  // The verdict at `batch_size` (> 0).
  MemoryFit At(int batch_size) const;

  bool known() const { return known_; }
  // See MemoryFit::largest_fitting_batch_size.
  int largest_fitting_batch_size() const { return largest_fitting_batch_size_; }

 private:
  MemoryBudget() = default;

  bool known_ = false;
  std::string unknown_reason_;
  double weights_gib_per_gpu_ = 0;
  double kv_gib_per_sequence_per_gpu_ = 0;
  double available_gib_per_gpu_ = 0;
  double memory_gib_per_gpu_ = 0;
  int64_t sequence_tokens_ = 0;
  int largest_fitting_batch_size_ = 0;
  // "of one NVIDIA H100 SXM 80GB (90% of 80 GiB)" or "of each of 4 ...": the tail of a reason.
  std::string where_;
};

}  // namespace perfcast
