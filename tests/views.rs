//! The operator views of issue #26 over HTTP, against the real service on ephemeral loopback
//! ports: `GET /api/v1/status` carries the figures `spanward top` and the status page show,
//! `GET /api/v1/config` the effective configuration with secrets as `<set>` and the rule packs,
//! `GET /` the self-contained page; all under the admin token when one is configured (a
//! browser's Basic answer with the token as password counts too). And deploy/: the alert rules
//! pass `promtool check rules` and their unit tests, the dashboard's queries parse, a live
//! scrape passes `promtool check metrics`, and every metric the dashboard and the rules query
//! is in a live scrape. Tests that need promtool say so and skip when it is not installed
//! (`apt-get install prometheus`; `scripts/test.sh` installs it).

mod common;

use common::*;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A request of `n` spans whose tool arguments hold an e-mail address (redacted as `email`).
fn pii_request(
    n: usize,
    seed: u8,
) -> opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest {
    let mut r = request(n, seed);
    for rs in &mut r.resource_spans {
        for ss in &mut rs.scope_spans {
            for (i, s) in ss.spans.iter_mut().enumerate() {
                s.attributes.push(kv(
                    "gen_ai.tool.call.arguments",
                    &format!("{{\"email\":\"jane.roe{i}@example.org\"}}"),
                ));
            }
        }
    }
    r
}

