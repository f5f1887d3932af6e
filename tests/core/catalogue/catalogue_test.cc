#include "core/catalogue/catalogue.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "core/catalogue/physical_features.h"
#include "core/catalogue/unresolved_names.h"
#include "core/data/benchmark_csv.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace perfcast {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string RepositoryRoot() { return PERFCAST_SOURCE_DIR; }

Catalogue ShippedCatalogue() {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(RepositoryRoot() + "/data/catalogue");
  EXPECT_TRUE(catalogue.ok()) << catalogue.status();
  return *std::move(catalogue);
}

constexpr char kAccelerators[] =
    "name,memory_gib,memory_bandwidth_gb_per_s,bf16_dense_tflops,fp8_dense_tflops,"
    "interconnect_gb_per_s,source\n"
    "GPU A,80,3350,989.5,1979,900,https://example.com/a\n";
constexpr char kModels[] =
    "name,parameters,active_parameters,layers,hidden_size,attention_heads,kv_heads,head_dim,"
    "kv_cache_elements_per_token_per_layer,experts,experts_per_token,vocabulary,source\n"
    "org/model,8030261248,,32,4096,32,8,,,,,128256,https://example.com/m\n";
constexpr char kPrecisions[] =
    "name,weight_bytes_per_parameter,kv_cache_bytes_per_element,math,source\n"
    "fp16,2,2,bf16,https://example.com/p\n";
constexpr char kAliases[] = "kind,alias,entry\n";

constexpr char kFrameworks[] = "name,source\nvllm,https://example.com/v\n";

CatalogueFiles SmallFiles() { return {kAccelerators, kModels, kPrecisions, kAliases, kFrameworks}; }

TEST(CatalogueTest, ResolvesTheNamesOfTheDataThroughAliases) {
  const Catalogue catalogue = ShippedCatalogue();

  absl::StatusOr<ResolvedConfiguration> resolved = catalogue.Resolve(
      {"AMD MI300X", 8, "vllm", "meta-llama/Llama-2-70b-chat-hf", "Weight = fp16, KV Cache = fp8"});

  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(resolved->accelerator->name, "AMD Instinct MI300X");
  EXPECT_EQ(resolved->model->name, "meta-llama/Llama-2-70b-hf");
  EXPECT_EQ(resolved->precision->name, "fp16-kv-fp8");
  EXPECT_EQ(resolved->num_gpus, 8);
}

TEST(CatalogueTest, AnFp4RunWithAnFp8CacheHalvesTheCacheOfAPlainFp4Run) {
  const Catalogue catalogue = ShippedCatalogue();
  const Shape shape{1024, 8192};

  absl::StatusOr<ResolvedConfiguration> plain =
      catalogue.Resolve({"NVIDIA B200", 1, "tensorrt-llm", "meta-llama/Llama-3.1-70B", "fp4"});
  absl::StatusOr<ResolvedConfiguration> with_fp8_cache = catalogue.Resolve(
      {"NVIDIA B200", 1, "tensorrt-llm", "meta-llama/Llama-3.1-70B", "fp4-kv-fp8"});

  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(with_fp8_cache.ok()) << with_fp8_cache.status();
  EXPECT_EQ(with_fp8_cache->precision->weight_bytes_per_parameter,
            plain->precision->weight_bytes_per_parameter);
  EXPECT_EQ(with_fp8_cache->precision->math, plain->precision->math);
  EXPECT_EQ(plain->precision->kv_cache_bytes_per_element, 2);
  EXPECT_EQ(with_fp8_cache->precision->kv_cache_bytes_per_element, 1);
  EXPECT_DOUBLE_EQ(ComputePhysicalCeilings(*with_fp8_cache, shape, 1).kv_cache_capacity_sequences,
                   2 * ComputePhysicalCeilings(*plain, shape, 1).kv_cache_capacity_sequences);
}

TEST(CatalogueTest, AnEntryNameResolvesToItself) {
  const Catalogue catalogue = ShippedCatalogue();

  absl::StatusOr<const AcceleratorSpec*> h100 = catalogue.FindAccelerator("NVIDIA H100 SXM 80GB");

  ASSERT_TRUE(h100.ok()) << h100.status();
  EXPECT_EQ((*h100)->memory_bandwidth_gb_per_s, 3350);
}

