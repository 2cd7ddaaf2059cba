#!/usr/bin/env bash
# Checks that each bootstrap given needs no newer glibc than Lambda's provided.al2023 has (2.34).
set -euo pipefail
status=0
for bootstrap in "$@"; do
  needed=$(objdump -T "$bootstrap" | grep -o 'GLIBC_[0-9.]*' | sort -V | tail -n 1)
  size=$(du -h "$bootstrap" | cut -f1)
  if [ "$(printf '%s\n%s\n' "${needed#GLIBC_}" 2.34 | sort -V | tail -n 1)" = 2.34 ]; then
    echo "$bootstrap: $size, needs $needed (provided.al2023 has 2.34): ok"
  else
    echo "$bootstrap: needs $needed, newer than provided.al2023's 2.34" >&2
    status=1
  fi
done
exit $status
