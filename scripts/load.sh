#!/usr/bin/env bash
# The load test at full size: 5,000 clients (LOAD_CLIENTS), 32 requests in flight
# (LOAD_CONCURRENCY), as many processes of each function (LOAD_PROCESSES). Prints its report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh dynamodb-local aws-emulator
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
cargo build --bins -p backup -p backup-fetch
LOAD_CLIENTS=${LOAD_CLIENTS:-5000} cargo test -p webhook-tests --test load -- --nocapture
