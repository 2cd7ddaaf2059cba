#!/usr/bin/env bash
# `sam build` for every function (release, through cargo-lambda and zig), then a check that each
# bootstrap needs no newer glibc than Lambda's provided.al2023 has (2.34).
#   ARCH=arm64 (default) needs the Rust target: rustup target add aarch64-unknown-linux-gnu
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh cargo-lambda sam
export PATH="$PWD/.tools/venv/bin:$PATH" SAM_CLI_TELEMETRY=0
started=$(date +%s)
echo "sam build: release builds of the functions for ${ARCH:-arm64} (about 10 minutes on 2 cores the first time, a few after)" >&2
sam build --parameter-overrides "Architecture=${ARCH:-arm64}"
echo "sam build took $(( $(date +%s) - started )) s" >&2

scripts/glibc-check.sh .aws-sam/build/*/bootstrap
