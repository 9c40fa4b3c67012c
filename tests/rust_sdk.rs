//! The OpenTelemetry Rust SDK, a real client, exports GenAI-style spans to spanward over gRPC and
//! OTLP/HTTP; they arrive downstream with their names, attributes and parentage intact.

mod common;

use common::*;
use opentelemetry::trace::{Span as _, TraceContextExt, Tracer, TracerProvider as _};
use opentelemetry::KeyValue;
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::trace::SdkTracerProvider;

fn emit(provider: &SdkTracerProvider, tag: &str) {
    let tracer = provider.tracer("rust-sdk-test");
    tracer.in_span(format!("invoke_agent {tag}"), |cx| {
        cx.span()
            .set_attribute(KeyValue::new("gen_ai.operation.name", "invoke_agent"));
        let mut chat = tracer.start_with_context("chat gpt-4o", &cx);
        chat.set_attribute(KeyValue::new(
            "gen_ai.input.messages",
            r#"[{"role":"user","parts":[{"type":"text","content":"weather in Paris?"}]}]"#,
        ));
        chat.end();
        let mut tool = tracer.start_with_context("execute_tool get_weather", &cx);
        tool.set_attribute(KeyValue::new(
            "gen_ai.tool.call.arguments",
            r#"{"city":"Paris"}"#,
        ));
        tool.set_attribute(KeyValue::new("gen_ai.tool.call.result", r#"{"temp_c":21}"#));
        tool.end();
    });
}

fn attr<'a>(s: &'a opentelemetry_proto::tonic::trace::v1::Span, k: &str) -> Option<&'a str> {
    s.attributes.iter().find(|kv| kv.key == k).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            opentelemetry_proto::tonic::common::v1::any_value::Value::StringValue(s) => {
                Some(s.as_str())
            }
            _ => None,
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_over_grpc_and_http() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;

    let grpc = opentelemetry_otlp::SpanExporter::builder()
        .with_tonic()
        .with_endpoint(svc.grpc_url())
        .build()
        .unwrap();
    let p = SdkTracerProvider::builder()
        .with_batch_exporter(grpc)
        .build();
    emit(&p, "grpc");
    let p2 = p.clone();
    tokio::task::spawn_blocking(move || p2.shutdown())
        .await
        .unwrap()
        .unwrap();

    let http_url = format!("http://{}/v1/traces", svc.http);
    let http = tokio::task::spawn_blocking(move || {
        opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(http_url)
            .build()
            .unwrap()
    })
    .await
    .unwrap();
    let p = SdkTracerProvider::builder()
        .with_batch_exporter(http)
        .build();
    emit(&p, "http");
    tokio::task::spawn_blocking(move || p.shutdown())
        .await
        .unwrap()
        .unwrap();

    down.wait_spans(6, 20).await;
    let spans = down.spans();
    for tag in ["grpc", "http"] {
        let root = spans
            .iter()
            .find(|s| s.name == format!("invoke_agent {tag}"))
            .unwrap_or_else(|| panic!("no root span over {tag}"));
        let children: Vec<_> = spans
            .iter()
            .filter(|s| s.trace_id == root.trace_id && s.parent_span_id == root.span_id)
            .collect();
        assert_eq!(children.len(), 2, "{tag}");
        let tool = children
            .iter()
            .find(|s| s.name.starts_with("execute_tool"))
            .unwrap();
        assert_eq!(
            attr(tool, "gen_ai.tool.call.arguments"),
            Some(r#"{"city":"Paris"}"#)
        );
        assert_eq!(
            attr(tool, "gen_ai.tool.call.result"),
            Some(r#"{"temp_c":21}"#)
        );
    }
    svc.stop().await;
}
