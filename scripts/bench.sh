#!/usr/bin/env bash
# `make bench`: builds the release binaries (the profile `sam build` ships), zips each bootstrap as
# a Lambda deployment package, and runs tools/local-aws/src/bin/bench.rs against DynamoDB Local and the KMS
# emulator. Prints the table; writes docs/performance-<profile>.svg and
# target/bench/<profile>/results.json.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh dynamodb-local aws-emulator
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
# PROFILE=<cargo profile> measures another build (see Cargo.toml's profiles); default release.
profile=${PROFILE:-release}
export BENCH_PROFILE=$profile
cargo build --profile "$profile" --bin backup --bin backup-fetch --bin client-backup-shares --bin bench
mkdir -p "target/bench/$profile"
for function in backup backup-fetch client-backup-shares; do
  python3 - "$function" "$profile" <<'PY'
import sys, zipfile
name, profile = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(f"target/bench/{profile}/{name}.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    info = zipfile.ZipInfo("bootstrap")
    info.external_attr = 0o755 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    z.writestr(info, open(f"target/{profile}/{name}", "rb").read())
PY
done
"target/$profile/bench"
