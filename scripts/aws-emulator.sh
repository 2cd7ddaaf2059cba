#!/usr/bin/env bash
# Sourced by run.sh, test.sh and sam-local.sh: starts moto_server (KMS and Secrets Manager, in
# memory) on $AWS_EMULATOR_HOST (default 127.0.0.1; sam local's containers need the docker bridge's
# address) and $AWS_EMULATOR_PORT (or a free port), exports AWS_EMULATOR_ENDPOINT and stops the
# server when the calling script exits.
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
port=${AWS_EMULATOR_PORT:-$(free_port)}
host=${AWS_EMULATOR_HOST:-127.0.0.1}
LOCAL_SERVICE_HOST=$host start_local_service "moto_server" "$PWD/.tools/aws-emulator.log" "$port" \
  "$PWD/.tools/aws-emulator/bin/moto_server" -H "$host" -p "$port"
export AWS_EMULATOR_ENDPOINT="http://$host:$port"
echo "KMS and Secrets Manager emulator (moto) at $AWS_EMULATOR_ENDPOINT" >&2
