//go:build integration

package perfcast

// Against a real perfcast-server seeded with the default data's Meta-Llama-3-8B rows:
// `ctest --test-dir build -R integration.go_client` starts one and sets PERFCAST_SERVER (and
// PERFCAST_SCORE_NODES_BINARY, the example built beside it). Build tag `integration`, so that a
// plain `go test` runs only the tests that need no server.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// A curve of the seed data, measured at batch sizes 1 to 64 at these shapes.
var h100 = &Configuration{Hardware: "NVIDIA H100", GpuCount: 1, Framework: "vllm",
	Model: "meta-llama/Meta-Llama-3-8B", Precision: "fp16"}

func liveClient(t *testing.T) *Client {
	t.Helper()
	target := os.Getenv("PERFCAST_SERVER")
	if target == "" {
		t.Fatal("PERFCAST_SERVER is not set: run `ctest --test-dir build -R " +
			"integration.go_client`, or set it to a serving perfcast-server's HOST:PORT")
	}
	client, err := Dial(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func TestLiveHealthIsServing(t *testing.T) {
	client := liveClient(t)
	for _, service := range []string{"", PredictionServiceName, ModelServiceName} {
		serving, err := client.CheckHealth(context.Background(), service)
		if err != nil || serving != HealthServing {
			t.Errorf("health of %q: %v, %v; want SERVING", service, serving, err)
		}
	}
}

func TestLivePredictionLiesWithinItsInterval(t *testing.T) {
	client := liveClient(t)

	response, err := client.Predict(context.Background(), &PredictRequest{Queries: []*Query{{
		Configuration: h100, InputTokens: 128, OutputTokens: 128,
		BatchSizes: []int32{1, 8, 64}, ConfidenceLevel: proto.Float64(0.95),
	}}})

	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if response.ModelVersion < 1 || len(response.Predictions) != 1 {
		t.Fatalf("version %d with %d predictions, want >= 1 with 1", response.ModelVersion,
			len(response.Predictions))
	}
	prediction := response.Predictions[0]
	if math.Abs(prediction.ConfidenceLevel-0.95) > 1e-9 {
		t.Errorf("confidence level %v, want the 0.95 asked for", prediction.ConfidenceLevel)
	}
	if len(prediction.Points) != 3 {
		t.Fatalf("%d points, want one per batch size", len(prediction.Points))
	}
	for i, p := range prediction.Points {
		if p.BatchSize != []int32{1, 8, 64}[i] {
			t.Errorf("point %d is batch %d, want request order", i, p.BatchSize)
		}
		lower, value, upper := p.ThroughputLowerTokensPerSecond, p.ThroughputTokensPerSecond,
			p.ThroughputUpperTokensPerSecond
		if !(0 <= lower && lower <= value && value <= upper && value > 0) {
			t.Errorf("batch %d: want 0 <= lower <= value <= upper, value > 0; got %v <= %v <= %v",
				p.BatchSize, lower, value, upper)
		}
		if p.PredictionCase == 0 || p.MemoryFit != MemoryFitFits {
			t.Errorf("batch %d: case %v, memory %v; want a case and FITS (15 GiB of weights "+
				"on an 80 GB H100)", p.BatchSize, p.PredictionCase, p.MemoryFit)
		}
	}
	if first, last := prediction.Points[0], prediction.Points[2]; last.ThroughputTokensPerSecond <=
		first.ThroughputTokensPerSecond {
		t.Errorf("throughput at batch 64 (%v) not above batch 1 (%v) on a measured curve",
			last.ThroughputTokensPerSecond, first.ThroughputTokensPerSecond)
	}
}

func TestLiveInvalidArgumentKeepsItsCodeAndNamesTheField(t *testing.T) {
	client := liveClient(t)

	_, err := client.Predict(context.Background(), &PredictRequest{Queries: []*Query{{
		Configuration: h100, InputTokens: -5, OutputTokens: 128, BatchSizes: []int32{1},
	}}})

	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("want an *Error, got %T %v", err, err)
	}
	if perr.Code != codes.InvalidArgument || status.Code(err) != codes.InvalidArgument {
		t.Errorf("code %v (status.Code %v), want InvalidArgument", perr.Code, status.Code(err))
	}
	if !strings.Contains(perr.Message, "input_tokens") || !strings.Contains(perr.Message, "-5") {
		t.Errorf("message %q names neither the field nor the value", perr.Message)
	}
	if perr.Attempts != 1 {
		t.Errorf("%d attempts: INVALID_ARGUMENT must not be retried", perr.Attempts)
	}
}

func TestLiveUncertaintyOfAMeasuredCurve(t *testing.T) {
	client := liveClient(t)

	response, err := client.Uncertainty(context.Background(), &UncertaintyRequest{
		Query: &Query{Configuration: h100, InputTokens: 128, OutputTokens: 128,
			BatchSizes: []int32{16}},
		NeighborCount: 3,
	})

	if err != nil {
		t.Fatalf("Uncertainty: %v", err)
	}
	if response.SimilarityScore != 1 || response.PredictionCase != PredictionCaseMeasured {
		t.Errorf("similarity %v, case %v; want 1 and MEASURED on a measured curve",
			response.SimilarityScore, response.PredictionCase)
	}
	if len(response.NearestCurves) != 3 || response.NearestCurves[0].Distance != 0 {
		t.Errorf("nearest curves %v, want 3, the first at distance 0", response.NearestCurves)
	}
}

func TestLiveListModelsHasTheDefaultModel(t *testing.T) {
	client := liveClient(t)
	response, err := client.ListModels(context.Background(), &ListModelsRequest{})
	if err != nil || len(response.ModelNames) != 1 || response.ModelNames[0] != "" {
		t.Errorf("ListModels = %v, %v; want the one default model \"\"", response, err)
	}
}

// The hardware that the plan test prices: one the data know for the model, as ListConfigurations
// spells it.
const pricedHardware = "NVIDIA H100"

// A plan for Llama-3-8B at 5000 generated tokens/s with one hardware priced: every option is on
// that hardware, ranked by cost, its replicas carry the demand at the lower bound, and every
// other hardware is rejected for want of a price.
func TestLivePlanRanksThePricedHardwareByCost(t *testing.T) {
	client := liveClient(t)
	ctx := context.Background()
	configurations, err := client.AllConfigurations(ctx, nil)
	if err != nil {
		t.Fatalf("AllConfigurations: %v", err)
	}
	known := false
	for _, c := range configurations {
		known = known || (c.Model == h100.Model && c.Hardware == pricedHardware)
	}
	if !known {
		t.Fatalf("the serving model knows no %s configuration of %s among %d", pricedHardware,
			h100.Model, len(configurations))
	}
	const demand, price = 5000.0, 2.5

	response, err := client.Plan(ctx, &PlanRequest{
		Model:   h100.Model,
		Shapes:  []*RequestShape{{InputTokens: 1000, OutputTokens: 500}},
		Demand:  &PlanRequest_OutputTokensPerSecond{OutputTokensPerSecond: demand},
		Prices:  []*HardwarePrice{{Hardware: pricedHardware, UsdPerGpuHour: price}},
		Ranking: PlanRankingCost,
	}, Timeout(time.Minute))

	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if len(response.Options) == 0 {
		t.Fatalf("no options; rejected: %v", response.Rejected)
	}
	if response.DemandOutputTokensPerSecond != demand ||
		math.Abs(response.Confidence-0.9) > 1e-9 || response.ModelVersion < 1 {
		t.Errorf("demand %v, confidence %v, version %d; want %v, the default 0.9 and >= 1",
			response.DemandOutputTokensPerSecond, response.Confidence, response.ModelVersion,
			demand)
	}
	if int(response.TotalOptions) < len(response.Options) {
		t.Errorf("total_options %d < the %d options on the page", response.TotalOptions,
			len(response.Options))
	}
	previous := math.Inf(-1)
	for i, option := range response.Options {
		c, planned := option.Configuration, option.Planned
		where := fmt.Sprintf("option %d (%s x%d %s %s)", i, c.GetHardware(), c.GetGpuCount(),
			c.GetFramework(), c.GetPrecision())
		if planned == nil {
			t.Errorf("%s: no planned operating point", where)
			continue
		}
		if planned.CostPerHour < previous {
			t.Errorf("%s: cost %v/h after %v/h: not ranked by cost ascending", where,
				planned.CostPerHour, previous)
		}
		previous = planned.CostPerHour
		if option.UsdPerGpuHour == nil || *option.UsdPerGpuHour != price {
			t.Errorf("%s: price %v, want the %v given for %s", where, option.UsdPerGpuHour,
				price, pricedHardware)
		}
		capacity := float64(planned.Replicas) * planned.TokensPerSecondPerReplica
		if planned.Replicas < 1 || capacity < demand*(1-1e-9) {
			t.Errorf("%s: %d replicas x %v tokens/s = %v < the demand %v", where,
				planned.Replicas, planned.TokensPerSecondPerReplica, capacity, demand)
		}
		if !(planned.TokensPerSecondPerReplica > 0) || planned.TokensPerSecondPerReplica >
			option.PredictedTokensPerSecondPerReplica*(1+1e-9) {
			t.Errorf("%s: planned %v tokens/s per replica, want in (0, the prediction %v]: "+
				"at 90%% confidence the plan reads the lower bound", where,
				planned.TokensPerSecondPerReplica, option.PredictedTokensPerSecondPerReplica)
		}
		wantCost := float64(planned.Replicas) * float64(c.GetGpuCount()) * price
		if math.Abs(planned.CostPerHour-wantCost) > 1e-9*wantCost ||
			option.TotalGpus != planned.Replicas*int64(c.GetGpuCount()) {
			t.Errorf("%s: cost %v/h over %d GPUs, want replicas x GPUs x price = %v/h over %d",
				where, planned.CostPerHour, option.TotalGpus, wantCost,
				planned.Replicas*int64(c.GetGpuCount()))
		}
	}
	unpriced := 0
	for _, rejected := range response.Rejected {
		if rejected.Reason != CandidateRejectionNoPrice {
			continue
		}
		unpriced++
		if rejected.Configuration.GetHardware() == pricedHardware {
			t.Errorf("%s rejected for want of a price it was given: %v", pricedHardware,
				rejected)
		}
		if !strings.Contains(rejected.Detail, rejected.Configuration.GetHardware()) {
			t.Errorf("rejection detail %q does not name the hardware", rejected.Detail)
		}
	}
	if unpriced == 0 {
		t.Errorf("no candidate rejected with CANDIDATE_REJECTION_NO_PRICE: the data know more "+
			"hardware than %s; rejected: %v", pricedHardware, response.Rejected)
	}
}

func TestLivePlanInvalidConfidenceNamesTheField(t *testing.T) {
	client := liveClient(t)

	_, err := client.Plan(context.Background(), &PlanRequest{
		Model:      h100.Model,
		Shapes:     []*RequestShape{{InputTokens: 1000, OutputTokens: 500}},
		Demand:     &PlanRequest_OutputTokensPerSecond{OutputTokensPerSecond: 5000},
		Prices:     []*HardwarePrice{{Hardware: pricedHardware, UsdPerGpuHour: 2.5}},
		Confidence: proto.Float64(1.5),
	})

	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("want an *Error, got %T %v", err, err)
	}
	if perr.Code != codes.InvalidArgument || status.Code(err) != codes.InvalidArgument {
		t.Errorf("code %v (status.Code %v), want InvalidArgument", perr.Code, status.Code(err))
	}
	if !strings.Contains(perr.Message, "confidence") {
		t.Errorf("message %q does not name the field confidence", perr.Message)
	}
	if perr.Attempts != 1 {
		t.Errorf("%d attempts: INVALID_ARGUMENT must not be retried", perr.Attempts)
	}
}

