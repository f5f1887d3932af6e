package main

import (
	"testing"

	"perfcast/go/perfcast"
)

func point(lower float64, fit perfcast.MemoryFit) *perfcast.CurvePoint {
	return &perfcast.CurvePoint{ThroughputLowerTokensPerSecond: lower,
		ThroughputTokensPerSecond: 2 * lower, ThroughputUpperTokensPerSecond: 4 * lower,
		MemoryFit: fit}
}

func TestANodeWhereTheBatchDoesNotFitScoresZero(t *testing.T) {
	if got := rawScore(point(500, perfcast.MemoryFitDoesNotFit)); got != 0 {
		t.Errorf("raw score %v, want 0", got)
	}
	if got := rawScore(point(500, perfcast.MemoryFitUnknown)); got != 500 {
		t.Errorf("unknown fit: raw score %v, want the lower bound 500", got)
	}
}

func TestScoresAreNormalizedToTheBestAndRanked(t *testing.T) {
	nodes := []scoredNode{
		{candidate: candidate{name: "c"}, rawScore: 0},
		{candidate: candidate{name: "b"}, rawScore: 999},
		{candidate: candidate{name: "a"}, rawScore: 1000},
		{candidate: candidate{name: "d"}, rawScore: 1000},
		{candidate: candidate{name: "e"}, rawScore: 333.9},
	}

	normalizeScores(nodes)
	rank(nodes)

	want := []struct {
		name  string
		score int64
	}{{"a", 100}, {"d", 100}, {"b", 99}, {"e", 33}, {"c", 0}}
	for i, w := range want {
		if nodes[i].name != w.name || nodes[i].score != w.score {
			t.Fatalf("ranked %+v, want %+v", nodes, want)
		}
	}
}

func TestNoNodeFitsScoresAllZero(t *testing.T) {
	nodes := []scoredNode{{rawScore: 0}, {rawScore: 0}}
	normalizeScores(nodes)
	if nodes[0].score != 0 || nodes[1].score != 0 {
		t.Errorf("scores %d %d, want 0 0", nodes[0].score, nodes[1].score)
	}
}

func TestOneCandidatePerSystemOfTheModel(t *testing.T) {
	measuredTwice := func(campaign string) *perfcast.Configuration {
		return &perfcast.Configuration{Hardware: "NVIDIA H100", GpuCount: 1, Framework: "vllm",
			Model: "m", Precision: "fp16", Campaign: &campaign}
	}
	other := &perfcast.Configuration{Hardware: "NVIDIA A100", GpuCount: 2, Framework: "vllm",
		Model: "other-model", Precision: "fp16"}

	candidates := candidatesFor(
		[]*perfcast.Configuration{measuredTwice("x"), other, measuredTwice("y")},
		workload{model: "m"})

	if len(candidates) != 1 || candidates[0].name != "NVIDIA H100 x1 vllm m fp16" {
		t.Fatalf("candidates %+v, want the one H100 system of model m", candidates)
	}
	if candidates[0].configuration.Campaign != nil {
		t.Errorf("campaign %q, want none: the population of campaigns",
			*candidates[0].configuration.Campaign)
	}
}
