#!/usr/bin/env python3
"""Writes the small seed corpora under fuzz/seeds/<target>/ (committed; the grown corpora under
fuzz/corpus/ are not). Hand-rolled protobuf so no dependency is needed. Values are synthetic."""
import json, os, struct, sys

ROOT = os.path.dirname(os.path.abspath(__file__))

def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)

def ld(field, payload):
    return varint(field << 3 | 2) + varint(len(payload)) + payload

def vi(field, n):
    return varint(field << 3) + varint(n)

def fixed64(field, n):
    return varint(field << 3 | 1) + struct.pack("<Q", n)

# AnyValue: string 1, bool 2, int 3, double 4, array 5, kvlist 6, bytes 7.
def s(v): return ld(1, v.encode())
def arr(*vals): return ld(5, b"".join(ld(1, v) for v in vals))
def kvl(*kvs): return ld(6, b"".join(ld(1, k) for k in kvs))
def kv(key, val): return ld(1, key.encode()) + ld(2, val)

SECRETS = [
    "contact alice@example.com or +1 415 555 0100",
    "token=ghp_0123456789abcdefghijABCDEFGHIJ012345",
    "AKIAQ3EGRTY5LPMNBV2X",
    "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJlLWZha2U",
    "card 4111 1111 1111 1111 exp 12/30",
    "IBAN DE89370400440532013000",
    "ssn 123-45-6789, ip 10.1.2.3",
    '{"messages":[{"role":"user","content":"my password is hunter2, mail bob@example.org"}]}',
    "postgres://app:s3cr3t@db.internal:5432/x",
    "-----BEGIN PRIVATE KEY-----\\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\\n-----END PRIVATE KEY-----",
]

def span(i, attrs, events=b"", links=b""):
    body = ld(1, bytes([i + 1] * 16)) + ld(2, bytes([i + 7] * 8))
    body += ld(5, f"chat gpt-4o {i}".encode()) + vi(6, 3)
    body += fixed64(7, 1_700_000_000_000_000_000) + fixed64(8, 1_700_000_000_500_000_000)
    body += b"".join(ld(9, a) for a in attrs) + events + links
    body += ld(15, vi(3, 2) + ld(2, b"tool failed"))
    return body

def request(spans, service="agent"):
    resource = ld(1, ld(1, kv("service.name", s(service))))
    scope = ld(1, ld(1, b"openai") + ld(2, b"1.0"))
    return ld(1, resource + ld(2, scope + b"".join(ld(2, sp) for sp in spans)))

def proto_seeds():
    out = {}
    out["one_span"] = request([span(0, [kv("gen_ai.operation.name", s("chat"))])])
    out["secrets"] = request([span(i, [kv("gen_ai.prompt", s(t))]) for i, t in enumerate(SECRETS)])
    nested = kv("tool.args", kvl(kv("q", s(SECRETS[0])), kv("list", arr(s(SECRETS[2]), vi(3, 4111111111111111)))))
    event = ld(11, fixed64(1, 1) + ld(2, b"gen_ai.user.message") + ld(3, kv("content", s(SECRETS[7]))))
    link = ld(13, ld(1, bytes([9] * 16)) + ld(2, bytes([8] * 8)) + ld(4, kv("k", s("v"))))
    out["nested_event_link"] = request([span(0, [nested, kv("b", ld(7, b"bytes \x00\xff")), kv("n", vi(3, 42))], event, link)])
    deep = s("leaf")
    for _ in range(20):
        deep = arr(deep)
    out["deep"] = request([span(0, [kv("deep", deep)])])
    out["tracestate"] = request([span(0, []) + ld(3, b"ot=rv:abcdef01234567;th:8,vendor=x")])
    return out

def any_json(v):
    return {"stringValue": v}

