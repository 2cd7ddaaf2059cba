#!/usr/bin/env bash
# `make bench`: builds the release binaries (the profile `sam build` ships), zips each bootstrap as
# a Lambda deployment package, and runs tools/local-aws/src/bin/bench/ (one module per measurement) against DynamoDB Local and the
# KMS and Secrets Manager emulator, once per network of BENCH_NETWORK:
#   loopback   plain HTTP on loopback: what this code costs, with storage as fast as it gets
#   deployed   the emulators behind TLS (a local CA) and a link of BENCH_DELAY_MS (default 1) each
#              way: the handshakes and round trips of a call inside an AWS Region
#   both       (the default) each, then the two side by side
# Prints the tables; writes target/bench/<profile>/results-<network>.json,
# docs/performance-<profile>-<network>.svg and, for both, target/bench/<profile>/comparison.md.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh dynamodb-local aws-emulator node-anchor
# PROFILE=<cargo profile> measures another build (see Cargo.toml's profiles); default release.
profile=${PROFILE:-release}
export BENCH_PROFILE=$profile
cargo build --profile "$profile" --bin backup --bin backup-fetch --bin client-backup-shares \
  --bin bench --bin deployed-network
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

run() { # one network, with emulators of its own
  (
    export BENCH_NETWORK=$1
    source scripts/dynamodb-local.sh
    source scripts/aws-emulator.sh
    [ "$1" = deployed ] && source scripts/deployed-network.sh
    "target/$profile/bench"
    if [ "$1" = deployed ]; then
      echo "TLS handshakes the endpoints served: $(grep -c '^handshake' target/bench/tls/handshakes.log)," \
        "by key exchange: $(grep '^handshake' target/bench/tls/handshakes.log | awk '{print $3, $4}' | sort | uniq -c | tr -s ' ' | paste -sd ',')"
    fi
  )
}
case "${BENCH_NETWORK:-both}" in
  loopback | deployed) run "${BENCH_NETWORK}" ;;
  both)
    run loopback
    run deployed
    "target/$profile/bench" --compare "target/bench/$profile/results-loopback.json" \
      "target/bench/$profile/results-deployed.json" | tee "target/bench/$profile/comparison.md"
    ;;
  *) echo "BENCH_NETWORK is loopback, deployed or both" >&2; exit 2 ;;
esac