async fn get_json(admin: std::net::SocketAddr, path: &str) -> serde_json::Value {
    let (status, body) = http_get(admin, path).await.unwrap();
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

/// Waits until the status document satisfies `ok`.
async fn wait_status(
    admin: std::net::SocketAddr,
    what: &str,
    ok: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let s = get_json(admin, "/api/v1/status").await;
        if ok(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {s:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_has_the_figures_top_and_the_page_show() {
    let (down, addr) = Downstream::start().await;
    let svc = Service::start(
        Some(addr),
        "pipeline:\n  queue: { max_spans: 5000, max_bytes: 8000000 }\n  \
         memory_limiter: { soft_limit_mib: 4000, hard_limit_mib: 5000 }\n",
    )
    .await;
    let mut c = grpc_client(svc.grpc).await;
    for i in 0..4u8 {
        c.export(pii_request(25, i + 1)).await.unwrap();
    }
    // A malformed OTLP/HTTP request: refused, counted by reason.
    let (code, _, _) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        b"\xff\xff\xff",
    )
    .await
    .unwrap();
    assert_eq!(code, 400);
    down.wait_spans(100, 10).await;
    let s = wait_status(svc.admin, "all 100 spans delivered", |s| {
        s["signals"]["traces"]["delivered"] == 100
    })
    .await;
    let t = &s["signals"]["traces"];
    assert_eq!(t["accepted"], 100, "{s:#}");
    assert_eq!(t["accepted_by_transport"]["grpc"], 100);
    assert_eq!(t["refused"], 0);
    assert_eq!(s["refused_requests"]["malformed"], 1);
    assert_eq!(
        s["refused_spans"]["queue_full"], 0,
        "every reason is listed"
    );
    assert_eq!(s["dropped_spans"]["sampled"], 0);
    assert_eq!(s["sampling"]["kept_ratio"], 1.0);
    assert_eq!(s["queue"]["max_spans"], 5000);
    assert_eq!(s["queue"]["max_bytes"], 8_000_000);
    assert_eq!(s["queue"]["spans"], 0);
    let email = s["redactions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "email")
        .unwrap_or_else(|| panic!("no email redactions: {s:#}"));
    assert!(email["count"].as_u64().unwrap() >= 100, "{email}");
    let sinks: Vec<&str> = s["sinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(sinks, ["file", "otlp"]);
    for k in s["sinks"].as_array().unwrap() {
        assert_eq!(k["state"], "ok", "{k}");
        assert_eq!(k["sent_spans"], 100, "{k}");
        assert_eq!(k["failed_spans"], 0, "{k}");
        assert!(k["writes"].as_u64().unwrap() >= 1, "{k}");
        assert!(k["write_seconds_sum"].as_f64().unwrap() > 0.0, "{k}");
        assert!(!k["write_buckets"].as_array().unwrap().is_empty(), "{k}");
    }
    let p = &s["process"];
    assert!(p["cpu_seconds"].as_f64().unwrap() > 0.0, "{p}");
    assert!(p["rss_bytes"].as_u64().unwrap() > 1 << 20, "{p}");
    assert_eq!(p["memory_soft_limit_bytes"], 4000u64 << 20);
    assert_eq!(p["memory_hard_limit_bytes"], 5000u64 << 20);
    assert_eq!(p["memory_limiter"], "below");
    assert!(s["ready"].as_bool().unwrap());
    assert_eq!(s["schema"], 1);
    assert!(s["time_unix_ms"].as_u64().unwrap() > 1_700_000_000_000);
    // The log's checkpoint: written at start, then every interval while the log grows.
    let log = &s["log"];
    assert_eq!(log["checkpoint_interval_seconds"], 10.0);
    assert!(log["checkpoint"]["origin"].as_str().is_some(), "{log}");
    assert!(
        log["checkpoint"]["root"].as_str().unwrap().len() > 20,
        "{log}"
    );
    assert!(
        log["checkpoint_age_seconds"].as_f64().unwrap() < 60.0,
        "{log}"
    );
    // The same figures as /metrics.
    let m = svc.metrics().await;
    assert_eq!(
        metric_value(&m, "spanward_receiver_accepted_spans_total", &[]),
        100.0
    );
    assert!(metric_value(&m, "spanward_process_resident_memory_bytes", &[]) > 0.0);
    assert!(metric_value(&m, "spanward_log_checkpoint_timestamp_seconds", &[]) > 1.7e9);
    assert!(
        metric_value(
            &m,
            "spanward_exporter_write_duration_seconds_count",
            &["exporter=\"otlp\""]
        ) >= 1.0
    );
    svc.stop().await;
}

/// A stalled next stage: its sink shows `retrying` with the problem, and overflowing the queue
/// shows as refusals by reason (what `top` and the page show).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_sink_and_a_full_queue_show_as_retrying_and_queue_full() {
    let (down, addr) = Downstream::start().await;
    let svc = Service::start(
        Some(addr),
        "pipeline:\n  workers: 1\n  shutdown_timeout: 2s\n  queue: { max_spans: 20, when_full: refuse }\n",
    )
    .await;
    down.fail_unavailable
        .store(true, std::sync::atomic::Ordering::Release);
    let mut c = grpc_client(svc.grpc).await;
    let mut refused = 0;
    for i in 0..20u8 {
        if c.export(request(10, i + 1)).await.is_err() {
            refused += 1;
        }
    }
    assert!(refused > 0, "the queue never filled");
    let s = wait_status(svc.admin, "otlp retrying", |s| {
        s["sinks"][1]["state"] == "retrying"
    })
    .await;
    assert!(
        s["refused_spans"]["queue_full"].as_u64().unwrap() >= 10,
        "{s:#}"
    );
    assert!(s["signals"]["traces"]["refused"].as_u64().unwrap() >= 10);
    let otlp = &s["sinks"][1];
    assert!(
        otlp["problem"].as_str().unwrap().contains("not answering"),
        "{otlp}"
    );
    assert!(s["ready"].as_bool().unwrap(), "riding out is not unready");
    assert_eq!(s["problems"].as_array().unwrap().len(), 1, "{s:#}");
    down.fail_unavailable
        .store(false, std::sync::atomic::Ordering::Release);
    svc.stop().await;
}

const ADMIN_TOKEN: &str = "ops:tok-admin-0123456789abcdef";

/// A config on ephemeral loopback ports logging to `data`, with `receivers_extra` (indented
/// under `receivers.otlp`), `exporters_extra` (under `exporters`), an `admin` mapping and more.
fn config(
    data: &Path,
    receivers_extra: &str,
    exporters_extra: &str,
    admin: &str,
    extra: &str,
) -> String {
    format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\n{receivers_extra}\
         exporters:\n  file: {{ path: \"{}\" }}\n{exporters_extra}admin: {admin}\n{extra}",
        data.join("log").display()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn views_need_the_admin_token_and_show_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("admin.tokens");
    std::fs::write(&tokens, format!("{ADMIN_TOKEN}\n")).unwrap();
    let data = tempfile::tempdir().unwrap();
    let yaml = config(
        data.path(),
        "",
        "",
        &format!(
            "{{ endpoint: \"127.0.0.1:0\", auth: {{ tokens_file: \"{}\" }} }}",
            tokens.display()
        ),
        "",
    );
    let svc = Service::start_yaml(&yaml, data).await;
    let token = "tok-admin-0123456789abcdef";
    let bearer = format!("Bearer {token}");
    for path in ["/", "/api/v1/status", "/api/v1/config", "/metrics"] {
        let (code, headers, _) = http_request(svc.admin, "GET", path, &[], &[])
            .await
            .unwrap();
        assert_eq!(code, 401, "{path} without a token");
        let challenges: Vec<&str> = headers
            .iter()
            .filter(|(k, _)| k == "www-authenticate")
            .map(|(_, v)| v.as_str())
            .collect();
        assert!(challenges.iter().any(|c| c.starts_with("Bearer")), "{path}");
        // Browsers are asked for the token (as a password) on the page and its JSON.
        assert_eq!(
            challenges.iter().any(|c| c.starts_with("Basic")),
            path != "/metrics",
            "{path}: {challenges:?}"
        );
        let (code, _, _) = http_request(
            svc.admin,
            "GET",
            path,
            &[("authorization", "Bearer tok-wrong-0123456789abcdef")],
            &[],
        )
        .await
        .unwrap();
        assert_eq!(code, 401, "{path} with a wrong token");
        let (code, _, body) =
            http_request(svc.admin, "GET", path, &[("authorization", &bearer)], &[])
                .await
                .unwrap();
        assert_eq!(code, 200, "{path} with the token");
        let body = String::from_utf8_lossy(&body);
        assert!(!body.contains(token), "{path} shows the token");
    }
    // What a browser sends after the Basic challenge: any user name, the token as password.
    use base64::Engine;
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("me:{token}"))
    );
    let (code, _, _) = http_request(
        svc.admin,
        "GET",
        "/api/v1/status",
        &[("authorization", &basic)],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(code, 200);
    let (code, _, _) = http_request(
        svc.admin,
        "GET",
        "/metrics",
        &[("authorization", &basic)],
        &[],
    )
    .await
    .unwrap();
    assert_eq!(code, 401, "/metrics takes bearer tokens only, as before");
    // The probes stay open.
    assert_eq!(http_get(svc.admin, "/healthz").await.unwrap().0, 200);
    assert_eq!(http_get(svc.admin, "/readyz").await.unwrap().0, 200);

    let (_, _, body) = http_request(
        svc.admin,
        "GET",
        "/api/v1/config",
        &[("authorization", &bearer)],
        &[],
    )
    .await
    .unwrap();
    let c: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(
        c["config"]["admin_auth"]["file"],
        tokens.display().to_string()
    );
    assert_eq!(c["config"]["admin_auth"]["tokens"], "<set>");
    assert_eq!(c["config"]["pipeline"]["queue"]["max_spans"], 65536);
    let packs = c["rule_packs"].as_array().unwrap();
    assert_eq!(packs.len(), 2, "{packs:?}");
    for p in packs {
        assert!(p["rules"].as_u64().unwrap() > 5, "{p}");
        assert!(p["types"].as_u64().unwrap() >= 1, "{p}");
    }
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_is_one_self_contained_file() {
    let svc = Service::start(None, "").await;
    let (code, headers, body) = http_request(svc.admin, "GET", "/", &[], &[]).await.unwrap();
    assert_eq!(code, 200);
    let h = |k: &str| {
        headers
            .iter()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert!(h("content-type").starts_with("text/html"));
    assert!(h("content-security-policy").contains("default-src 'none'"));
    let page = String::from_utf8(body).unwrap();
    assert!(page.starts_with("<!doctype html>"));
    for external in ["<link", " src=", "@import", "url(", "https://", "//cdn"] {
        assert!(!page.contains(external), "the page loads {external}");
    }
    // The one absolute URL is the SVG namespace, a name rather than something fetched.
    assert_eq!(
        page.matches("http://").count(),
        page.matches("http://www.w3.org/2000/svg").count()
    );
    for id in [
        "accepted-total",
        "queue-spark",
        "reasons-body",
        "redactions-body",
        "sinks-body",
        "packs-body",
        "config",
        "checkpoint",
        "rss",
    ] {
        assert!(page.contains(&format!("id=\"{id}\"")), "no #{id}");
    }
    assert!(page.contains("api/v1/status") && page.contains("api/v1/config"));
    svc.stop().await;
}

// ---- deploy/: dashboard and alert rules ----

fn deploy(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(rel)
}

/// `promtool`, or `None` after saying the test is skipped.
fn promtool(test: &str) -> Option<PathBuf> {
    let found = std::process::Command::new("promtool")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        Some("promtool".into())
    } else {
        eprintln!(
            "SKIPPED {test}: promtool is not installed (Debian package `prometheus`; scripts/test.sh installs it)"
        );
        None
    }
}

fn run_promtool(args: &[&str], stdin: Option<&str>) -> (bool, String) {
    use std::io::Write;
    let mut cmd = std::process::Command::new("promtool");
    cmd.args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

fn dashboard() -> serde_json::Value {
    let text = std::fs::read_to_string(deploy("grafana/spanward-dashboard.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// Every query of the dashboard, with Grafana's variables given values Prometheus accepts.
fn dashboard_queries() -> Vec<(String, String)> {
    let d = dashboard();
    let mut out = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        for t in p["targets"].as_array().into_iter().flatten() {
            let e = t["expr"].as_str().unwrap();
            out.push((
                p["title"].as_str().unwrap().to_string(),
                e.replace("$__rate_interval", "5m")
                    .replace("$instance", ".*"),
            ));
        }
    }
    out
}

/// The `spanward_…` metric names in a query or rules text.
fn metric_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let b = text.as_bytes();
    let mut i = 0;
    while let Some(p) = text[i..].find("spanward_") {
        let start = i + p;
        let before_ok =
            start == 0 || !(b[start - 1].is_ascii_alphanumeric() || b[start - 1] == b'_');
        let mut end = start;
        while end < b.len() && (b[end].is_ascii_alphanumeric() || b[end] == b'_') {
            end += 1;
        }
        if before_ok {
            out.insert(text[start..end].to_string());
        }
        i = end;
    }
    out
}

#[test]
fn alert_rules_pass_promtool_check_and_their_unit_tests() {
    if promtool("alert_rules_pass_promtool_check_and_their_unit_tests").is_none() {
        return;
    }
    let rules = deploy("prometheus/spanward-alerts.yaml");
    let (ok, out) = run_promtool(&["check", "rules", rules.to_str().unwrap()], None);
    assert!(ok, "{out}");
    assert!(out.contains("SUCCESS"), "{out}");
    let tests = deploy("prometheus/spanward-alerts.test.yaml");
    let (ok, out) = run_promtool(&["test", "rules", tests.to_str().unwrap()], None);
    assert!(ok, "{out}");
    // Every alert the issue asks for is there.
    let text = std::fs::read_to_string(&rules).unwrap();
    for alert in [
        "SpanwardRefusingSpans",
        "SpanwardDroppingSpans",
        "SpanwardSinkFailing",
        "SpanwardLogNotReady",
        "SpanwardMemoryLimiterEngaged",
        "SpanwardNoLogCheckpoint",
    ] {
        assert!(text.contains(&format!("alert: {alert}\n")), "{alert}");
    }
}

#[test]
fn dashboard_is_well_formed_and_its_queries_parse() {
    let d = dashboard();
    assert_eq!(d["uid"], "spanward-overview");
    let mut ids = BTreeSet::new();
    let mut titles = Vec::new();
    for p in d["panels"].as_array().unwrap() {
        assert!(ids.insert(p["id"].as_u64().unwrap()), "duplicate id: {p}");
        let g = &p["gridPos"];
        assert!(
            g["x"].as_u64().unwrap() + g["w"].as_u64().unwrap() <= 24,
            "{p}"
        );
        if p["type"] == "row" {
            continue;
        }
        titles.push(p["title"].as_str().unwrap().to_lowercase());
        assert_eq!(p["datasource"]["uid"], "${datasource}", "{}", p["title"]);
        let targets = p["targets"].as_array().unwrap();
        assert!(!targets.is_empty(), "{}", p["title"]);
        for t in targets {
            assert!(t["expr"].as_str().unwrap().contains("$instance"), "{t}");
        }
    }
    for want in [
        "throughput",
        "refused",
        "dropped",
        "redactions",
        "queue",
        "latency",
        "retrying",
        "memory",
        "checkpoint",
    ] {
        assert!(
            titles.iter().any(|t| t.contains(want)),
            "no panel about {want}: {titles:?}"
        );
    }
    if promtool("dashboard_is_well_formed_and_its_queries_parse (PromQL part)").is_none() {
        return;
    }
    // promtool parses PromQL in rule files: one recording rule per dashboard query.
    let mut rules = String::from("groups:\n  - name: dashboard\n    rules:\n");
    for (i, (title, expr)) in dashboard_queries().iter().enumerate() {
        rules.push_str(&format!(
            "      # {title}\n      - record: dashboard_query_{i}\n        expr: {}\n",
            serde_json::to_string(expr).unwrap()
        ));
    }
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("dashboard-queries.yaml");
    std::fs::write(&f, &rules).unwrap();
    let (ok, out) = run_promtool(&["check", "rules", f.to_str().unwrap()], None);
    assert!(ok, "{out}\n{rules}");
}

/// A service with every figure the dashboard and the rules read: the log on (checkpoints),
/// the memory limiter on, an OTLP exporter, traffic with PII, a refusal and a sampled drop.
async fn busy_service() -> (Service, Downstream) {
    let (down, addr) = Downstream::start().await;
    let data = tempfile::tempdir().unwrap();
    let yaml = config(
        data.path(),
        "    rate_limit: { spans_per_second: 100, burst: 2s }\n",
        &format!("  otlp: {{ endpoint: \"http://{addr}\" }}\n"),
        "{ endpoint: \"127.0.0.1:0\" }",
        "pipeline:\n  memory_limiter: { soft_limit_mib: 4000, hard_limit_mib: 5000 }\n\
         sampling: { ratio: 0.5 }\n",
    );
    let svc = Service::start_yaml(&yaml, data).await;
    let mut c = grpc_client(svc.grpc).await;
    // Trace ids spread over the range, so sampling at 0.5 keeps some traces and drops others.
    for i in 0..8u8 {
        c.export(pii_request(20, i * 32 + 1)).await.unwrap();
    }
    // Over the client's rate (a 2 s burst of 100 spans/s; a request may run into debt, the
    // next is refused): refused, counted per client.
    let mut refused = 0;
    let mut extra = 0;
    for _ in 0..3 {
        match c.export(pii_request(150, 7)).await {
            Ok(_) => extra += 150,
            Err(_) => refused += 1,
        }
    }
    assert!(refused > 0, "the rate limit never refused");
    let (code, _, _) = http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        b"\xff\xff",
    )
    .await
    .unwrap();
    assert_eq!(code, 400);
    wait_status(svc.admin, "traffic processed", |s| {
        let t = &s["signals"]["traces"];
        t["accepted"] == 160 + extra
            && t["delivered"].as_u64() == Some(160 + extra - t["dropped"].as_u64().unwrap_or(0))
    })
    .await;
    (svc, down)
}

/// The names a scrape has: every sample's, and every declared family's with the suffixes its
/// type gives samples (`_total`; `_bucket`, `_sum`, `_count`), so families with no sample yet
/// (no TLS failure so far) count too.
fn scrape_names(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for l in text.lines() {
        if let Some(rest) = l.strip_prefix("# TYPE ") {
            let mut it = rest.split_whitespace();
            let (Some(name), Some(kind)) = (it.next(), it.next()) else {
                continue;
            };
            out.insert(name.to_string());
            let suffixes: &[&str] = match kind {
                "counter" => &["_total"],
                "histogram" => &["_bucket", "_sum", "_count"],
                _ => &[],
            };
            for s in suffixes {
                out.insert(format!("{name}{s}"));
            }
        } else if !l.starts_with('#') && !l.is_empty() {
            if let Some(n) = l.split(['{', ' ']).next() {
                out.insert(n.to_string());
            }
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_metric_the_dashboard_and_the_rules_query_is_in_a_live_scrape() {
    let (svc, _down) = busy_service().await;
    let scrape = svc.metrics().await;
    let have = scrape_names(&scrape);
    let mut wanted: BTreeSet<(String, String)> = BTreeSet::new();
    for (title, q) in dashboard_queries() {
        for n in metric_names(&q) {
            wanted.insert((n, format!("dashboard panel {title:?}")));
        }
    }
    let rules = std::fs::read_to_string(deploy("prometheus/spanward-alerts.yaml")).unwrap();
    for n in metric_names(&rules) {
        wanted.insert((n, "deploy/prometheus/spanward-alerts.yaml".into()));
    }
    assert!(wanted.len() > 20, "{wanted:?}");
    let missing: Vec<_> = wanted.iter().filter(|(n, _)| !have.contains(n)).collect();
    assert!(
        missing.is_empty(),
        "not in a live scrape: {missing:#?}\n{scrape}"
    );
    // Those with samples now, not just declared: everything this traffic exercises.
    for n in [
        "spanward_redactions_total",
        "spanward_exporter_write_duration_seconds_bucket",
        "spanward_process_cpu_seconds_total",
        "spanward_memory_limiter_limit_bytes",
        "spanward_log_checkpoint_timestamp_seconds",
        "spanward_pipeline_dropped_spans_total",
        "spanward_receiver_refused_requests_total",
        "spanward_receiver_rate_limited_spans_total",
    ] {
        assert!(
            scrape.lines().any(|l| l.starts_with(n)),
            "{n} has no sample:\n{scrape}"
        );
    }
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_scrape_passes_promtool_check_metrics() {
    if promtool("a_live_scrape_passes_promtool_check_metrics").is_none() {
        return;
    }
    let (svc, _down) = busy_service().await;
    let scrape = svc.metrics().await;
    let (ok, out) = run_promtool(&["check", "metrics"], Some(&scrape));
    assert!(ok, "promtool check metrics: {out}\n{scrape}");
    svc.stop().await;
}

/// The status document counts log records and metric points under their own signals.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_json_counts_logs_and_metrics_per_signal() {
    let svc = Service::start(None, "").await;
    let logs = br#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"a"}},{"body":{"stringValue":"b"}}]}]}]}"#;
    let metrics = br#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"m","gauge":{"dataPoints":[{"asInt":"1"},{"asInt":"2"},{"asInt":"3"}]}}]}]}]}"#;
    for (path, body) in [("/v1/logs", &logs[..]), ("/v1/metrics", &metrics[..])] {
        let (code, _, _) = http_request(
            svc.http,
            "POST",
            path,
            &[("content-type", "application/json")],
            body,
        )
        .await
        .unwrap();
        assert_eq!(code, 200, "{path}");
    }
    let s = wait_status(svc.admin, "2 log records and 3 points delivered", |s| {
        s["signals"]["logs"]["delivered"] == 2 && s["signals"]["metrics"]["delivered"] == 3
    })
    .await;
    assert_eq!(s["signals"]["logs"]["accepted_by_transport"]["http"], 2);
    assert_eq!(s["signals"]["metrics"]["accepted"], 3);
    assert_eq!(s["signals"]["traces"]["accepted"], 0);
    svc.stop().await;
}
