#!/usr/bin/env bash
# How fast `custody import` moves rows in, and its peak memory: ROWS (default 10000) custodian
# shares of Portal's size, as JSON lines, imported by the release `custody` into fresh tables in
# DynamoDB Local with a key in the KMS emulator. Prints rows per second and the peak RSS
# (docs/migrate.md, "Measured"). The emulators bound it here; on AWS, KMS's and DynamoDB's request
# quotas do (docs/migrate.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-10000}
scripts/tools.sh dynamodb-local aws-emulator
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
cargo build --quiet --release -p custody
cargo build --quiet -p local-aws --bin local-resources
suffix=$$-$(date +%s)
export SHARES_TABLE=import-shares-$suffix HISTORY_TABLE=import-history-$suffix AUDIT_TABLE=import-audit-$suffix \
  SHARE_KEY_ID=alias/import-rate-$suffix AUDIT_KEY_ID=alias/import-rate-audit-$suffix HISTORY_RETENTION_DAYS=0 \
  AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_ENDPOINT AWS_ENDPOINT_URL_KMS=$AWS_EMULATOR_ENDPOINT \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
target/debug/local-resources >/dev/null
source_file=$(mktemp --suffix=.jsonl)
trap 'rm -f "$source_file"' EXIT
python3 - "$rows" >"$source_file" <<'PY'
import json, sys
share = json.dumps({"share": "7" * 1800, "backupSharePairId": "bsp"})  # about Portal's size
for n in range(int(sys.argv[1])):
    print(json.dumps({"id": f"r{n}", "clientId": f"cli_{n}", "backupMethod": "GDRIVE-SECP256K1",
                      "backupSharePairId": f"bsp_{n}", "share": share,
                      "createdAt": "2024-06-01T10:00:00Z"}))
PY
started=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$source_file.rss" target/release/custody --json import --from-jsonl "$source_file" >/dev/null
finished=$(date +%s.%N)
python3 - "$rows" "$started" "$finished" "$(cat "$source_file.rss")" <<'PY'
import sys
rows, started, finished, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"custody import: {rows} rows in {finished - started:.1f} s, {rows / (finished - started):.0f} rows/s, peak RSS {rss / 1024:.1f} MiB")
PY
rm -f "$source_file.rss"
