use super::*;
use crate::sink::log::LogConfig;
use crate::sink::otlp::OtlpExporterConfig;

/// The exporters a resolved config turns on, by key, in fan-out order.
fn keys(r: &Resolved) -> Vec<&'static str> {
    r.exporters.iter().map(|e| e.key).collect()
}

const CONTRACT: &str = r#"
receivers:
  otlp:
    grpc: { endpoint: "127.0.0.1:4317" }
    http: { endpoint: "127.0.0.1:4318" }
exporters:
  otlp: { endpoint: "http://127.0.0.1:4327" }
  file: { path: "./spanward-data" }
admin: { endpoint: "127.0.0.1:8888" }
"#;

#[test]
fn contract_keys_parse() {
    let c = Config::from_yaml(CONTRACT, "t").unwrap();
    let r = c.resolve("t").unwrap();
    assert_eq!(r.grpc.unwrap().port(), 4317);
    assert_eq!(r.http.unwrap().port(), 4318);
    assert_eq!(r.admin.port(), 8888);
    assert_eq!(
        r.exporter::<OtlpExporterConfig>().unwrap().endpoint,
        "http://127.0.0.1:4327"
    );
    assert_eq!(
        r.exporter::<LogConfig>().unwrap().path,
        PathBuf::from("./spanward-data")
    );
}

#[test]
fn empty_file_is_defaults() {
    let r = Config::from_yaml("", "t").unwrap().resolve("t").unwrap();
    assert!(r.grpc.is_some() && r.http.is_some());
    assert_eq!(keys(&r), ["file"]);
}

