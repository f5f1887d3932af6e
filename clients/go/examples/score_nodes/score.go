package main

import (
	"fmt"
	"math"
	"sort"

	"perfcast/go/perfcast"
)

// maxNodeScore is the top of a Kubernetes scheduler plugin's score range
// (framework.MaxNodeScore); NormalizeScore maps raw scores onto [0, maxNodeScore].
const maxNodeScore = 100

// candidate is one node offering a system (a configuration without its campaign).
type candidate struct {
	name          string
	configuration *perfcast.Configuration
}

// scoredNode is a candidate with the prediction for the workload and its score.
type scoredNode struct {
	candidate
	point *perfcast.CurvePoint
	// The lower end of the predicted throughput's interval in tokens/s; 0 when the batch does
	// not fit in memory: a scheduler must not pick a node that cannot run the workload.
	rawScore float64
	score    int64
}

// rawScore is the Score step: the throughput the node reaches with the asked confidence (the
// interval's lower end), so a well-measured node beats one whose estimate is high but unsure.
func rawScore(point *perfcast.CurvePoint) float64 {
	if point.MemoryFit == perfcast.MemoryFitDoesNotFit {
		return 0
	}
	return point.ThroughputLowerTokensPerSecond
}

// normalizeScores is the NormalizeScore step: the best node gets maxNodeScore, the others in
// proportion to their raw score, rounded down so that only the best reaches the top.
func normalizeScores(nodes []scoredNode) {
	best := 0.0
	for _, node := range nodes {
		best = math.Max(best, node.rawScore)
	}
	for i := range nodes {
		if best > 0 {
			nodes[i].score = int64(math.Floor(maxNodeScore * nodes[i].rawScore / best))
		} else {
			nodes[i].score = 0
		}
	}
}

// rank orders nodes best first; equal scores by raw score, then by name, so the table is the
// same on every run.
func rank(nodes []scoredNode) {
	sort.SliceStable(nodes, func(i, j int) bool {
		a, b := nodes[i], nodes[j]
		if a.score != b.score {
			return a.score > b.score
		}
		if a.rawScore != b.rawScore {
			return a.rawScore > b.rawScore
		}
		return a.name < b.name
	})
}

// systemName names a configuration's system: what a node offers.
func systemName(c *perfcast.Configuration) string {
	return fmt.Sprintf("%s x%d %s %s %s", c.Hardware, c.GpuCount, c.Framework, c.Model,
		c.Precision)
}
