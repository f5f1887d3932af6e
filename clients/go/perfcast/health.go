package perfcast

import (
	"context"
	"time"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
)

// CheckHealth asks the standard health service (grpc.health.v1) about service:
// PredictionServiceName, ModelServiceName, or "" for the server as a whole. An unknown service
// is an *Error with codes.NotFound. Health checks need no token.
func (c *Client) CheckHealth(ctx context.Context, service string,
	opts ...CallOption) (HealthStatus, error) {
	response, err := invoke(ctx, c, "Health.Check", safeToRepeat, c.health.Check,
		&healthpb.HealthCheckRequest{Service: service}, opts)
	if err != nil {
		return healthpb.HealthCheckResponse_UNKNOWN, err
	}
	return response.Status, nil
}

// WaitUntilServing polls CheckHealth(service) every pollInterval until it reports SERVING, and
// returns nil then. It keeps waiting through NOT_SERVING and UNAVAILABLE (a server starting or
// training its first model) and returns any other error, or an *Error with codes.DeadlineExceeded
// (or Canceled) once ctx ends.
func (c *Client) WaitUntilServing(ctx context.Context, service string,
	pollInterval time.Duration) error {
	for {
		health, err := c.CheckHealth(ctx, service, NoRetry())
		if err == nil && health == HealthServing {
			return nil
		}
		if err != nil && Code(err) != codes.Unavailable && Code(err) != codes.DeadlineExceeded {
			return err
		}
		if err := sleepUnlessDone(ctx, pollInterval); err != nil {
			return &Error{Method: "Health.Check", Code: codeOfContextError(err),
				Message: "not SERVING before the context ended (" + service + ")", cause: err}
		}
	}
}
