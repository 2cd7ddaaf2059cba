#!/usr/bin/env bash
# Sourced by run.sh and test.sh: starts moto_server (KMS and Secrets Manager, in memory) on
# $AWS_EMULATOR_PORT (or a free port), exports AWS_EMULATOR_ENDPOINT and stops the server when the
# calling script exits.
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
port=${AWS_EMULATOR_PORT:-$(free_port)}
start_local_service "moto_server" "$PWD/.tools/aws-emulator.log" "$port" \
  "$PWD/.tools/aws-emulator/bin/moto_server" -H 127.0.0.1 -p "$port"
export AWS_EMULATOR_ENDPOINT="http://127.0.0.1:$port"
echo "KMS and Secrets Manager emulator (moto) at $AWS_EMULATOR_ENDPOINT" >&2
