//! A log sink that fails for good (here: its directory turns read-only under it) makes the
//! service unready, and every new request gets a retryable refusal: gRPC `UNAVAILABLE` with
//! `RetryInfo`, HTTP 503 with `Retry-After`. Mounts a tmpfs (root), like `tests/disk_full.rs`.

mod common;

use common::*;
use prost::Message;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A mount point, unmounted (lazily) when dropped.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

fn mount(args: &[&str], at: &Path) -> bool {
    Command::new("mount")
        .args(args)
        .arg(at)
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A request of `n` spans with some bulk, so a few of them fill a 64 KiB segment.
fn bulky(
    n: usize,
    seed: u8,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    let mut req = request(n, seed);
    for s in &mut req.resource_spans[0].scope_spans[0].spans {
        s.attributes
            .push(kv("gen_ai.output.messages", &"lorem ipsum ".repeat(100)));
    }
    req
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_log_sink_makes_the_service_unready_and_refuse_retryably() {
    let tmp = tempfile::tempdir().unwrap();
    let fs = tmp.path().join("fs");
    std::fs::create_dir(&fs).unwrap();
    assert!(
        mount(&["-t", "tmpfs", "-o", "size=16m", "tmpfs"], &fs),
        "this test mounts a tmpfs and needs root"
    );
    let _tmpfs = Mount(fs.clone());

    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  file: {{ path: \"{}\", segment_bytes: 65536 }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\npipeline: {{ workers: 1, ack: durable }}\n{PASS_THROUGH}",
        fs.join("log").display()
    );
    let svc = Service::start_yaml(&yaml, tempfile::tempdir().unwrap()).await;
    let mut c = grpc_client(svc.grpc).await;
    c.export(bulky(5, 1)).await.unwrap();

    // The kernel refuses to remount a file system read-only while files on it are open for
    // writing (the sink's are), so make the directory read-only the other way: a bind mount of
    // it over itself, remounted read-only. Files the sink opened before keep working; every
    // new file (the next segment) fails with EROFS, which the sink treats as fatal.
    assert!(mount(&["--bind", fs.to_str().unwrap()], &fs));
    let _bind = Mount(fs.clone());
    assert!(mount(&["-o", "remount,ro,bind"], &fs));
    assert!(
        std::fs::File::create(fs.join("log").join("probe")).is_err(),
        "the log directory is still writable"
    );

    // Appends go on in the open segment until it must roll; that roll fails.
    let mut failed = None;
    for i in 0..400u32 {
        match c.export(bulky(10, (i % 250) as u8)).await {
            Ok(_) => {}
            Err(st) => {
                failed = Some(st);
                break;
            }
        }
    }
    let st = failed.expect("no request failed although the log cannot roll");
    // The batch in flight was not stored: the client is told to retry.
    assert_eq!(st.code(), tonic::Code::Unavailable, "{st:?}");
    assert!(spanward::rpc_status::retry_delay(&st).is_some(), "{st:?}");

    let (code, body) = http_get(svc.admin, "/readyz").await.unwrap();
    assert_eq!(code, 503, "{body}");
    assert!(body.contains("sink file failed"), "{body}");

    // New requests are refused up front, retryably, on both transports.
    let st = c.export(request(3, 7)).await.unwrap_err();
    assert_eq!(st.code(), tonic::Code::Unavailable, "{st:?}");
    assert!(spanward::rpc_status::retry_delay(&st).is_some(), "{st:?}");
    let body = request(3, 8).encode_to_vec();
    let (status, headers, _) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        &body,
    )
    .await
    .unwrap();
    assert_eq!(status, 503);
    assert!(
        headers
            .iter()
            .any(|(k, v)| k == "retry-after" && !v.is_empty()),
        "{headers:?}"
    );
    let m = svc.metrics().await;
    assert!(
        metric_value(
            &m,
            "spanward_receiver_refused_requests_total",
            &["reason=\"unready\""]
        ) >= 2.0,
        "{m}"
    );
    assert_eq!(metric_value(&m, "spanward_ready", &[]), 0.0);
    // Shutdown still completes (the sink reports that it cannot close cleanly).
    svc.stop().await;
}
