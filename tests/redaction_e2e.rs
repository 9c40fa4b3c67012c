//! Redaction end to end through the running service, fed by the OpenTelemetry Python SDK:
//! seeded PII and secrets in messages, tool arguments and results, an event attribute, an array
//! attribute and the span name arrive replaced; benign ids arrive untouched; the file sink holds
//! no raw value; `spanward token` reproduces the pseudonym the engine wrote.

mod common;

use common::*;
use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
use opentelemetry_proto::tonic::trace::v1::Span;

const EMAIL: &str = "ada.lovelace@example.org";
const CARD: &str = "4111 1111 1111 1111";
// A GitHub token in the documented format (prefix + 36 base62 characters).
const GH: &str = "ghp_R4nd0mT0kenV4lu3Xy9Qw8Er7Ty6Ui5Op4As";
const NAME_SECRET: &str = "sk_live_4eC39HqLyjWDarjtT1zdp7dc";

fn strings(v: &AnyValue, out: &mut Vec<String>) {
    match v.value.as_ref() {
        Some(Value::StringValue(s)) => out.push(s.clone()),
        Some(Value::ArrayValue(a)) => a.values.iter().for_each(|x| strings(x, out)),
        Some(Value::KvlistValue(kv)) => kv.values.iter().for_each(|x| {
            out.push(x.key.clone());
            if let Some(v) = &x.value {
                strings(v, out)
            }
        }),
        _ => {}
    }
}

fn all_text(s: &Span) -> String {
    let mut out = vec![s.name.clone()];
    let attrs = s
        .attributes
        .iter()
        .chain(s.events.iter().flat_map(|e| e.attributes.iter()));
    for kv in attrs {
        out.push(kv.key.clone());
        if let Some(v) = &kv.value {
            strings(v, &mut out);
        }
    }
    out.extend(s.events.iter().map(|e| e.name.clone()));
    out.join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_sdk_secrets_arrive_replaced_everywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("hmac.key");
    std::fs::write(
        &key,
        "8f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0\n",
    )
    .unwrap();
    let (down, daddr) = Downstream::start().await;
    let svc = Service::start(
        Some(daddr),
        &format!("keys: {{ hmac_key_file: \"{}\" }}\n", key.display()),
    )
    .await;
    let tid = emit_genai(
        "grpc",
        svc.grpc_url(),
        "red",
        &[
            "--email",
            EMAIL,
            "--card",
            CARD,
            "--key",
            GH,
            "--name-suffix",
            NAME_SECRET,
        ],
    )
    .await;
    down.wait_spans(3, 30).await;
    let spans = down.spans();
    assert_eq!(spans.len(), 3);
    let compact_card: String = CARD.chars().filter(|c| c.is_ascii_digit()).collect();
    for s in &spans {
        let text = all_text(s);
        for raw in [EMAIL, CARD, compact_card.as_str(), GH, NAME_SECRET] {
            assert!(!text.contains(raw), "{raw} survived in span {:?}", s.name);
        }
        // Benign identifiers untouched.
        assert_eq!(hex::encode(&s.trace_id), tid);
    }
    let chat = spans
        .iter()
        .find(|s| s.name == "chat gpt-4o")
        .expect("chat span name kept");
    assert_eq!(
        str_attr(chat, "gen_ai.request.model").as_deref(),
        Some("gpt-4o")
    );
    let msgs = str_attr(chat, "gen_ai.input.messages").unwrap();
    // Still valid JSON after replacement.
    serde_json::from_str::<serde_json::Value>(&msgs).unwrap();
    let root = spans
        .iter()
        .find(|s| s.name.starts_with("invoke_agent"))
        .unwrap();
    assert!(
        root.name.starts_with("invoke_agent support-red "),
        "{}",
        root.name
    );
    assert_eq!(
        str_attr(root, "gen_ai.conversation.id").as_deref(),
        Some("conv-red")
    );
    let tool = spans
        .iter()
        .find(|s| s.name == "execute_tool refund")
        .unwrap();
    assert!(str_attr(tool, "redaction.types").is_some());

    // The pseudonym written for the email is what `spanward token` prints under the same key.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spanward"))
        .args(["token", "--type", "email", EMAIL, "--key-file"])
        .arg(&key)
        .env_remove("SPANWARD_HMAC_KEY")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pseudonym = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(pseudonym.starts_with("<email:"), "{pseudonym}");
    assert!(msgs.contains(&pseudonym), "{msgs} lacks {pseudonym}");

    let m = svc.metrics().await;
    assert!(metric_value(&m, "spanward_redactions_total", &["type=\"email\""]) >= 3.0);

    // The file sink holds no raw value anywhere.
    let dir = svc.stop().await;
    assert_eq!(
        spanward::pipeline::count_spans_all(&file_sink_requests(dir.path())),
        3
    );
    let bytes = log_dir_bytes(dir.path());
    for raw in [EMAIL, CARD, compact_card.as_str(), GH, NAME_SECRET] {
        assert!(
            !bytes.windows(raw.len()).any(|w| w == raw.as_bytes()),
            "{raw} reached the file sink"
        );
    }
}
