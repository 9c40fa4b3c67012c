#!/usr/bin/env python3
"""Emits OTLP logs and metrics (and the spans they belong to) with the OpenTelemetry Python SDK.

usage: emit_signals.py MODE grpc|http ENDPOINT TAG [--email E] [--card C] [--aws K] [--token T]

ENDPOINT is the gRPC URL (http://host:port) or the OTLP/HTTP base URL (http://host:port): the
per-signal paths (/v1/traces, /v1/logs, /v1/metrics) are appended for HTTP.

MODE
  logs     Python `logging` bridged through `LoggingHandler` (a benign line, lines holding the
           seeded PII and secrets in the message and in `extra` attributes, a logged
           exception whose message holds them), and, inside a
           `chat` span, a `gen_ai.client.inference.operation.details` event (LogRecord with
           `event_name`) whose gen_ai.input.messages / gen_ai.output.messages /
           gen_ai.system_instructions carry the same values as the span's attributes.
           Prints one JSON line: {"trace_id", "span_id"} of the chat span.
  sampled  N traces (--traces), each a span with one INFO event and one WARNING `logging` line
           inside it, plus untraced INFO lines. Prints one JSON line: {"trace_ids": [...]}.
  metrics  A counter, a histogram and an up-down counter whose data point attributes hold the
           seeded values next to benign ones. Prints one JSON line: {"ok": true}.
"""
import argparse
import json
import logging
import sys

from opentelemetry.sdk.resources import Resource


def exporters(protocol, endpoint):
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        return (
            lambda: OTLPSpanExporter(endpoint=endpoint, insecure=True),
            lambda: OTLPLogExporter(endpoint=endpoint, insecure=True),
            lambda: OTLPMetricExporter(endpoint=endpoint, insecure=True),
        )
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    base = endpoint.rstrip("/")
    return (
        lambda: OTLPSpanExporter(endpoint=base + "/v1/traces"),
        lambda: OTLPLogExporter(endpoint=base + "/v1/logs"),
        lambda: OTLPMetricExporter(endpoint=base + "/v1/metrics"),
    )


def providers(a, span_exp, log_exp):
    from opentelemetry.sdk._logs import LoggerProvider
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create({"service.name": "py-agent-" + a.tag})
    tp = TracerProvider(resource=resource)
    tp.add_span_processor(BatchSpanProcessor(span_exp()))
    lp = LoggerProvider(resource=resource)
    lp.add_log_record_processor(BatchLogRecordProcessor(log_exp()))
    return tp, lp


def bridged_logger(lp, tag):
    from opentelemetry.sdk._logs import LoggingHandler

    log = logging.getLogger("agent.tools." + tag)
    log.setLevel(logging.INFO)
    log.propagate = False
    log.addHandler(LoggingHandler(level=logging.INFO, logger_provider=lp))
    return log


def flush(*ps):
    ok = all(p.force_flush(30_000) for p in ps)
    for p in ps:
        p.shutdown()
    return ok


def logs(a, span_exp, log_exp):
    tp, lp = providers(a, span_exp, log_exp)
    tracer = tp.get_tracer("emit_signals")
    log = bridged_logger(lp, a.tag)
    events = lp.get_logger("emit_signals.events")

    log.info("tool get_weather finished: sunny, 21 degrees in Paris")
    log.info(f"refund requested by {a.email} for card {a.card}", extra={"user.email": a.email, "tool.name": "refund"})
    log.warning(f"calling billing with aws key {a.aws} and token {a.token}", extra={"billing.auth": a.token})
    try:
        raise ValueError(f"card {a.card} declined for {a.email}")
    except ValueError:
        # exception.type / exception.message / exception.stacktrace attributes, all holding
        # the seeded values (the stack trace quotes the raising line's f-string source only).
        log.exception("tool refund failed")

    system = json.dumps([{"type": "text", "content": f"You are a support agent. Escalate to {a.email}."}])
    inp = json.dumps([{"role": "user", "parts": [{"type": "text", "content": f"Refund card {a.card}, my key is {a.aws}"}]}])
    out = json.dumps([{"role": "assistant", "parts": [{"type": "text", "content": f"Done. Token {a.token} revoked."}]}])
    with tracer.start_as_current_span("chat gpt-4o") as chat:
        for k, v in [
            ("gen_ai.operation.name", "chat"),
            ("gen_ai.request.model", "gpt-4o"),
            ("gen_ai.system_instructions", system),
            ("gen_ai.input.messages", inp),
            ("gen_ai.output.messages", out),
        ]:
            chat.set_attribute(k, v)
        events.emit(
            event_name="gen_ai.client.inference.operation.details",
            attributes={
                "gen_ai.operation.name": "chat",
                "gen_ai.request.model": "gpt-4o",
                "gen_ai.system_instructions": system,
                "gen_ai.input.messages": inp,
                "gen_ai.output.messages": out,
            },
        )
        ctx = chat.get_span_context()
    if not flush(tp, lp):
        print("flush failed", file=sys.stderr)
        return 1
    print(json.dumps({"trace_id": format(ctx.trace_id, "032x"), "span_id": format(ctx.span_id, "016x")}))
    return 0