#[test]
fn exporters_section_selects_exactly_what_it_lists() {
    let r = Config::from_yaml("exporters:\n  file:\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap();
    assert_eq!(keys(&r), ["file"]);
    let r = Config::from_yaml("exporters:\n  otlp: {}\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap();
    assert_eq!(keys(&r), ["otlp"]);
    // Whatever order the file names them in, the fan-out order: the log first.
    let r = Config::from_yaml("exporters:\n  otlp: {}\n  file: {}\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap();
    assert_eq!(keys(&r), ["file", "otlp"]);
}

#[test]
fn receivers_section_selects_protocols() {
    let r = Config::from_yaml("receivers:\n  otlp:\n    http: {}\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap();
    assert!(r.grpc.is_none());
    assert_eq!(r.http.unwrap().port(), 4318);
}

#[test]
fn unknown_key_names_path_and_line() {
    let e = Config::from_yaml(
        "receivers:\n  otlp:\n    grpc:\n      endpont: \"127.0.0.1:1\"\n",
        "x.yaml",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("receivers.otlp.grpc"), "{e}");
    assert!(e.contains("endpont"), "{e}");
    assert!(e.contains("line 4"), "{e}");
}

#[test]
fn bad_address_is_named() {
    let e = Config::from_yaml("admin: { endpoint: \"nowhere\" }", "t")
        .unwrap()
        .resolve("t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("admin.endpoint"), "{e}");
}

#[test]
fn empty_exporters_rejected() {
    let e = Config::from_yaml("exporters: {}\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap_err()
        .to_string();
    assert!(e.contains("exporters"), "{e}");
}

#[test]
fn durations_and_enums() {
    let c = Config::from_yaml(
        "pipeline:\n  queue: { when_full: refuse, max_wait: 250ms, max_spans: 10 }\n  ack: durable\n",
        "t",
    )
    .unwrap();
    assert_eq!(c.pipeline.queue.when_full, WhenFull::Refuse);
    assert_eq!(c.pipeline.queue.max_wait, Duration::from_millis(250));
    assert_eq!(c.pipeline.ack, AckMode::Durable);
}

#[cfg(feature = "kafka")]
#[test]
fn kafka_exporter_section_turns_it_on_and_is_checked() {
    let r = Config::from_yaml(
        "exporters:\n  kafka: { brokers: [\"127.0.0.1:9092\"], topic: spans, compression: lz4 }\n",
        "t",
    )
    .unwrap()
    .resolve("t")
    .unwrap();
    assert_eq!(keys(&r), ["kafka"]);
    let k = r.exporter::<crate::sink::kafka::KafkaConfig>().unwrap();
    assert_eq!(k.topic, "spans");
    assert_eq!(k.acks, crate::sink::kafka::KafkaAcks::All);
    assert!(k.idempotence);

    let e = Config::from_yaml("exporters:\n  kafka: { topik: x }\n", "t").unwrap_err();
    assert!(e.to_string().contains("exporters.kafka"), "{e}");
    let e = Config::from_yaml("exporters:\n  kafka: { acks: leader }\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap_err();
    assert!(e.to_string().contains("idempotence"), "{e}");
}

#[test]
fn log_origin_comes_from_the_environment_per_replica() {
    let c = Config::from_yaml("exporters:\n  file: { origin: shared }\n", "t").unwrap();
    let env: std::collections::HashMap<String, String> =
        [(LOG_ORIGIN_ENV.to_string(), "pod-7".to_string())].into();
    let r = c.resolve_with_env("t", &env).unwrap();
    assert_eq!(
        r.exporter::<LogConfig>().unwrap().origin.as_deref(),
        Some("pod-7")
    );
    let r = c
        .resolve_with_env("t", &std::collections::HashMap::new())
        .unwrap();
    assert_eq!(
        r.exporter::<LogConfig>().unwrap().origin.as_deref(),
        Some("shared")
    );
}

#[test]
fn structural_limits_parse_and_are_checked() {
    let env = std::collections::HashMap::<String, String>::new();
    let r = Config::from_yaml(
        "receivers: { otlp: { http: {}, limits: { max_spans_per_request: 10, max_attribute_depth: 100 } } }",
        "t",
    )
    .unwrap()
    .resolve_with_env("t", &env)
    .unwrap();
    assert_eq!(r.limits.max_spans_per_request, 10);
    assert_eq!(r.limits.max_attribute_depth, 100);
    assert_eq!(r.limits.max_attributes_per_span, 10_000);
    assert_eq!(r.limits.max_attribute_value_bytes, 4 << 20);
    for bad in [
        "max_attribute_depth: 101",
        "max_attribute_depth: 0",
        "max_spans_per_request: 0",
        "max_attribute_value_bytes: 0",
    ] {
        let e = Config::from_yaml(
            &format!("receivers: {{ otlp: {{ http: {{}}, limits: {{ {bad} }} }} }}"),
            "t",
        )
        .unwrap()
        .resolve_with_env("t", &env)
        .unwrap_err()
        .to_string();
        assert!(e.contains("receivers.otlp.limits"), "{bad}: {e}");
    }
}

#[test]
fn durable_ack_is_refused_with_a_file_sink_that_acknowledges_before_fsync() {
    for policy in ["interval", "never"] {
        let e = Config::from_yaml(
            &format!("exporters:\n  file: {{ fsync: {policy} }}\npipeline: {{ ack: durable }}\n"),
            "t",
        )
        .unwrap()
        .resolve("t")
        .unwrap_err()
        .to_string();
        assert!(e.contains("pipeline.ack"), "{policy}: {e}");
        assert!(
            e.contains(&format!("exporters.file.fsync: {policy}")),
            "{policy}: {e}"
        );
    }
    // The policies that fsync before an append returns are fine with `ack: durable`...
    for policy in ["batch", "always"] {
        let r = Config::from_yaml(
            &format!("exporters:\n  file: {{ fsync: {policy} }}\npipeline: {{ ack: durable }}\n"),
            "t",
        )
        .unwrap()
        .resolve("t")
        .unwrap();
        assert_eq!(r.pipeline.ack, AckMode::Durable);
    }
    // ...and `ack: accepted` promises nothing about fsync, so every policy goes with it.
    for policy in ["interval", "never"] {
        Config::from_yaml(
            &format!("exporters:\n  file: {{ fsync: {policy} }}\npipeline: {{ ack: accepted }}\n"),
            "t",
        )
        .unwrap()
        .resolve("t")
        .unwrap();
    }
    // No file sink (the next stage only): the check does not apply.
    Config::from_yaml("exporters:\n  otlp: {}\npipeline: { ack: durable }\n", "t")
        .unwrap()
        .resolve("t")
        .unwrap();
}

/// A build without the `kafka` feature still parses `exporters.kafka`, and refuses it naming
/// the key, its line and the feature.
#[cfg(not(feature = "kafka"))]
#[test]
fn kafka_exporter_without_the_feature_is_refused_by_name() {
    let e = Config::from_yaml(
        "exporters:\n  file: {}\n  kafka: { brokers: [\"127.0.0.1:9092\"], topic: spans }\n",
        "t",
    )
    .unwrap()
    .resolve("t")
    .unwrap_err()
    .to_string();
    assert!(e.contains("`exporters.kafka` (line 3)"), "{e}");
    assert!(e.contains("`kafka` cargo feature"), "{e}");
}

/// The log that is on because nothing chose otherwise (`spanward run` with no config) keeps a
/// bounded amount; a log the config names keeps what it says (everything by default).
#[test]
fn implied_log_has_a_retention_default_and_a_named_one_keeps_its_own() {
    let env: std::collections::HashMap<String, String> = Default::default();
    let implied = Config::default().resolve_with_env("t", &env).unwrap();
    assert_eq!(
        implied.exporter::<LogConfig>().unwrap().retention_max_bytes,
        Some(crate::sink::log::DEFAULT_RUN_RETENTION_BYTES)
    );
    let named = Config::from_yaml("exporters: { file: {} }\n", "t")
        .unwrap()
        .resolve_with_env("t", &env)
        .unwrap();
    assert_eq!(
        named.exporter::<LogConfig>().unwrap().retention_max_bytes,
        None
    );
    let set = Config::from_yaml(
        "exporters: { file: { retention_max_bytes: 5000000 } }\n",
        "t",
    )
    .unwrap()
    .resolve_with_env("t", &env)
    .unwrap();
    assert_eq!(
        set.exporter::<LogConfig>().unwrap().retention_max_bytes,
        Some(5_000_000)
    );
}
