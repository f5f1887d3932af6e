package perfcast

import (
	"errors"
	"fmt"
	"strings"
	"unicode"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is what every failed call returns: the RPC, the gRPC code and the server's message.
//
//	var perr *perfcast.Error
//	if errors.As(err, &perr) && perr.Code == codes.InvalidArgument { ... perr.Message ... }
type Error struct {
	// The RPC, e.g. "Predict".
	Method string
	Code   codes.Code
	// The server's message (for INVALID_ARGUMENT the field path and the value, e.g.
	// "queries[0].input_tokens=-5: must be > 0"), or the client's when no reply came.
	Message string
	// Calls made, retries included.
	Attempts int

	cause error
}

func (e *Error) Error() string {
	text := fmt.Sprintf("perfcast %s: %s: %s", e.Method, wireName(e.Code), e.Message)
	if e.Attempts > 1 {
		text += fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return text
}

// GRPCStatus lets status.Code and status.FromError read the code without unwrapping.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// Unwrap gives the underlying error: the gRPC status error, or the context's error when the
// context ended while waiting to retry (so errors.Is(err, context.DeadlineExceeded) holds).
func (e *Error) Unwrap() error { return e.cause }

// wireName spells a code as the gRPC specification and the server's documentation do
// (INVALID_ARGUMENT), where grpc-go's String gives InvalidArgument.
func wireName(code codes.Code) string {
	name := code.String()
	if code == codes.OK {
		return name
	}
	var spelled strings.Builder
	for i, r := range name {
		if i > 0 && unicode.IsUpper(r) {
			spelled.WriteByte('_')
		}
		spelled.WriteRune(unicode.ToUpper(r))
	}
	return spelled.String()
}

// Code is the gRPC code of err, also when err wraps an *Error: codes.OK for nil, codes.Unknown
// for an error that carries no code.
func Code(err error) codes.Code {
	var perr *Error
	if errors.As(err, &perr) {
		return perr.Code
	}
	return status.Code(err)
}

func newError(method string, err error, attempts int) *Error {
	s := status.Convert(err)
	return &Error{Method: method, Code: s.Code(), Message: s.Message(), Attempts: attempts,
		cause: err}
}
