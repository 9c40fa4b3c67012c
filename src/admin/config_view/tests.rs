use super::*;

#[test]
fn reads_pretty_debug_back() {
    #[derive(Debug)]
    #[allow(dead_code)]
    enum Mode {
        Wait,
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Inner {
        path: std::path::PathBuf,
        every: std::time::Duration,
        addr: Option<std::net::SocketAddr>,
        v6: std::net::SocketAddr,
        list: Vec<String>,
        empty: Vec<u8>,
        map: std::collections::BTreeMap<String, u32>,
        mode: Mode,
        ratio: f64,
        on: bool,
        none: Option<u8>,
        text: String,
    }
    let inner = Inner {
        path: "./a b/c".into(),
        every: std::time::Duration::from_millis(1500),
        addr: Some("127.0.0.1:4317".parse().unwrap()),
        v6: "[::1]:4318".parse().unwrap(),
        list: vec!["x: y".into(), "z {".into()],
        empty: vec![],
        map: [("k.one".to_string(), 1)].into_iter().collect(),
        mode: Mode::Wait,
        ratio: 0.25,
        on: true,
        none: None,
        text: "quote \" and\nnewline é".into(),
    };
    let n = from_debug(&format!("{inner:#?}"));
    let j = serde_json::to_value(&n).unwrap();
    assert_eq!(j["path"], "./a b/c");
    assert_eq!(j["every"], "1.5s");
    assert_eq!(j["addr"], "127.0.0.1:4317");
    assert_eq!(j["v6"], "[::1]:4318");
    assert_eq!(j["list"], serde_json::json!(["x: y", "z {"]));
    assert_eq!(j["empty"], serde_json::json!([]));
    assert_eq!(j["map"]["k.one"], 1);
    assert_eq!(j["mode"], "Wait");
    assert_eq!(j["ratio"], 0.25);
    assert_eq!(j["on"], true);
    assert!(j["none"].is_null());
    assert_eq!(j["text"], "quote \" and\nnewline é");
    // Field order is the struct's.
    let keys: Vec<_> = match &n {
        Node::Obj(f) => f.iter().map(|(k, _)| k.as_str()).collect(),
        _ => panic!("{n:?}"),
    };
    assert_eq!(keys[..3], ["path", "every", "addr"]);
    assert!(to_text(&n).contains("mode: \"Wait\""), "{}", to_text(&n));
}

#[test]
fn secret_names_and_maps_are_masked_harmless_ones_kept() {
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Key {
        key_id: String,
        source: String,
        bytes: Vec<u8>,
    }
    #[derive(Debug)]
    #[allow(dead_code)]
    struct Cfg {
        hmac_key: Key,
        api_token: String,
        tokens: usize,
        signing_key_file: Option<String>,
        tokens_env: Option<String>,
        secret_key_words: Vec<String>,
        blocked_keys: Vec<String>,
        env: std::collections::BTreeMap<String, String>,
        properties: std::collections::BTreeMap<String, String>,
        endpoint: String,
        allow_weak_key: bool,
    }
    let c = Cfg {
        hmac_key: Key {
            key_id: "k-1234".into(),
            source: "File".into(),
            bytes: vec![42, 43],
        },
        api_token: "CANARY-token".into(),
        tokens: 3,
        signing_key_file: Some("/etc/spanward/signing.key".into()),
        tokens_env: Some("ADMIN_TOKENS".into()),
        secret_key_words: vec!["password".into()],
        blocked_keys: vec!["x-api-key".into()],
        env: [("SPANWARD_SIGNING_KEY".to_string(), "CANARY-env".to_string())]
            .into_iter()
            .collect(),
        properties: [
            ("sasl.password", "CANARY-sasl"),
            ("sasl.username", "CANARY-user"),
            ("sasl.jaas.config", "CANARY-jaas"),
            ("security.protocol", "SASL_SSL"),
            ("ssl.ca.location", "/etc/ca.pem"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        endpoint: "https://user:CANARY-pw@next:4317/x".into(),
        allow_weak_key: false,
    };
    let n = from_debug(&format!("{c:#?}"));
    let text = serde_json::to_string(&n).unwrap();
    assert!(!text.contains("CANARY"), "{text}");
    assert!(!text.contains("42"), "key bytes shown: {text}");
    let j = serde_json::to_value(&n).unwrap();
    assert_eq!(j["hmac_key"]["key_id"], "k-1234");
    assert_eq!(j["hmac_key"]["source"], "File");
    assert_eq!(j["hmac_key"]["bytes"], SET);
    assert_eq!(j["api_token"], SET);
    assert_eq!(j["tokens"], SET);
    assert_eq!(j["signing_key_file"], "/etc/spanward/signing.key");
    assert_eq!(j["tokens_env"], "ADMIN_TOKENS");
    assert_eq!(j["secret_key_words"], serde_json::json!(["password"]));
    assert_eq!(j["blocked_keys"], serde_json::json!(["x-api-key"]));
    assert_eq!(j["env"]["SPANWARD_SIGNING_KEY"], SET);
    assert_eq!(j["properties"]["sasl.password"], SET);
    assert_eq!(j["properties"]["sasl.username"], SET);
    assert_eq!(j["properties"]["security.protocol"], "SASL_SSL");
    assert_eq!(j["properties"]["ssl.ca.location"], "/etc/ca.pem");
    assert_eq!(j["endpoint"], "https://<set>@next:4317/x");
    assert_eq!(j["allow_weak_key"], false);
}

/// The real resolved configuration, with every secret it can hold set to a canary: none shows.
#[test]
fn the_resolved_configuration_shows_no_secret() {
    let dir = tempfile::tempdir().unwrap();
    let tokens = dir.path().join("admin.tokens");
    std::fs::write(&tokens, "ops:CANARY-admin-token-0123456789\n").unwrap();
    let yaml = format!(
        r#"
receivers:
  otlp:
    grpc: {{ endpoint: "127.0.0.1:4317" }}
    auth: {{ tokens_env: RECV_TOKENS }}
exporters:
  file: {{ path: "{}" }}
  otlp: {{ endpoint: "http://user:CANARY-url-pw@127.0.0.1:4327" }}
  kafka:
    brokers: ["127.0.0.1:9092"]
    properties: {{ "sasl.password": "CANARY-sasl", "sasl.jaas.config": "CANARY-jaas", "security.protocol": "SASL_PLAINTEXT" }}
admin:
  endpoint: "127.0.0.1:8888"
  auth: {{ tokens_file: "{}" }}
pipeline: {{ queue: {{ max_spans: 4242 }} }}
"#,
        dir.path().join("log").display(),
        tokens.display()
    );
    let env: std::collections::HashMap<String, String> = [
        (
            "SPANWARD_HMAC_KEY",
            "c0ffee00112233445566778899aabbccddeeff00112233445566778899aabbcc",
        ),
        ("SPANWARD_SIGNING_KEY", "CANARY-signing-key"),
        ("RECV_TOKENS", "agent:CANARY-recv-token-0123456789"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let resolved = crate::config::Config::from_yaml(&yaml, "t")
        .unwrap()
        .resolve_with_env("t", &env)
        .unwrap();
    let n = from_debug(&format!("{resolved:#?}"));
    let text = serde_json::to_string(&n).unwrap() + &to_text(&n);
    for canary in ["CANARY", "c0ffee00"] {
        assert!(!text.contains(canary), "{canary} shown: {text}");
    }
    let j = serde_json::to_value(&n).unwrap();
    assert_eq!(j["pipeline"]["queue"]["max_spans"], 4242);
    assert_eq!(j["env"]["SPANWARD_SIGNING_KEY"], SET);
    // The exporters are a list of `{ key, config }` in fan-out order: file, otlp, kafka.
    let kafka = &j["exporters"][2]["config"];
    assert_eq!(kafka["properties"]["sasl.password"], SET);
    assert_eq!(kafka["properties"]["security.protocol"], "SASL_PLAINTEXT");
    // The configuration's source text is kept for error messages: never shown.
    assert_eq!(j["locator"]["text"], SET);
    assert_eq!(j["hmac_key"]["source"], "Env");
    assert_eq!(j["admin_auth"]["file"], tokens.display().to_string());
    assert!(j["stages"]["redaction"]["enabled"].as_bool().unwrap());
}

#[test]
fn userinfo_in_free_text() {
    assert_eq!(
        hide_userinfo_in_text(
            "next stage https://u:CANARY@h:4317/x not answering; also http://h:1 and a://b@c"
        ),
        "next stage https://<set>@h:4317/x not answering; also http://h:1 and a://<set>@c"
    );
    assert_eq!(hide_userinfo_in_text("no url here"), "no url here");
}
