#pragma once

#include "core/catalogue/catalogue.h"
#include "core/data/benchmark_record.h"

namespace perfcast {

// Upper bounds on throughput that follow from datasheet figures alone (a roofline per
// configuration and shape). Real systems reach a stack-, kernel- and shape-dependent fraction of
// them; perfcast learns that fraction from benchmarks, and the bounds are what lets it carry over
// to hardware or a model it has no benchmark of.
//
// Every value is NaN when a figure it needs is absent from the catalogue (a bandwidth no
// datasheet gives, a model whose KV heads vary by layer), so a learner sees it as missing.
struct PhysicalCeilings {
  // Generated tokens/s of the whole system if decoding only had to stream its bytes from memory,
  // for one sequence and for the batch asked about.
  double decode_batch1_tokens_per_s = 0;
  double decode_tokens_per_s = 0;
  // Prompt tokens/s if prefill ran at peak FLOP/s.
  double prefill_tokens_per_s = 0;
  // Sequences of the shape's full length whose KV cache fits beside the weights; <= 0 when the
  // weights alone exceed the memory.
  double kv_cache_capacity_sequences = 0;
  // Generated tokens/s of a static batch that prefills at peak FLOP/s and then decodes at the
  // slower of its memory and compute bounds.
  double roofline_output_tokens_per_s = 0;
};

// Bytes of the weights that one decode step over `batch_size` sequences reads.
double WeightBytesReadPerDecodeStep(const ResolvedConfiguration& configuration, double batch_size);
// Bytes one token of context adds to the KV cache; NaN when the model's KV layout is unknown.
double KvCacheBytesPerToken(const ResolvedConfiguration& configuration);

// REQUIRES: shape tokens > 0, batch_size > 0, configuration resolved by a live Catalogue.
PhysicalCeilings ComputePhysicalCeilings(const ResolvedConfiguration& configuration,
                                         const Shape& shape, double batch_size);

// A static batch's roofline throughput with the batch held at the KV cache's capacity (sequences
// past it wait rather than run at once), given the ceilings `at_batch` computed at `batch_size`;
// NaN where the capacity is unknown or not one sequence fits.
double KvCappedRoofline(const ResolvedConfiguration& configuration, const Shape& shape,
                        double batch_size, const PhysicalCeilings& at_batch);
double KvCappedRoofline(const ResolvedConfiguration& configuration, const Shape& shape,
                        double batch_size);

}  // namespace perfcast
