package perfcast

import (
	"context"
	"time"

	"google.golang.org/grpc"
)

// Option configures Dial.
type Option func(*dialSettings)

type dialSettings struct {
	tlsCAFile          string
	tlsCertFile        string
	tlsKeyFile         string
	token              string
	defaultTimeout     time.Duration
	retry              RetryPolicy
	extraDialOptions   []grpc.DialOption
	benchmarkChunkSize int
}

// DefaultTimeout bounds a call that sets no Timeout of its own. Refit with Wait trains a model
// (seconds to minutes): give it a Timeout.
const DefaultTimeout = 10 * time.Second

// WithTLS verifies the server's certificate against the PEM CA bundle in caFile (the CA the
// server's --tls-cert was issued by). Without it the connection is plaintext.
func WithTLS(caFile string) Option {
	return func(s *dialSettings) { s.tlsCAFile = caFile }
}

// WithClientCertificate presents this certificate to a server started with --tls-client-ca
// (mutual TLS; needs WithTLS).
func WithClientCertificate(certFile, keyFile string) Option {
	return func(s *dialSettings) { s.tlsCertFile, s.tlsKeyFile = certFile, keyFile }
}

// WithToken sends "authorization: Bearer token" with every call, as a server started with
// --auth-tokens expects. Use it with WithTLS: over plaintext the token can be read on the way
// (it is sent anyway, as the CLI and the Python client do, for servers on a trusted loopback).
func WithToken(token string) Option {
	return func(s *dialSettings) { s.token = token }
}

// WithDefaultTimeout replaces DefaultTimeout; 0 leaves calls bounded by their context only.
func WithDefaultTimeout(d time.Duration) Option {
	return func(s *dialSettings) { s.defaultTimeout = d }
}

// WithRetryPolicy replaces DefaultRetryPolicy.
func WithRetryPolicy(p RetryPolicy) Option {
	return func(s *dialSettings) { s.retry = p }
}

// WithBenchmarkChunkSize sets how many results SubmitBenchmarks sends per stream message
// (default 500; the server's --max-stream-results bounds a whole stream, not a message).
func WithBenchmarkChunkSize(n int) Option {
	return func(s *dialSettings) { s.benchmarkChunkSize = n }
}

// WithDialOptions passes options through to grpc.Dial (a custom dialer, keepalive, interceptors).
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(s *dialSettings) { s.extraDialOptions = append(s.extraDialOptions, opts...) }
}

// CallOption adjusts one call.
type CallOption func(*callSettings)

type callSettings struct {
	timeout time.Duration
	retry   RetryPolicy
}

// Timeout bounds this call, all its attempts included (0: the context's deadline only).
func Timeout(d time.Duration) CallOption {
	return func(s *callSettings) { s.timeout = d }
}

// NoRetry makes this call once, whatever it fails with.
func NoRetry() CallOption {
	return func(s *callSettings) { s.retry.MaxAttempts = 1 }
}

// bearerToken implements credentials.PerRPCCredentials.
type bearerToken struct{ header string }

func (b bearerToken) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": b.header}, nil
}

// RequireTransportSecurity is false so that a token also reaches a plaintext server (see
// WithToken).
func (bearerToken) RequireTransportSecurity() bool { return false }
