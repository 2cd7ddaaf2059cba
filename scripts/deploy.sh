#!/usr/bin/env bash
# `make deploy ENV=dev|prod`: checks, `sam build`, then `sam deploy --config-env $ENV`.
#   ARCH=arm64 (default) or x86_64: the build's architecture, passed as the Architecture parameter.
#   --no-build: deploy what .aws-sam/build already holds.
#   SAM, AWS: the sam and aws commands (default: the pinned SAM CLI in .tools, and aws on PATH).
# A --parameter-overrides on sam's command line replaces the config-env's parameter_overrides
# instead of merging with them (aws-sam-cli issue 2380), so this passes all of them: samconfig's,
# then Architecture.
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [ "${1:-}" = --no-build ]; then build=0; shift; fi
env=${1:?usage: scripts/deploy.sh [--no-build] dev|prod}
arch=${ARCH:-arm64}

# Bash 4 or newer (mapfile, associative arrays); read into a variable first, so that a failure
# of samconfig.py (no config-env, a Python without tomllib) stops the deploy instead of dropping
# every parameter.
if [ "${BASH_VERSINFO[0]}" -lt 4 ]; then echo "deploy: needs bash 4 or newer" >&2; exit 2; fi
read_overrides=$(python3 scripts/samconfig.py parameter-overrides "$env")
parameters=()
if [ -n "$read_overrides" ]; then mapfile -t parameters <<<"$read_overrides"; fi
declare -A value=()
for parameter in "${parameters[@]}"; do value[${parameter%%=*}]=${parameter#*=}; done
if [ "${value[RequireAlarmSubscriber]:-false}" = true ] && [ -z "${value[AlarmEmail]:-}" ] && [ -z "${value[AlarmTopicArn]:-}" ]; then
  echo "deploy: the $env stack needs someone to receive its alarms: add AlarmEmail=you@example.com" >&2
  echo "        (or AlarmTopicArn=...) to parameter_overrides in samconfig.toml's [$env.deploy.parameters]." >&2
  exit 2
fi

# Access logs need the account's API Gateway CloudWatch role, set once per account and region
# by `make account-setup`; without it the stage, and so the first deploy, fails.
aws=${AWS:-aws}
if command -v "$aws" >/dev/null 2>&1; then
  role=$("$aws" apigateway get-account --query cloudwatchRoleArn --output text 2>/dev/null || true)
  if [ -z "$role" ] || [ "$role" = None ]; then
    echo "deploy: this account and region has no API Gateway CloudWatch Logs role, which access logs need." >&2
    echo "        Run 'make account-setup' once (or check your credentials and region), then deploy again." >&2
    exit 2
  fi
else
  echo "deploy: no AWS CLI to check the account's API Gateway logging role; 'make account-setup' sets it." >&2
fi

if [ "$build" = 1 ]; then ARCH=$arch scripts/build.sh; fi
scripts/tools.sh sam
overrides=()
for parameter in "${parameters[@]}"; do
  [ "${parameter%%=*}" = Architecture ] || overrides+=("$parameter")
done
overrides+=("Architecture=$arch")
SAM_CLI_TELEMETRY=0 "${SAM:-$PWD/.tools/venv/bin/sam}" deploy --config-env "$env" --parameter-overrides "${overrides[@]}"
