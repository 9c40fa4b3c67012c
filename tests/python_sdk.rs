//! The OpenTelemetry Python SDK (a real client, installed into a venv by the test command) sends
//! GenAI spans over gRPC and OTLP/HTTP; they arrive downstream intact and in the file sink.

mod common;

use common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_genai_spans_arrive_intact() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let t_grpc = emit_genai("grpc", format!("http://{}", svc.grpc), "g", &[]).await;
    let t_http = emit_genai("http", format!("http://{}/v1/traces", svc.http), "h", &[]).await;
    down.wait_spans(6, 30).await;
    let spans = down.spans();
    for tid in [&t_grpc, &t_http] {
        let of_trace: Vec<_> = spans
            .iter()
            .filter(|s| hex::encode(&s.trace_id) == *tid)
            .collect();
        assert_eq!(of_trace.len(), 3, "trace {tid}");
        let tool = of_trace
            .iter()
            .find(|s| s.name == "execute_tool refund")
            .unwrap();
        let args: serde_json::Value =
            serde_json::from_str(&str_attr(tool, "gen_ai.tool.call.arguments").unwrap()).unwrap();
        assert_eq!(args["card"], "0000");
        assert!(str_attr(tool, "gen_ai.tool.call.result").is_some());
        let chat = of_trace.iter().find(|s| s.name == "chat gpt-4o").unwrap();
        assert!(str_attr(chat, "gen_ai.input.messages")
            .unwrap()
            .contains("refund card"));
        assert!(str_attr(chat, "gen_ai.output.messages").is_some());
        assert_eq!(chat.events.len(), 1);
    }
    let dir = svc.stop().await;
    let stored = file_sink_requests(dir.path());
    assert_eq!(spanward::pipeline::count_spans_all(&stored), 6);
    let stored_spans: Vec<_> = stored
        .iter()
        .flat_map(|r| r.resource_spans.iter())
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter())
        .collect();
    let mut a: Vec<_> = stored_spans.iter().map(|s| s.span_id.clone()).collect();
    let mut b: Vec<_> = spans.iter().map(|s| s.span_id.clone()).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
}

// ---- Logs and metrics (issue #24): the SDK's OTLPLogExporter and OTLPMetricExporter. ----

use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use std::collections::BTreeSet;

const EMAIL: &str = "ada.lovelace@example.org";
const CARD: &str = "4111 1111 1111 1111";
const AWS: &str = "AKIAQ3EGRTY5LPMNBV2X";
// A GitHub token in the documented format (prefix + 36 base62 characters).
const TOKEN: &str = "ghp_R4nd0mT0kenV4lu3Xy9Qw8Er7Ty6Ui5Op4As";
const BENIGN_LINE: &str = "tool get_weather finished: sunny, 21 degrees in Paris";

fn seeded() -> Vec<&'static str> {
    vec![
        "--email", EMAIL, "--card", CARD, "--aws", AWS, "--token", TOKEN,
    ]
}

/// Every raw seeded value, with the card also in its compact form.
fn raw_values() -> Vec<String> {
    let compact: String = CARD.chars().filter(|c| c.is_ascii_digit()).collect();
    vec![EMAIL.into(), CARD.into(), compact, AWS.into(), TOKEN.into()]
}

fn any_strings(v: &AnyValue, out: &mut Vec<String>) {
    match v.value.as_ref() {
        Some(Value::StringValue(s)) => out.push(s.clone()),
        Some(Value::BytesValue(b)) => out.push(String::from_utf8_lossy(b).into_owned()),
        Some(Value::ArrayValue(a)) => a.values.iter().for_each(|x| any_strings(x, out)),
        Some(Value::KvlistValue(kv)) => kv_strings(&kv.values, out),
        _ => {}
    }
}

fn kv_strings(kvs: &[KeyValue], out: &mut Vec<String>) {
    for kv in kvs {
        out.push(kv.key.clone());
        if let Some(v) = &kv.value {
            any_strings(v, out);
        }
    }
}

/// Every string a log record carries: body, attributes (keys too), event name, severity text.
fn record_text(r: &LogRecord) -> String {
    let mut out = vec![r.event_name.clone(), r.severity_text.clone()];
    if let Some(b) = &r.body {
        any_strings(b, &mut out);
    }
    kv_strings(&r.attributes, &mut out);
    out.join("\n")
}

