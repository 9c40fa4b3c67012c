#!/usr/bin/env bash
# cargo-fuzz targets in fuzz/ (libFuzzer, stable toolchain via RUSTC_BOOTSTRAP=1).
#   scripts/fuzz.sh smoke              build, then 2,000 runs per target from the seeds
#   scripts/fuzz.sh run SECS [TARGET…] fuzz each target for SECS seconds, niced, one at a time
# Grown corpora go to fuzz/corpus/<target> (not in git), crashes to fuzz/artifacts/<target>.
# Built without a sanitizer: our code forbids unsafe, so what we look for is panics, failed
# invariants, overflow checks, timeouts and memory blow-ups, and that runs ~2x faster.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
targets=(otlp_proto otlp_json otlp_logs otlp_metrics scrub scrub_cost config log_verify)
if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "== installing cargo-fuzz (into ~/.cargo/bin, kept for next time)"
  cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
tdir=$root/target/fuzz
bin=$tdir/x86_64-unknown-linux-gnu/release
(cd fuzz && cargo fuzz build -s none --target-dir "$tdir")
mode=${1:-smoke}
case $mode in
  smoke)
    for t in "${targets[@]}"; do
      echo "== fuzz smoke: $t"
      mkdir -p "fuzz/artifacts/$t"
      # New units go to the first directory: a scratch one, so the committed seeds stay as is.
      scratch=$(mktemp -d)
      "$bin/$t" -runs=2000 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="fuzz/artifacts/$t/" \
        "$scratch" "fuzz/seeds/$t" 2>&1 | tail -1
      rm -rf "$scratch"
    done
    ;;
  run)
    secs=${2:?seconds}
    shift 2 || true
    [ $# -gt 0 ] && targets=("$@")
    for t in "${targets[@]}"; do
      mkdir -p "fuzz/corpus/$t" "fuzz/artifacts/$t"
      nice -n 10 "$bin/$t" "fuzz/corpus/$t" "fuzz/seeds/$t" -max_total_time="$secs" -timeout=10 \
        -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="fuzz/artifacts/$t/" 2>&1 \
        | grep -E '^stat::number_of_executed_units|^Done|SUMMARY' | sed "s/^/$t: /"
      echo "$t: corpus $(find "fuzz/corpus/$t" -type f | wc -l) files, $(du -sk "fuzz/corpus/$t" | cut -f1) KiB"
    done
    ;;
  *) echo "usage: $0 smoke | run SECS [TARGET…]" >&2; exit 2 ;;
esac
