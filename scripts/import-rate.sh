#!/usr/bin/env bash
# How fast `custody import` moves rows in, and its peak memory: ROWS (default 10000) custodian
# shares of Portal's size, as JSON lines (SOURCE=jsonl, the default) or in Portal's PostgreSQL
# schema (SOURCE=postgres), imported by the release `custody` into fresh tables in DynamoDB Local
# with a key in the KMS emulator. Prints rows per second and the peak RSS
# (docs/migrate.md, "Measured"). The emulators bound it here; on AWS, KMS's and DynamoDB's request
# quotas do (docs/migrate.md).
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${ROWS:-10000}
source=${SOURCE:-jsonl}
scripts/tools.sh dynamodb-local aws-emulator postgres
source scripts/dynamodb-local.sh
source scripts/aws-emulator.sh
cargo build --quiet --release -p custody
cargo build --quiet -p local-aws --bin local-resources
suffix=$$-$(date +%s)
export SHARES_TABLE=import-shares-$suffix HISTORY_TABLE=import-history-$suffix AUDIT_TABLE=import-audit-$suffix \
  SHARE_KEY_ID=alias/import-rate-$suffix AUDIT_KEY_ID=alias/import-rate-audit-$suffix HISTORY_RETENTION_DAYS=0 \
  AWS_ENDPOINT_URL_DYNAMODB=$DYNAMODB_ENDPOINT AWS_ENDPOINT_URL_KMS=$AWS_EMULATOR_ENDPOINT \
  AWS_ENDPOINT_URL_STS=$AWS_EMULATOR_ENDPOINT \
  AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local AWS_REGION=us-east-1
target/debug/local-resources >/dev/null
source_file=$(mktemp --suffix=.jsonl)
# After the services' own traps, which stop them.
trap "$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/; s/[; ]+$//"); rm -f $source_file $source_file.rss" EXIT
if [ "$source" = postgres ]; then
  source scripts/postgres.sh
  # The same rows in Portal's tables (local_aws::postgres::PORTAL_SCHEMA has them in full).
  "$PSQL" "$POSTGRES_URL" -X -q -v ON_ERROR_STOP=1 -v rows="$rows" <<'SQL'
CREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "clientId" TEXT NOT NULL UNIQUE);
CREATE TABLE "CustodianBackupShare" ("createdAt" TIMESTAMP(3) NOT NULL, "id" TEXT PRIMARY KEY,
  "share" TEXT NOT NULL, "userId" INTEGER NOT NULL REFERENCES "User"("id"),
  "backupMethod" TEXT NOT NULL DEFAULT 'UNKNOWN', "backupSharePairId" TEXT);
INSERT INTO "User" ("id", "clientId") SELECT n, 'cli_' || n FROM generate_series(0, :rows - 1) n;
INSERT INTO "CustodianBackupShare" ("createdAt", "id", "share", "userId", "backupMethod", "backupSharePairId")
  SELECT '2024-06-01 10:00:00', 'r' || n, '{"share": "' || repeat('7', 1800) || '", "backupSharePairId": "bsp"}',
         n, 'GDRIVE-SECP256K1', 'bsp_' || n
  FROM generate_series(0, :rows - 1) n;
SQL
  from=(--from-postgres "$POSTGRES_URL")
else
  python3 - "$rows" >"$source_file" <<'PY'
import json, sys
share = json.dumps({"share": "7" * 1800, "backupSharePairId": "bsp"})  # about Portal's size
for n in range(int(sys.argv[1])):
    print(json.dumps({"id": f"r{n}", "clientId": f"cli_{n}", "backupMethod": "GDRIVE-SECP256K1",
                      "backupSharePairId": f"bsp_{n}", "share": share,
                      "createdAt": "2024-06-01T10:00:00Z"}))
PY
  from=(--from-jsonl "$source_file")
fi
started=$(date +%s.%N)
/usr/bin/time -f "%M" -o "$source_file.rss" target/release/custody --json import "${from[@]}" >/dev/null
finished=$(date +%s.%N)
python3 - "$rows" "$started" "$finished" "$(cat "$source_file.rss")" "$source" <<'PY'
import sys
rows, started, finished, rss = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4])
print(f"custody import ({sys.argv[5]}): {rows} rows in {finished - started:.1f} s, {rows / (finished - started):.0f} rows/s, peak RSS {rss / 1024:.1f} MiB")
PY
rm -f "$source_file.rss"
