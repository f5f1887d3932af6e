"""Imports the generated protobuf and gRPC stubs (see ../generate_stubs.sh).

The stubs are not committed: they are generated from proto/ at build time. They are found on
sys.path: installed beside perfcast_client by `pip install ./clients/python`, or in a clone the
CMake build's output directory on PYTHONPATH; failing that, in clients/python/generated, where
generate_stubs.sh writes by default.
"""

import os
import sys


def _import_stubs():
    try:
        from perfcast.v1 import perfcast_pb2, perfcast_pb2_grpc
        from perfcast_grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        default_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                   "generated")
        if not os.path.isdir(default_dir) or default_dir in sys.path:
            raise ImportError(
                "perfcast_client: generated stubs not found. Install the package "
                "(pip install ./clients/python), or run clients/python/generate_stubs.sh "
                "[OUT_DIR] and put OUT_DIR on PYTHONPATH (default: clients/python/generated, "
                "found automatically). Runtime packages: python3-grpcio python3-protobuf."
            ) from None
        sys.path.append(default_dir)
        from perfcast.v1 import perfcast_pb2, perfcast_pb2_grpc
        from perfcast_grpc_health.v1 import health_pb2, health_pb2_grpc
    return perfcast_pb2, perfcast_pb2_grpc, health_pb2, health_pb2_grpc


pb, pb_grpc, health_pb, health_pb_grpc = _import_stubs()
