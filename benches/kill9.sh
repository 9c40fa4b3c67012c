#!/usr/bin/env bash
# Runs the kill -9 durability loop N times (default 1,000): a writer appends with durable
# acknowledgements from 4 threads, is SIGKILLed at a random moment, the log is recovered and
# verified, and every acknowledged record must be present.
set -euo pipefail
cd "$(dirname "$0")/.."
KILL9_ITERATIONS="${1:-1000}" cargo test --release --test log_kill9 -- --nocapture
