#!/usr/bin/env bash
# Pass-through comparison: spanward (stages off, OTLP forward) against Rotel (`rotel==0.0.1a15`
# from PyPI, OTLP forward), both in front of the same counting receiver, driven by
# `spanward load` (1.5 KB agent spans, 512 spans per request, 30 % with PII, seed 1).
# Reports delivered spans/s, collector CPU seconds per million spans (from /proc), peak RSS.
#
# usage: benches/passthrough.sh [SECONDS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conc=${2:-8}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --quiet --bin spanward --example count_receiver
bin=target/release/spanward
counter=target/release/examples/count_receiver

venv=target/bench-venv
if [ ! -x "$venv/rotel/rotel-agent" ]; then
  mkdir -p "$venv"
  python3 -m pip download --quiet --no-deps --disable-pip-version-check rotel==0.0.1a15 -d "$venv/wheel"
  python3 -m zipfile -e "$venv"/wheel/rotel-0.0.1a15-*.whl "$venv"
  chmod +x "$venv/rotel/rotel-agent"
fi
rotel=$venv/rotel/rotel-agent

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
hwm_kib() { awk '/VmHWM/{print $2}' "/proc/$1/status"; }
received() {
  # A counting receiver's log, or (for log-only runs) spanward's admin address: delivered spans.
  if [[ "$1" == admin:* ]]; then
    curl -s "http://${1#admin:}/metrics" | awk '/^spanward_pipeline_delivered_spans_total/{print $2}'
  else
    tail -n 1 "$1" | sed -E 's/spans=([0-9]+).*/\1/'
  fi
}
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
hz=$(getconf CLK_TCK)

results=$work/results.md
echo "| collector | delivered spans/s | CPU s per 1M spans | peak RSS MiB | client p50 ms | client p99 ms | lost |" > "$results"
echo "|---|---|---|---|---|---|---|" >> "$results"

run_one() {
  local name=$1 pid=$2 in=$3 clog=$4
  wait_port "$in"
  sleep 1
  local c0 r0; c0=$(cpu_ticks "$pid"); r0=$(received "$clog")
  local out; out=$("$bin" load --endpoint "127.0.0.1:$in" --duration "${secs}s" --concurrency "$conc" \
      --spans-per-request 512 --payload-bytes 1500 --pii-fraction 0.3 --seed 1 --json | tail -n 1)
  sleep 3  # let the collector flush its batches
  local c1 r1; c1=$(cpu_ticks "$pid"); r1=$(received "$clog")
  r0=${r0:-0}; r1=${r1:-0}
  local hwm; hwm=$(hwm_kib "$pid")
  python3 - "$name" "$out" "$c0" "$c1" "$r0" "$r1" "$hwm" "$hz" "$secs" >> "$results" <<'PY'
import json, sys
name, out, c0, c1, r0, r1, hwm, hz, secs = sys.argv[1:]
o = json.loads(out)
cpu = (int(c1) - int(c0)) / int(hz)
got = int(r1) - int(r0)
sent = o["spans_ok"]
per_m = cpu / got * 1e6 if got else float("nan")
print(f"| {name} | {got/float(o['seconds']):,.0f} | {per_m:.2f} | {int(hwm)/1024:.0f} | {o['p50_ms']:.1f} | {o['p99_ms']:.1f} | {sent-got} |")
PY
  kill -INT "$pid"; wait "$pid" 2>/dev/null || true
}

# Rotel pass-through.
pc=$(port); "$counter" "127.0.0.1:$pc" > "$work/count-rotel.log" & cpid=$!
wait_port "$pc"
pg=$(port); ph=$(port)
"$rotel" start --otlp-grpc-endpoint "127.0.0.1:$pg" --otlp-http-endpoint "127.0.0.1:$ph" \
  --exporter otlp --otlp-exporter-endpoint "http://127.0.0.1:$pc" --pid-file "$work/rotel.pid" \
  --log-file "$work/rotel.log" > "$work/rotel.out" 2>&1 & rpid=$!
run_one "Rotel 0.0.1a15 (pass-through)" "$rpid" "$pg" "$work/count-rotel.log"
kill -INT "$cpid"; wait "$cpid" 2>/dev/null || true

# spanward: pass-through (stages off) and the full pipeline (sampling 1.0, fingerprints, default
# packs), both forwarding over OTLP.
run_spanward() {
  local name=$1 stages=$2
  pc=$(port); "$counter" "127.0.0.1:$pc" > "$work/count-sw.log" & cpid=$!
  wait_port "$pc"
  pg=$(port); ph=$(port); pa=$(port)
  cat > "$work/sw.yaml" <<YAML
receivers:
  otlp:
    grpc: { endpoint: "127.0.0.1:$pg" }
    http: { endpoint: "127.0.0.1:$ph" }
exporters:
  otlp: { endpoint: "http://127.0.0.1:$pc" }
admin: { endpoint: "127.0.0.1:$pa" }
$stages
YAML
  SPANWARD_HMAC_KEY=000102030405060708090a0b0c0d0e0f "$bin" run --config "$work/sw.yaml" 2> "$work/sw.log" & spid=$!
  run_one "$name" "$spid" "$pg" "$work/count-sw.log"
  kill -INT "$cpid"; wait "$cpid" 2>/dev/null || true
}
run_spanward "spanward (pass-through)" $'fingerprint: { enabled: false }\nredaction: { enabled: false }'
run_spanward "spanward (full pipeline)" "sampling: { ratio: 1.0 }"

# spanward into the tamper-evident log with ack: durable (fsync: batch, group commit).
run_spanward_log() {
  local name=$1 stages=$2
  pg=$(port); ph=$(port); pa=$(port)
  cat > "$work/sw.yaml" <<YAML
receivers:
  otlp:
    grpc: { endpoint: "127.0.0.1:$pg" }
    http: { endpoint: "127.0.0.1:$ph" }
exporters:
  file: { path: "$work/log-$RANDOM", fsync: batch }
admin: { endpoint: "127.0.0.1:$pa" }
pipeline: { ack: durable }
$stages
YAML
  SPANWARD_HMAC_KEY=000102030405060708090a0b0c0d0e0f "$bin" run --config "$work/sw.yaml" 2> "$work/sw.log" & spid=$!
  run_one "$name" "$spid" "$pg" "admin:127.0.0.1:$pa"
}
run_spanward_log "spanward (pass-through → log, ack: durable)" $'fingerprint: { enabled: false }\nredaction: { enabled: false }'
run_spanward_log "spanward (full pipeline → log, ack: durable)" "sampling: { ratio: 1.0 }"

echo
echo "load: spanward load --duration ${secs}s --concurrency $conc --spans-per-request 512 --payload-bytes 1500 --pii-fraction 0.3 --seed 1 (gRPC); $(nproc) cores"
cat "$results"
