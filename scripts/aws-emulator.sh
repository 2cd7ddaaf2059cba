#!/usr/bin/env bash
# Sourced by run.sh and test.sh: starts moto_server (KMS and Secrets Manager, in memory) on
# $AWS_EMULATOR_PORT (or a free port), exports AWS_EMULATOR_ENDPOINT and stops the server when the
# calling script exits (chaining any EXIT trap already set).
port=${AWS_EMULATOR_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
"$PWD/.tools/aws-emulator/bin/moto_server" -H 127.0.0.1 -p "$port" >"$PWD/.tools/aws-emulator.log" 2>&1 &
aws_emulator_pid=$!
previous_exit_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
trap "kill $aws_emulator_pid 2>/dev/null; $previous_exit_trap" EXIT
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $aws_emulator_pid 2>/dev/null || { cat "$PWD/.tools/aws-emulator.log" >&2; echo "moto_server failed to start" >&2; exit 1; }
  sleep 0.2
done
export AWS_EMULATOR_ENDPOINT="http://127.0.0.1:$port"
echo "KMS and Secrets Manager emulator (moto) at $AWS_EMULATOR_ENDPOINT" >&2
