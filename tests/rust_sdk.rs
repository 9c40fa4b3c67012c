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

// ---- Logs and metrics (issue #24): the SDK's LogExporter and MetricExporter. ----

use opentelemetry::logs::{AnyValue as LogValue, LogRecord as _, Logger as _, LoggerProvider as _};
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_sdk::logs::SdkLoggerProvider;
use opentelemetry_sdk::metrics::SdkMeterProvider;

const EMAIL: &str = "grace.hopper@example.org";
const TOKEN: &str = "ghp_R4nd0mT0kenV4lu3Xy9Qw8Er7Ty6Ui5Op4As";

fn kv_str<'a>(
    kvs: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    k: &str,
) -> Option<&'a str> {
    kvs.iter()
        .find(|kv| kv.key == k)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Builds an exporter of either transport: the HTTP one builds its blocking client off the
/// runtime's threads, as the SDK wants.
async fn log_exporter(protocol: &'static str, svc: &Service) -> opentelemetry_otlp::LogExporter {
    let grpc = svc.grpc_url();
    let http = format!("http://{}/v1/logs", svc.http);
    match protocol {
        "grpc" => opentelemetry_otlp::LogExporter::builder()
            .with_tonic()
            .with_endpoint(grpc)
            .build()
            .unwrap(),
        _ => tokio::task::spawn_blocking(move || {
            opentelemetry_otlp::LogExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(http)
                .build()
                .unwrap()
        })
        .await
        .unwrap(),
    }
}

async fn metric_exporter(
    protocol: &'static str,
    svc: &Service,
) -> opentelemetry_otlp::MetricExporter {
    let grpc = svc.grpc_url();
    let http = format!("http://{}/v1/metrics", svc.http);
    match protocol {
        "grpc" => opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .with_endpoint(grpc)
            .build()
            .unwrap(),
        _ => tokio::task::spawn_blocking(move || {
            opentelemetry_otlp::MetricExporter::builder()
                .with_http()
                .with_protocol(Protocol::HttpBinary)
                .with_endpoint(http)
                .build()
                .unwrap()
        })
        .await
        .unwrap(),
    }
}

