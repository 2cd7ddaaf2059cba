#!/usr/bin/env bash
# Sourced by bench.sh for BENCH_NETWORK=deployed, after the emulators started: a local CA and a
# certificate for localhost, then the emulators behind TLS and a link of $BENCH_DELAY_MS (default
# 1) each way (tools/local-aws/src/network.rs). Re-exports DYNAMODB_ENDPOINT and
# AWS_EMULATOR_ENDPOINT (KMS) as https://localhost:PORT, exports BENCH_SECRETS_MANAGER_ENDPOINT
# (the same moto on a port of its own: in AWS, KMS and Secrets Manager are different hosts, and the
# SDK pools connections per host), and SSL_CERT_FILE (read by rustls-native-certs,
# the SDK's trust store) as the system bundle plus the local CA, so the functions trust the CA
# the way they trust AWS's and parse a bundle of the same size. Stopped when the caller exits.
tls="$PWD/target/bench/tls"
mkdir -p "$tls"
if [ ! -s "$tls/localhost.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
    -subj "/CN=custodian-backup bench CA" -keyout "$tls/ca-key.pem" -out "$tls/ca.pem" 2>/dev/null
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
    -keyout "$tls/localhost-key.pem" -out "$tls/localhost.csr" 2>/dev/null
  openssl x509 -req -in "$tls/localhost.csr" -CA "$tls/ca.pem" -CAkey "$tls/ca-key.pem" \
    -CAcreateserial -days 30 -out "$tls/localhost.pem" \
    -extfile <(printf 'subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n') 2>/dev/null
fi
# Debian's bundle, or Amazon Linux's (the one provided.al2023 has).
system_bundle=/dev/null
for bundle in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt; do
  [ -s "$bundle" ] && system_bundle=$bundle && break
done
cat "$system_bundle" "$tls/ca.pem" >"$tls/bundle.pem"
export SSL_CERT_FILE="$tls/bundle.pem"
export NODE_EXTRA_CA_CERTS="$tls/ca.pem"

"target/${BENCH_PROFILE:-release}/deployed-network" --certificate "$tls/localhost.pem" \
  --key "$tls/localhost-key.pem" --delay-ms "${BENCH_DELAY_MS:-1}" \
  dynamodb="$DYNAMODB_ENDPOINT" kms="$AWS_EMULATOR_ENDPOINT" secretsmanager="$AWS_EMULATOR_ENDPOINT" >"$tls/endpoints" 2>"$tls/handshakes.log" &
network_pid=$!
previous_exit_trap=$(trap -p EXIT | sed -E "s/^trap -- '(.*)' EXIT$/\1/")
# shellcheck disable=SC2064 # expand $network_pid now
trap "kill $network_pid 2>/dev/null || true; $previous_exit_trap" EXIT
for _ in $(seq 1 100); do
  grep -qx ready "$tls/endpoints" 2>/dev/null && break
  kill -0 $network_pid 2>/dev/null || { cat "$tls/handshakes.log" >&2; exit 1; }
  sleep 0.1
done
export DYNAMODB_ENDPOINT=$(sed -n 's/^dynamodb=//p' "$tls/endpoints")
export AWS_EMULATOR_ENDPOINT=$(sed -n 's/^kms=//p' "$tls/endpoints")
export BENCH_SECRETS_MANAGER_ENDPOINT=$(sed -n 's/^secretsmanager=//p' "$tls/endpoints")
export BENCH_ROUND_TRIP_MS=$(sed -n 's/^round-trip-ms=//p' "$tls/endpoints")
echo "deployed-like network: DynamoDB at $DYNAMODB_ENDPOINT, KMS at $AWS_EMULATOR_ENDPOINT, Secrets Manager at $BENCH_SECRETS_MANAGER_ENDPOINT, round trip ${BENCH_ROUND_TRIP_MS} ms (measured)" >&2
