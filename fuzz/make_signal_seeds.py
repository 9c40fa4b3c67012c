#!/usr/bin/env python3
"""Writes the seed corpora of the logs and metrics targets, fuzz/seeds/otlp_logs/ and
fuzz/seeds/otlp_metrics/ (committed). Protobuf through opentelemetry-proto (run it with the
test venv: target/test-venv/bin/python fuzz/make_signal_seeds.py), OTLP/JSON by hand (the
targets read a body starting with `{` as JSON). Values are synthetic."""
import json
import os

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import ExportMetricsServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList

ROOT = os.path.dirname(os.path.abspath(__file__))
EMAIL = "alice@example.com"
SECRET = "token=ghp_0123456789abcdefghijABCDEFGHIJ012345 AKIAQ3EGRTY5LPMNBV2X card 4111 1111 1111 1111"
MESSAGES = json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"mail {EMAIL}, {SECRET}"}]}])


def av(v):
    if isinstance(v, str):
        return AnyValue(string_value=v)
    if isinstance(v, bool):
        return AnyValue(bool_value=v)
    if isinstance(v, int):
        return AnyValue(int_value=v)
    if isinstance(v, float):
        return AnyValue(double_value=v)
    if isinstance(v, bytes):
        return AnyValue(bytes_value=v)
    if isinstance(v, list):
        return AnyValue(array_value=ArrayValue(values=[av(x) for x in v]))
    return AnyValue(kvlist_value=KeyValueList(values=kvs(v)))


def kvs(d):
    return [KeyValue(key=k, value=av(v)) for k, v in d.items()]


def resource(rl, service):
    rl.resource.attributes.extend(kvs({"service.name": service, "host.owner": EMAIL}))
    rl.schema_url = "https://opentelemetry.io/schemas/1.30.0"


def logs_seeds():
    out = {}
    r = ExportLogsServiceRequest()
    rl = r.resource_logs.add()
    resource(rl, "agent")
    sl = rl.scope_logs.add()
    sl.scope.name = "openai"
    sl.scope.version = "1.0"
    sl.scope.attributes.extend(kvs({"scope.owner": EMAIL}))
    # Python logging, bridged: a string body, severity, attributes, trace context.
    rec = sl.log_records.add()
    rec.time_unix_nano = 1_700_000_000_000_000_000
    rec.observed_time_unix_nano = 1_700_000_000_000_000_001
    rec.severity_number = 9
    rec.severity_text = "INFO"
    rec.body.CopyFrom(av(f"refund requested by {EMAIL}: {SECRET}"))
    rec.attributes.extend(kvs({"code.function": "refund", "user.email": EMAIL}))
    rec.trace_id = bytes(range(1, 17))
    rec.span_id = bytes(range(1, 9))
    rec.flags = 1
    # The inference details event: attributes as JSON strings, as the Python SDK sends them.
    ev = sl.log_records.add()
    ev.event_name = "gen_ai.client.inference.operation.details"
    ev.trace_id = bytes([0x80] * 16)
    ev.span_id = bytes([2] * 8)
    ev.attributes.extend(kvs({
        "gen_ai.operation.name": "chat",
        "gen_ai.input.messages": MESSAGES,
        "gen_ai.output.messages": json.dumps([{"role": "assistant", "parts": [{"type": "tool_call", "arguments": {"card": "4111111111111111"}}]}]),
        "gen_ai.system_instructions": f"escalate to {EMAIL}",
    }))
    # The same event with structured values, and a one-message event with a kvlist body.
    ev2 = sl.log_records.add()
    ev2.event_name = "gen_ai.client.inference.operation.details"
    ev2.attributes.extend(kvs({
        "gen_ai.input.messages": [{"role": "user", "parts": [{"type": "text", "content": SECRET}]}],
    }))
    msg = sl.log_records.add()
    msg.event_name = "gen_ai.choice"
    msg.severity_number = 17
    msg.body.CopyFrom(av({"index": 0, "message": {"role": "assistant", "content": f"sent to {EMAIL}"}, "raw": b"\x00\xffbytes"}))
    out["genai"] = r.SerializeToString()

    r = ExportLogsServiceRequest()
    rl = r.resource_logs.add()
    resource(rl, "untraced")
    sl = rl.scope_logs.add()
    for i in range(6):
        rec = sl.log_records.add()
        rec.severity_number = [1, 5, 9, 13, 17, 21][i]
        rec.body.CopyFrom(av([f"line {i}", 3.5, True, [EMAIL, {"deep": {"deeper": SECRET}}]]))
    out["untraced"] = r.SerializeToString()

    r = ExportLogsServiceRequest()
    for service in ["a", "b"]:
        rl = r.resource_logs.add()
        resource(rl, service)
        rl.scope_logs.add()  # an empty scope
        sl = rl.scope_logs.add()
        rec = sl.log_records.add()
        rec.trace_id = bytes([ord(service)] * 16)
        rec.body.CopyFrom(av(f"password=hunter2 then retrying with hunter2 for {service}"))
    out["echo_two_resources"] = r.SerializeToString()

    out["json"] = json.dumps({"resourceLogs": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]},
        "scopeLogs": [{"scope": {"name": "py"}, "logRecords": [
            {"timeUnixNano": "1700000000000000000", "severityNumber": 9, "severityText": "INFO",
             "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174",
             "eventName": "gen_ai.user.message",
             "body": {"kvlistValue": {"values": [{"key": "content", "value": {"stringValue": f"hi, {EMAIL}"}}]}},
             "attributes": [{"key": "k", "value": {"arrayValue": {"values": [{"intValue": "3"}, {"bytesValue": "AAE="}]}}}]},
        ]}],
    }]}).encode()
    return out


