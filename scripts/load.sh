#!/usr/bin/env bash
# The load test at full size: 5,000 clients (LOAD_CLIENTS), 32 requests in flight
# (LOAD_CONCURRENCY), as many processes of each function (LOAD_PROCESSES). Prints its report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh dynamodb-local aws-emulator
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
# The same build as `make test` (features unified with the test-only dependencies), so nothing
# is compiled twice; the name filter then runs the load test alone.
cargo build --workspace --all-targets
LOAD_CLIENTS=${LOAD_CLIENTS:-5000} cargo test --workspace --all-targets \
  every_share_that_got_a_200_survives_load -- --nocapture
