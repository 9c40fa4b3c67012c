//! Graceful shutdown drains: spans accepted right before the signal are all delivered.

mod common;

use common::*;
use std::sync::atomic::Ordering;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_process_shutdown_delivers_everything_accepted() {
    let (down, daddr) = Downstream::start().await;
    // A slow next stage, so the queue is full of work when the signal comes.
    down.delay_ms.store(30, Ordering::Release);
    let svc = Service::start(Some(daddr), "pipeline:\n  workers: 1\n").await;
    let mut c = grpc_client(svc.grpc).await;
    let mut accepted = 0;
    for i in 0..30u8 {
        c.export(request(10, i)).await.unwrap();
        accepted += 10;
    }
    assert!(
        down.span_count() < accepted,
        "the test needs work still queued at shutdown"
    );
    svc.stop().await;
    assert_eq!(down.span_count(), accepted);
}

/// A config for the binary in `dir` (file sink in `dir/data`, plus `exporters` lines and
/// `extra` top-level lines): (config path, gRPC port, admin address).
fn binary_config(
    dir: &std::path::Path,
    exporters: &str,
    extra: &str,
) -> (std::path::PathBuf, u16, std::net::SocketAddr) {
    let (pg, ph, pa) = (free_port(), free_port(), free_port());
    let cfg = dir.join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{pg}\" }}\n    http: {{ endpoint: \"127.0.0.1:{ph}\" }}\nexporters:\n{exporters}  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"127.0.0.1:{pa}\" }}\n{extra}",
            dir.join("data").display()
        ),
    )
    .unwrap();
    (cfg, pg, format!("127.0.0.1:{pa}").parse().unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_on_the_binary_drains_and_exits_zero() {
    let (down, daddr) = Downstream::start().await;
    down.delay_ms.store(30, Ordering::Release);
    let dir = tempfile::tempdir().unwrap();
    let (cfg, pg, admin) = binary_config(
        dir.path(),
        &format!("  otlp: {{ endpoint: \"http://{daddr}\" }}\n"),
        "pipeline: { workers: 1 }\n",
    );
    let child = start_binary(&cfg, admin, &[], std::process::Stdio::null()).await;
    let mut c = grpc_client(format!("127.0.0.1:{pg}").parse().unwrap()).await;
    for i in 0..20u8 {
        c.export(request(10, i)).await.unwrap();
    }
    stop_binary(child).await;
    assert_eq!(down.span_count(), 200);
    let stored = file_sink_requests(&dir.path().join("data"));
    assert_eq!(spanward::pipeline::count_spans_all(&stored), 200);
}

/// The test harness's own guard: a test that fails (unwinds) with the binary running must not
/// leave it behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_binary_guard_kills_the_service() {
    let dir = tempfile::tempdir().unwrap();
    let (cfg, _, admin) = binary_config(dir.path(), "", "");
    let child = start_binary(&cfg, admin, &[], std::process::Stdio::null()).await;
    let proc_dir = std::path::PathBuf::from(format!("/proc/{}", child.id()));
    assert!(proc_dir.exists());
    let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _held = child;
        panic!("a failing assertion");
    }));
    assert!(unwound.is_err());
    // Killed and reaped: the pid is gone and the admin port answers no more.
    assert!(!proc_dir.exists());
    assert!(http_get(admin, "/readyz").await.is_err());
}
