#include "clients/cli/plan_command.h"

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "clients/remote/plan_printer.h"
#include "core/bundle/model_bundle.h"
#include "core/data/csv_reader.h"
#include "core/plan/planner.h"
#include "core/plan/price_list.h"
#include "proto/convert/configuration_conversion.h"
#include "proto/convert/plan_conversion.h"

namespace perfcast {

const char kPlanHelp[] = R"(usage: perfcast plan (--server HOST:PORT | --bundle DIR [--prices CSV])
           --model M (--input-tokens I --output-tokens O | --shape I:O[:WEIGHT] ...)
           (--demand-tokens-per-s D | --demand-requests-per-s R)
           [--ttft-s S] [--itl-s S] [--batch-latency-s S] [--confidence 0.9]
           [--precision P[,P...]] [--hardware H ...] [--framework F ...] [--max-gpus N]
           [--candidates CSV] [--price HARDWARE=USD ...] [--rank cost|gpus]
           [--batch-size B[,B...]] [--batch-semantics static|concurrency] [--campaign NAME]
           [--limit 10] [--page-token T] [--json]

The cheapest configurations that serve the demand within the latency objectives with the
stated confidence: for each candidate, the batch size (or concurrency) that needs the fewest
replicas, judged by the lower bound of throughput and the upper bounds of latency at
--confidence; ranked by dollars per hour (--rank cost, the default) or GPUs; beside each, the
plan that the point predictions alone would give; then every rejected candidate with its reason.
  --shape I:O[:W]       a request shape of the mix and its share of requests (repeat it)
  --ttft-s, --itl-s     objectives on the mean TTFT and inter-token latency (upper bound)
  --batch-latency-s     objective on output tokens x batch / throughput
  --hardware, --framework, --max-gpus, --precision
                        narrow the enumerated candidates (every hardware x GPU count x framework
                        x precision the data know for the model)
  --candidates CSV      explicit candidates instead (columns hardware, num_gpus, framework,
                        precision, and model unless --model is the one)
  --price H=USD         dollars per GPU-hour of hardware H (repeat it); over the server's --prices
  --prices CSV          a price list (columns hardware, usd_per_gpu_hour), sent with the request
                        (or, with --bundle, the list the plan reads)
  --limit N             options per page (default 10)
)";

