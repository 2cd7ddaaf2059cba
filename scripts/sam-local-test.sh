#!/usr/bin/env bash
# Part of `make test`: the functions as `sam local` runs them, from the template, in Lambda-like
# containers. Runs the binaries the tests just built (laid out as `sam build` would, by
# scripts/sam-local-template.py, with the glibc check; `make build` and `make deploy` run the
# release `sam build`), `sam local invoke` on every events/ file, checking each status
# (events/README.md lists them), then the Portal simulator against `sam local start-api`. Where
# Docker cannot run, it says so and why, loudly, and the run is marked SKIPPED, never passed.
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
# A no-op after `make test`'s build; run alone, it builds what is stale.
cargo build --quiet --workspace --all-targets
python3 scripts/sam-local-template.py target/debug .tools/sam-local-build
scripts/glibc-check.sh .tools/sam-local-build/*/bootstrap
event_args=(--template .tools/sam-local-build/template.yaml --env-vars "$SAM_ENV_VARS"
  --parameter-overrides "$SAM_PARAMETERS EnableEjectEndpoint=true"
  --invoke-image "$LAMBDA_IMAGE" --skip-pull-image)

# One `sam local start-lambda` with a warm container per function (started as Lambda starts one,
# then reused), invoked through the Lambda API with each file: a container per event would cost
# about 10 s each.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_for_port() {
  for _ in $(seq 1 600); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$2" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
# `sam local <command>` on a free port with warm containers, stopped on exit; sets port and pid.
start_sam() {
  local command=$1 log=$2
  port=$(free_port)
  "$SAM" local "$command" --host 127.0.0.1 --port "$port" "${event_args[@]}" --warm-containers EAGER \
    >"$log" 2>&1 &
  pid=$!
  trap "kill $pid 2>/dev/null || true; $(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")" EXIT
  wait_for_port "$port" "$pid" || { cat "$log" >&2; exit 1; }
}
start_sam start-lambda "$PWD/.tools/sam-local-lambda.log"
lambda=$pid lambda_port=$port

failures=0
while read -r file route expected; do
  case "$route" in
    backup) function=BackupFunction ;;
    fetch) function=FetchFunction ;;
    eject) function=EjectFunction ;;
    client-share) function=ClientBackupSharesFunction ;;
    backend-client-share) function=BackendClientBackupSharesFunction ;;
  esac
  status=$(python3 scripts/sam-local-invoke.py "$lambda_port" "$function" "events/$file" 2>>"$PWD/.tools/sam-local-lambda.log") || status=none
  if [ "$status" = "$expected" ]; then
    echo "sam local, $function -e events/$file: $status" >&2
  else
    echo "FAIL sam local, $function -e events/$file: expected $expected, got $status" >&2
    tail -n 20 "$PWD/.tools/sam-local-lambda.log" >&2
    failures=$((failures + 1))
  fi
done < <(sed -nE 's/^\| `([^`]+)` \| ([a-z-]+) \| ([0-9]{3}) \|.*$/\1 \2 \3/p' events/README.md)
[ "$failures" = 0 ] || { echo "$failures events/ files got the wrong status under sam local" >&2; exit 1; }
kill $lambda 2>/dev/null || true; wait $lambda 2>/dev/null || true

start_sam start-api "$PWD/.tools/sam-local-api.log"
secret=$(python3 -c 'import json; print(json.load(open("locals.json"))["Parameters"]["WEBHOOK_SECRET"])')
PORTAL_WEBHOOK_SECRET=$secret cargo run --quiet -p portal-sim -- --url "http://127.0.0.1:$port" \
  || { tail -n 40 "$PWD/.tools/sam-local-api.log" >&2; exit 1; }
echo "sam local tests passed in $(( $(date +%s) - started )) s" >&2
