package perfcast

// Tests of the client's own rules (retries, deadlines, errors, token, TLS, codec) against an
// in-process fake server on loopback; integration_test.go drives a real perfcast-server.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	pb "perfcast/gen/perfcastv1"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// quickRetries keeps the fake tests fast; the waits themselves are tested in
// TestBackoffGrowsToItsCap.
var quickRetries = RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Millisecond,
	MaxBackoff: 4 * time.Millisecond, Multiplier: 2}

// fakeServer answers from the functions a test sets and counts the calls it got.
type fakeServer struct {
	pb.UnimplementedPredictionServiceServer
	pb.UnimplementedModelServiceServer

	predict          func(ctx context.Context, call int) (*pb.PredictResponse, error)
	plan             func(req *pb.PlanRequest, call int) (*pb.PlanResponse, error)
	refit            func(call int) (*pb.RefitResponse, error)
	submitBenchmarks func(stream pb.ModelService_SubmitBenchmarksServer, call int) error

	// Set by startFake; says SERVING for PredictionServiceName.
	health *health.Server

	mu    sync.Mutex
	calls map[string]int
}

func (f *fakeServer) count(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
	return f.calls[method]
}

func (f *fakeServer) callsOf(method string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[method]
}

func (f *fakeServer) Predict(ctx context.Context, _ *pb.PredictRequest) (*pb.PredictResponse,
	error) {
	return f.predict(ctx, f.count("Predict"))
}

func (f *fakeServer) Plan(_ context.Context, req *pb.PlanRequest) (*pb.PlanResponse, error) {
	return f.plan(req, f.count("Plan"))
}

func (f *fakeServer) Refit(context.Context, *pb.RefitRequest) (*pb.RefitResponse, error) {
	return f.refit(f.count("Refit"))
}

func (f *fakeServer) SubmitBenchmarks(stream pb.ModelService_SubmitBenchmarksServer) error {
	return f.submitBenchmarks(stream, f.count("SubmitBenchmarks"))
}

// startFake serves f (and a health service saying SERVING) on a loopback port until the test
// ends; creds nil: plaintext.
func startFake(t *testing.T, f *fakeServer, creds credentials.TransportCredentials) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The same codec as the client's: grpc-go 1.33's default one cannot handle these messages.
	options := []grpc.ServerOption{grpc.CustomCodec(messageCodec{})}
	if creds != nil {
		options = append(options, grpc.Creds(creds))
	}
	server := grpc.NewServer(options...)
	pb.RegisterPredictionServiceServer(server, f)
	pb.RegisterModelServiceServer(server, f)
	f.health = health.NewServer()
	f.health.SetServingStatus(PredictionServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(server, f.health)
	go server.Serve(listener)
	t.Cleanup(server.Stop)
	return listener.Addr().String()
}