namespace {

absl::StatusOr<std::string> ReadText(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("--", flag, "=", path, ": cannot be read"));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Explicit candidates: one configuration per row; `model` is the column's or --model.
absl::Status ReadCandidates(const std::string& path, const std::string& model,
                            v1::PlanRequest* request) {
  absl::StatusOr<std::string> text = ReadText("candidates", path);
  if (!text.ok()) return text.status();
  CsvReader reader(*text);
  CsvRecord record;
  if (!reader.Next(record)) return absl::InvalidArgumentError(absl::StrCat(path, ": empty"));
  std::map<std::string, size_t> column;
  for (size_t i = 0; i < record.fields.size(); ++i) column[record.fields[i]] = i;
  for (const char* needed : {"hardware", "num_gpus", "framework", "precision"}) {
    if (!column.contains(needed)) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ":", record.line, ": the header needs the column ", needed));
    }
  }
  while (reader.Next(record)) {
    const auto field = [&](const std::string& name) -> std::string {
      auto it = column.find(name);
      return it != column.end() && it->second < record.fields.size() ? record.fields[it->second]
                                                                     : std::string();
    };
    v1::Configuration* c = request->add_candidates();
    c->set_hardware(field("hardware"));
    int gpus = 0;
    if (!absl::SimpleAtoi(field("num_gpus"), &gpus)) {
      return absl::InvalidArgumentError(absl::StrCat(path, ":", record.line, ": num_gpus '",
                                                     field("num_gpus"), "' is not an integer"));
    }
    c->set_gpu_count(gpus);
    c->set_framework(field("framework"));
    c->set_precision(field("precision"));
    c->set_model(field("model").empty() ? model : field("model"));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::PlanRequest> PlanRequestFrom(const CommandLine& line) {
  v1::PlanRequest request;
  absl::StatusOr<std::string> model = line.Required("model");
  if (!model.ok()) return model.status();
  request.set_model(*model);
  if (line.Has("precision")) {
    for (absl::string_view p : absl::StrSplit(line.Get("precision"), ',', absl::SkipEmpty())) {
      request.add_precisions(std::string(p));
    }
  }
  for (const std::string& shape : line.GetAll("shape")) {
    std::vector<std::string> parts = absl::StrSplit(shape, ':');
    v1::RequestShape* s = request.add_shapes();
    int input = 0;
    int output = 0;
    double weight = 0;
    if (parts.size() < 2 || parts.size() > 3 || !absl::SimpleAtoi(parts[0], &input) ||
        !absl::SimpleAtoi(parts[1], &output) ||
        (parts.size() == 3 && !absl::SimpleAtod(parts[2], &weight))) {
      return absl::InvalidArgumentError(
          absl::StrCat("--shape=", shape, ": expected INPUT:OUTPUT or INPUT:OUTPUT:WEIGHT"));
    }
    s->set_input_tokens(input);
    s->set_output_tokens(output);
    if (parts.size() == 3) s->set_weight(weight);
  }
  if (line.Has("input-tokens") || line.Has("output-tokens")) {
    absl::StatusOr<int> input = line.GetInt("input-tokens", 0);
    absl::StatusOr<int> output = line.GetInt("output-tokens", 0);
    if (!input.ok()) return input.status();
    if (!output.ok()) return output.status();
    v1::RequestShape* s = request.add_shapes();
    s->set_input_tokens(*input);
    s->set_output_tokens(*output);
  }
  if (line.Has("demand-tokens-per-s") == line.Has("demand-requests-per-s")) {
    return absl::InvalidArgumentError(
        "give one of --demand-tokens-per-s and --demand-requests-per-s");
  }
  if (line.Has("demand-tokens-per-s")) {
    absl::StatusOr<double> demand = line.GetDouble("demand-tokens-per-s", 0);
    if (!demand.ok()) return demand.status();
    request.set_output_tokens_per_second(*demand);
  } else {
    absl::StatusOr<double> demand = line.GetDouble("demand-requests-per-s", 0);
    if (!demand.ok()) return demand.status();
    request.set_requests_per_second(*demand);
  }
  for (const auto& [flag, set] :
       std::vector<std::pair<std::string, void (v1::LatencyObjectives::*)(double)>>{
           {"ttft-s", &v1::LatencyObjectives::set_ttft_seconds},
           {"itl-s", &v1::LatencyObjectives::set_itl_seconds},
           {"batch-latency-s", &v1::LatencyObjectives::set_batch_latency_seconds}}) {
    if (!line.Has(flag)) continue;
    absl::StatusOr<double> value = line.GetDouble(flag, 0);
    if (!value.ok()) return value.status();
    (request.mutable_slo()->*set)(*value);
  }
  if (line.Has("confidence")) {
    absl::StatusOr<double> confidence = line.GetDouble("confidence", 0.9);
    if (!confidence.ok()) return confidence.status();
    request.set_confidence(*confidence);
  }
  for (const std::string& h : line.GetAll("hardware")) request.mutable_filter()->add_hardware(h);
  for (const std::string& f : line.GetAll("framework")) request.mutable_filter()->add_frameworks(f);
  absl::StatusOr<int> max_gpus = line.GetInt("max-gpus", 0);
  if (!max_gpus.ok()) return max_gpus.status();
  request.mutable_filter()->set_max_gpu_count(*max_gpus);
  if (line.Has("candidates")) {
    if (absl::Status read = ReadCandidates(line.Get("candidates"), *model, &request); !read.ok()) {
      return read;
    }
  }
  for (const std::string& price : line.GetAll("price")) {
    const size_t eq = price.rfind('=');
    double usd = 0;
    if (eq == std::string::npos || !absl::SimpleAtod(price.substr(eq + 1), &usd)) {
      return absl::InvalidArgumentError(
          absl::StrCat("--price=", price, ": expected HARDWARE=USD_PER_GPU_HOUR"));
    }
    v1::HardwarePrice* p = request.add_prices();
    p->set_hardware(price.substr(0, eq));
    p->set_usd_per_gpu_hour(usd);
  }
  const std::string rank = line.Get("rank", "cost");
  if (rank == "cost") {
    request.set_ranking(v1::PLAN_RANKING_COST);
  } else if (rank == "gpus") {
    request.set_ranking(v1::PLAN_RANKING_GPUS);
  } else {
    return absl::InvalidArgumentError(absl::StrCat("--rank=", rank, ": must be cost or gpus"));
  }
  if (line.Has("batch-size")) {
    absl::StatusOr<std::vector<int>> batches = line.GetIntList("batch-size");
    if (!batches.ok()) return batches.status();
    for (int b : *batches) request.add_batch_sizes(b);
  }
  if (line.Has("batch-semantics")) {
    std::optional<BatchSemantics> semantics = BatchSemanticsFromName(line.Get("batch-semantics"));
    if (!semantics.has_value()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--batch-semantics=", line.Get("batch-semantics"), ": must be static or concurrency"));
    }
    request.set_batch_semantics(BatchSemanticsToProto(*semantics));
  }
  if (line.Has("campaign")) request.set_campaign(line.Get("campaign"));
  absl::StatusOr<int> limit = line.GetInt("limit", 10);
  if (!limit.ok()) return limit.status();
  if (*limit < 1 || *limit > 1000) {
    return absl::InvalidArgumentError(absl::StrCat("--limit=", *limit, ": must be in [1, 1000]"));
  }
  request.set_page_size(*limit);
  request.set_page_token(line.Get("page-token"));
  return request;
}

// With a bundle: the server's checks and answer, computed here (one page, no token).
absl::StatusOr<v1::PlanResponse> PlanFromBundle(const CommandLine& line,
                                                const v1::PlanRequest& request) {
  absl::StatusOr<std::string> bundle = line.Required("bundle");
  if (!bundle.ok()) return absl::InvalidArgumentError("--bundle or --server is required");
  PlanRequest plan;
  if (auto error = PlanRequestFromProto(request, &plan)) {
    return absl::InvalidArgumentError(error->message);
  }
  PriceList prices;
  if (line.Has("prices")) {
    absl::StatusOr<PriceList> read = PriceList::ReadCsv(line.Get("prices"));
    if (!read.ok()) return read.status();
    prices = *std::move(read);
  }
  if (!request.page_token().empty()) {
    return absl::InvalidArgumentError(
        "--page-token pages a server's answer; with --bundle, raise "
        "--limit instead");
  }
  absl::StatusOr<std::shared_ptr<const PerfcastModel>> model = LoadBundle(*bundle);
  if (!model.ok()) return model.status();
  if (absl::Status spellings = prices.CheckSpellings((*model)->catalogue()); !spellings.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--prices=", line.Get("prices"), ": ", spellings.message()));
  }
  absl::StatusOr<PlanResult> result = MakePlan(**model, prices, plan, PlanLimits{});
  if (!result.ok()) return result.status();
  v1::PlanResponse response;
  PlanResultToProto(*result, 0, static_cast<size_t>(request.page_size()), &response);
  response.set_confidence(plan.confidence);
  return response;
}

}  // namespace