fn attr<'a>(kvs: &'a [KeyValue], k: &str) -> Option<&'a str> {
    kvs.iter()
        .find(|kv| kv.key == k)
        .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
            Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        })
}

fn body_str(r: &LogRecord) -> Option<&str> {
    match r.body.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.as_str()),
        _ => None,
    }
}

fn assert_no_raw(text: &str, what: &str) {
    for raw in raw_values() {
        assert!(!text.contains(&raw), "{raw} survived in {what}: {text}");
    }
}

fn assert_log_dir_clean(dir: &std::path::Path) {
    let bytes = log_dir_bytes(dir);
    for raw in raw_values() {
        assert!(
            !bytes.windows(raw.len()).any(|w| w == raw.as_bytes()),
            "{raw} reached the file sink"
        );
    }
}

/// Logging bridged to OTLP and a GenAI event, over `protocol`: seeded values arrive replaced
/// (downstream and in the log), benign text byte-identical, and the event's fingerprints equal
/// the ones on the span of the same call.
async fn python_logs_case(protocol: &str) {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let endpoint = match protocol {
        "grpc" => svc.grpc_url(),
        _ => format!("http://{}", svc.http),
    };
    let out = emit_signals("logs", protocol, endpoint, protocol, &seeded()).await;
    let (tid, sid) = (
        out["trace_id"].as_str().unwrap().to_string(),
        out["span_id"].as_str().unwrap().to_string(),
    );
    // The script flushed before it exited: everything was acknowledged.
    down.wait_for("log records", 5, 30, |d| d.log_records().len())
        .await;
    down.wait_spans(1, 30).await;
    let records = down.log_records();
    assert_eq!(records.len(), 5, "{records:#?}");
    for r in &records {
        assert_no_raw(&record_text(r), "a log record");
    }
    // Resource attributes arrive with the records, untouched where benign.
    let resource = down.logs_received.lock().unwrap()[0].resource_logs[0]
        .resource
        .clone()
        .unwrap();
    assert_eq!(
        attr(&resource.attributes, "service.name"),
        Some(format!("py-agent-{protocol}").as_str())
    );

    // Python logging, bridged: the benign line byte-identical; the others keep their benign
    // words around the replaced values; severities as logged.
    let benign = records
        .iter()
        .find(|r| body_str(r) == Some(BENIGN_LINE))
        .expect("the benign line arrives byte-identical");
    assert_eq!(benign.severity_number, 9, "INFO");
    assert!(attr(&benign.attributes, "redaction.types").is_none());
    let refund = records
        .iter()
        .find(|r| body_str(r).is_some_and(|b| b.starts_with("refund requested by ")))
        .expect("the refund line");
    assert!(body_str(refund).unwrap().contains(" for card "));
    assert_eq!(attr(&refund.attributes, "tool.name"), Some("refund"));
    assert!(attr(&refund.attributes, "user.email").is_some());
    assert!(attr(&refund.attributes, "redaction.types").is_some());
    let billing = records
        .iter()
        .find(|r| body_str(r).is_some_and(|b| b.starts_with("calling billing with aws key ")))
        .expect("the billing line");
    assert_eq!(billing.severity_number, 13, "WARN");
    assert!(body_str(billing).unwrap().contains(" and token "));
    // A logged exception: its message (which held the card and the email) replaced, the
    // logged line and the exception type byte-identical.
    let failed = records
        .iter()
        .find(|r| body_str(r) == Some("tool refund failed"))
        .expect("the exception line");
    assert_eq!(failed.severity_number, 17, "ERROR");
    assert_eq!(
        attr(&failed.attributes, "exception.type"),
        Some("ValueError")
    );
    let msg = attr(&failed.attributes, "exception.message").expect("exception.message");
    assert!(
        msg.starts_with("card ") && msg.contains(" declined for "),
        "{msg}"
    );
    assert!(attr(&failed.attributes, "exception.stacktrace").is_some());

    // The GenAI event: same call as the span, same fingerprints, scrubbed content.
    let event = records
        .iter()
        .find(|r| r.event_name == "gen_ai.client.inference.operation.details")
        .expect("the inference details event");
    assert_eq!(hex::encode(&event.trace_id), tid);
    assert_eq!(hex::encode(&event.span_id), sid);
    assert_eq!(
        attr(&event.attributes, "gen_ai.request.model"),
        Some("gpt-4o")
    );
    let spans = down.spans();
    let chat = spans
        .iter()
        .find(|s| hex::encode(&s.span_id) == sid)
        .expect("the chat span");
    for k in ["spanward.input_hash", "spanward.output_hash"] {
        let on_event = attr(&event.attributes, k).unwrap_or_else(|| panic!("event lacks {k}"));
        let on_span = str_attr(chat, k).unwrap_or_else(|| panic!("span lacks {k}"));
        assert_eq!(on_event, on_span, "{k}");
    }
    assert_ne!(
        attr(&event.attributes, "spanward.input_hash"),
        attr(&event.attributes, "spanward.output_hash")
    );
    // Scrubbed the same way on both: the same pseudonyms in the same JSON.
    for k in [
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.system_instructions",
    ] {
        let v = attr(&event.attributes, k).unwrap_or_else(|| panic!("event lacks {k}"));
        serde_json::from_str::<serde_json::Value>(v).unwrap();
        assert_eq!(Some(v.to_string()), str_attr(chat, k), "{k}");
    }
    assert!(attr(&event.attributes, "gen_ai.input.messages")
        .unwrap()
        .contains("Refund card "));

    let m = svc.metrics().await;
    assert_eq!(
        metric_value(&m, "spanward_receiver_accepted_log_records_total", &[]),
        5.0
    );

    // The tamper-evident log holds the same five records, and no raw value anywhere.
    let dir = svc.stop().await;
    let stored: Vec<LogRecord> = file_sink_logs(dir.path())
        .iter()
        .flat_map(|r| r.resource_logs.iter())
        .flat_map(|r| r.scope_logs.iter())
        .flat_map(|s| s.log_records.iter().cloned())
        .collect();
    let mut a: Vec<_> = stored.iter().map(record_text).collect();
    let mut b: Vec<_> = records.iter().map(record_text).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    assert_log_dir_clean(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_logs_over_grpc_scrubbed_and_correlated() {
    python_logs_case("grpc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_logs_over_http_scrubbed_and_correlated() {
    python_logs_case("http").await;
}

/// With sampling on, a record with a trace id follows its trace: the events of sampled-out
/// traces are dropped, those of kept traces kept; WARN lines and untraced lines all kept.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_events_follow_their_trace_when_sampled() {
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "sampling: { ratio: 0.5 }\n").await;
    let n = 40usize;
    let out = emit_signals(
        "sampled",
        "grpc",
        svc.grpc_url(),
        "smp",
        &["--traces", &n.to_string()],
    )
    .await;
    let all: BTreeSet<String> = out["trace_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_eq!(all.len(), n);
    // Everything acknowledged has been decided once delivered + dropped reach accepted.
    for (accepted, delivered, dropped, want) in [
        (
            "spanward_receiver_accepted_spans_total",
            "spanward_pipeline_delivered_spans_total",
            "spanward_pipeline_dropped_spans_total",
            n,
        ),
        (
            "spanward_receiver_accepted_log_records_total",
            "spanward_pipeline_delivered_log_records_total",
            "spanward_pipeline_dropped_log_records_total",
            3 * n,
        ),
    ] {
        assert_eq!(svc.metric(accepted, &[]).await, want as f64, "{accepted}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let m = svc.metrics().await;
            let done = metric_value(&m, delivered, &[]) + metric_value(&m, dropped, &[]);
            if done == want as f64 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{delivered}: {done}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    let kept: BTreeSet<String> = down
        .spans()
        .iter()
        .map(|s| hex::encode(&s.trace_id))
        .collect();
    assert!(kept.is_subset(&all));
    assert!(
        !kept.is_empty() && kept.len() < n,
        "ratio 0.5 over {n} random trace ids kept {}",
        kept.len()
    );
    let records = down.log_records();
    let events: Vec<String> = records
        .iter()
        .filter(|r| !r.event_name.is_empty())
        .map(|r| hex::encode(&r.trace_id))
        .collect();
    assert_eq!(events.len(), kept.len(), "one event per kept trace");
    assert_eq!(events.iter().cloned().collect::<BTreeSet<_>>(), kept);
    let warns: BTreeSet<String> = records
        .iter()
        .filter(|r| r.severity_number >= 13)
        .map(|r| hex::encode(&r.trace_id))
        .collect();
    assert_eq!(
        warns, all,
        "WARN lines are kept whatever their trace's draw"
    );
    let untraced = records.iter().filter(|r| r.trace_id.is_empty()).count();
    assert_eq!(
        untraced, n,
        "untraced lines follow untraced_ratio (default 1)"
    );
    assert_eq!(
        svc.metric(
            "spanward_pipeline_dropped_log_records_total",
            &["reason=\"sampled\""]
        )
        .await,
        (n - kept.len()) as f64
    );
    svc.stop().await;
}

/// MeterProvider + OTLPMetricExporter over `protocol`: names, units, descriptions and values
/// untouched; data point attributes holding seeded values replaced, benign ones byte-identical.
async fn python_metrics_case(protocol: &str) {
    use opentelemetry_proto::tonic::metrics::v1::{metric::Data, number_data_point};
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(Some(daddr), "").await;
    let endpoint = match protocol {
        "grpc" => svc.grpc_url(),
        _ => format!("http://{}", svc.http),
    };
    emit_signals("metrics", protocol, endpoint, protocol, &seeded()).await;
    down.wait_for("metric points", 5, 30, |d| d.metric_point_count())
        .await;
    let metrics = down.metrics_list();
    let by_name = |n: &str| {
        metrics
            .iter()
            .find(|m| m.name == n)
            .unwrap_or_else(|| panic!("no metric {n}"))
    };
    let calls = by_name("agent.tool.calls");
    assert_eq!(calls.unit, "{call}");
    assert_eq!(calls.description, "Tool calls");
    let Some(Data::Sum(sum)) = &calls.data else {
        panic!("agent.tool.calls is not a sum")
    };
    let mut seen_refund = false;
    for p in &sum.data_points {
        let v = match p.value {
            Some(number_data_point::Value::AsInt(v)) => v,
            other => panic!("{other:?}"),
        };
        match attr(&p.attributes, "tool.name") {
            Some("refund") => {
                assert_eq!(v, 3);
                let email = attr(&p.attributes, "user.email").unwrap();
                assert_ne!(email, EMAIL);
                // Attributes are a series' identity: no summary attribute is added.
                assert!(attr(&p.attributes, "redaction.types").is_none());
                seen_refund = true;
            }
            Some("get_weather") => {
                assert_eq!(v, 2);
                assert_eq!(attr(&p.attributes, "city"), Some("Paris"));
            }
            other => panic!("unexpected series {other:?}"),
        }
    }
    assert!(seen_refund);
    let dur = by_name("gen_ai.client.operation.duration");
    assert_eq!(dur.unit, "s");
    assert_eq!(dur.description, "GenAI call duration");
    let Some(Data::Histogram(h)) = &dur.data else {
        panic!("duration is not a histogram")
    };
    assert_eq!(h.data_points.len(), 2);
    for p in &h.data_points {
        assert_eq!(p.count, 1);
        assert_eq!(attr(&p.attributes, "gen_ai.operation.name"), Some("chat"));
        let detail = attr(&p.attributes, "error.detail").unwrap();
        if detail == "none" {
            assert_eq!(p.sum, Some(0.5));
        } else {
            assert_eq!(p.sum, Some(1.25));
            assert!(
                detail.starts_with("token ") && detail.ends_with(" rejected"),
                "{detail}"
            );
        }
    }
    let active = by_name("agent.sessions.active");
    assert_eq!(active.unit, "{session}");
    let mut text = Vec::new();
    for m in &metrics {
        text.push(m.name.clone());
        text.push(m.description.clone());
        match &m.data {
            Some(Data::Sum(s)) => s
                .data_points
                .iter()
                .for_each(|p| kv_strings(&p.attributes, &mut text)),
            Some(Data::Histogram(s)) => s
                .data_points
                .iter()
                .for_each(|p| kv_strings(&p.attributes, &mut text)),
            _ => {}
        }
    }
    assert_no_raw(&text.join("\n"), "a metric");
    assert_eq!(
        svc.metric("spanward_receiver_accepted_metric_points_total", &[])
            .await,
        5.0
    );
    let dir = svc.stop().await;
    let stored: usize = file_sink_metrics(dir.path())
        .iter()
        .flat_map(|r| r.resource_metrics.iter())
        .flat_map(|r| r.scope_metrics.iter())
        .flat_map(|s| s.metrics.iter())
        .map(metric_points)
        .sum();
    assert_eq!(stored, 5);
    assert_log_dir_clean(dir.path());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_metrics_over_grpc_scrubbed() {
    python_metrics_case("grpc").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_metrics_over_http_scrubbed() {
    python_metrics_case("http").await;
}
