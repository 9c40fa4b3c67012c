#!/usr/bin/env bash
# Cost of transport security on the gRPC receiver: spanward pass-through (stages off) forwarding
# to the counting receiver, driven by `spanward load` over plaintext, TLS, and TLS + a bearer
# token (certificates made here with openssl: a CA and a P-256 server certificate).
# Reports delivered spans/s, spanward CPU seconds per million spans (from /proc), client p50/p99.
#
# usage: benches/tls.sh [SECONDS] [CONCURRENCY]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
conc=${2:-8}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

cargo build --release --locked --quiet --bin spanward --example count_receiver
bin=target/release/spanward
counter=target/release/examples/count_receiver

# Test PKI.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=bench-ca \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=localhost \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$work/ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
  -days 2 -extfile "$work/ext" -out "$work/server.pem" 2>/dev/null
token=$(openssl rand -hex 24)
echo "bench:$token" > "$work/tokens"
echo "$token" > "$work/token"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
cpu_ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
wait_port() { for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; return 1; }
hz=$(getconf CLK_TCK)

results=$work/results.md
echo "| gRPC receiver | delivered spans/s | spanward CPU s per 1M spans | client p50 ms | client p99 ms | failed spans |" > "$results"
echo "|---|---|---|---|---|---|" >> "$results"

run() {
  local name=$1 tls=$2 auth=$3; shift 3
  pc=$(port); "$counter" "127.0.0.1:$pc" > "$work/count.log" & cpid=$!
  wait_port "$pc"
  pg=$(port); ph=$(port); pa=$(port)
  cat > "$work/sw.yaml" <<YAML
receivers:
  otlp:
    grpc: { endpoint: "127.0.0.1:$pg" $tls }
    http: { endpoint: "127.0.0.1:$ph" }
    $auth
exporters:
  otlp: { endpoint: "http://127.0.0.1:$pc" }
admin: { endpoint: "127.0.0.1:$pa" }
fingerprint: { enabled: false }
redaction: { enabled: false }
YAML
  "$bin" run --config "$work/sw.yaml" 2> "$work/sw.log" & spid=$!
  wait_port "$pg"; sleep 1
  local c0 r0; c0=$(cpu_ticks "$spid"); r0=$(tail -n 1 "$work/count.log" | sed -E 's/spans=([0-9]+).*/\1/')
  local out; out=$("$bin" load --endpoint "127.0.0.1:$pg" --duration "${secs}s" --concurrency "$conc" \
      --spans-per-request 512 --payload-bytes 1500 --pii-fraction 0.3 --seed 1 --json "$@" | tail -n 1)
  sleep 3
  local c1 r1; c1=$(cpu_ticks "$spid"); r1=$(tail -n 1 "$work/count.log" | sed -E 's/spans=([0-9]+).*/\1/')
  python3 - "$name" "$out" "$c0" "$c1" "${r0:-0}" "${r1:-0}" "$hz" >> "$results" <<'PY'
import json, sys
name, out, c0, c1, r0, r1, hz = sys.argv[1:]
o = json.loads(out)
cpu = (int(c1) - int(c0)) / int(hz)
got = int(r1) - int(r0)
per_m = cpu / got * 1e6 if got else float("nan")
print(f"| {name} | {got/float(o['seconds']):,.0f} | {per_m:.2f} | {o['p50_ms']:.1f} | {o['p99_ms']:.1f} | {o['spans_failed']} |")
PY
  kill -INT "$spid"; wait "$spid" 2>/dev/null || true
  kill -INT "$cpid"; wait "$cpid" 2>/dev/null || true
}

tls=", tls: { cert_file: \"$work/server.pem\", key_file: \"$work/server.key\" }"
auth="auth: { tokens_file: \"$work/tokens\" }"
run "plaintext" "" ""
run "TLS 1.3" "$tls" "" --ca-file "$work/ca.pem"
run "TLS 1.3 + bearer token" "$tls" "$auth" --ca-file "$work/ca.pem" --token-file "$work/token"

echo
echo "load: spanward load --duration ${secs}s --concurrency $conc --spans-per-request 512 --payload-bytes 1500 --pii-fraction 0.3 --seed 1 (gRPC); $(nproc) cores"
cat "$results"
