//! What the scrubber did shows in `/metrics`: redactions by type, `bytes` values left unscanned,
//! attributes removed, and the string bytes scanned.

mod common;

use common::*;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scrub_counters_reach_metrics() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(
        Some(daddr),
        "redaction: { drop_keys: [\"debug.raw_prompt\"] }\n",
    )
    .await;
    let mut req = request(2, 41);
    let span = &mut req.resource_spans[0].scope_spans[0].spans[0];
    span.attributes
        .push(kv("user.note", "write to lena.fischer@example.net"));
    span.attributes.push(kv("debug.raw_prompt", "anything"));
    span.attributes.push(KeyValue {
        key: "blob".into(),
        value: Some(AnyValue {
            value: Some(any_value::Value::BytesValue(vec![0xff, 0x00, 0x10])),
        }),
        ..Default::default()
    });
    let mut c = grpc_client(svc.grpc).await;
    c.export(req).await.unwrap();
    down.wait_spans(2, 20).await;

    let out = &down.spans()[0];
    assert!(out.attributes.iter().all(|kv| kv.key != "debug.raw_prompt"));
    svc.wait_metric("spanward_scrub_bytes_values_skipped_total", &[], 1.0)
        .await;
    assert_eq!(
        svc.metric("spanward_scrub_dropped_attributes_total", &[])
            .await,
        1.0
    );
    assert!(
        svc.metric("spanward_redactions_total", &["type=\"email\""])
            .await
            >= 1.0
    );
    assert!(svc.metric("spanward_scrub_scanned_bytes_total", &[]).await > 30.0);
}
