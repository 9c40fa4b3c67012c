//! Spans in over every transport and encoding arrive downstream, and in the file sink, identical.

mod common;

use common::*;
use prost::Message;
use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// The OTLP/JSON encoding of a request, as the spec maps it.
fn to_otlp_json(
    req: &opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
) -> Vec<u8> {
    serde_json::to_vec(req).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_transport_arrives_identical() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), PASS_THROUGH).await;
    let sent = vec![
        request(3, 1),
        request(2, 2),
        request(4, 3),
        request(5, 4),
        request(1, 5),
    ];

    // gRPC, plain and gzip.
    let mut c = grpc_client(svc.grpc).await;
    c.export(sent[0].clone()).await.unwrap();
    let mut cz = grpc_client(svc.grpc)
        .await
        .send_compressed(tonic::codec::CompressionEncoding::Gzip);
    cz.export(sent[1].clone()).await.unwrap();

    // HTTP protobuf, HTTP JSON, HTTP protobuf gzip.
    let (st, h, body) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        &sent[2].encode_to_vec(),
    )
    .await
    .unwrap();
    assert_eq!(st, 200);
    assert!(h
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/x-protobuf"));
    opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse::decode(
        body.as_slice(),
    )
    .unwrap();

    let (st, h, body) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/json")],
        &to_otlp_json(&sent[3]),
    )
    .await
    .unwrap();
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&body));
    assert!(h
        .iter()
        .any(|(k, v)| k == "content-type" && v == "application/json"));
    serde_json::from_slice::<serde_json::Value>(&body).unwrap();

    let (st, _, _) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[
            ("content-type", "application/x-protobuf"),
            ("content-encoding", "gzip"),
        ],
        &gzip(&sent[4].encode_to_vec()),
    )
    .await
    .unwrap();
    assert_eq!(st, 200);

    down.wait_spans(15, 20).await;
    let mut got = down.received.lock().unwrap().clone();
    let mut want = sent.clone();
    let key = |r: &opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest| {
        r.resource_spans[0].scope_spans[0].spans[0].trace_id.clone()
    };
    got.sort_by_key(key);
    want.sort_by_key(key);
    assert!(
        got == want,
        "downstream must receive the requests unchanged"
    );

    let accepted = svc
        .metric("spanward_receiver_accepted_spans_total", &[])
        .await;
    assert_eq!(accepted, 15.0);
    svc.wait_metric(
        "spanward_exporter_sent_spans_total",
        &["exporter=\"otlp\""],
        15.0,
    )
    .await;

    let dir = svc.stop().await;
    let mut stored = file_sink_requests(dir.path());
    stored.sort_by_key(key);
    assert!(stored == want, "file sink must hold the same requests");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn otlp_json_with_spec_mapping_is_accepted() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    // Hand-written OTLP/JSON: hex ids, lowerCamelCase, enum as integer, an unknown field.
    let body = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"py-agent"}}]},
      "scopeSpans":[{"scope":{"name":"x"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
      "name":"chat","kind":3,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
      "attributes":[{"key":"gen_ai.request.model","value":{"stringValue":"m"}}],"futureField":1}]}]}]}"#;
    let (st, _, resp) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/json; charset=utf-8")],
        body,
    )
    .await
    .unwrap();
    assert_eq!(st, 200, "{}", String::from_utf8_lossy(&resp));
    down.wait_spans(1, 10).await;
    let s = &down.spans()[0];
    assert_eq!(hex::encode(&s.trace_id), "5b8efff798038103d269b633813fc60c");
    assert_eq!(s.kind, 3);
    assert_eq!(s.start_time_unix_nano, 1544712660000000000);
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporters_section_lists_only_file() {
    // No otlp exporter: nothing is forwarded, the file sink still gets everything.
    let svc = Service::start(None, "").await;
    let mut c = grpc_client(svc.grpc).await;
    c.export(request(7, 9)).await.unwrap();
    let dir = svc.stop().await;
    assert_eq!(
        spanward::pipeline::count_spans_all(&file_sink_requests(dir.path())),
        7
    );
}