TEST(CatalogueTest, RefusesAnUnknownNameAndNamesIt) {
  const Catalogue catalogue = ShippedCatalogue();

  absl::StatusOr<const AcceleratorSpec*> found = catalogue.FindAccelerator("NVIDIA H100 SXM5");

  EXPECT_EQ(found.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(found.status().message(), HasSubstr("'NVIDIA H100 SXM5'"));
}

TEST(CatalogueTest, CaseAndOuterSpacesDoNotCount) {
  const Catalogue catalogue = ShippedCatalogue();

  absl::StatusOr<const AcceleratorSpec*> h100 = catalogue.FindAccelerator(" nvidia h100 ");
  absl::StatusOr<const FrameworkSpec*> vllm = catalogue.FindFramework("vLLM");
  absl::StatusOr<const PrecisionSpec*> fp16 = catalogue.FindPrecision("FP16");

  ASSERT_TRUE(h100.ok()) << h100.status();
  EXPECT_EQ((*h100)->name, "NVIDIA H100 SXM 80GB");
  ASSERT_TRUE(vllm.ok()) << vllm.status();
  EXPECT_EQ((*vllm)->name, "vllm");
  ASSERT_TRUE(fp16.ok()) << fp16.status();
  EXPECT_EQ((*fp16)->name, "fp16");
}

TEST(CatalogueTest, AFrameworkNameMayCarryAVersion) {
  const Catalogue catalogue = ShippedCatalogue();

  for (const char* name : {"vllm-0.6", "vLLM 0.4.3+rocm614", "sglang v0.4.1", "trt==0.12"}) {
    absl::StatusOr<const FrameworkSpec*> found = catalogue.FindFramework(name);
    EXPECT_TRUE(found.ok()) << name << ": " << found.status();
  }
  EXPECT_EQ((*catalogue.FindFramework("trt==0.12"))->name, "tensorrt-llm");
}

TEST(CatalogueTest, NeverMatchesMoreLooselyThanCase) {
  const Catalogue catalogue = ShippedCatalogue();

  EXPECT_EQ(catalogue.FindModel("Meta-Llama-3-8B").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(catalogue.FindFramework("my-new-engine").status().code(), absl::StatusCode::kNotFound);
  // A version is only left off a framework name: a model's digits are part of its name.
  EXPECT_EQ(catalogue.FindAccelerator("NVIDIA H100 2").status().code(),
            absl::StatusCode::kNotFound);
}

TEST(CatalogueTest, AnUnknownNameIsAnsweredWithTheClosestKnownNames) {
  const Catalogue catalogue = ShippedCatalogue();

  absl::Status missing = catalogue.FindAccelerator("NVIDIA H100 SXM 80G").status();
  absl::Status engine = catalogue.FindFramework("vlm").status();

  EXPECT_EQ(missing.code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.message(), HasSubstr("did you mean 'NVIDIA H100 SXM 80GB'"));
  EXPECT_THAT(engine.message(), HasSubstr("did you mean 'vllm'"));
}

TEST(CatalogueTest, LookupFindsWhatFindFindsAndMissesWithoutAnError) {
  const Catalogue catalogue = ShippedCatalogue();

  EXPECT_EQ(catalogue.LookupAccelerator("nvidia h100"), *catalogue.FindAccelerator("NVIDIA H100"));
  EXPECT_EQ(catalogue.LookupFramework("vllm-0.6.3"), *catalogue.FindFramework("vllm"));
  EXPECT_EQ(catalogue.LookupModel("Meta-Llama-3-8B"), nullptr);
  EXPECT_EQ(catalogue.LookupPrecision("fp5"), nullptr);
}

TEST(CatalogueTest, TheSpellingsOfOneGpuAreOneHardwareType) {
  const Catalogue catalogue = ShippedCatalogue();

  EXPECT_EQ(HardwareTypeOf("NVIDIA H100", &catalogue), "NVIDIA H100 SXM 80GB");
  EXPECT_EQ(HardwareTypeOf("NVIDIA H100-80GB (DGX-H100)", &catalogue), "NVIDIA H100 SXM 80GB");
  EXPECT_NE(HardwareTypeOf("NVIDIA H100-PCIe-80GB", &catalogue), "NVIDIA H100 SXM 80GB");
  // Without an entry (or a catalogue) only case and outer spaces are folded.
  EXPECT_EQ(HardwareTypeOf(" My GPU ", &catalogue), HardwareTypeOf("my gpu", &catalogue));
  EXPECT_EQ(HardwareTypeOf("NVIDIA H100", nullptr), HardwareTypeOf("nvidia h100", nullptr));
  EXPECT_NE(HardwareTypeOf("NVIDIA H100", nullptr), HardwareTypeOf("NVIDIA H100 80GB", nullptr));
}

TEST(CatalogueTest, AModelOfOneGpuUnderTwoSpellingsIsAtRiskWhenHardwareIsHeldOut) {
  const Catalogue catalogue = ShippedCatalogue();
  std::vector<BenchmarkRecord> records;
  for (const auto& [hardware, model] : std::vector<std::pair<std::string, std::string>>{
           {"NVIDIA H100", "org/one-gpu-model"},
           {"NVIDIA H100 80GB HBM3", "org/one-gpu-model"},
           {"NVIDIA H100", "org/two-gpu-model"},
           {"AMD MI300X", "org/two-gpu-model"}}) {
    BenchmarkRecord record;
    record.configuration = {hardware, 1, "vllm", model, "fp16"};
    records.push_back(record);
  }
  // new-hardware holds out both spellings of the H100 at once, leaving its model untrained.
  const std::vector<UnresolvedName> unresolved =
      FindUnresolvedNames(records, catalogue, NamesAtRisk::kEveryHardware);
  ASSERT_EQ(unresolved.size(), 1u);
  EXPECT_EQ(unresolved[0].name, "org/one-gpu-model");
  EXPECT_EQ(unresolved[0].rows, 2);
}

TEST(CatalogueTest, TwoNamesThatDifferOnlyInCaseAreRefused) {
  CatalogueFiles files = SmallFiles();
  files.aliases = "kind,alias,entry\naccelerator,gpu a,GPU A\n";

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "dir");

  EXPECT_EQ(catalogue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(catalogue.status().message(), HasSubstr("dir/aliases.csv:2"));
}

TEST(CatalogueTest, WithoutAFrameworksFileNoFrameworkIsKnown) {
  CatalogueFiles files = SmallFiles();
  files.frameworks.clear();

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "dir");

  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  EXPECT_EQ(catalogue->FindFramework("vllm").status().code(), absl::StatusCode::kNotFound);
}

TEST(CatalogueTest, ResolveNamesTheMissingPart) {
  const Catalogue catalogue = ShippedCatalogue();

  absl::StatusOr<ResolvedConfiguration> resolved =
      catalogue.Resolve({"NVIDIA H100", 1, "vllm", "acme/Unreleased-9B", "fp16"});

  EXPECT_EQ(resolved.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(resolved.status().message(), HasSubstr("model 'acme/Unreleased-9B'"));
}

TEST(CatalogueTest, LookupConfigurationFindsWhatResolveFindsAndNothingElse) {
  const Catalogue catalogue = ShippedCatalogue();
  const Configuration known{"AMD MI300X", 8, "vllm", "meta-llama/Llama-2-70b-chat-hf",
                            "Weight = fp16, KV Cache = fp8"};

  const std::optional<ResolvedConfiguration> looked_up = catalogue.LookupConfiguration(known);
  absl::StatusOr<ResolvedConfiguration> resolved = catalogue.Resolve(known);

  ASSERT_TRUE(looked_up.has_value());
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_EQ(looked_up->accelerator, resolved->accelerator);
  EXPECT_EQ(looked_up->model, resolved->model);
  EXPECT_EQ(looked_up->precision, resolved->precision);
  EXPECT_EQ(looked_up->num_gpus, 8);
  for (const Configuration& missing :
       {Configuration{"GPU 9000", 1, "vllm", "meta-llama/Llama-2-7b-hf", "fp16"},
        Configuration{"NVIDIA H100", 1, "vllm", "acme/Unreleased-9B", "fp16"},
        Configuration{"NVIDIA H100", 1, "vllm", "meta-llama/Llama-2-7b-hf", "unknown"}}) {
    EXPECT_FALSE(catalogue.LookupConfiguration(missing).has_value()) << missing.ToString();
    EXPECT_FALSE(catalogue.Resolve(missing).ok()) << missing.ToString();
  }
}

// Small files whose model stores its weights in bf16; `checkpoint` is its checkpoint_precision.
CatalogueFiles FilesWithCheckpointPrecision(const std::string& checkpoint) {
  CatalogueFiles files = SmallFiles();
  files.models =
      "name,parameters,active_parameters,layers,hidden_size,attention_heads,kv_heads,head_dim,"
      "kv_cache_elements_per_token_per_layer,experts,experts_per_token,vocabulary,"
      "checkpoint_precision,source\n"
      "org/model,8030261248,,32,4096,32,8,,,,,128256," +
      checkpoint + ",https://example.com/m\n";
  files.precisions += "bf16,2,2,bf16,https://example.com/b\n";
  return files;
}

TEST(CatalogueTest, ARunThatRecordsNoPrecisionReadsItsModelsCheckpoint) {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Parse(FilesWithCheckpointPrecision("bf16"), "cat");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();

  for (const char* unrecorded : {"na", "", " NA "}) {
    const Configuration run{"GPU A", 2, "vllm", "org/model", unrecorded};
    const PrecisionSpec* precision = catalogue->PrecisionOf(run);
    ASSERT_NE(precision, nullptr) << "'" << unrecorded << "'";
    EXPECT_EQ(precision->name, "bf16");
    absl::StatusOr<ResolvedConfiguration> resolved = catalogue->Resolve(run);
    ASSERT_TRUE(resolved.ok()) << resolved.status();
    EXPECT_EQ(resolved->precision, precision);
    ASSERT_TRUE(catalogue->LookupConfiguration(run).has_value());
    EXPECT_EQ(catalogue->EntryNamesOf(run).precision, "bf16");
  }
  // A named precision is the run's, never the checkpoint's; one the catalogue lacks stays unknown.
  EXPECT_EQ(catalogue->PrecisionOf({"GPU A", 1, "vllm", "org/model", "fp16"})->name, "fp16");
  EXPECT_EQ(catalogue->PrecisionOf({"GPU A", 1, "vllm", "org/model", "unknown"}), nullptr);
  EXPECT_FALSE(catalogue->Resolve({"GPU A", 1, "vllm", "org/model", "unknown"}).ok());
  // A model the catalogue lacks has no checkpoint to read.
  EXPECT_EQ(catalogue->PrecisionOf({"GPU A", 1, "vllm", "org/other", "na"}), nullptr);
}

TEST(CatalogueTest, WithoutACheckpointPrecisionARunThatRecordsNoneStaysUnknown) {
  // The column is optional (a bundle's stored catalogue may predate it), and may be empty.
  for (const CatalogueFiles& files : {SmallFiles(), FilesWithCheckpointPrecision("")}) {
    absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");
    ASSERT_TRUE(catalogue.ok()) << catalogue.status();
    const Configuration run{"GPU A", 1, "vllm", "org/model", "na"};

    EXPECT_EQ(catalogue->PrecisionOf(run), nullptr);
    EXPECT_FALSE(catalogue->LookupConfiguration(run).has_value());
    absl::StatusOr<ResolvedConfiguration> resolved = catalogue->Resolve(run);
    EXPECT_EQ(resolved.status().code(), absl::StatusCode::kNotFound);
    EXPECT_THAT(resolved.status().message(), HasSubstr("precision 'na'"));
  }
}

// An alias may be a checkpoint of the entry's architecture stored in another type (an FP8
// release): it reads its own checkpoint precision, or none, never its entry's.
TEST(CatalogueTest, AModelAliasReadsItsOwnCheckpointPrecisionNeverItsEntrys) {
  CatalogueFiles files = FilesWithCheckpointPrecision("bf16");
  files.precisions += "fp8,1,2,fp8,https://example.com/8\n";
  files.aliases =
      "kind,alias,entry,checkpoint_precision\n"
      "model,org/model-Instruct,org/model,bf16\n"
      "model,org/model-FP8,org/model,fp8\n"
      "model,org/model-Unchecked,org/model,\n";
  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  const auto checkpoint_of = [&](const std::string& model) {
    const PrecisionSpec* precision = catalogue->PrecisionOf({"GPU A", 1, "vllm", model, "na"});
    return precision == nullptr ? std::string("none") : precision->name;
  };

  EXPECT_EQ(checkpoint_of("org/model"), "bf16");
  EXPECT_EQ(checkpoint_of("ORG/model-instruct"), "bf16");
  EXPECT_EQ(checkpoint_of("org/model-FP8"), "fp8");
  EXPECT_EQ(checkpoint_of("org/model-Unchecked"), "none");
  // A named precision is still the run's own.
  EXPECT_EQ(catalogue->PrecisionOf({"GPU A", 1, "vllm", "org/model-FP8", "fp16"})->name, "fp16");
}

TEST(CatalogueTest, ABadAliasCheckpointPrecisionIsReportedWithFileAndLine) {
  CatalogueFiles files = FilesWithCheckpointPrecision("");
  files.aliases = "kind,alias,entry,checkpoint_precision\nmodel,org/model-FP8,org/model,fp12\n";
  CatalogueFiles on_hardware = FilesWithCheckpointPrecision("");
  on_hardware.aliases = "kind,alias,entry,checkpoint_precision\naccelerator,GPU B,GPU A,fp16\n";

  absl::StatusOr<Catalogue> unknown = Catalogue::Parse(files, "cat");
  absl::StatusOr<Catalogue> misplaced = Catalogue::Parse(on_hardware, "cat");

  EXPECT_EQ(unknown.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(unknown.status().message(),
              HasSubstr("cat/aliases.csv:2: checkpoint_precision: 'fp12' is not a precision"));
  EXPECT_EQ(misplaced.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(misplaced.status().message(),
              HasSubstr("cat/aliases.csv:2: checkpoint_precision: only a model alias has one"));
}

TEST(CatalogueTest, ACheckpointPrecisionTheCatalogueLacksIsRefused) {
  absl::StatusOr<Catalogue> catalogue =
      Catalogue::Parse(FilesWithCheckpointPrecision("fp12"), "cat");

  EXPECT_EQ(catalogue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(
      catalogue.status().message(),
      HasSubstr(
          "cat/models.csv: model 'org/model': checkpoint_precision: 'fp12' is not a precision"));
}

TEST(CatalogueTest, EveryRunOfTheDefaultDataThatRecordsNoPrecisionReadsItsCheckpoint) {
  const Catalogue catalogue = ShippedCatalogue();
  absl::StatusOr<CsvReadResult> data =
      ReadBenchmarkCsv(RepositoryRoot() + "/data/default_benchmarks.csv", BadRowPolicy::kSkip);
  ASSERT_TRUE(data.ok()) << data.status();

  int without_precision = 0;
  std::set<std::string> unread;
  for (const BenchmarkRecord& record : data->records) {
    if (!Catalogue::RecordsNoPrecision(record.configuration.precision)) continue;
    ++without_precision;
    if (catalogue.PrecisionOf(record.configuration) == nullptr) {
      unread.insert(record.configuration.model);
    }
  }

  EXPECT_GT(without_precision, 0);
  EXPECT_THAT(unread, IsEmpty());
}

TEST(CatalogueTest, CoversEveryHardwareAndModelOfTheDefaultData) {
  const Catalogue catalogue = ShippedCatalogue();
  absl::StatusOr<CsvReadResult> data =
      ReadBenchmarkCsv(RepositoryRoot() + "/data/default_benchmarks.csv", BadRowPolicy::kSkip);
  ASSERT_TRUE(data.ok()) << data.status();

  std::set<std::string> missing;
  for (const BenchmarkRecord& record : data->records) {
    const Configuration& c = record.configuration;
    if (!catalogue.FindAccelerator(c.hardware).ok()) missing.insert(c.hardware);
    if (!catalogue.FindModel(c.model).ok()) missing.insert(c.model);
  }

  EXPECT_THAT(missing, IsEmpty());
}

TEST(CatalogueTest, TheSoftwareStackIsOptionalAndShippedForEveryAcceleratorOfTheData) {
  // Without the column (kAccelerators) the stack is unknown, not an error.
  absl::StatusOr<Catalogue> small = Catalogue::Parse(SmallFiles(), "test");
  ASSERT_TRUE(small.ok()) << small.status();
  EXPECT_EQ((*small->FindAccelerator("GPU A"))->software_stack, "");

  const Catalogue shipped = ShippedCatalogue();
  EXPECT_EQ((*shipped.FindAccelerator("NVIDIA H100"))->software_stack, "CUDA");
  EXPECT_EQ((*shipped.FindAccelerator("AMD MI300X"))->software_stack, "ROCm");
  // One vendor, two stacks.
  EXPECT_EQ((*shipped.FindAccelerator("Intel Gaudi2"))->software_stack, "SynapseAI");
  EXPECT_EQ((*shipped.FindAccelerator("Intel Max 1550"))->software_stack, "oneAPI");
  for (const AcceleratorSpec& accelerator : shipped.accelerators()) {
    EXPECT_FALSE(accelerator.software_stack.empty()) << accelerator.name;
  }
}

TEST(CatalogueTest, ABadCellIsReportedWithFileAndLine) {
  CatalogueFiles files = SmallFiles();
  files.accelerators += "GPU B,lots,2000,312,,600,https://example.com/b\n";

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");

  EXPECT_EQ(catalogue.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(catalogue.status().message(),
              HasSubstr("cat/accelerators.csv:3: memory_gib: 'lots' is not a positive number"));
}

TEST(CatalogueTest, AFileSavedWithAByteOrderMarkReadsAsWithout) {
  CatalogueFiles files = SmallFiles();
  files.accelerators = "\xEF\xBB\xBF" + files.accelerators;

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");

  ASSERT_TRUE(catalogue.ok()) << catalogue.status();
  EXPECT_TRUE(catalogue->FindAccelerator("GPU A").ok());
}

TEST(CatalogueTest, ARowWithTheWrongFieldCountIsReportedWithFileAndLine) {
  CatalogueFiles files = SmallFiles();
  files.precisions += "\nint4,0.5,2,bf16\n";

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");

  EXPECT_THAT(catalogue.status().message(),
              HasSubstr("cat/precisions.csv:4: 4 fields where the header has 5"));
}

TEST(CatalogueTest, AnAliasToAMissingEntryIsReportedWithFileAndLine) {
  CatalogueFiles files = SmallFiles();
  files.aliases += "accelerator,\"GPU A, rev 2\",GPU Z\n";

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");

  EXPECT_THAT(catalogue.status().message(),
              HasSubstr("cat/aliases.csv:2: entry: no accelerator named 'GPU Z'"));
}

TEST(CatalogueTest, ARepeatedNameIsReportedWithBothLines) {
  CatalogueFiles files = SmallFiles();
  files.models += "org/model,7e9,,32,4096,32,8,,,,,32000,https://example.com/m2\n";

  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(files, "cat");

  EXPECT_THAT(catalogue.status().message(),
              HasSubstr("cat/models.csv:3: name: 'org/model' repeats cat/models.csv:2"));
}

TEST(CatalogueTest, AMissingFileIsNotFound) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Load(RepositoryRoot() + "/no-such-dir");

  EXPECT_EQ(catalogue.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(catalogue.status().message(), HasSubstr("accelerators.csv"));
}

TEST(CatalogueTest, KeepsTheTextItWasParsedFrom) {
  absl::StatusOr<Catalogue> catalogue = Catalogue::Parse(SmallFiles(), "");
  ASSERT_TRUE(catalogue.ok()) << catalogue.status();

  absl::StatusOr<Catalogue> again = Catalogue::Parse(catalogue->files(), "");

  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->files().accelerators, kAccelerators);
  EXPECT_EQ(again->models().size(), 1u);
}

TEST(CatalogueFilesTest, RoundTripKeepsTheTextVerbatim) {
  const CatalogueFiles files = SmallFiles();
  ByteWriter writer;
  files.EncodeTo(writer);
  const std::string bytes = writer.Take();

  ByteReader reader(bytes);
  const absl::StatusOr<CatalogueFiles> decoded = CatalogueFiles::DecodeFrom(reader);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(decoded->accelerators, files.accelerators);
  EXPECT_EQ(decoded->models, files.models);
  EXPECT_EQ(decoded->precisions, files.precisions);
  EXPECT_EQ(decoded->aliases, files.aliases);
  EXPECT_TRUE(reader.empty());
}

}  // namespace
}  // namespace perfcast
