# Sourced by the bench scripts: start_server BUILD_DIR [SERVER_FLAG...] starts perfcast-server
# on the default data in a fresh directory, on a free port, and returns once its first model
# serves. It sets data_dir, server_pid, cli (the perfcast CLI) and server (--server HOST:PORT);
# stop_server stops it and removes the directory. VAR=VALUE entries of the array server_env, if
# set, go into the server's environment.
start_server() {
  local build=$1
  shift
  [[ -v server_env ]] || server_env=()
  data_dir=$(mktemp -d)
  env "${server_env[@]}" "$build/server/perfcast-server" --port=0 --port-file="$data_dir/port" --data-dir="$data_dir" \
    --seed-data=data/default_benchmarks.csv --log-level=warn "$@" &
  server_pid=$!
  cli="$build/clients/cli/perfcast"
  until [[ -s "$data_dir/port" ]]; do sleep 0.2; done
  server="--server 127.0.0.1:$(cat "$data_dir/port")"
  until $cli status $server --json 2>/dev/null | grep -q AVAILABLE; do sleep 0.2; done
}

stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  rm -rf "$data_dir"
}
