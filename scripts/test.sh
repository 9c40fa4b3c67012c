#!/usr/bin/env bash
# The whole test suite, from a fresh clone: installs what the tests need (a Python venv with the
# OpenTelemetry SDK for the real-client tests), checks formatting and lints, runs every test, and
# runs the black-box redaction check through the built binary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
started=$SECONDS
# Section headers carry the elapsed time, so a slow step shows in CI's output.
step() { echo "== [$(( (SECONDS - started) / 60 ))m$(( (SECONDS - started) % 60 ))s] $*"; }
venv=$root/target/test-venv
req=$root/tests/python/requirements.txt

if ! "$venv/bin/python" -c 'import opentelemetry.sdk, opentelemetry.exporter.otlp.proto.grpc, opentelemetry.exporter.otlp.proto.http, grpc, opentelemetry.proto' 2>/dev/null \
   || ! cmp -s "$req" "$venv/.requirements"; then
  step "creating Python venv for real-client tests"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.requirements"
fi
export SPANWARD_TEST_PYTHON=$venv/bin/python

# The Kafka sink is tested against a real Kafka-protocol broker: tansu (Rust, AGPL: installed
# and run as a separate program, never linked). Built once (~11 min on 2 cores) into a cache
# outside the checkout, in the background while our own code builds (18 min of CPU with the
# flags below, measured on a busy 2-core machine).
tansu_version=0.6.0
cache=${SPANWARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/spanward}
tansu_root=$cache/tansu-$tansu_version
tansu_pid=
if [ ! -x "$tansu_root/bin/tansu" ]; then
  step "installing the tansu broker $tansu_version in the background (one time; log: $cache/tansu-install.log)"
  mkdir -p "$cache"
  # A test broker needs no LTO or full optimisation: these cut its one-time build noticeably.
  CARGO_PROFILE_RELEASE_OPT_LEVEL=1 CARGO_PROFILE_RELEASE_LTO=false \
  CARGO_PROFILE_RELEASE_CODEGEN_UNITS=256 CARGO_PROFILE_RELEASE_DEBUG=false \
  CARGO_PROFILE_RELEASE_STRIP=true \
  cargo install tansu --version "$tansu_version" --locked --features dynostore \
    --root "$tansu_root" >"$cache/tansu-install.log" 2>&1 &
  tansu_pid=$!
fi
export SPANWARD_TANSU=$tansu_root/bin/tansu SPANWARD_REQUIRE_KAFKA=1

step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy"
cargo clippy --all-targets --locked -- -D warnings
step "cargo test (build)"
cargo test --all-targets --locked --no-run
if [ -n "$tansu_pid" ]; then
  step "waiting for the tansu broker install"
  if ! wait "$tansu_pid"; then
    tail -n 30 "$cache/tansu-install.log"
    echo "tansu install failed" >&2
    exit 1
  fi
fi
step "cargo test"
cargo test --all-targets --locked
if command -v cargo-deny >/dev/null 2>&1; then
  step "cargo deny (licenses, bans, sources)"
  cargo deny --locked check licenses bans sources
fi
# Opt-in: building the fuzz targets from scratch costs more than the CI budget (see README).
if [ "${SPANWARD_FUZZ_SMOKE:-0}" = 1 ]; then
  step "fuzz smoke"
  scripts/fuzz.sh smoke
fi
step "fail-closed proof (test-only fault injection)"
cargo test --locked --features fault-injection --test fail_closed
# The test build's binary: the same code as a release build (with overflow checks on), and no
# second full build of the crate's dependencies in release mode on a fresh machine.
step "black-box redaction check through the running binary (../shared/tools/corpus_check.py)"
cargo build --locked --bin spanward
if [ -f ../shared/tools/corpus_check.py ]; then
  "$venv/bin/python" ../shared/tools/corpus_check.py "$root/target/debug/spanward"
else
  echo "../shared/tools/corpus_check.py not found: skipped"
fi
step "done"
