#!/usr/bin/env bash
# Part of `make test`: the functions as `sam local` runs them. Builds them with `sam build` (release,
# this machine's architecture, with the bootstrap size and glibc check), runs `sam local invoke`
# on every events/ file and checks each status (events/README.md lists them), then runs the
# Portal simulator against `sam local start-api`. Where Docker cannot run, it says so and why,
# loudly, and the run is marked SKIPPED, never passed.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
mkdir -p .tools
if ! scripts/docker.sh 2> >(tee .tools/docker-setup.err >&2); then
  cat >&2 <<MSG

  ################################################################################
  SKIPPED: the sam local tests did not run. Docker cannot run on this machine:
  $(tail -n 3 .tools/docker-setup.err)
  ################################################################################

MSG
  exit 0
fi
source scripts/sam-local-env.sh
scripts/build.sh
event_args=(--env-vars "$SAM_ENV_VARS" --parameter-overrides "$SAM_PARAMETERS EnableEjectEndpoint=true"
  --invoke-image "$LAMBDA_IMAGE" --skip-pull-image)

failures=0
while read -r file route expected; do
  case "$route" in
    backup) function=BackupFunction ;;
    fetch) function=FetchFunction ;;
    eject) function=EjectFunction ;;
    client-share) function=ClientBackupSharesFunction ;;
    backend-client-share) function=BackendClientBackupSharesFunction ;;
  esac
  output=$("$SAM" local invoke "$function" -e "events/$file" "${event_args[@]}" 2>"$PWD/.tools/sam-local-invoke.log") || true
  status=$(printf '%s' "$output" | python3 -c 'import json,sys; print(json.loads(sys.stdin.read().strip().splitlines()[-1]).get("statusCode"))' 2>/dev/null || echo none)
  if [ "$status" = "$expected" ]; then
    echo "sam local invoke $function -e events/$file: $status" >&2
  else
    echo "FAIL sam local invoke $function -e events/$file: expected $expected, got $status" >&2
    tail -n 20 "$PWD/.tools/sam-local-invoke.log" >&2
    failures=$((failures + 1))
  fi
done < <(sed -nE 's/^\| `([^`]+)` \| ([a-z-]+) \| ([0-9]{3}) \|.*$/\1 \2 \3/p' events/README.md)
[ "$failures" = 0 ] || { echo "$failures events/ files got the wrong status under sam local" >&2; exit 1; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$SAM" local start-api --host 127.0.0.1 --port "$port" "${event_args[@]}" --warm-containers EAGER \
  >"$PWD/.tools/sam-local-api.log" 2>&1 &
api=$!
trap "kill $api 2>/dev/null; $(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")" EXIT
for _ in $(seq 1 300); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  kill -0 $api 2>/dev/null || { cat "$PWD/.tools/sam-local-api.log" >&2; exit 1; }
  sleep 0.2
done
secret=$(python3 -c 'import json; print(json.load(open("locals.json"))["Parameters"]["WEBHOOK_SECRET"])')
PORTAL_WEBHOOK_SECRET=$secret cargo run --quiet -p portal-sim -- --url "http://127.0.0.1:$port" \
  || { tail -n 40 "$PWD/.tools/sam-local-api.log" >&2; exit 1; }
echo "sam local tests passed in $(( $(date +%s) - started )) s" >&2
