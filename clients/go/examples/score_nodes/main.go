// score_nodes scores candidate nodes for an LLM serving workload the way a Kubernetes scheduler
// plugin's Score and NormalizeScore steps would, from perfcast's predictions.
//
// Each configuration the serving model was trained on for the workload's model stands for a node
// offering that system (hardware, GPU count, serving stack, precision). A node's raw score is the
// lower end of the predicted throughput's interval at the asked confidence, 0 when the batch does
// not fit in the node's memory; normalized, the best node scores 100. Prints the ranked table.
//
//	perfcast-score-nodes --server 127.0.0.1:50051 --model meta-llama/Meta-Llama-3-8B \
//	    --input-tokens 1000 --output-tokens 500 --batch-size 16 --confidence 0.9
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"text/tabwriter"
	"time"

	"perfcast/go/perfcast"

	"google.golang.org/protobuf/proto"
)

// The server's default --max-queries-per-request is 1000; stay well under any lowered limit.
const queriesPerRequest = 100

type workload struct {
	model        string
	inputTokens  int32
	outputTokens int32
	batchSize    int32
	confidence   float64
	campaign     string
}

func main() {
	server := flag.String("server", "127.0.0.1:50051", "perfcast-server address")
	tlsCA := flag.String("tls-ca", "", "CA file of the server's certificate (TLS when set)")
	token := flag.String("token", os.Getenv("PERFCAST_TOKEN"),
		"bearer token (default $PERFCAST_TOKEN)")
	timeout := flag.Duration("timeout", 20*time.Second, "deadline of the whole scoring")
	var w workload
	flag.StringVar(&w.model, "model", "meta-llama/Meta-Llama-3-8B", "the model to serve")
	inputTokens := flag.Int("input-tokens", 1000, "prompt tokens per request")
	outputTokens := flag.Int("output-tokens", 500, "generated tokens per request")
	batchSize := flag.Int("batch-size", 16, "static batch size the workload runs at")
	flag.Float64Var(&w.confidence, "confidence", 0.9,
		"confidence of the throughput's lower bound, in (0, 1)")
	flag.StringVar(&w.campaign, "campaign", "",
		"predict as this campaign measures (default: the population of campaigns)")
	flag.Parse()
	w.inputTokens, w.outputTokens, w.batchSize =
		int32(*inputTokens), int32(*outputTokens), int32(*batchSize)

	var options []perfcast.Option
	if *tlsCA != "" {
		options = append(options, perfcast.WithTLS(*tlsCA))
	}
	if *token != "" {
		options = append(options, perfcast.WithToken(*token))
	}
	client, err := perfcast.Dial(*server, options...)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()

	nodes, err := scoreNodes(ctx, client, w)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if len(nodes) == 0 {
		fmt.Fprintf(os.Stderr, "no configuration of %s is known to the server\n", w.model)
		os.Exit(1)
	}
	printTable(os.Stdout, w, nodes)
}

// scoreNodes lists the candidates, predicts the workload on each and scores them, ranked.
func scoreNodes(ctx context.Context, client *perfcast.Client,
	w workload) ([]scoredNode, error) {
	configurations, err := client.AllConfigurations(ctx, nil)
	if err != nil {
		return nil, err
	}
	candidates := candidatesFor(configurations, w)
	nodes := make([]scoredNode, 0, len(candidates))
	for start := 0; start < len(candidates); start += queriesPerRequest {
		end := start + queriesPerRequest
		if end > len(candidates) {
			end = len(candidates)
		}
		request := &perfcast.PredictRequest{}
		for _, c := range candidates[start:end] {
			request.Queries = append(request.Queries, &perfcast.Query{
				Configuration:   c.configuration,
				InputTokens:     w.inputTokens,
				OutputTokens:    w.outputTokens,
				BatchSizes:      []int32{w.batchSize},
				ConfidenceLevel: proto.Float64(w.confidence),
			})
		}
		response, err := client.Predict(ctx, request)
		if err != nil {
			return nil, err
		}
		for i, prediction := range response.Predictions {
			point := prediction.Points[0]
			nodes = append(nodes, scoredNode{candidate: candidates[start+i], point: point,
				rawScore: rawScore(point)})
		}
	}
	normalizeScores(nodes)
	rank(nodes)
	return nodes, nil
}

// candidatesFor keeps one candidate per system of the workload's model. Several campaigns may
// have measured one system; the node is the system, and the query asks for the workload's
// campaign (or the population of campaigns).
func candidatesFor(configurations []*perfcast.Configuration, w workload) []candidate {
	seen := map[string]bool{}
	var candidates []candidate
	for _, c := range configurations {
		name := systemName(c)
		if c.Model != w.model || seen[name] {
			continue
		}
		seen[name] = true
		query := &perfcast.Configuration{Hardware: c.Hardware, GpuCount: c.GpuCount,
			Framework: c.Framework, Model: c.Model, Precision: c.Precision,
			BatchSemantics: perfcast.BatchSemanticsStatic}
		if w.campaign != "" {
			query.Campaign = proto.String(w.campaign)
		}
		candidates = append(candidates, candidate{name: name, configuration: query})
	}
	sort.Slice(candidates, func(i, j int) bool { return candidates[i].name < candidates[j].name })
	return candidates
}

func printTable(out io.Writer, w workload, nodes []scoredNode) {
	fmt.Fprintf(out, "%s, %d in / %d out tokens, batch %d: score from the %.0f%% lower bound\n",
		w.model, w.inputTokens, w.outputTokens, w.batchSize, 100*w.confidence)
	table := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(table, "rank\tscore\tlower tok/s\tpredicted tok/s\tupper tok/s\tcase\tmemory\t"+
		"node")
	for i, node := range nodes {
		p := node.point
		fmt.Fprintf(table, "%d\t%d\t%.1f\t%.1f\t%.1f\t%s\t%s\t%s\n", i+1, node.score,
			p.ThroughputLowerTokensPerSecond, p.ThroughputTokensPerSecond,
			p.ThroughputUpperTokensPerSecond, caseName(p.PredictionCase),
			memoryFitName(p.MemoryFit), node.name)
	}
	table.Flush()
}

func caseName(c perfcast.PredictionCase) string {
	switch c {
	case perfcast.PredictionCaseMeasured:
		return "measured"
	case perfcast.PredictionCaseInterpolated:
		return "interpolated"
	case perfcast.PredictionCaseExtrapolatedShape:
		return "extrapolated_shape"
	case perfcast.PredictionCaseExtrapolatedBatch:
		return "extrapolated_batch"
	case perfcast.PredictionCaseNewConfiguration:
		return "new_configuration"
	}
	return "unspecified"
}

func memoryFitName(f perfcast.MemoryFit) string {
	switch f {
	case perfcast.MemoryFitFits:
		return "fits"
	case perfcast.MemoryFitDoesNotFit:
		return "does_not_fit"
	case perfcast.MemoryFitUnknown:
		return "unknown"
	}
	return "unspecified"
}
