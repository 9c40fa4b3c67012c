#!/usr/bin/env bash
# The kill -9 durability loop, N times (default 1,000), on demand.
#   benches/kill9.sh [N]          the real service: `spanward run` with `ack: durable`, four gRPC
#                                 clients recording acknowledged requests, SIGKILL at a random
#                                 moment, restart (recovery), `spanward verify`, every
#                                 acknowledged span present (tests/kill9_service.rs)
#   benches/kill9.sh [N] --sink   the log sink alone, appending from 4 threads (tests/log_kill9.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
n="${1:-1000}"
if [ "${2:-}" = "--sink" ]; then
  KILL9_ITERATIONS="$n" cargo test --release --test log_kill9 -- --nocapture
else
  SPANWARD_KILL9_ITERATIONS="$n" cargo test --release --test kill9_service -- --nocapture
fi
