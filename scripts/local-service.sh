#!/usr/bin/env bash
# Sourced by the emulator starters. `start_local_service NAME LOG PORT COMMAND...` runs COMMAND in
# the background with its output in LOG, stops it when the calling script exits (keeping any EXIT
# trap already set), and waits until PORT accepts connections (on $LOCAL_SERVICE_HOST, default
# 127.0.0.1).
free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_local_service() {
  local name=$1 log=$2 port=$3
  shift 3
  "$@" >"$log" 2>&1 &
  local pid=$!
  local previous_exit_trap
  previous_exit_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
  # shellcheck disable=SC2064 # expand $pid now
  trap "kill $pid 2>/dev/null || true; $previous_exit_trap" EXIT
  for _ in $(seq 1 300); do
    (exec 3<>"/dev/tcp/${LOCAL_SERVICE_HOST:-127.0.0.1}/$port") 2>/dev/null && return 0
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; echo "$name failed to start" >&2; exit 1; }
    sleep 0.2
  done
  echo "$name did not open port $port within 60 s" >&2
  exit 1
}
