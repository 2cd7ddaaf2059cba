#!/usr/bin/env bash
# Sourced by sam-local.sh and sam-local-test.sh: what `sam local` needs around it. Makes Docker
# usable (scripts/docker.sh; returns 3 from the sourcing script's point of view where it cannot),
# starts DynamoDB Local and the KMS/Secrets Manager emulator where the containers reach them (the
# docker bridge's address), on $DYNAMODB_PORT and $AWS_EMULATOR_PORT, creates the tables and the
# key that locals.json names, and writes .tools/locals.json: locals.json with the addresses
# actually used. Exports SAM, LAMBDA_IMAGE and SAM_ENV_VARS.
scripts/tools.sh dynamodb-local aws-emulator sam
scripts/docker.sh
export LAMBDA_IMAGE=${LAMBDA_IMAGE:-custodian-backup/provided-al2023-standin:bookworm}
export SAM="$PWD/.tools/venv/bin/sam" SAM_CLI_TELEMETRY=0
# Containers run this machine's architecture: build for it, and tell sam local the same.
ARCH=${ARCH:-$(uname -m | sed 's/aarch64/arm64/')}
# The client-share API on, with the development issuer (sam local runs no authorizer: the
# client-share events carry the claims API Gateway would pass).
export ARCH SAM_PARAMETERS="Architecture=$ARCH ClientSharesJwtIssuer=https://dev-issuer.localhost/ ClientSharesJwtAudience=local-wallet-app ClientShareCallerArns=arn:aws:iam::123456789012:role/enclave-backend"
bridge=$(ip -4 -o addr show docker0 | awk '{ split($4, a, "/"); print a[1]; exit }')
[ -n "$bridge" ] || { echo "no docker0 bridge address: is dockerd running?" >&2; exit 1; }
export DYNAMODB_HOST=$bridge AWS_EMULATOR_HOST=$bridge
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
# The functions in the containers, and local-resources here, use the same names and addresses.
local_value() { python3 -c 'import json,sys; print(json.load(open("locals.json"))["Parameters"][sys.argv[1]])' "$1"; }
client_value() { python3 -c 'import json,sys; print(json.load(open("locals.json"))["ClientBackupSharesFunction"][sys.argv[1]])' "$1"; }
export SHARES_TABLE=$(local_value SHARES_TABLE) HISTORY_TABLE=$(local_value HISTORY_TABLE) \
  AUDIT_TABLE=$(local_value AUDIT_TABLE) SHARE_KEY_ID=$(local_value SHARE_KEY_ID) \
  AUDIT_KEY_ID=$(local_value AUDIT_KEY_ID)
export CLIENT_SHARES_TABLE=$(client_value SHARES_TABLE) CLIENT_SHARE_HISTORY_TABLE=$(client_value HISTORY_TABLE) \
  CLIENT_SHARE_AUDIT_TABLE=$(client_value AUDIT_TABLE) CLIENT_SHARE_KEY_ID=$(client_value SHARE_KEY_ID)
export AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
export AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_ENDPOINT AWS_ENDPOINT_URL_KMS=$AWS_EMULATOR_ENDPOINT
cargo run --quiet -p local-aws --bin local-resources
export SAM_ENV_VARS="$PWD/.tools/locals.json"
python3 - "$DYNAMODB_ENDPOINT" "$AWS_EMULATOR_ENDPOINT" >"$SAM_ENV_VARS" <<'PY'
import json, sys
values = json.load(open("locals.json"))
local = values["Parameters"]
local["AWS_ENDPOINT_URL_DYNAMODB"] = sys.argv[1]
local["AWS_ENDPOINT_URL_KMS"] = local["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = sys.argv[2]
print(json.dumps(values, indent=2))
PY
