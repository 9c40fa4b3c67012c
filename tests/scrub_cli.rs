//! `spanward scrub` and `spanward patterns` through their library seams.

use spanward::cli::patterns::{run as patterns_run, PatternsArgs, PatternsCmd};
use spanward::cli::scrub::{scrub_stream, ScrubFormat};
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, ScrubReport, Scrubber};
use std::process::ExitCode;

fn scrubber() -> Scrubber {
    Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap()
}

const OTLP: &str = r#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},
"scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
"name":"chat","kind":1,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":"1544712661000000000",
"attributes":[{"key":"gen_ai.input.messages","value":{"stringValue":"[{\"role\":\"user\",\"content\":\"mail bob@example.com key AKIAQ3EGRTY5LPMNBV2X\"}]"}},
{"key":"n","value":{"intValue":"42"}}],"status":{}}]}]}]}"#;

/// `spanward log cat DIR | spanward scrub --format otlp-json`: one export per line.
#[test]
fn otlp_json_reads_newline_delimited_exports() {
    let compact =
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(OTLP).unwrap()).unwrap();
    let input = format!("{compact}\n{compact}\n");
    let mut out = Vec::new();
    let mut rep = ScrubReport::default();
    scrub_stream(
        &scrubber(),
        ScrubFormat::OtlpJson,
        input.as_bytes(),
        &mut out,
        &mut rep,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    for l in lines {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(
            v["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["name"],
            "chat"
        );
    }
    assert!(!text.contains("bob@example.com"), "{text}");
    assert_eq!(rep.total(), 4);
    // A broken second export: nothing is written, and the error names which one.
    let mut out = Vec::new();
    let err = scrub_stream(
        &scrubber(),
        ScrubFormat::OtlpJson,
        format!("{compact}\n{{\"resourceSpans\": 3}}\n").as_bytes(),
        &mut out,
        &mut ScrubReport::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("request 2"), "{err}");
    assert!(out.is_empty());
}

#[test]
fn otlp_json_round_trip() {
    let mut out = Vec::new();
    let mut rep = ScrubReport::default();
    scrub_stream(
        &scrubber(),
        ScrubFormat::OtlpJson,
        OTLP.as_bytes(),
        &mut out,
        &mut rep,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        !text.contains("bob@example.com") && !text.contains("AKIAQ3EGRTY5LPMNBV2X"),
        "{text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let span = &v["resourceSpans"][0]["scopeSpans"][0]["spans"][0];
    assert_eq!(span["traceId"], "5b8efff798038103d269b633813fc60c");
    let msgs = span["attributes"][0]["value"]["stringValue"]
        .as_str()
        .unwrap();
    serde_json::from_str::<serde_json::Value>(msgs).unwrap();
    assert_eq!(rep.total(), 2);
}

#[test]
fn jsonl_lines_stay_json_and_text_keeps_layout() {
    let input = "{\"a\":\"call +44 20 7946 0958\"}\n{\"b\":1}\n";
    let mut out = Vec::new();
    scrub_stream(
        &scrubber(),
        ScrubFormat::Jsonl,
        input.as_bytes(),
        &mut out,
        &mut ScrubReport::default(),
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2);
    for l in &lines {
        serde_json::from_str::<serde_json::Value>(l).unwrap();
    }
    assert!(!text.contains("7946"));
    assert_eq!(lines[1], "{\"b\":1}");

    let input = "no secrets\r\nhere\n\nlast";
    let mut out = Vec::new();
    scrub_stream(
        &scrubber(),
        ScrubFormat::Text,
        input.as_bytes(),
        &mut out,
        &mut ScrubReport::default(),
    )
    .unwrap();
    assert_eq!(String::from_utf8(out).unwrap(), input);
    let mut out = Vec::new();
    assert!(scrub_stream(
        &scrubber(),
        ScrubFormat::Jsonl,
        "not json\n".as_bytes(),
        &mut out,
        &mut ScrubReport::default()
    )
    .is_err());
}

#[test]
fn patterns_test_exit_codes() {
    let dir = std::env::temp_dir().join(format!("scrub-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[pack]\nname = \"b\"\n[[rules]]\nid = \"r1\"\ntype = \"x\"\nregex = 'abc'\ntp = [\"nope\"]\n").unwrap();
    let good = dir.join("good.toml");
    std::fs::write(&good, "[pack]\nname = \"g\"\n[[rules]]\nid = \"r2\"\ntype = \"x\"\nregex = 'abc'\ntp = [\"abc\"]\nfp = [\"ab\"]\n").unwrap();
    let code = patterns_run(PatternsArgs {
        cmd: PatternsCmd::Test { files: vec![bad] },
    })
    .unwrap();
    assert_eq!(code, ExitCode::from(1));
    let code = patterns_run(PatternsArgs {
        cmd: PatternsCmd::Test {
            files: vec![good.clone()],
        },
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let code = patterns_run(PatternsArgs {
        cmd: PatternsCmd::Test { files: vec![] },
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    let code = patterns_run(PatternsArgs {
        cmd: PatternsCmd::List { files: vec![good] },
    })
    .unwrap();
    assert_eq!(code, ExitCode::SUCCESS);
    std::fs::remove_dir_all(&dir).ok();
}

/// `spanward scrub --explain`: matches highlighted with their rule, type, action and
/// validators; a candidate its validator rejected shown as a near miss with the reason; lines
/// with nothing to say left out; `--json` the same as one object per line; OTLP/JSON strings
/// named by their path.
#[test]
fn explain_shows_matches_and_near_misses() {
    let sc = scrubber();
    let input = "card 4111 1111 1111 1111 and 4111 1111 1111 1112\nnothing to see\n";
    let mut out = Vec::new();
    spanward::cli::explain::explain_stream(
        &sc,
        ScrubFormat::Text,
        input.as_bytes(),
        &mut out,
        false,
        false,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.contains("[[4111 1111 1111 1111]]"), "{text}");
    assert!(text.contains("4111 1111 1111 1112}}"), "{text}");
    assert!(
        text.contains("type credit_card (rule credit_card, action token, validators passed: Luhn"),
        "{text}"
    );
    assert!(text.contains("fails the Luhn validator"), "{text}");
    assert!(!text.contains("line 2"), "{text}");

    let mut out = Vec::new();
    spanward::cli::explain::explain_stream(
        &sc,
        ScrubFormat::Text,
        input.as_bytes(),
        &mut out,
        true,
        false,
    )
    .unwrap();
    let lines: Vec<serde_json::Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0]["masked"][0]["type"], "credit_card");
    assert_eq!(lines[0]["masked"][0]["start"], 5);
    assert!(lines[0]["near_misses"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("Luhn"));

    let mut out = Vec::new();
    spanward::cli::explain::explain_stream(
        &sc,
        ScrubFormat::OtlpJson,
        OTLP.as_bytes(),
        &mut out,
        true,
        false,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("$.resourceSpans[0].scopeSpans[0].spans[0].attributes[0].value.stringValue"),
        "{text}"
    );
    assert!(
        text.contains("\"type\":\"email\"") && text.contains("\"type\":\"aws_access_key_id\""),
        "{text}"
    );
}

/// `scrub --format otlp-json` masks a value revealed in one span wherever it recurs in the
/// same request, as the service does (it used to mask it only where a rule saw it).
#[test]
fn otlp_json_masks_revealed_values_across_spans() {
    let doc = r#"{"resourceSpans":[{"scopeSpans":[{"spans":[
{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a","attributes":[{"key":"cmd","value":{"stringValue":"export DB_PASSWORD=Zq4AQMrQ6a0E55pw"}}]},
{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b175","name":"b","attributes":[{"key":"log","value":{"stringValue":"connecting with Zq4AQMrQ6a0E55pw now"}}]}]}]}]}"#;
    let mut out = Vec::new();
    let mut rep = ScrubReport::default();
    scrub_stream(
        &scrubber(),
        ScrubFormat::OtlpJson,
        doc.as_bytes(),
        &mut out,
        &mut rep,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("Zq4AQMrQ6a0E55pw"), "{text}");
    assert!(text.contains("connecting with"), "{text}");
}

/// `spanward log cat DIR | spanward scrub --format otlp-json` on a log that holds all three
/// signals: each line is scrubbed as its own signal and written back in its own shape.
#[test]
fn otlp_json_scrubs_log_and_metric_exports_too() {
    let logs = r#"{"resourceLogs":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},"scopeLogs":[{"logRecords":[{"eventName":"gen_ai.user.message","traceId":"5b8efff798038103d269b633813fc60c","body":{"kvlistValue":{"values":[{"key":"content","value":{"stringValue":"mail bob@example.com please"}}]}},"attributes":[{"key":"note","value":{"stringValue":"the weather is fine"}}]}]}]}]}"#;
    let metrics = r#"{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"gen_ai.client.token.usage","unit":"{token}","gauge":{"dataPoints":[{"asInt":"4111111111111111","attributes":[{"key":"user","value":{"stringValue":"bob@example.com"}}]}]}}]}]}]}"#;
    let compact = |s: &str| {
        serde_json::to_string(&serde_json::from_str::<serde_json::Value>(s).unwrap()).unwrap()
    };
    let input = format!(
        "{}\n{}\n{}\n",
        compact(OTLP),
        compact(logs),
        compact(metrics)
    );
    let mut out = Vec::new();
    let mut rep = ScrubReport::default();
    scrub_stream(
        &scrubber(),
        ScrubFormat::OtlpJson,
        input.as_bytes(),
        &mut out,
        &mut rep,
    )
    .unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(!text.contains("bob@example.com"), "{text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    let rec = &lines[1]["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(rec["eventName"], "gen_ai.user.message");
    assert_eq!(
        rec["attributes"][0]["value"]["stringValue"],
        "the weather is fine"
    );
    let body = rec["body"]["kvlistValue"]["values"][0]["value"]["stringValue"]
        .as_str()
        .unwrap();
    assert!(
        body.starts_with("mail ") && body.ends_with(" please"),
        "{body}"
    );
    let m = &lines[2]["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0];
    assert_eq!(m["name"], "gen_ai.client.token.usage");
    // Values are measurements: never scanned.
    assert_eq!(m["gauge"]["dataPoints"][0]["asInt"], "4111111111111111");
}
