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
# moto loads a service's code on its first request, which on a busy machine takes longer than the
# functions' 4 s budget for a KMS or Secrets Manager call: load both now, so no test pays for it.
"$PWD/.tools/aws-emulator/bin/python" - "$AWS_EMULATOR_ENDPOINT" <<'WARM'
import sys, boto3
local = dict(endpoint_url=sys.argv[1], region_name="us-east-1",
             aws_access_key_id="local", aws_secret_access_key="local")
boto3.client("kms", **local).list_keys()
boto3.client("secretsmanager", **local).list_secrets()
WARM
echo "KMS and Secrets Manager emulator (moto) at $AWS_EMULATOR_ENDPOINT" >&2
