#!/bin/sh
# integration.go_client: the Go client (clients/go) against the perfcast-server that
# run_with_server.py started (PERFCAST_SERVER). Checks gofmt, builds the scheduler example, then
# runs `go test` over the client (with its server tests, build tag `integration`) and the example.
#
#   go_client_test.sh GO SOURCE_DIR PACKAGE...
#
# GOPATH and the rest of the Go environment come from CTest (tests/integration/CMakeLists.txt).
set -eu

go=$1
source_dir=$2
shift 2

unformatted=$("$("$go" env GOROOT)/bin/gofmt" -l "$source_dir")
if [ -n "$unformatted" ]; then
  echo "not gofmt-formatted (fix with gofmt -w):" >&2
  echo "$unformatted" >&2
  exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$go" build -o "$work/perfcast-score-nodes" perfcast/go/examples/score_nodes
PERFCAST_SCORE_NODES_BINARY="$work/perfcast-score-nodes" \
  "$go" test -count=1 -v -tags integration "$@"
