//! The status page in a real browser: headless Chromium loads `GET /` from the running service
//! (ephemeral loopback ports, traffic with PII flowing), runs its script for a few seconds of
//! virtual time, and the rendered DOM holds the figures: totals, redactions by type, the sinks,
//! the rule packs with their rule counts, the configuration with secrets as `<set>`. With the
//! admin token configured, the page loads with the token given as the password of a Basic
//! answer (what a person types into the browser's prompt). A screenshot is taken too.
//!
//! Without Chromium (Debian package `chromium`; `scripts/test.sh` installs it) the tests say they
//! were skipped and why. `SPANWARD_WRITE_DOCS=1` also writes the screenshot to
//! `docs/images/status-page.png`.

mod common;

use common::*;
use std::path::{Path, PathBuf};
use std::process::Command;

fn chromium(test: &str) -> Option<PathBuf> {
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if Command::new(name)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Some(name.into());
        }
    }
    eprintln!(
        "SKIPPED {test}: no chromium on the PATH (Debian package `chromium`; scripts/test.sh installs it)"
    );
    None
}

/// Runs headless Chromium on `url` with `extra` flags; returns stdout. A fresh profile each
/// time, and no background traffic (this machine has no network beyond loopback).
fn run_chromium(bin: &Path, url: &str, extra: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--virtual-time-budget=6000",
            "--window-size=1280,1900",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The text of the element with `id` in a dumped DOM (its first text run).
fn text_of<'a>(dom: &'a str, id: &str) -> &'a str {
    let at = dom
        .find(&format!("id=\"{id}\""))
        .unwrap_or_else(|| panic!("no #{id} in the DOM"));
    let rest = &dom[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest[start..].find('<').unwrap() + start;
    &rest[start..end]
}

/// `r` with an e-mail address and an AWS key id in every span.
fn pii(
    mut r: opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    for rs in &mut r.resource_spans {
        for ss in &mut rs.scope_spans {
            for s in &mut ss.spans {
                s.attributes.push(kv(
                    "gen_ai.prompt",
                    "mail jane.roe@example.org, key AKIAIOSFODNN7EXAMPLE",
                ));
            }
        }
    }
    r
}

/// 200 spans with PII, waited for until delivered (`token`: the admin token, if one is needed).
async fn traffic(svc: &Service, token: Option<&str>) {
    let mut c = grpc_client(svc.grpc).await;
    for i in 0..5u8 {
        c.export(pii(request(40, i + 1))).await.unwrap();
    }
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer
        .iter()
        .map(|b| ("authorization", b.as_str()))
        .collect();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let (_, _, body) = http_request(svc.admin, "GET", "/metrics", &headers, &[])
            .await
            .unwrap();
        let m = String::from_utf8_lossy(&body);
        if metric_value(&m, "spanward_pipeline_delivered_spans_total", &[]) == 200.0 {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "not delivered: {m}");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

fn check_figures(dom: &str) {
    assert_eq!(text_of(dom, "accepted-total"), "200", "{dom}");
    assert_eq!(text_of(dom, "delivered-total"), "200");
    assert!(text_of(dom, "queue-spans").ends_with("/ 65,536"), "{dom}");
    assert!(text_of(dom, "rss").contains("MiB"), "{dom}");
    assert!(text_of(dom, "checkpoint").contains("records"), "{dom}");
    assert!(dom.contains("data-type=\"email\""), "no email row: {dom}");
    assert!(dom.contains("data-sink=\"file\""), "no file sink row");
    assert!(dom.contains("class=\"state-ok\">ok<"), "the sink's state");
    assert!(dom.contains("data-pack="), "no rule pack rows");
    assert!(!dom.contains("jane.roe"), "a matched value is on the page");
    assert!(
        !dom.contains("AKIAIOSFODNN7EXAMPLE"),
        "a matched secret is on the page"
    );
    // The configuration, secrets as <set> (escaped in the DOM's HTML).
    let config = text_of(dom, "config");
    assert!(config.contains("max_spans: 65536"), "{config}");
    assert!(config.contains("redaction:"), "{config}");
    assert!(text_of(dom, "state").starts_with("ready"), "{dom}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_renders_the_figures_in_chromium() {
    let Some(bin) = chromium("status_page_renders_the_figures_in_chromium") else {
        return;
    };
    let svc = Service::start(None, "").await;
    traffic(&svc, None).await;
    let url = format!("http://{}/", svc.admin);
    let b = bin.clone();
    let u = url.clone();
    let dom = tokio::task::spawn_blocking(move || run_chromium(&b, &u, &["--dump-dom"]))
        .await
        .unwrap();
    check_figures(&dom);
    // Packs with their rule counts: a row per pack, counts in its cells.
    let packs = &dom[dom.find("id=\"packs-body\"").unwrap()..];
    let rows = packs.matches("data-pack=").count();
    assert_eq!(rows, 2, "{packs}");

    // The screenshot while spans keep arriving, so rates and the queue sparkline move.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flow = {
        let stop = stop.clone();
        let grpc = svc.grpc;
        tokio::spawn(async move {
            let mut c = grpc_client(grpc).await;
            for i in 0..600u32 {
                if stop.load(std::sync::atomic::Ordering::Acquire) {
                    break;
                }
                let _ = c.export(pii(request(40, (i % 200) as u8 + 10))).await;
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        })
    };
    let shot_dir = tempfile::tempdir().unwrap();
    let shot = shot_dir.path().join("status-page.png");
    let arg = format!("--screenshot={}", shot.display());
    tokio::task::spawn_blocking(move || run_chromium(&bin, &url, &[&arg]))
        .await
        .unwrap();
    stop.store(true, std::sync::atomic::Ordering::Release);
    flow.await.unwrap();
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "a nearly empty screenshot ({} bytes)",
        png.len()
    );
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/status-page.png");
    let _ = std::fs::write(&target, &png);
    if std::env::var("SPANWARD_WRITE_DOCS").as_deref() == Ok("1") {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/images");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("status-page.png"), &png).unwrap();
    }
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_page_behind_the_admin_token_loads_with_it_as_password() {
    let Some(bin) = chromium("status_page_behind_the_admin_token_loads_with_it_as_password") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("admin.tokens");
    let token = "tok-page-0123456789abcdef";
    std::fs::write(&tokens, format!("{token}\n")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\n\
         exporters:\n  file: {{ path: \"{}\" }}\n\
         admin: {{ endpoint: \"127.0.0.1:0\", auth: {{ tokens_file: \"{}\" }} }}\n",
        data.path().join("log").display(),
        tokens.display()
    );
    let svc = Service::start_yaml(&yaml, data).await;
    traffic(&svc, Some(token)).await;
    // Without the token: the browser gets the 401 and shows no figure.
    let b = bin.clone();
    let url = format!("http://{}/", svc.admin);
    let dom = tokio::task::spawn_blocking(move || run_chromium(&b, &url, &["--dump-dom"]))
        .await
        .unwrap();
    assert!(!dom.contains("accepted-total"), "{dom}");
    // With it, as a person answers the browser's prompt (user name anything).
    let url = format!("http://ops:{token}@{}/", svc.admin);
    let dom = tokio::task::spawn_blocking(move || run_chromium(&bin, &url, &["--dump-dom"]))
        .await
        .unwrap();
    check_figures(&dom);
    assert!(!dom.contains(token), "the token is on the page");
    svc.stop().await;
}