def sampled(a, span_exp, log_exp):
    tp, lp = providers(a, span_exp, log_exp)
    tracer = tp.get_tracer("emit_signals")
    log = bridged_logger(lp, a.tag)
    events = lp.get_logger("emit_signals.events")
    ids = []
    for i in range(a.traces):
        with tracer.start_as_current_span(f"chat {i}") as span:
            span.set_attribute("gen_ai.operation.name", "chat")
            events.emit(
                event_name="gen_ai.client.inference.operation.details",
                attributes={"gen_ai.operation.name": "chat", "call.index": i},
            )
            log.warning(f"slow tool call {i}")
            ids.append(format(span.get_span_context().trace_id, "032x"))
    for i in range(a.traces):
        log.info(f"untraced line {i}")
    if not flush(tp, lp):
        print("flush failed", file=sys.stderr)
        return 1
    print(json.dumps({"trace_ids": ids}))
    return 0


def metrics(a, metric_exp):
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    # A long interval: the one export is at shutdown, so each point arrives once.
    reader = PeriodicExportingMetricReader(metric_exp(), export_interval_millis=3_600_000)
    mp = MeterProvider(resource=Resource.create({"service.name": "py-agent-" + a.tag}), metric_readers=[reader])
    meter = mp.get_meter("emit_signals")
    calls = meter.create_counter("agent.tool.calls", unit="{call}", description="Tool calls")
    calls.add(3, {"tool.name": "refund", "user.email": a.email})
    calls.add(2, {"tool.name": "get_weather", "city": "Paris"})
    dur = meter.create_histogram("gen_ai.client.operation.duration", unit="s", description="GenAI call duration")
    dur.record(1.25, {"gen_ai.operation.name": "chat", "error.detail": f"token {a.token} rejected"})
    dur.record(0.5, {"gen_ai.operation.name": "chat", "error.detail": "none"})
    inflight = meter.create_up_down_counter("agent.sessions.active", unit="{session}")
    inflight.add(4, {"payment.card": a.card, "aws.key": a.aws})
    # Shutdown collects and exports once more: with cumulative temporality a force_flush before
    # it would send every point twice. Its export's success shows downstream.
    mp.shutdown()
    print(json.dumps({"ok": True}))
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["logs", "sampled", "metrics"])
    ap.add_argument("protocol", choices=["grpc", "http"])
    ap.add_argument("endpoint")
    ap.add_argument("tag")
    ap.add_argument("--email", default="nobody@example.invalid")
    ap.add_argument("--card", default="0000")
    ap.add_argument("--aws", default="none")
    ap.add_argument("--token", default="none")
    ap.add_argument("--traces", type=int, default=40)
    a = ap.parse_args()
    span_exp, log_exp, metric_exp = exporters(a.protocol, a.endpoint)
    if a.mode == "logs":
        return logs(a, span_exp, log_exp)
    if a.mode == "sampled":
        return sampled(a, span_exp, log_exp)
    return metrics(a, metric_exp)


if __name__ == "__main__":
    sys.exit(main())