def json_seeds():
    def sp(i, attrs, **extra):
        d = {"traceId": f"{i + 1:02x}" * 16, "spanId": f"{i + 7:02x}" * 8, "name": f"chat {i}",
             "kind": 3, "startTimeUnixNano": "1700000000000000000", "endTimeUnixNano": 1700000000500000000,
             "attributes": attrs, "status": {"code": 2, "message": "boom"}}
        d.update(extra)
        return d
    def req(spans):
        return {"resourceSpans": [{"resource": {"attributes": [{"key": "service.name", "value": any_json("agent")}]},
                                   "scopeSpans": [{"scope": {"name": "s"}, "spans": spans}]}]}
    out = {}
    out["secrets"] = req([sp(i, [{"key": "gen_ai.prompt", "value": any_json(t)}]) for i, t in enumerate(SECRETS)])
    out["types"] = req([sp(0, [
        {"key": "i", "value": {"intValue": "4111111111111111"}},
        {"key": "d", "value": {"doubleValue": 1.5}},
        {"key": "b", "value": {"boolValue": True}},
        {"key": "y", "value": {"bytesValue": "aGVsbG8gYWxpY2VAZXhhbXBsZS5jb20="}},
        {"key": "a", "value": {"arrayValue": {"values": [any_json(SECRETS[1]), {"intValue": 3}]}}},
        {"key": "kv", "value": {"kvlistValue": {"values": [{"key": "password", "value": any_json("x")}]}}},
    ], events=[{"timeUnixNano": "1", "name": "e", "attributes": [{"key": "c", "value": any_json(SECRETS[7])}]}],
       links=[{"traceId": "09" * 16, "spanId": "08" * 8, "traceState": "ot=th:8"}], traceState="ot=rv:abcdef01234567")])
    return {k: json.dumps(v).encode() for k, v in out.items()}

def scrub_seeds():
    out = {f"text{i}": b"\x01" + t.encode() for i, t in enumerate(SECRETS)}
    out["json"] = b"\x01" + json.dumps({"a": SECRETS[0], "b": [SECRETS[1], {"c": SECRETS[4]}]}).encode()
    out["escaped"] = b"\x01" + json.dumps(json.dumps({"t": SECRETS[3]})).encode()
    # Span seeds: mode byte 0, then a protobuf Span.
    out["span"] = b"\x00" + span(0, [kv("k", s(SECRETS[0])), kv("password", s("x")),
                                     kv("nested", kvl(kv("a", arr(s(SECRETS[5]), s(SECRETS[6])))))])
    return out

def config_seeds():
    out = {}
    deploy = os.path.join(ROOT, "..", "deploy")
    for d, _, files in os.walk(deploy):
        for f in files:
            if f == "spanward.yaml":
                out[os.path.basename(d)] = open(os.path.join(d, f), "rb").read()
    out["limits"] = b"""receivers:
  otlp:
    grpc: { endpoint: "127.0.0.1:4317" }
    http: { endpoint: "127.0.0.1:4318" }
    limits: { max_body_bytes: 1048576, max_decompression_ratio: 50, max_spans_per_request: 10, max_attributes_per_span: 20, max_attribute_depth: 8, max_attribute_value_bytes: 4096 }
exporters:
  otlp: { endpoint: "http://127.0.0.1:4327", compression: gzip, timeout: 5s, retry: { initial_interval: 10ms, max_interval: 1s, max_elapsed_time: 10s } }
  file: { path: ./data, fsync: batch, segment_bytes: 1048576 }
pipeline: { workers: 2, ack: durable, queue: { max_spans: 100, when_full: refuse } }
sampling: { ratio: 0.25, keep_errors: true, rules: [ { service: "agent-*", ratio: 1.0 } ] }
redaction: { bytes: scan, summary: debug, disable_types: [ipv4], actions: { pii: mask }, blocked_keys: ["*token*"] }
"""
    return out

def log_seeds():
    # which-file, mode, offset (2 bytes), data.
    out = {}
    for which in range(8):
        for mode in range(8):
            out[f"f{which}m{mode}"] = bytes([which, mode, 0, 40]) + b"\x00\xffspanward"
    return out

def write(target, seeds):
    d = os.path.join(ROOT, "seeds", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)

if __name__ == "__main__":
    write("otlp_proto", proto_seeds())
    write("otlp_json", json_seeds())
    write("scrub", scrub_seeds())
    write("config", config_seeds())
    write("log_verify", log_seeds())
