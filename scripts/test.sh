#!/usr/bin/env bash
# Runs every test: unit tests, then the tests against DynamoDB Local, the KMS and Secrets Manager
# emulator, PostgreSQL (the import's source) and the real Lambda binaries, then sam local. Ends
# with a table of each phase's time.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .tools
started=$(date +%s)
phases=()
phase() { phases+=("$1|$(( $(date +%s) - $2 ))"); }

# While the compiler runs: the tools (downloads) and Docker with its stand-in image (once per
# machine), which only the later phases need.
scripts/tools.sh dynamodb-local aws-emulator postgres sam >.tools/tools-setup.log 2>&1 &
tools=$!
scripts/docker.sh >.tools/docker-setup.log 2>&1 &
docker=$!

# The real Lambda binaries, which tests/it/binaries.rs runs through the Lambda Runtime API.
# --all-targets: the same features as the test build below, so nothing is compiled twice.
t=$(date +%s)
cargo build --workspace --all-targets
phase "build (debug, every target)" "$t"

t=$(date +%s)
wait $tools || { cat .tools/tools-setup.log >&2; exit 1; }
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
source scripts/postgres.sh
phase "tools and emulators (after the build)" "$t"

t=$(date +%s)
cargo test --workspace --all-targets "$@"
phase "cargo test" "$t"

t=$(date +%s)
# Its failure is reported by sam-local-test.sh (SKIPPED, with the reason).
wait $docker || true
scripts/sam-local-test.sh
phase "sam local (events, simulator)" "$t"

echo >&2
echo "| make test phase | seconds |" >&2
echo "|---|---|" >&2
for entry in "${phases[@]}"; do echo "| ${entry%%|*} | ${entry##*|} |" >&2; done
echo "| total | $(( $(date +%s) - started )) |" >&2
