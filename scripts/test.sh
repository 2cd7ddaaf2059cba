#!/usr/bin/env bash
# Runs every test: unit tests, then the tests against DynamoDB Local, the KMS and Secrets Manager
# emulator, and the real Lambda binaries.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh dynamodb-local aws-emulator sam
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
# The real Lambda binaries, which tests/binaries.rs runs through the Lambda Runtime API.
# --all-targets: the same features as the test build below, so nothing is compiled twice.
cargo build --workspace --all-targets
cargo test --workspace --all-targets "$@"
scripts/sam-local-test.sh