/// Log records (a plain line, a line holding an email and a token, a GenAI event carrying a
/// trace context) and metrics, from the Rust SDK over both transports, into the running
/// service: they arrive with their trace context, severities, names, units and values intact
/// and the seeded values replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_sdk_logs_and_metrics_over_grpc_and_http() {
    use opentelemetry::trace::{SpanId, TraceFlags, TraceId};
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let trace_id = TraceId::from_hex("5b8efff798038103d269b633813fc60c").unwrap();
    let span_id = SpanId::from_hex("eee19b7ec3c1b174").unwrap();
    for protocol in ["grpc", "http"] {
        let exporter = log_exporter(protocol, &svc).await;
        let p = SdkLoggerProvider::builder()
            .with_batch_exporter(exporter)
            .build();
        let logger = p.logger("rust-sdk-test");
        let mut r = logger.create_log_record();
        r.set_severity_number(opentelemetry::logs::Severity::Info);
        r.set_body(LogValue::from(format!("plain line over {protocol}")));
        logger.emit(r);
        let mut r = logger.create_log_record();
        r.set_severity_number(opentelemetry::logs::Severity::Warn);
        r.set_body(LogValue::from(format!(
            "retrying for {EMAIL} with token {TOKEN} over {protocol}"
        )));
        r.add_attribute("tool.name", "refund");
        logger.emit(r);
        let mut r = logger.create_log_record();
        r.set_event_name("gen_ai.client.inference.operation.details");
        r.set_trace_context(trace_id, span_id, Some(TraceFlags::SAMPLED));
        r.add_attribute(
            "gen_ai.input.messages",
            format!(
                r#"[{{"role":"user","parts":[{{"type":"text","content":"mail {EMAIL} over {protocol}"}}]}}]"#
            ),
        );
        logger.emit(r);
        let p2 = p.clone();
        tokio::task::spawn_blocking(move || p2.shutdown())
            .await
            .unwrap()
            .unwrap();

        let exporter = metric_exporter(protocol, &svc).await;
        let mp = SdkMeterProvider::builder()
            .with_periodic_exporter(exporter)
            .build();
        let meter = mp.meter("rust-sdk-test");
        let c = meter
            .u64_counter(format!("agent.calls.{protocol}"))
            .with_unit("{call}")
            .build();
        c.add(
            7,
            &[
                KeyValue::new("user.email", EMAIL),
                KeyValue::new("tool.name", "refund"),
            ],
        );
        let h = meter
            .f64_histogram(format!("agent.latency.{protocol}"))
            .with_unit("ms")
            .build();
        h.record(12.5, &[KeyValue::new("route", "/refund")]);
        tokio::task::spawn_blocking(move || mp.shutdown())
            .await
            .unwrap()
            .unwrap();
    }
    down.wait_for("log records", 6, 20, |d| d.log_records().len())
        .await;
    down.wait_for("metric points", 4, 20, |d| d.metric_point_count())
        .await;
    let records = down.log_records();
    assert_eq!(records.len(), 6);
    let body = |r: &opentelemetry_proto::tonic::logs::v1::LogRecord| match r
        .body
        .as_ref()
        .and_then(|b| b.value.clone())
    {
        Some(Value::StringValue(s)) => s,
        _ => String::new(),
    };
    for protocol in ["grpc", "http"] {
        let plain = format!("plain line over {protocol}");
        let line = records
            .iter()
            .find(|r| body(r) == plain)
            .expect("plain line");
        assert_eq!(line.severity_number, 9);
        let retry = records
            .iter()
            .find(|r| body(r).starts_with("retrying for ") && body(r).ends_with(protocol))
            .expect("retry line");
        assert_eq!(retry.severity_number, 13);
        assert_eq!(kv_str(&retry.attributes, "tool.name"), Some("refund"));
        assert!(!body(retry).contains(EMAIL) && !body(retry).contains(TOKEN));
        let event = records
            .iter()
            .filter(|r| r.event_name == "gen_ai.client.inference.operation.details")
            .find(|r| {
                kv_str(&r.attributes, "gen_ai.input.messages")
                    .is_some_and(|m| m.contains(&format!("over {protocol}")))
            })
            .expect("event");
        assert_eq!(event.trace_id, trace_id.to_bytes().to_vec());
        assert_eq!(event.span_id, span_id.to_bytes().to_vec());
        let msgs = kv_str(&event.attributes, "gen_ai.input.messages").unwrap();
        assert!(!msgs.contains(EMAIL), "{msgs}");
        assert!(kv_str(&event.attributes, "spanward.input_hash").is_some());

        let metrics = down.metrics_list();
        let calls = metrics
            .iter()
            .find(|m| m.name == format!("agent.calls.{protocol}"))
            .expect("counter");
        assert_eq!(calls.unit, "{call}");
        let Some(Data::Sum(s)) = &calls.data else {
            panic!("counter is not a sum")
        };
        assert_eq!(s.data_points.len(), 1);
        let p = &s.data_points[0];
        assert_eq!(p.value, Some(number_data_point::Value::AsInt(7)));
        assert_eq!(kv_str(&p.attributes, "tool.name"), Some("refund"));
        assert_ne!(kv_str(&p.attributes, "user.email"), Some(EMAIL));
        let lat = metrics
            .iter()
            .find(|m| m.name == format!("agent.latency.{protocol}"))
            .expect("histogram");
        assert_eq!(lat.unit, "ms");
        let Some(Data::Histogram(h)) = &lat.data else {
            panic!("histogram")
        };
        assert_eq!(h.data_points[0].sum, Some(12.5));
        assert_eq!(
            kv_str(&h.data_points[0].attributes, "route"),
            Some("/refund")
        );
    }
    let m = svc.metrics().await;
    for (name, want) in [
        ("spanward_receiver_accepted_log_records_total", 6.0),
        ("spanward_receiver_accepted_metric_points_total", 4.0),
    ] {
        assert_eq!(metric_value(&m, name, &[]), want, "{name}");
    }
    svc.stop().await;
}
