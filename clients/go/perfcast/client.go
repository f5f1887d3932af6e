package perfcast

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"time"

	pb "perfcast/gen/perfcastv1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// Client calls one perfcast-server. Safe for concurrent use.
type Client struct {
	conn       *grpc.ClientConn
	prediction pb.PredictionServiceClient
	model      pb.ModelServiceClient
	health     healthpb.HealthClient
	settings   dialSettings
}

// Dial connects to target ("host:port", or any gRPC target name). It does not wait for the
// connection: the first calls retry (if safe) until the server answers or their deadline ends.
func Dial(target string, opts ...Option) (*Client, error) {
	settings := dialSettings{
		defaultTimeout:     DefaultTimeout,
		retry:              DefaultRetryPolicy,
		benchmarkChunkSize: 500,
	}
	for _, opt := range opts {
		opt(&settings)
	}
	if settings.retry.MaxAttempts < 1 {
		return nil, fmt.Errorf("perfcast: RetryPolicy.MaxAttempts must be >= 1, not %d",
			settings.retry.MaxAttempts)
	}
	if settings.benchmarkChunkSize < 1 {
		return nil, fmt.Errorf("perfcast: benchmark chunk size must be >= 1, not %d",
			settings.benchmarkChunkSize)
	}
	transport, err := transportCredentials(settings)
	if err != nil {
		return nil, err
	}
	dialOptions := []grpc.DialOption{
		grpc.WithTransportCredentials(transport),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(messageCodec{})),
	}
	if transport == nil {
		dialOptions[0] = grpc.WithInsecure()
	}
	if settings.token != "" {
		dialOptions = append(dialOptions,
			grpc.WithPerRPCCredentials(bearerToken{header: "Bearer " + settings.token}))
	}
	dialOptions = append(dialOptions, settings.extraDialOptions...)
	conn, err := grpc.Dial(target, dialOptions...)
	if err != nil {
		return nil, fmt.Errorf("perfcast: dial %s: %w", target, err)
	}
	return &Client{
		conn:       conn,
		prediction: pb.NewPredictionServiceClient(conn),
		model:      pb.NewModelServiceClient(conn),
		health:     healthpb.NewHealthClient(conn),
		settings:   settings,
	}, nil
}

// Close releases the connection; calls in flight fail CANCELED.
func (c *Client) Close() error { return c.conn.Close() }

// Whether repeating a call can change its outcome (see the package comment).
type repeatability bool

const (
	safeToRepeat   repeatability = true
	unsafeToRepeat repeatability = false
)

// Each RPC is one method over invoke, and its messages one alias line each in types.go. A new
// unary RPC (Plan was the last) is: the alias lines for its messages (PlanRequest, PlanResponse
// and every message and enum they hold), and
//
//	func (c *Client) Plan(ctx context.Context, req *PlanRequest,
//		opts ...CallOption) (*PlanResponse, error) {
//		return invoke(ctx, c, "Plan", safeToRepeat, c.prediction.Plan, req, opts)
//	}
//
// with safeToRepeat only if a repeat cannot change the outcome, a line in the package
// comment's retry list, and a test that it is (or is not) retried after UNAVAILABLE.

// Predict returns one Prediction per query, in query order, all from one model version.
func (c *Client) Predict(ctx context.Context, req *PredictRequest,
	opts ...CallOption) (*PredictResponse, error) {
	return invoke(ctx, c, "Predict", safeToRepeat, c.prediction.Predict, req, opts)
}

// Uncertainty says how far a query lies from the observed data and the error to expect there.
func (c *Client) Uncertainty(ctx context.Context, req *UncertaintyRequest,
	opts ...CallOption) (*UncertaintyResponse, error) {
	return invoke(ctx, c, "Uncertainty", safeToRepeat, c.prediction.Uncertainty, req, opts)
}

// SubmitBenchmark stores one result and replies once it is durable. Retried after UNAVAILABLE:
// the result's source_id makes a repeat a duplicate, so after a lost reply Duplicate may be true
// for a result this call stored.
func (c *Client) SubmitBenchmark(ctx context.Context, result *BenchmarkResult,
	opts ...CallOption) (*SubmitBenchmarkResponse, error) {
	return invoke(ctx, c, "SubmitBenchmark", safeToRepeat, c.model.SubmitBenchmark,
		&pb.SubmitBenchmarkRequest{Result: result}, opts)
}

// Refit starts a retrain now (or joins the one queued); with req.Wait it returns the new
// version once trained, so give it a Timeout longer than a training. Never retried.
func (c *Client) Refit(ctx context.Context, req *RefitRequest,
	opts ...CallOption) (*RefitResponse, error) {
	return invoke(ctx, c, "Refit", unsafeToRepeat, c.model.Refit, req, opts)
}

// GetModelStatus lists the model versions (newest first), the last refit and the store's counts.
func (c *Client) GetModelStatus(ctx context.Context, req *GetModelStatusRequest,
	opts ...CallOption) (*GetModelStatusResponse, error) {
	return invoke(ctx, c, "GetModelStatus", safeToRepeat, c.model.GetModelStatus, req, opts)
}

