#!/bin/sh
# A throwaway PostgreSQL 15 for the tests (a CTest fixture): loopback only, a free port, trust
# authentication, its socket and data in a fresh directory under /tmp.
#
#   postgres_fixture.sh start STATE_DIR   # writes STATE_DIR/url (an admin URL) and STATE_DIR/cluster
#   postgres_fixture.sh stop STATE_DIR    # stops the server, removes the cluster
#
# initdb refuses to run as root (CI runs as root): then the cluster belongs to the `postgres`
# system user that Debian's postgresql package creates, and its commands run as that user.
set -eu
command=$1
state=$2
bindir=${PERFCAST_POSTGRES_BINDIR:-/usr/lib/postgresql/15/bin}

as_owner() {
  # runuser lives in /usr/sbin, which a non-login root shell may not have on its PATH.
  if [ "$(id -u)" = 0 ]; then "$(command -v runuser || echo /usr/sbin/runuser)" -u postgres -- "$@"
  else "$@"; fi
}

stop_cluster() {
  if [ -f "$state/cluster" ]; then
    cluster=$(cat "$state/cluster")
    as_owner "$bindir/pg_ctl" --pgdata="$cluster/data" --mode=immediate stop > /dev/null 2>&1 || true
    rm -rf "$cluster"
    rm -f "$state/cluster" "$state/url"
  fi
}

case "$command" in
start)
  if [ ! -x "$bindir/initdb" ]; then
    echo "no $bindir/initdb: install Debian's postgresql package (see .ci/run)" >&2
    exit 1
  fi
  mkdir -p "$state"
  stop_cluster  # one a killed test run left behind
  cluster=$(mktemp -d /tmp/perfcast-postgres-XXXXXX)
  echo "$cluster" > "$state/cluster"
  trap 'if [ ! -f "$state/url" ]; then stop_cluster; fi' EXIT
  if [ "$(id -u)" = 0 ]; then chown postgres:postgres "$cluster"; fi
  as_owner "$bindir/initdb" --pgdata="$cluster/data" --username=postgres --auth=trust \
    --encoding=UTF8 --locale=C --no-sync > "$cluster/initdb.log" 2>&1 || {
    cat "$cluster/initdb.log" >&2
    exit 1
  }
  # A free port can be taken between the check and the start: try a few.
  for attempt in 1 2 3 4 5; do
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    # fsync off: nothing here must survive a power cut, and CI's disk is slow.
    if as_owner "$bindir/pg_ctl" --pgdata="$cluster/data" --log="$cluster/postgres.log" --wait \
        --timeout=60 --options="-c listen_addresses=127.0.0.1 -c port=$port \
        -c unix_socket_directories=$cluster -c fsync=off -c max_connections=200" \
        start > /dev/null; then
      echo "postgresql://postgres@127.0.0.1:$port/postgres" > "$state/url"
      echo "PostgreSQL on 127.0.0.1:$port, cluster $cluster"
      exit 0
    fi
    tail -n 5 "$cluster/postgres.log" >&2 || true
  done
  exit 1
  ;;
stop)
  stop_cluster
  ;;
*)
  echo "usage: $0 start|stop STATE_DIR" >&2
  exit 2
  ;;
esac