// Submits a synthetic curve, sees it counted, refits and finds it among the configurations.
func TestLiveSubmitThenStatusThenRefit(t *testing.T) {
	client := liveClient(t)
	ctx := context.Background()
	// A made-up system that neither the catalogue nor the data knows: neither the physical
	// ceiling nor the quarantine applies to it.
	synthetic := &Configuration{Hardware: "GOTEST-GPU", GpuCount: 1, Framework: "goserve",
		Model: "gotest/model-7b", Precision: "fp16", Campaign: proto.String("gotest")}
	result := func(sourceID string, batchSize int32, throughput float64) *BenchmarkResult {
		return &BenchmarkResult{SourceId: sourceID, Configuration: synthetic, InputTokens: 128,
			OutputTokens: 128, BatchSize: batchSize, ThroughputTokensPerSecond: throughput}
	}
	before, err := client.GetModelStatus(ctx, &GetModelStatusRequest{})
	if err != nil {
		t.Fatalf("GetModelStatus: %v", err)
	}
	servingBefore := servingVersion(before)

	first, err := client.SubmitBenchmark(ctx, result("go-one", 1, 150))
	if err != nil || first.Duplicate || first.Quarantined {
		t.Fatalf("SubmitBenchmark = %v, %v; want stored", first, err)
	}
	again, err := client.SubmitBenchmark(ctx, result("go-one", 1, 150))
	if err != nil || !again.Duplicate {
		t.Errorf("the same result again = %v, %v; want a duplicate", again, err)
	}
	_, err = client.SubmitBenchmark(ctx, result("go-nan", 2, math.NaN()))
	if Code(err) != codes.InvalidArgument ||
		!strings.Contains(err.Error(), "throughput_tokens_per_second") {
		t.Errorf("a NaN throughput = %v, want INVALID_ARGUMENT naming the field", err)
	}
	stream := []*BenchmarkResult{result("go-stream", 2, 290), result("go-stream", 4, 560),
		result("go-stream", 8, math.NaN()), result("go-stream", 8, 1040),
		result("go-stream", 16, 1800)}
	submitted, err := client.SubmitBenchmarks(ctx, stream)
	if err != nil {
		t.Fatalf("SubmitBenchmarks: %v", err)
	}
	if submitted.AcceptedCount != 4 || submitted.RejectedCount != 1 ||
		len(submitted.Rejections) != 1 || submitted.Rejections[0].Index != 2 ||
		submitted.Rejections[0].Field != "throughput_tokens_per_second" {
		t.Errorf("stream: %v; want 4 accepted, result 2 rejected naming its field", submitted)
	}

	after, err := client.GetModelStatus(ctx, &GetModelStatusRequest{})
	if err != nil {
		t.Fatalf("GetModelStatus: %v", err)
	}
	if after.StoredResultCount != before.StoredResultCount+5 {
		t.Errorf("stored %d, want %d: five new results", after.StoredResultCount,
			before.StoredResultCount+5)
	}
	// The server counts results towards the next refit after their commit, which may come after
	// the acknowledgement: wait for the count rather than read it once.
	wantSinceRefit := before.ResultsSinceRefitCount + 5
	sinceRefit, err := waitForResultsSinceRefit(ctx, client, wantSinceRefit)
	if err != nil || sinceRefit != wantSinceRefit {
		t.Errorf("results since refit %d (%v), want %d", sinceRefit, err, wantSinceRefit)
	}

	refit, err := client.Refit(ctx, &RefitRequest{Wait: true, Reason: "go client test"},
		Timeout(2*time.Minute))
	if err != nil {
		t.Fatalf("Refit: %v", err)
	}
	if refit.ModelVersion <= servingBefore {
		t.Errorf("refit produced version %d, not newer than %d", refit.ModelVersion,
			servingBefore)
	}
	refitted, err := client.GetModelStatus(ctx, &GetModelStatusRequest{})
	if err != nil {
		t.Fatalf("GetModelStatus: %v", err)
	}
	if servingVersion(refitted) != refit.ModelVersion ||
		refitted.LastRefit.GetOutcome() != RefitOutcomeSucceeded {
		t.Errorf("serving %d after refit %v, want its version %d served and SUCCEEDED",
			servingVersion(refitted), refitted.LastRefit, refit.ModelVersion)
	}
	configurations, err := client.AllConfigurations(ctx, nil)
	if err != nil {
		t.Fatalf("AllConfigurations: %v", err)
	}
	found := false
	for _, c := range configurations {
		found = found || (c.Hardware == synthetic.Hardware && c.Model == synthetic.Model)
	}
	if !found {
		t.Errorf("%d configurations after the refit, none of them %s", len(configurations),
			synthetic.Hardware)
	}
}

