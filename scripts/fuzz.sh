#!/usr/bin/env bash
# Runs each fuzz target for FUZZ_SECONDS (default 60) with libFuzzer on the stable toolchain
# (`--sanitizer none`: Rust's own bounds and overflow checks, no ASan), then prints how many inputs
# each ran. A crash stops the run, and its input is saved under fuzz/artifacts/<target>/.
#   FUZZ_SECONDS=300 scripts/fuzz.sh              all targets
#   scripts/fuzz.sh request_body                   one target
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/tools.sh cargo-fuzz
seconds=${FUZZ_SECONDS:-60}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(request_body secret_header stored_item)
export CARGO_TARGET_DIR="$PWD/target/fuzz"
cd fuzz
summary=""
for target in "${targets[@]}"; do
  mkdir -p "corpus/$target"
  seeds=()
  [ -d "seeds/$target" ] && seeds=("seeds/$target")
  log=$(mktemp)
  ../.tools/cargo/bin/cargo-fuzz run --sanitizer none "$target" "corpus/$target" "${seeds[@]}" -- \
    -max_total_time="$seconds" -print_final_stats=1 2>&1 | tee "$log" | grep -E "^(Done|==|INFO: Running)" || true
  runs=$(grep -oE "^Done [0-9]+ runs in [0-9]+ second" "$log" | tail -n 1)
  if [ -z "$runs" ]; then
    echo "fuzz target $target did not finish cleanly; see the output above and fuzz/artifacts/$target/" >&2
    tail -n 40 "$log" >&2
    exit 1
  fi
  summary+=$(printf '%-14s %s' "$target" "$runs")$'\n'
  rm -f "$log"
done
printf '\nfuzzing, %s s per target, no crash:\n%s' "$seconds" "$summary"
