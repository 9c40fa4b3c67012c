#!/usr/bin/env python3
"""Emits GenAI-style spans with the OpenTelemetry Python SDK to spanward.

usage: emit_genai.py grpc|http ENDPOINT TAG [--secret-email E] [--secret-card C]
An `invoke_agent` span with `chat` and `execute_tool` children carrying gen_ai.input.messages,
gen_ai.output.messages, gen_ai.tool.call.arguments and gen_ai.tool.call.result. Prints the
trace id in hex on success.
"""
import argparse
import json
import sys

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("protocol", choices=["grpc", "http"])
    ap.add_argument("endpoint")
    ap.add_argument("tag")
    ap.add_argument("--email", default="nobody@example.invalid")
    ap.add_argument("--card", default="0000")
    ap.add_argument("--key", default="none")
    ap.add_argument("--name-suffix", default="", help="appended to the root span's name")
    a = ap.parse_args()
    if a.protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=a.endpoint, insecure=True)
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        exporter = OTLPSpanExporter(endpoint=a.endpoint)
    provider = TracerProvider(resource=Resource.create({"service.name": "py-agent-" + a.tag}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    tracer = provider.get_tracer("emit_genai")
    user_msg = f"My email is {a.email}, please refund card {a.card}"
    root_name = f"invoke_agent support-{a.tag}" + (f" {a.name_suffix}" if a.name_suffix else "")
    with tracer.start_as_current_span(root_name) as root:
        root.set_attribute("gen_ai.operation.name", "invoke_agent")
        root.set_attribute("gen_ai.agent.name", "support")
        root.set_attribute("gen_ai.conversation.id", "conv-" + a.tag)
        with tracer.start_as_current_span("chat gpt-4o") as chat:
            chat.set_attribute("gen_ai.operation.name", "chat")
            chat.set_attribute("gen_ai.request.model", "gpt-4o")
            chat.set_attribute("gen_ai.input.messages", json.dumps(
                [{"role": "user", "parts": [{"type": "text", "content": user_msg}]}]))
            chat.set_attribute("gen_ai.output.messages", json.dumps(
                [{"role": "assistant", "parts": [{"type": "tool_call", "name": "refund",
                                                  "arguments": {"card": a.card}}]}]))
            chat.add_event("gen_ai.user.message", {"content": user_msg})
        with tracer.start_as_current_span("execute_tool refund") as tool:
            tool.set_attribute("gen_ai.operation.name", "execute_tool")
            tool.set_attribute("gen_ai.tool.name", "refund")
            tool.set_attribute("gen_ai.tool.call.arguments", json.dumps({"card": a.card, "api_key": a.key}))
            tool.set_attribute("gen_ai.tool.call.result", json.dumps({"status": "ok", "contact": a.email}))
            tool.set_attribute("tool.tags", ["refund", a.email])
        trace_id = format(root.get_span_context().trace_id, "032x")
    ok = provider.force_flush(30_000)
    provider.shutdown()
    if not ok:
        print("flush failed", file=sys.stderr)
        return 1
    print(trace_id)
    return 0


if __name__ == "__main__":
    sys.exit(main())
