// Package perfcast is a typed Go client for perfcast-server's gRPC API (perfcast.v1 in
// proto/perfcast/v1/perfcast.proto) and its standard health check.
//
//	client, err := perfcast.Dial("localhost:50051", perfcast.WithToken(token))
//	if err != nil { ... }
//	defer client.Close()
//	resp, err := client.Predict(ctx, &perfcast.PredictRequest{Queries: []*perfcast.Query{{
//		Configuration: &perfcast.Configuration{Hardware: "NVIDIA H100", GpuCount: 1,
//			Framework: "vllm", Model: "meta-llama/Meta-Llama-3-8B", Precision: "fp16"},
//		InputTokens: 1000, OutputTokens: 500, BatchSizes: []int32{1, 16, 64},
//	}}})
//
// Requests and responses are the messages generated from the proto, re-exported here under
// the same names, so a caller imports this package only.
//
// Deadlines: every call gets the client's default timeout (WithDefaultTimeout) unless the call
// passes Timeout, and never outlives the context's own deadline. The deadline covers all
// attempts of a call, backoff included.
//
// Retries: a call that fails UNAVAILABLE (no connection yet, the server starting or draining)
// is retried with exponential backoff and jitter (WithRetryPolicy), only when repeating it
// cannot change the outcome:
//
//	retried:     Predict, Uncertainty, Plan, GetModelStatus, ListModels, ListConfigurations,
//	             CheckHealth (read only); SubmitBenchmark and SubmitBenchmarks (every result
//	             carries an idempotency key, so a result stored by an attempt whose reply was
//	             lost comes back as a duplicate, never twice)
//	not retried: Refit (a repeat may start a second retrain once the first has finished)
//
// No other code is retried: INVALID_ARGUMENT, NOT_FOUND and the like will not change by asking
// again, and RESOURCE_EXHAUSTED (a per-caller limit) says when to try again, which is the
// caller's decision.
//
// Errors: every failed call returns an *Error with the gRPC code and the server's message
// (INVALID_ARGUMENT names the field and the value). status.Code(err) works on it directly;
// errors.As(err, &perr) or perfcast.Code(err) also work once the error has been wrapped.
//
// A Client is safe for concurrent use by many goroutines; one per server is enough.
package perfcast
