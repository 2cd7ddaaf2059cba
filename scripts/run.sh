#!/usr/bin/env bash
# Serves both webhooks on http://127.0.0.1:$PORT (default 9000) as Portal calls them, and the
# client-share API on http://127.0.0.1:$APP_PORT (default 9001) as an app calls it (development
# tokens: `make token USER=alice`), backed by DynamoDB Local and a local KMS (moto), with a
# development secret. Ctrl-C stops everything; data lives in memory.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh dynamodb-local aws-emulator cargo-lambda
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh

port=${PORT:-9000}
export WEBHOOK_SECRET=${WEBHOOK_SECRET:-local-dev-secret-change-me}
export SHARES_TABLE=${SHARES_TABLE:-custodian-backup-shares}
export HISTORY_TABLE=${HISTORY_TABLE:-custodian-backup-share-history}
export AUDIT_TABLE=${AUDIT_TABLE:-custodian-backup-audit}
export SHARE_KEY_ID=${SHARE_KEY_ID:-alias/custodian-backup-local}
export AUDIT_KEY_ID=${AUDIT_KEY_ID:-alias/custodian-backup-audit-local}
app_port=${APP_PORT:-9001}
export CLIENT_SHARES_TABLE=client-backup-shares CLIENT_SHARE_HISTORY_TABLE=client-backup-share-history \
  CLIENT_SHARE_AUDIT_TABLE=client-backup-share-audit CLIENT_SHARE_KEY_ID=alias/client-backup-local
export AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_ENDPOINT
export AWS_ENDPOINT_URL_KMS=$AWS_EMULATOR_ENDPOINT
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
echo "building the local tools and the functions (debug; about 3 minutes the first time)" >&2
cargo build --quiet -p local-aws --bin local-resources --bin app-api --bin dev-token \
  -p backup -p backup-fetch -p client-backup-shares
cargo run --quiet -p local-aws --bin local-resources
APP_PORT=$app_port target/debug/app-api &
app_api=$!
trap "kill $app_api 2>/dev/null" EXIT
token=$(target/debug/dev-token alice)

cat <<MSG

  Portal's custodian backup webhooks, served locally
    base URL        http://127.0.0.1:$port
    POST            http://127.0.0.1:$port/backup
    POST            http://127.0.0.1:$port/backup/fetch
    X-Webhook-Secret  $WEBHOOK_SECRET   (development only)

  Try it (in another terminal):
    curl -i http://127.0.0.1:$port/backup -H 'Content-Type: application/json' \\
      -H 'X-Webhook-Secret: $WEBHOOK_SECRET' \\
      -d '{"clientId":"cli_local_test","backupMethod":"GDRIVE-SECP256K1","share":"{\\"share\\":\\"example\\"}"}'
    curl -i http://127.0.0.1:$port/backup/fetch -H 'Content-Type: application/json' \\
      -H 'X-Webhook-Secret: $WEBHOOK_SECRET' -d '{"clientId":"cli_local_test"}'

  The custody CLI against these tables (list, history, restore, export, audit):
    SHARES_TABLE=$SHARES_TABLE HISTORY_TABLE=$HISTORY_TABLE AUDIT_TABLE=$AUDIT_TABLE \\
    SHARE_KEY_ID=$SHARE_KEY_ID AUDIT_KEY_ID=$AUDIT_KEY_ID HISTORY_RETENTION_DAYS=0 \\
    AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_ENDPOINT AWS_ENDPOINT_URL_KMS=$AWS_EMULATOR_ENDPOINT \\
    AWS_ENDPOINT_URL_STS=$AWS_EMULATOR_ENDPOINT AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \\
    AWS_REGION=us-east-1 cargo run --quiet -p custody -- list cli_local_test

  The app's client-share API (what a wallet app calls; docs/client-shares.md)
    base URL        http://127.0.0.1:$app_port
    a token for alice (make token USER=alice prints one for any user):
    TOKEN=$token
    curl -i -X PUT http://127.0.0.1:$app_port/client-backup-shares/PASSWORD -H "Authorization: Bearer \$TOKEN" \\
      -H 'Content-Type: application/json' -d '{"cipherText":"ZW5jcnlwdGVkLWNsaWVudC1zaGFyZQ=="}'
    curl -i http://127.0.0.1:$app_port/client-backup-shares/PASSWORD -H "Authorization: Bearer \$TOKEN"
    curl -i http://127.0.0.1:$app_port/client-backup-shares -H "Authorization: Bearer \$TOKEN"

  Shares are sealed with the KMS key $SHARE_KEY_ID in the local emulator (client backup shares
  with $CLIENT_SHARE_KEY_ID).
  Each function starts on its first request. Ctrl-C stops the server and the emulators.

MSG
.tools/venv/bin/cargo-lambda lambda watch --invoke-address 127.0.0.1 --invoke-port "$port" --disable-cors
