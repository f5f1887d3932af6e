package perfcast

import (
	"context"
	"math/rand"
	"sync"
	"time"
)

// RetryPolicy says how calls that are safe to repeat are retried after UNAVAILABLE.
type RetryPolicy struct {
	// Calls in all, the first included; 1 turns retries off.
	MaxAttempts int
	// The wait before the first retry; each later wait is Multiplier times longer, up to
	// MaxBackoff. Each wait is drawn uniformly from [wait/2, wait] so that clients that failed
	// together do not retry together.
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	Multiplier     float64
}

// DefaultRetryPolicy rides out a server restart or a first model loading (seconds) within the
// default timeout.
var DefaultRetryPolicy = RetryPolicy{
	MaxAttempts:    5,
	InitialBackoff: 100 * time.Millisecond,
	MaxBackoff:     2 * time.Second,
	Multiplier:     2,
}

// backoff is the wait after the given failed attempt (1 = the first call).
func (p RetryPolicy) backoff(failedAttempt int, jitter func() float64) time.Duration {
	wait := float64(p.InitialBackoff)
	for i := 1; i < failedAttempt && wait < float64(p.MaxBackoff); i++ {
		wait *= p.Multiplier
	}
	if wait > float64(p.MaxBackoff) {
		wait = float64(p.MaxBackoff)
	}
	return time.Duration(wait * (0.5 + 0.5*jitter()))
}

// jitterSource is seeded per process: with math/rand's fixed default seed every client would
// draw the same waits.
var jitterSource = struct {
	sync.Mutex
	*rand.Rand
}{Rand: rand.New(rand.NewSource(time.Now().UnixNano()))}

func drawJitter() float64 {
	jitterSource.Lock()
	defer jitterSource.Unlock()
	return jitterSource.Float64()
}

// sleepUnlessDone waits d, or returns the context's error as soon as it ends.
func sleepUnlessDone(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