// ListModels lists the models the server hosts.
func (c *Client) ListModels(ctx context.Context, req *ListModelsRequest,
	opts ...CallOption) (*ListModelsResponse, error) {
	return invoke(ctx, c, "ListModels", safeToRepeat, c.model.ListModels, req, opts)
}

// Plan returns the cheapest configurations (or those with the fewest GPUs) that meet a demand
// and latency objectives at a confidence, ranked, one page of them (PageSize, PageToken), and on
// the first page why every other candidate was rejected. A read: retried after UNAVAILABLE.
func (c *Client) Plan(ctx context.Context, req *PlanRequest,
	opts ...CallOption) (*PlanResponse, error) {
	return invoke(ctx, c, "Plan", safeToRepeat, c.prediction.Plan, req, opts)
}

// ListConfigurations returns one page of the configurations the serving model was trained on.
func (c *Client) ListConfigurations(ctx context.Context, req *ListConfigurationsRequest,
	opts ...CallOption) (*ListConfigurationsResponse, error) {
	return invoke(ctx, c, "ListConfigurations", safeToRepeat, c.model.ListConfigurations, req,
		opts)
}

// AllConfigurations follows ListConfigurations' pages to the end. Each page gets the call
// options afresh (a Timeout bounds one page). A refit between pages makes the next page
// INVALID_ARGUMENT (its token is of another version); call again.
func (c *Client) AllConfigurations(ctx context.Context, spec *ModelSpec,
	opts ...CallOption) ([]*Configuration, error) {
	var all []*Configuration
	req := &ListConfigurationsRequest{ModelSpec: spec, PageSize: 1000}
	for {
		page, err := c.ListConfigurations(ctx, req, opts...)
		if err != nil {
			return nil, err
		}
		all = append(all, page.Configurations...)
		if page.NextPageToken == "" {
			return all, nil
		}
		req.PageToken = page.NextPageToken
	}
}

// unaryRPC is a generated client method: every unary call has this shape.
type unaryRPC[Request, Response any] func(context.Context, Request, ...grpc.CallOption) (
	Response, error)

// invoke runs one unary call under the client's deadline and retry rules.
func invoke[Request, Response any](ctx context.Context, c *Client, method string,
	repeat repeatability, rpc unaryRPC[Request, Response], req Request,
	opts []CallOption) (Response, error) {
	var response Response
	err := c.withRetries(ctx, method, repeat, opts, func(ctx context.Context) error {
		var err error
		response, err = rpc(ctx, req)
		return err
	})
	return response, err
}

// withRetries runs attempt until it succeeds, fails with a code other than UNAVAILABLE, the
// call is not safe to repeat, the attempts run out, or the deadline would pass while waiting.
func (c *Client) withRetries(ctx context.Context, method string, repeat repeatability,
	opts []CallOption, attempt func(context.Context) error) error {
	settings := callSettings{timeout: c.settings.defaultTimeout, retry: c.settings.retry}
	for _, opt := range opts {
		opt(&settings)
	}
	if settings.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, settings.timeout)
		defer cancel()
	}
	for attempts := 1; ; attempts++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		failure := newError(method, err, attempts)
		if repeat != safeToRepeat || failure.Code != codes.Unavailable ||
			attempts >= settings.retry.MaxAttempts {
			return failure
		}
		wait := settings.retry.backoff(attempts, drawJitter)
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) <= wait {
			return failure // the retry could not finish in time
		}
		if err := sleepUnlessDone(ctx, wait); err != nil {
			return &Error{Method: method, Code: codeOfContextError(err),
				Message:  "gave up waiting to retry after: " + failure.Message,
				Attempts: attempts, cause: err}
		}
	}
}

func codeOfContextError(err error) codes.Code {
	if errors.Is(err, context.DeadlineExceeded) {
		return codes.DeadlineExceeded
	}
	return codes.Canceled
}

func transportCredentials(s dialSettings) (credentials.TransportCredentials, error) {
	if (s.tlsCertFile == "") != (s.tlsKeyFile == "") {
		return nil, errors.New("perfcast: a client certificate needs both its file and its key")
	}
	if s.tlsCAFile == "" {
		if s.tlsCertFile != "" {
			return nil, errors.New("perfcast: WithClientCertificate needs WithTLS (mutual TLS " +
				"runs over TLS)")
		}
		return nil, nil
	}
	caPEM, err := os.ReadFile(s.tlsCAFile)
	if err != nil {
		return nil, fmt.Errorf("perfcast: TLS CA: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("perfcast: TLS CA %s holds no PEM certificate", s.tlsCAFile)
	}
	config := &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	if s.tlsCertFile != "" {
		certificate, err := tls.LoadX509KeyPair(s.tlsCertFile, s.tlsKeyFile)
		if err != nil {
			return nil, fmt.Errorf("perfcast: client certificate: %w", err)
		}
		config.Certificates = []tls.Certificate{certificate}
	}
	return credentials.NewTLS(config), nil
}
