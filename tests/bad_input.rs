//! Bad input gets the documented status, is counted, and the service keeps serving without
//! its memory ballooning.

mod common;

use common::*;
use prost::Message;
use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap()
}

async fn post(
    svc: &Service,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    http_request(svc.http, "POST", "/v1/traces", headers, body)
        .await
        .unwrap()
}

const PB: (&str, &str) = ("content-type", "application/x-protobuf");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_bad_inputs() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start_limits(Some(daddr), "{ max_body_bytes: 4194304 }", "").await;
    let before = rss_kib();

    // Truncated protobuf.
    let good = request(20, 1).encode_to_vec();
    let (st, _, body) = post(&svc, &[PB], &good[..good.len() / 2]).await;
    assert_eq!(st, 400);
    let status = spanward::rpc_status::RpcStatus::decode(body.as_slice()).unwrap();
    assert_eq!(status.code, tonic::Code::InvalidArgument as i32);
    assert!(status.message.len() < 200);

    // Invalid JSON; JSON with invalid UTF-8.
    let (st, _, body) = post(
        &svc,
        &[("content-type", "application/json")],
        b"{\"resourceSpans\": [",
    )
    .await;
    assert_eq!(st, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["code"], 3);
    let (st, _, _) = post(
        &svc,
        &[("content-type", "application/json")],
        b"{\"resourceSpans\":[{\"x\":\"\xff\xfe\"}]}",
    )
    .await;
    assert_eq!(st, 400);

    // Wrong content type.
    let (st, _, _) = post(&svc, &[("content-type", "text/plain")], &good).await;
    assert_eq!(st, 415);

    // Over the size limit, plain.
    let big = vec![0x0au8; 5 * 1024 * 1024];
    let (st, h, _) = post(&svc, &[PB], &big).await;
    assert_eq!(st, 413);
    assert!(
        !h.iter().any(|(k, _)| k == "retry-after"),
        "413 must not invite a retry"
    );

    // A gzip bomb: ~20 KiB that inflates to 2 GiB would; the limit stops it.
    let bomb = gzip(&vec![0u8; 512 * 1024 * 1024]);
    assert!(bomb.len() < 1024 * 1024);
    for _ in 0..3 {
        let (st, _, _) = post(&svc, &[PB, ("content-encoding", "gzip")], &bomb).await;
        assert_eq!(st, 413);
    }
    // Not gzip at all.
    let (st, _, _) = post(&svc, &[PB, ("content-encoding", "gzip")], b"plain").await;
    assert_eq!(st, 400);

    // Still serving, and memory did not balloon (the bomb alone would be 512 MiB).
    let (st, _, _) = post(&svc, &[PB], &good).await;
    assert_eq!(st, 200);
    down.wait_spans(20, 10).await;
    let grown = rss_kib().saturating_sub(before);
    assert!(grown < 128 * 1024, "RSS grew by {grown} KiB");

    let m = svc.metrics().await;
    assert_eq!(
        metric_value(
            &m,
            "spanward_receiver_refused_requests_total",
            &["transport=\"http\"", "reason=\"malformed\""]
        ),
        5.0
    );
    assert_eq!(
        metric_value(
            &m,
            "spanward_receiver_refused_requests_total",
            &["transport=\"http\"", "reason=\"too_large\""]
        ),
        4.0
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpc_bad_inputs() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start_limits(Some(daddr), "{ max_body_bytes: 4194304 }", "").await;
    let channel = tonic::transport::Endpoint::from_shared(svc.grpc_url())
        .unwrap()
        .connect()
        .await
        .unwrap();

    // Malformed protobuf: send raw bytes through the pass-through codec.
    let good = request(10, 2).encode_to_vec();
    let err = spanward::sink::otlp::export_raw(
        channel.clone(),
        bytes::Bytes::copy_from_slice(&good[..good.len() - 3]),
        false,
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);

    // A trace id that is not 16 bytes (it could carry anything past the scrubber): refused,
    // the message names the field and never quotes it.
    let mut odd = request(3, 6);
    odd.resource_spans[0].scope_spans[0].spans[1].trace_id = b"AKIAIOSFODNN7EXAMPLE".to_vec();
    let mut c = grpc_client(svc.grpc).await;
    let err = c.export(odd).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(
        err.message().contains("span trace_id of 20 bytes"),
        "{}",
        err.message()
    );
    assert!(!err.message().contains("AKIA"));

    // Over the size limit: RESOURCE_EXHAUSTED without RetryInfo (not retryable per OTLP).
    let mut big = request(1, 3);
    big.resource_spans[0].scope_spans[0].spans[0].name = "x".repeat(5 * 1024 * 1024);
    let err = spanward::sink::otlp::export_raw(
        channel.clone(),
        big.encode_to_vec().into(),
        false,
        std::time::Duration::from_secs(5),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert_eq!(spanward::rpc_status::retry_delay(&err), None);

    // A compression bomb over gRPC.
    let mut bomb = request(1, 4);
    bomb.resource_spans[0].scope_spans[0].spans[0].name = "\0".repeat(64 * 1024 * 1024);
    let err = spanward::sink::otlp::export_raw(
        channel.clone(),
        bomb.encode_to_vec().into(),
        true,
        std::time::Duration::from_secs(20),
    )
    .await
    .unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);

    // Still serving.
    c.export(request(10, 5)).await.unwrap();
    down.wait_spans(10, 10).await;
    let m = svc.metrics().await;
    assert_eq!(
        metric_value(
            &m,
            "spanward_receiver_refused_requests_total",
            &["transport=\"grpc\"", "reason=\"malformed\""]
        ),
        2.0
    );
    assert_eq!(
        metric_value(
            &m,
            "spanward_receiver_refused_requests_total",
            &["transport=\"grpc\"", "reason=\"too_large\""]
        ),
        2.0
    );
    svc.stop().await;
}

