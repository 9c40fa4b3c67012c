//! A full disk under the tamper-evident log becomes back-pressure, not loss: the worker holds the
//! batch, the queue fills, clients get retryable refusals; when space returns the service
//! recovers by itself and every acknowledged span is in the log. Uses a small tmpfs (root).

mod common;

use common::*;
use std::collections::HashSet;
use std::io::Write;
use std::time::{Duration, Instant};

struct Mount(std::path::PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.0)
            .status();
    }
}

fn fill(path: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    loop {
        if f.write_all(&chunk).is_err() {
            break;
        }
    }
    let _ = f.sync_all();
    // Whatever a partial block left: fill byte by byte.
    while f.write_all(&[0u8]).is_ok() && f.sync_all().is_ok() {}
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_disk_refuses_then_recovers_without_losing_acknowledged_spans() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = tmp.path().join("fs");
    std::fs::create_dir(&fs).unwrap();
    let st = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&fs)
        .status()
        .unwrap();
    assert!(
        st.success(),
        "this test mounts a small tmpfs and needs root"
    );
    let _m = Mount(fs.clone());

    let data = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  file: {{ path: \"{}\", segment_bytes: 65536 }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\npipeline: {{ workers: 1, queue: {{ max_spans: 100, when_full: refuse }} }}\n{PASS_THROUGH}",
        fs.join("log").display()
    );
    let svc = Service::start_yaml(&yaml, data).await;
    fill(&fs.join("filler"));

    let mut c = grpc_client(svc.grpc).await;
    let mut acked = HashSet::new();
    let mut refused = 0;
    for i in 0..200u32 {
        let mut req = request(10, 1);
        let mut ids = Vec::new();
        for (k, s) in req.resource_spans[0].scope_spans[0]
            .spans
            .iter_mut()
            .enumerate()
        {
            s.span_id = (u64::from(i) * 100 + k as u64).to_be_bytes().to_vec();
            // Some bulk, so the disk really is needed.
            s.attributes
                .push(kv("gen_ai.output.messages", &"lorem ipsum ".repeat(50)));
            ids.push(s.span_id.clone());
        }
        match c.export(req).await {
            Ok(_) => acked.extend(ids),
            Err(st) => {
                assert_eq!(st.code(), tonic::Code::ResourceExhausted);
                assert!(spanward::rpc_status::retry_delay(&st).is_some());
                refused += 1;
            }
        }
    }
    assert!(refused > 0, "a full disk must turn into refusals");
    let m = svc.metrics().await;
    assert_eq!(
        metric_value(
            &m,
            "spanward_pipeline_dropped_spans_total",
            &["reason=\"export_failed\""]
        ),
        0.0
    );

    // Space returns: the service recovers by itself.
    std::fs::remove_file(fs.join("filler")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = svc.metrics().await;
        let delivered = metric_value(&m, "spanward_pipeline_delivered_spans_total", &[]);
        if delivered as usize == acked.len() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "delivered {delivered} of {} acknowledged",
            acked.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    c.export(request(3, 9)).await.unwrap();
    svc.stop().await;
    let stored: HashSet<Vec<u8>> = file_sink_requests(&fs.join("log"))
        .iter()
        .flat_map(|r| r.resource_spans.iter())
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter().map(|sp| sp.span_id.clone()))
        .collect();
    assert!(
        acked.is_subset(&stored),
        "acknowledged spans missing from the log"
    );
}
