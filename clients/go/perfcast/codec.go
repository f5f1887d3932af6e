package perfcast

import (
	"fmt"

	protov1 "github.com/golang/protobuf/proto"
	protov2 "google.golang.org/protobuf/proto"
)

// messageCodec marshals both protobuf APIs. Debian's grpc-go 1.33 marshals through
// github.com/golang/protobuf 1.3 (APIv1) by default, which cannot handle the APIv2 messages that
// protoc-gen-go 1.28 generates from perfcast.proto: the first call panics. grpc-go's own health
// messages are still APIv1, so those fall through to the APIv1 runtime.
//
// It is set per connection (grpc.ForceCodec), not registered globally, so that other gRPC users
// in the same program keep whatever codec they chose. Its name is "proto", so the wire's
// content-type stays application/grpc+proto.
type messageCodec struct{}

func (messageCodec) Marshal(v interface{}) ([]byte, error) {
	switch message := v.(type) {
	case protov2.Message: // before APIv1: an APIv2 message also has APIv1's method set
		return protov2.Marshal(message)
	case protov1.Message:
		return protov1.Marshal(message)
	}
	return nil, fmt.Errorf("perfcast codec: %T is not a protobuf message", v)
}

func (messageCodec) Unmarshal(data []byte, v interface{}) error {
	switch message := v.(type) {
	case protov2.Message:
		return protov2.Unmarshal(data, message)
	case protov1.Message:
		return protov1.Unmarshal(data, message)
	}
	return fmt.Errorf("perfcast codec: %T is not a protobuf message", v)
}

func (messageCodec) Name() string { return "proto" }

// String makes it a grpc.Codec as well, which a grpc.Server in this package's tests needs.
func (messageCodec) String() string { return "proto" }
