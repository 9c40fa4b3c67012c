//! Fail closed: when a processing stage panics on a span, that span is dropped and counted,
//! never forwarded or stored, and the worker keeps serving. Needs the test-only cargo feature
//! `fault-injection` (scripts/test.sh runs it).
#![cfg(feature = "fault-injection")]

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panicking_stage_drops_only_the_poisoned_spans() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "pipeline: { workers: 1 }\n").await;
    let mut c = grpc_client(svc.grpc).await;
    let mut req = request(6, 1);
    for i in [1usize, 4] {
        let s = &mut req.resource_spans[0].scope_spans[0].spans[i];
        s.attributes.push(kv("spanward.test.fault", "panic"));
        s.attributes
            .push(kv("secret", "must-never-leave-4111111111111111"));
    }
    c.export(req).await.unwrap();
    // The same single worker keeps serving afterwards.
    c.export(request(3, 2)).await.unwrap();
    down.wait_spans(7, 10).await;
    let m = svc.metrics().await;
    assert_eq!(
        metric_value(
            &m,
            "spanward_pipeline_dropped_spans_total",
            &["reason=\"scrub_error\""]
        ),
        2.0
    );
    let dir = svc.stop().await;
    assert_eq!(down.span_count(), 7);
    let poisoned = [req_span_id(1, 1), req_span_id(1, 4)];
    assert!(down.spans().iter().all(|s| !poisoned.contains(&s.span_id)));
    let bytes = log_dir_bytes(dir.path());
    assert!(
        !bytes.windows(16).any(|w| w == b"must-never-leave"),
        "a poisoned span reached the file sink"
    );
}

fn req_span_id(seed: u8, i: usize) -> Vec<u8> {
    request(6, seed).resource_spans[0].scope_spans[0].spans[i]
        .span_id
        .clone()
}
