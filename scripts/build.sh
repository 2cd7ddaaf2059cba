#!/usr/bin/env bash
# `sam build` for every function (release, through cargo-lambda and zig), then checks that each
# bootstrap needs no newer glibc than Lambda's provided.al2023 has (2.34), and that aws-lc was
# built as the tested and measured binaries are (.cargo/config.toml's [env]).
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

# cargo-lambda builds in the source folder, so .cargo/config.toml applies; this says so of the
# build just made (aws-lc-sys's build script prints the variable it found).
triple=$([ "${ARCH:-arm64}" = arm64 ] && echo aarch64 || echo x86_64)-unknown-linux-gnu
output=$(ls -t target/"$triple"/release/build/aws-lc-sys-*/output | head -n 1)
grep -q "AWS_LC_SYS_NO_JITTER_ENTROPY': '1'" "$output" || {
  echo "aws-lc was built without AWS_LC_SYS_NO_JITTER_ENTROPY=1 ($output): run sam build from the repository's root" >&2
  exit 1
}
echo "aws-lc seeds from getrandom, as in the tests and make bench: ok" >&2