absl::Status RunPlan(const CommandLine& line, const std::optional<RemoteTarget>& server,
                     std::ostream& out) {
  absl::StatusOr<v1::PlanRequest> request = PlanRequestFrom(line);
  if (!request.ok()) return request.status();
  absl::StatusOr<v1::PlanResponse> response;
  if (server) {
    if (line.Has("prices")) {
      absl::StatusOr<PriceList> parsed = PriceList::ReadCsv(line.Get("prices"));
      if (!parsed.ok()) return parsed.status();
      // Sent as the request's own prices; a --price entry goes over the list's.
      std::set<std::string> given;
      for (const v1::HardwarePrice& p : request->prices()) given.insert(p.hardware());
      for (const PriceList::Entry& entry : parsed->entries()) {
        if (given.contains(entry.hardware)) continue;
        v1::HardwarePrice* p = request->add_prices();
        p->set_hardware(entry.hardware);
        p->set_usd_per_gpu_hour(entry.usd_per_gpu_hour);
      }
    }
    response = RemotePlan(*server, *request);
  } else {
    response = PlanFromBundle(line, *request);
  }
  if (!response.ok()) return response.status();
  if (line.Has("json")) return PrintJson(*response, out);
  out << FormatPlanTable(*response);
  return absl::OkStatus();
}

}  // namespace perfcast