def metrics_seeds():
    out = {}
    r = ExportMetricsServiceRequest()
    rm = r.resource_metrics.add()
    rm.resource.attributes.extend(kvs({"service.name": "agent", "owner": EMAIL}))
    sm = rm.scope_metrics.add()
    sm.scope.name = "meter"
    attrs = kvs({"user.email": EMAIL, "error.detail": SECRET, "tool.name": "refund"})
    m = sm.metrics.add(name="agent.tool.calls", unit="{call}", description=f"calls, ask {EMAIL}")
    m.metadata.extend(kvs({"note": SECRET}))
    m.sum.aggregation_temporality = 2
    m.sum.is_monotonic = True
    p = m.sum.data_points.add(as_int=3, start_time_unix_nano=1, time_unix_nano=2)
    p.attributes.extend(attrs)
    e = p.exemplars.add(as_int=1, time_unix_nano=2, trace_id=bytes([9] * 16), span_id=bytes([8] * 8))
    e.filtered_attributes.extend(kvs({"user.email": EMAIL}))
    m = sm.metrics.add(name="queue.depth", unit="1")
    m.gauge.data_points.add(as_double=float("nan")).attributes.extend(attrs)
    m.gauge.data_points.add(as_double=2.5)
    m = sm.metrics.add(name="gen_ai.client.operation.duration", unit="s")
    m.histogram.aggregation_temporality = 1
    h = m.histogram.data_points.add(count=3, sum=1.5, min=0.1, max=1.0)
    h.bucket_counts.extend([1, 1, 1])
    h.explicit_bounds.extend([0.25, 0.5])
    h.attributes.extend(attrs)
    h.exemplars.add(as_double=0.3, span_id=bytes([1] * 8), trace_id=bytes([2] * 16))
    m = sm.metrics.add(name="gen_ai.client.token.usage", unit="{token}")
    x = m.exponential_histogram.data_points.add(count=4, sum=10.0, scale=2, zero_count=1, zero_threshold=0.0)
    x.positive.offset = -2
    x.positive.bucket_counts.extend([1, 2])
    x.negative.bucket_counts.extend([0])
    x.attributes.extend(attrs)
    m = sm.metrics.add(name="latency.summary", unit="ms")
    s = m.summary.data_points.add(count=2, sum=3.0)
    s.quantile_values.add(quantile=0.5, value=1.0)
    s.quantile_values.add(quantile=0.99, value=2.0)
    s.attributes.extend(attrs)
    out["all_kinds"] = r.SerializeToString()

    r = ExportMetricsServiceRequest()
    rm = r.resource_metrics.add()
    sm = rm.scope_metrics.add()
    sm.metrics.add(name="no.data")
    m = sm.metrics.add(name="nested.attrs")
    m.gauge.data_points.add(as_int=-1).attributes.extend(kvs({"k": [{"a": [EMAIL, b"\x01"]}], "password": "hunter2"}))
    out["nested"] = r.SerializeToString()

    out["json"] = json.dumps({"resourceMetrics": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "agent"}}]},
        "scopeMetrics": [{"metrics": [
            {"name": "agent.tool.calls", "unit": "{call}",
             "sum": {"aggregationTemporality": 2, "isMonotonic": True, "dataPoints": [
                 {"asInt": "3", "timeUnixNano": "2",
                  "attributes": [{"key": "user.email", "value": {"stringValue": EMAIL}}],
                  "exemplars": [{"asDouble": 1.0, "traceId": "5b8efff798038103d269b633813fc60c", "spanId": "eee19b7ec3c1b174"}]}]}},
            {"name": "h", "histogram": {"dataPoints": [{"count": "2", "bucketCounts": ["1", "1"], "explicitBounds": [1.0]}]}},
        ]}],
    }]}).encode()
    return out


def main():
    for target, seeds in [("otlp_logs", logs_seeds()), ("otlp_metrics", metrics_seeds())]:
        d = os.path.join(ROOT, "seeds", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
