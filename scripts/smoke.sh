#!/usr/bin/env bash
# `make smoke ENV=dev`: checks a deployed stack without touching the source-IP allow-list, by
# invoking its functions directly (`sam remote invoke`, with your AWS credentials) with events/
# files: a wrong secret is refused (401) by both functions, and a fetch with the stack's real
# secret for a clientId that has no shares answers 200 with an empty list (the secret, the table
# and the function's permissions all work). Nothing is written.
set -euo pipefail
cd "$(dirname "$0")/.."
env=${ENV:?set ENV=dev or ENV=prod (a config-env of samconfig.toml)}
scripts/tools.sh sam
export PATH="$PWD/.tools/venv/bin:$PATH" SAM_CLI_TELEMETRY=0
stack=$(python3 scripts/samconfig.py stack-name "$env")

invoke() { # function, event file -> statusCode
  sam remote invoke "$1" --stack-name "$stack" --event-file "$2" --output json 2>/dev/null \
    | python3 -c 'import json,sys; print(json.loads(json.load(sys.stdin)["Payload"])["statusCode"])'
}
check() { # what, expected, got
  if [ "$2" = "$3" ]; then echo "ok   $1: $3"; else echo "FAIL $1: expected $2, got $3"; failed=1; fi
}
failed=0
check "BackupFunction, events/backup-wrong-secret.json" 401 "$(invoke BackupFunction events/backup-wrong-secret.json)"
check "FetchFunction, events/fetch-wrong-secret.json" 401 "$(invoke FetchFunction events/fetch-wrong-secret.json)"
secret_arn=$(aws cloudformation describe-stacks --stack-name "$stack" \
  --query "Stacks[0].Outputs[?OutputKey=='WebhookSecretArn'].OutputValue" --output text)
# The real secret goes only into a file only you can read, never onto a command line.
umask 077
event=$(mktemp)
trap 'rm -f "$event"' EXIT
SECRET=$(aws secretsmanager get-secret-value --secret-id "$secret_arn" --query SecretString --output text) \
  python3 -c '
import json, os, time
event = json.load(open("events/fetch.json"))
event["headers"]["X-Webhook-Secret"] = os.environ["SECRET"]
event["multiValueHeaders"]["X-Webhook-Secret"] = [os.environ["SECRET"]]
event["body"] = json.dumps({"clientId": f"smoke-test-no-such-client-{int(time.time())}"})
print(json.dumps(event))' >"$event"
check "FetchFunction, events/fetch.json with the stack's secret, unknown client" 200 "$(invoke FetchFunction "$event")"
exit $failed
