#!/usr/bin/env bash
# Makes a Docker engine usable for `sam local`, once: installs Debian's docker.io and debootstrap
# (as root, on first use), starts dockerd if none answers, and builds the stand-in for Lambda's
# provided.al2023 image, which cannot be pulled here, from Debian packages: debootstrap's minbase
# bookworm with ca-certificates, imported as $LAMBDA_IMAGE. Cached: later calls are no-ops.
# Exits 3, saying why, where Docker cannot run (not root, no package manager, no engine).
set -euo pipefail
cd "$(dirname "$0")/.."
LAMBDA_IMAGE=${LAMBDA_IMAGE:-custodian-backup/provided-al2023-standin:bookworm}
log="$PWD/.tools/dockerd.log"
mkdir -p .tools

cannot() { echo "docker.sh: Docker cannot run here: $*" >&2; exit 3; }

if ! command -v dockerd >/dev/null 2>&1 || ! command -v debootstrap >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || cannot "dockerd and debootstrap are not installed, and installing them needs root"
  command -v apt-get >/dev/null 2>&1 || cannot "no apt-get to install docker.io and debootstrap"
  echo "installing Debian's docker.io and debootstrap (about 1 minute, once)" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >"$PWD/.tools/apt.log" 2>&1 \
    || { apt-get update -qq >>"$PWD/.tools/apt.log" 2>&1 \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io debootstrap >>"$PWD/.tools/apt.log" 2>&1; } \
    || { tail -n 20 "$PWD/.tools/apt.log" >&2; cannot "installing docker.io failed"; }
fi

if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || cannot "no Docker engine answers, and starting dockerd needs root"
  echo "starting dockerd (log: .tools/dockerd.log)" >&2
  nohup dockerd >"$log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || { tail -n 20 "$log" >&2; cannot "dockerd did not start"; }
fi

if ! docker image inspect "$LAMBDA_IMAGE" >/dev/null 2>&1; then
  # The Debian mirror this machine's apt already uses.
  mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n 1)
  [ -n "$mirror" ] || mirror=$(awk '$1 == "deb" { print $2; exit }' /etc/apt/sources.list 2>/dev/null)
  [ -n "$mirror" ] || cannot "no Debian mirror found in apt's sources for debootstrap"
  root=$(mktemp -d)
  trap 'rm -rf "$root"' EXIT
  echo "building the stand-in Lambda base image $LAMBDA_IMAGE with debootstrap (about 2 minutes, once)" >&2
  debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$PWD/.tools/debootstrap.log" 2>&1 \
    || { tail -n 20 "$PWD/.tools/debootstrap.log" >&2; cannot "debootstrap failed"; }
  tar -C "$root" -c . | docker import - "$LAMBDA_IMAGE" >/dev/null
  echo "built $LAMBDA_IMAGE" >&2
fi