func dialFake(t *testing.T, address string, opts ...Option) *Client {
	t.Helper()
	client, err := Dial(address, append([]Option{WithRetryPolicy(quickRetries)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return client
}

func unavailable() error { return status.Error(codes.Unavailable, "model loading") }

func TestReadsAreRetriedAfterUnavailable(t *testing.T) {
	fake := &fakeServer{predict: func(_ context.Context, call int) (*pb.PredictResponse, error) {
		if call < 3 {
			return nil, unavailable()
		}
		return &pb.PredictResponse{ModelVersion: 7}, nil
	}}
	client := dialFake(t, startFake(t, fake, nil))

	response, err := client.Predict(context.Background(), &PredictRequest{})

	if err != nil {
		t.Fatalf("Predict: %v", err)
	}
	if response.ModelVersion != 7 || fake.callsOf("Predict") != 3 {
		t.Errorf("version %d after %d calls, want 7 after 3", response.ModelVersion,
			fake.callsOf("Predict"))
	}
}

func TestPlanIsRetriedAfterUnavailable(t *testing.T) {
	fake := &fakeServer{plan: func(req *pb.PlanRequest, call int) (*pb.PlanResponse, error) {
		if call < 3 {
			return nil, unavailable()
		}
		// The request arrives whole on the last attempt too.
		return &pb.PlanResponse{ModelVersion: 4,
			DemandOutputTokensPerSecond: req.GetOutputTokensPerSecond()}, nil
	}}
	client := dialFake(t, startFake(t, fake, nil))

	response, err := client.Plan(context.Background(), &PlanRequest{
		Model:  "meta-llama/Meta-Llama-3-8B",
		Demand: &PlanRequest_OutputTokensPerSecond{OutputTokensPerSecond: 5000},
	})

	if err != nil {
		t.Fatalf("Plan: %v", err)
	}
	if response.ModelVersion != 4 || response.DemandOutputTokensPerSecond != 5000 ||
		fake.callsOf("Plan") != 3 {
		t.Errorf("version %d, demand %v after %d calls; want 4, 5000 after 3",
			response.ModelVersion, response.DemandOutputTokensPerSecond, fake.callsOf("Plan"))
	}
}

func TestPlanInvalidArgumentIsNotRetried(t *testing.T) {
	fake := &fakeServer{plan: func(*pb.PlanRequest, int) (*pb.PlanResponse, error) {
		return nil, status.Error(codes.InvalidArgument, "confidence=1.5: must be in (0, 1)")
	}}
	client := dialFake(t, startFake(t, fake, nil))

	_, err := client.Plan(context.Background(), &PlanRequest{})

	if Code(err) != codes.InvalidArgument || fake.callsOf("Plan") != 1 {
		t.Errorf("got %v after %d calls, want INVALID_ARGUMENT after 1", err,
			fake.callsOf("Plan"))
	}
}

func TestRetriesStopAtMaxAttempts(t *testing.T) {
	fake := &fakeServer{predict: func(context.Context, int) (*pb.PredictResponse, error) {
		return nil, unavailable()
	}}
	client := dialFake(t, startFake(t, fake, nil))

	_, err := client.Predict(context.Background(), &PredictRequest{})

	var perr *Error
	if !errors.As(err, &perr) || perr.Code != codes.Unavailable {
		t.Fatalf("want an *Error UNAVAILABLE, got %v", err)
	}
	if perr.Attempts != quickRetries.MaxAttempts ||
		fake.callsOf("Predict") != quickRetries.MaxAttempts {
		t.Errorf("attempts %d, server calls %d, want %d", perr.Attempts, fake.callsOf("Predict"),
			quickRetries.MaxAttempts)
	}
	if perr.Message != "model loading" {
		t.Errorf("message %q, want the server's", perr.Message)
	}
}

func TestRefitIsNeverRetried(t *testing.T) {
	fake := &fakeServer{refit: func(int) (*pb.RefitResponse, error) { return nil, unavailable() }}
	client := dialFake(t, startFake(t, fake, nil))

	_, err := client.Refit(context.Background(), &RefitRequest{})

	if Code(err) != codes.Unavailable || fake.callsOf("Refit") != 1 {
		t.Errorf("got %v after %d calls, want UNAVAILABLE after 1", err, fake.callsOf("Refit"))
	}
}

func TestNoRetryMakesOneCall(t *testing.T) {
	fake := &fakeServer{predict: func(context.Context, int) (*pb.PredictResponse, error) {
		return nil, unavailable()
	}}
	client := dialFake(t, startFake(t, fake, nil))

	_, err := client.Predict(context.Background(), &PredictRequest{}, NoRetry())

	if Code(err) != codes.Unavailable || fake.callsOf("Predict") != 1 {
		t.Errorf("got %v after %d calls, want UNAVAILABLE after 1", err, fake.callsOf("Predict"))
	}
}

func TestOtherCodesAreReturnedAtOnceWithTheirCode(t *testing.T) {
	const message = "queries[0].input_tokens=-5: must be > 0"
	fake := &fakeServer{predict: func(context.Context, int) (*pb.PredictResponse, error) {
		return nil, status.Error(codes.InvalidArgument, message)
	}}
	client := dialFake(t, startFake(t, fake, nil))

	_, err := client.Predict(context.Background(), &PredictRequest{})

	if got := status.Code(err); got != codes.InvalidArgument {
		t.Errorf("status.Code = %v, want InvalidArgument", got)
	}
	wrapped := fmt.Errorf("scoring node-7: %w", err)
	var perr *Error
	if !errors.As(wrapped, &perr) || Code(wrapped) != codes.InvalidArgument {
		t.Fatalf("a wrapped error lost its code: %v", wrapped)
	}
	if want := "perfcast Predict: INVALID_ARGUMENT: " + message; err.Error() != want {
		t.Errorf("Error() = %q, want %q", err.Error(), want)
	}
	if perr.Message != message || perr.Method != "Predict" || perr.Attempts != 1 {
		t.Errorf("got %+v, want Predict's message after 1 attempt", perr)
	}
	if fake.callsOf("Predict") != 1 {
		t.Errorf("%d calls, want 1", fake.callsOf("Predict"))
	}
}

func TestTimeoutBoundsACall(t *testing.T) {
	fake := &fakeServer{predict: func(ctx context.Context, _ int) (*pb.PredictResponse, error) {
		<-ctx.Done() // the client's deadline reaches the server
		return nil, status.FromContextError(ctx.Err()).Err()
	}}
	client := dialFake(t, startFake(t, fake, nil))

	_, err := client.Predict(context.Background(), &PredictRequest{},
		Timeout(50*time.Millisecond))

	if Code(err) != codes.DeadlineExceeded {
		t.Errorf("got %v, want DEADLINE_EXCEEDED", err)
	}
}

func TestNoRetryWhenTheWaitWouldOutlastTheDeadline(t *testing.T) {
	fake := &fakeServer{predict: func(context.Context, int) (*pb.PredictResponse, error) {
		return nil, unavailable()
	}}
	patient := RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Hour, MaxBackoff: time.Hour,
		Multiplier: 2}
	client := dialFake(t, startFake(t, fake, nil), WithRetryPolicy(patient))

	_, err := client.Predict(context.Background(), &PredictRequest{}, Timeout(5*time.Second))

	var perr *Error
	if !errors.As(err, &perr) || perr.Code != codes.Unavailable || perr.Attempts != 1 {
		t.Errorf("got %v, want UNAVAILABLE after 1 attempt", err)
	}
}

func TestSubmitBenchmarksResendsEverythingAfterUnavailable(t *testing.T) {
	var mu sync.Mutex
	var chunksOfLastStream []int
	fake := &fakeServer{submitBenchmarks: func(stream pb.ModelService_SubmitBenchmarksServer,
		call int) error {
		var chunks []int
		total := 0
		for {
			chunk, err := stream.Recv()
			if err == io.EOF {
				break
			}
			if err != nil {
				return err
			}
			if call == 1 { // the first stream breaks off after one chunk
				return unavailable()
			}
			chunks = append(chunks, len(chunk.Results))
			total += len(chunk.Results)
		}
		mu.Lock()
		chunksOfLastStream = chunks
		mu.Unlock()
		return stream.SendAndClose(&pb.SubmitBenchmarksResponse{AcceptedCount: int64(total)})
	}}
	client := dialFake(t, startFake(t, fake, nil), WithBenchmarkChunkSize(2))
	results := make([]*BenchmarkResult, 5)
	for i := range results {
		results[i] = &BenchmarkResult{SourceId: fmt.Sprintf("run-%d", i)}
	}

	response, err := client.SubmitBenchmarks(context.Background(), results)

	if err != nil {
		t.Fatalf("SubmitBenchmarks: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if response.AcceptedCount != 5 || fmt.Sprint(chunksOfLastStream) != "[2 2 1]" ||
		fake.callsOf("SubmitBenchmarks") != 2 {
		t.Errorf("accepted %d in chunks %v over %d streams, want 5 in [2 2 1] over 2",
			response.AcceptedCount, chunksOfLastStream, fake.callsOf("SubmitBenchmarks"))
	}
}

func TestTokenIsSentAsBearer(t *testing.T) {
	var mu sync.Mutex
	var authorization []string
	fake := &fakeServer{predict: func(ctx context.Context, _ int) (*pb.PredictResponse, error) {
		md, _ := metadata.FromIncomingContext(ctx)
		mu.Lock()
		authorization = md.Get("authorization")
		mu.Unlock()
		return &pb.PredictResponse{}, nil
	}}
	client := dialFake(t, startFake(t, fake, nil), WithToken("0123456789abcdef"))

	if _, err := client.Predict(context.Background(), &PredictRequest{}); err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(authorization) != 1 || authorization[0] != "Bearer 0123456789abcdef" {
		t.Errorf("authorization metadata %q, want one \"Bearer 0123456789abcdef\"", authorization)
	}
}

// The health messages are grpc-go's own (APIv1): the codec's fallback must carry them.
func TestHealthCheckThroughTheCodecFallback(t *testing.T) {
	client := dialFake(t, startFake(t, &fakeServer{}, nil))

	serving, err := client.CheckHealth(context.Background(), PredictionServiceName)
	if err != nil || serving != HealthServing {
		t.Errorf("CheckHealth = %v, %v; want SERVING", serving, err)
	}
	_, err = client.CheckHealth(context.Background(), "no.such.Service")
	if Code(err) != codes.NotFound {
		t.Errorf("unknown service: %v, want NOT_FOUND", err)
	}
}

func TestWaitUntilServingWaitsThroughNotServing(t *testing.T) {
	fake := &fakeServer{}
	client := dialFake(t, startFake(t, fake, nil))
	fake.health.SetServingStatus(ModelServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	go func() {
		time.Sleep(20 * time.Millisecond)
		fake.health.SetServingStatus(ModelServiceName, healthpb.HealthCheckResponse_SERVING)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	if err := client.WaitUntilServing(ctx, ModelServiceName, 5*time.Millisecond); err != nil {
		t.Errorf("WaitUntilServing: %v, want nil once SERVING", err)
	}
}

func TestWaitUntilServingEndsWithTheContext(t *testing.T) {
	fake := &fakeServer{}
	client := dialFake(t, startFake(t, fake, nil))
	fake.health.SetServingStatus(ModelServiceName, healthpb.HealthCheckResponse_NOT_SERVING)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()

	err := client.WaitUntilServing(ctx, ModelServiceName, 5*time.Millisecond)

	if Code(err) != codes.DeadlineExceeded || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("WaitUntilServing: %v, want DEADLINE_EXCEEDED", err)
	}
}

func TestTLSVerifiesTheServerAgainstTheCAFile(t *testing.T) {
	caFile, serverCertificate := testCertificates(t)
	fake := &fakeServer{predict: func(context.Context, int) (*pb.PredictResponse, error) {
		return &pb.PredictResponse{ModelVersion: 3}, nil
	}}
	address := startFake(t, fake, credentials.NewServerTLSFromCert(&serverCertificate))

	secure := dialFake(t, address, WithTLS(caFile))
	response, err := secure.Predict(context.Background(), &PredictRequest{})
	if err != nil || response.ModelVersion != 3 {
		t.Errorf("over TLS: %v, %v; want version 3", response, err)
	}

	plaintext := dialFake(t, address)
	if _, err := plaintext.Predict(context.Background(), &PredictRequest{}, NoRetry()); err == nil {
		t.Error("a plaintext client reached a TLS server")
	}
}

func TestDialRefusesAFileThatIsNoCA(t *testing.T) {
	notPEM := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(notPEM, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Dial("127.0.0.1:1", WithTLS(notPEM))
	if err == nil || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("Dial = %v, want an error saying the CA file holds no certificate", err)
	}
}

func TestCodesAreSpelledAsOnTheWire(t *testing.T) {
	for code, want := range map[codes.Code]string{codes.OK: "OK",
		codes.Unavailable: "UNAVAILABLE", codes.DeadlineExceeded: "DEADLINE_EXCEEDED",
		codes.ResourceExhausted: "RESOURCE_EXHAUSTED", codes.Unauthenticated: "UNAUTHENTICATED"} {
		if got := wireName(code); got != want {
			t.Errorf("wireName(%v) = %q, want %q", code, got, want)
		}
	}
}

func TestBackoffGrowsToItsCap(t *testing.T) {
	policy := RetryPolicy{MaxAttempts: 9, InitialBackoff: 100 * time.Millisecond,
		MaxBackoff: time.Second, Multiplier: 2}
	longest := func() float64 { return 1 }
	shortest := func() float64 { return 0 }
	var got []time.Duration
	for attempt := 1; attempt <= 6; attempt++ {
		got = append(got, policy.backoff(attempt, longest))
	}
	want := []time.Duration{100, 200, 400, 800, 1000, 1000}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Errorf("waits %v, want %v ms", got, want)
			break
		}
	}
	if half := policy.backoff(2, shortest); half != 100*time.Millisecond {
		t.Errorf("shortest second wait %v, want half of 200 ms", half)
	}
}

// testCertificates writes a fresh CA to a file and returns it with a certificate for 127.0.0.1
// that the CA signed.
func testCertificates(t *testing.T) (string, tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "perfcast test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey,
		caKey)
	if err != nil {
		t.Fatal(err)
	}
	serverKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serverTemplate := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	serverDER, err := x509.CreateCertificate(rand.Reader, serverTemplate, caTemplate,
		&serverKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{serverDER}, PrivateKey: serverKey}
}