/// `{ "k": [[[ "leaf" ]]] }`-style nesting, `depth` levels (1 = a plain string).
fn nested_value(depth: usize) -> opentelemetry_proto::tonic::common::v1::AnyValue {
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, ArrayValue};
    let mut v = AnyValue {
        value: Some(Value::StringValue("leaf".into())),
    };
    for _ in 1..depth {
        v = AnyValue {
            value: Some(Value::ArrayValue(ArrayValue { values: vec![v] })),
        };
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn structural_limits() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start_limits(
        Some(daddr),
        "{ max_spans_per_request: 5, max_attribute_depth: 4, max_attributes_per_span: 50, max_attribute_value_bytes: 64 }",
        "",
    )
    .await;
    let json = ("content-type", "application/json");

    // Too many spans, over HTTP protobuf and gRPC: refused whole, not retryable, spans counted.
    let (st, h, body) = post(&svc, &[PB], &request(6, 1).encode_to_vec()).await;
    assert_eq!(st, 413);
    assert!(!h.iter().any(|(k, _)| k == "retry-after"));
    let status = spanward::rpc_status::RpcStatus::decode(body.as_slice()).unwrap();
    assert_eq!(status.message, "more than 5 spans in one request");
    let mut c = grpc_client(svc.grpc).await;
    let err = c.export(request(6, 2)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::ResourceExhausted);
    assert_eq!(spanward::rpc_status::retry_delay(&err), None);

    // Nesting too deep, over HTTP JSON and gRPC: malformed.
    let mut deep = request(1, 3);
    deep.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(opentelemetry_proto::tonic::common::v1::KeyValue {
            key: "deep".into(),
            value: Some(nested_value(5)),
            ..Default::default()
        });
    let (st, _, body) = post(&svc, &[json], &serde_json::to_vec(&deep).unwrap()).await;
    assert_eq!(st, 400);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["message"], "attribute values nested deeper than 4 levels");
    let err = c.export(deep.clone()).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);

    // Too many attributes in one span.
    let mut wide = request(1, 4);
    for i in 0..60 {
        wide.resource_spans[0].scope_spans[0].spans[0]
            .attributes
            .push(kv(&format!("k{i}"), "v"));
    }
    let (st, _, _) = post(&svc, &[PB], &wide.encode_to_vec()).await;
    assert_eq!(st, 413);

    // At the depth limit: accepted.
    deep.resource_spans[0].scope_spans[0].spans[0].attributes[2].value = Some(nested_value(4));
    let (st, _, _) = post(&svc, &[PB], &deep.encode_to_vec()).await;
    assert_eq!(st, 200);

    // An oversized value is accepted, replaced before it is queued, and counted; the raw text
    // (which holds a secret the scrubber would find only if it scanned it) never arrives.
    let secret = format!("{}AKIAIOSFODNN7EXAMPLE", "x".repeat(80));
    let mut big = request(1, 5);
    big.resource_spans[0].scope_spans[0].spans[0]
        .attributes
        .push(kv("gen_ai.prompt", &secret));
    let (st, _, _) = post(&svc, &[PB], &big.encode_to_vec()).await;
    assert_eq!(st, 200);
    down.wait_spans(2, 10).await;
    let spans = down.spans();
    let got = spans
        .iter()
        .find_map(|s| str_attr(s, "gen_ai.prompt"))
        .unwrap();
    assert_eq!(got, "[REDACTED:oversize]");
    assert!(!format!("{spans:?}").contains("AKIAIOSFODNN7EXAMPLE"));

    let m = svc.metrics().await;
    let refused = |transport: &str, reason: &str, what: &str| {
        metric_value(
            &m,
            &format!("spanward_receiver_refused_{what}_total"),
            &[
                &format!("transport=\"{transport}\""),
                &format!("reason=\"{reason}\""),
            ],
        )
    };
    assert_eq!(refused("http", "too_large", "requests"), 2.0);
    assert_eq!(refused("http", "too_large", "spans"), 7.0);
    assert_eq!(refused("grpc", "too_large", "spans"), 6.0);
    assert_eq!(refused("http", "malformed", "spans"), 1.0);
    assert_eq!(refused("grpc", "malformed", "requests"), 1.0);
    assert_eq!(
        metric_value(&m, "spanward_redactions_total", &["type=\"oversize\""]),
        1.0
    );
    svc.stop().await;
}
