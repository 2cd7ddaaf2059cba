#!/usr/bin/env bash
# `make sam-local`: the functions as SAM runs them, in Lambda-like containers (Docker), behind
# `sam local start-api` on http://127.0.0.1:$PORT (default 3000), backed by DynamoDB Local and the
# KMS emulator, with the values in locals.json. Ctrl-C stops everything; data lives in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
api_port=${PORT:-3000}
export DYNAMODB_PORT=${DYNAMODB_PORT:-8765} AWS_EMULATOR_PORT=${AWS_EMULATOR_PORT:-8766}
source scripts/sam-local-env.sh
scripts/build.sh
secret=$(python3 -c 'import json; print(json.load(open("locals.json"))["Parameters"]["WEBHOOK_SECRET"])')

cat <<MSG

  Portal's custodian backup webhooks under sam local (each request runs in a container)
    base URL        http://127.0.0.1:$api_port
    POST            http://127.0.0.1:$api_port/backup
    POST            http://127.0.0.1:$api_port/backup/fetch
    X-Webhook-Secret  $secret   (locals.json; development only)

  Try it (in another terminal):
    curl -i http://127.0.0.1:$api_port/backup -H 'Content-Type: application/json' \\
      -H 'X-Webhook-Secret: $secret' \\
      -d '{"clientId":"cli_local_test","backupMethod":"GDRIVE-SECP256K1","share":"{\\"share\\":\\"example\\"}"}'
    curl -i http://127.0.0.1:$api_port/backup/fetch -H 'Content-Type: application/json' \\
      -H 'X-Webhook-Secret: $secret' -d '{"clientId":"cli_local_test"}'
    make sim URL=http://127.0.0.1:$api_port

  One event through one function:
    .tools/venv/bin/sam local invoke BackupFunction -e events/backup-multi-backup.json \\
      --env-vars .tools/locals.json --parameter-overrides "$SAM_PARAMETERS" \\
      --invoke-image $LAMBDA_IMAGE --skip-pull-image

MSG
"$SAM" local start-api --host 127.0.0.1 --port "$api_port" --env-vars "$SAM_ENV_VARS" \
  --parameter-overrides "$SAM_PARAMETERS" \
  --invoke-image "$LAMBDA_IMAGE" --skip-pull-image --warm-containers EAGER
