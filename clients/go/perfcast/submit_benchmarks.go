package perfcast

import (
	"context"
	"io"

	pb "perfcast/gen/perfcastv1"
)

// SubmitBenchmarks streams results to the server in chunks (WithBenchmarkChunkSize) and returns
// its one reply, sent once every accepted result is durable. Invalid results are rejected one by
// one (Rejections, indexed over the whole slice) without ending the stream.
//
// Retried after UNAVAILABLE by sending the whole slice again: results are keyed by source_id, so
// those an interrupted attempt stored count as duplicates in the reply, never as two results.
func (c *Client) SubmitBenchmarks(ctx context.Context, results []*BenchmarkResult,
	opts ...CallOption) (*SubmitBenchmarksResponse, error) {
	var response *SubmitBenchmarksResponse
	err := c.withRetries(ctx, "SubmitBenchmarks", safeToRepeat, opts,
		func(ctx context.Context) error {
			var err error
			response, err = c.streamBenchmarks(ctx, results)
			return err
		})
	return response, err
}

func (c *Client) streamBenchmarks(ctx context.Context,
	results []*BenchmarkResult) (*SubmitBenchmarksResponse, error) {
	// Ending the context on return also ends a stream abandoned after a failed Send.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := c.model.SubmitBenchmarks(ctx)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(results); start += c.settings.benchmarkChunkSize {
		end := start + c.settings.benchmarkChunkSize
		if end > len(results) {
			end = len(results)
		}
		// Send returns io.EOF when the server has ended the stream; its status comes from
		// CloseAndRecv.
		if err := stream.Send(&pb.SubmitBenchmarksRequest{Results: results[start:end]}); err != nil {
			if err == io.EOF {
				break
			}
			return nil, err
		}
	}
	return stream.CloseAndRecv()
}