// waitForResultsSinceRefit polls GetModelStatus until its results_since_refit_count reaches want
// or 10 s pass, and returns the last count.
func waitForResultsSinceRefit(ctx context.Context, client *Client, want int64) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		status, err := client.GetModelStatus(ctx, &GetModelStatusRequest{})
		if err != nil {
			return 0, err
		}
		if status.ResultsSinceRefitCount >= want {
			return status.ResultsSinceRefitCount, nil
		}
		if err := sleepUnlessDone(ctx, 20*time.Millisecond); err != nil {
			return status.ResultsSinceRefitCount, err
		}
	}
}

func servingVersion(status *GetModelStatusResponse) int64 {
	for _, version := range status.ModelVersionStatuses {
		if version.State == ModelStateAvailable {
			return version.Version
		}
	}
	return 0
}

// The example ranks the seed data's Llama-3-8B systems: the best scores 100, scores do not
// rise down the table, and each row's lower bound is at most its prediction.
func TestLiveScoreNodesExample(t *testing.T) {
	binary := os.Getenv("PERFCAST_SCORE_NODES_BINARY")
	if binary == "" {
		t.Fatal("PERFCAST_SCORE_NODES_BINARY is not set (ctest sets it to the built example)")
	}
	output, err := exec.Command(binary, "--server", os.Getenv("PERFCAST_SERVER"),
		"--model", h100.Model, "--input-tokens", "1000", "--output-tokens", "500",
		"--batch-size", "16", "--confidence", "0.9").CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", binary, err, output)
	}
	var rows [][]string
	for _, line := range strings.Split(string(output), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 8 && fields[0] == strconv.Itoa(len(rows)+1) {
			rows = append(rows, fields)
		}
	}
	if len(rows) < 5 {
		t.Fatalf("%d ranked rows, want the seed data's systems:\n%s", len(rows), output)
	}
	previous := math.Inf(1)
	for _, row := range rows {
		score, lower, predicted := parse(t, row[1]), parse(t, row[2]), parse(t, row[3])
		if score > previous || lower > predicted {
			t.Errorf("row %v: score rose down the table, or lower > predicted", row)
		}
		previous = score
	}
	if rows[0][1] != "100" {
		t.Errorf("the best node scores %s, want 100:\n%s", rows[0][1], output)
	}
}

func parse(t *testing.T, field string) float64 {
	t.Helper()
	value, err := strconv.ParseFloat(field, 64)
	if err != nil {
		t.Fatal(fmt.Errorf("column value %q: %w", field, err))
	}
	return value
}
