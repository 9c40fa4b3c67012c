//! The real binary: `--version`; `validate` on a good file, an unknown key (named with its
//! path and line) and a bad value (named with its path); `scrub --report` (the table, the
//! random-key WARN, stable pseudonyms under a shared key); `patterns list` (every rule, user
//! packs added and overriding).

use std::process::{Command, Output};

fn spanward(args: &[&str]) -> Output {
    spanward_env(args, None)
}

/// Runs the binary with `SPANWARD_HMAC_KEY` set to `key`, or unset.
fn spanward_env(args: &[&str], key: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_spanward"));
    cmd.args(args)
        .env_remove("RUST_LOG")
        .env_remove("SPANWARD_HMAC_KEY")
        .env_remove("SPANWARD_HMAC_KEY_ID");
    if let Some(k) = key {
        cmd.env("SPANWARD_HMAC_KEY", k);
    }
    cmd.output().unwrap()
}

fn validate(yaml: &str) -> (Output, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("spanward.yaml");
    std::fs::write(&path, yaml).unwrap();
    let out = spanward(&["validate", "--config", path.to_str().unwrap()]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out, text)
}

#[test]
fn version_prints_the_crate_version() {
    let out = spanward(&["--version"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.trim(),
        format!("spanward {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn validate_accepts_a_good_file() {
    let (out, text) = validate(
        "receivers:\n  otlp:\n    grpc: { endpoint: \"127.0.0.1:4317\" }\n    http: { endpoint: \"127.0.0.1:4318\" }\nexporters:\n  otlp: { endpoint: \"http://127.0.0.1:4327\" }\n  file: { path: \"./spanward-data\" }\nadmin: { endpoint: \"127.0.0.1:8888\" }\n",
    );
    assert!(out.status.success(), "{text}");
    assert!(text.contains("valid"), "{text}");
}

#[test]
fn validate_names_an_unknown_key_with_its_path_and_line() {
    let (out, text) =
        validate("receivers:\n  otlp:\n    grpc:\n      endpont: \"127.0.0.1:4317\"\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`receivers.otlp.grpc.endpont`"), "{text}");
    assert!(text.contains("(line 4, column 7)"), "{text}");
    assert!(text.contains("unknown field `endpont`"), "{text}");
}

#[test]
fn validate_names_a_bad_value_with_its_path() {
    let (out, text) = validate("admin:\n  endpoint: \"not an address\"\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`admin.endpoint`"), "{text}");
    assert!(text.contains("not an address"), "{text}");
}

/// Validation errors found after parsing name the exact key path and its line in the file.
#[test]
fn validate_names_exact_key_paths_and_lines() {
    let cases: &[(&str, &str, &str)] = &[
        (
            "redaction:\n  disable_rules: [emial]\n",
            "`redaction.disable_rules[0]` (line 2)",
            "no rule `emial`",
        ),
        (
            "redaction:\n  disable_types:\n    - ipv4\n    - ipv9\n",
            "`redaction.disable_types[1]` (line 4)",
            "no type `ipv9`",
        ),
        (
            "redaction:\n  actions: { emial: mask }\n",
            "`redaction.actions.emial` (line 2)",
            "no rule id, type or category",
        ),
        (
            "pipeline:\n  workers: 1\n  queue:\n    max_spans: 0\n",
            "`pipeline.queue.max_spans` (line 4)",
            "at least 1",
        ),
        (
            "pipeline: { queue: { max_bytes: 0 } }\n",
            "`pipeline.queue.max_bytes` (line 1)",
            "at least 1",
        ),
        (
            "pipeline:\n  summary_interval: 0s\n",
            "`pipeline.summary_interval` (line 2)",
            "longer than 0s",
        ),
        (
            "receivers:\n  otlp:\n    grpc: {}\n    limits:\n      max_spans_per_request: 0\n",
            "`receivers.otlp.limits.max_spans_per_request` (line 5)",
            "at least 1",
        ),
    ];
    for (yaml, at, what) in cases {
        let (out, text) = validate(yaml);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains(at), "want {at}: {text}");
        assert!(text.contains(what), "want {what}: {text}");
    }
}

/// A build without the `kafka` cargo feature refuses a config naming `exporters.kafka`, and
/// says which key and which feature.
#[cfg(not(feature = "kafka"))]
#[test]
fn validate_names_the_kafka_feature_when_it_is_left_out() {
    let (out, text) =
        validate("exporters:\n  file: {}\n  kafka: { brokers: [\"127.0.0.1:9092\"] }\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`exporters.kafka` (line 3)"), "{text}");
    assert!(text.contains("`kafka` cargo feature"), "{text}");
}

/// A YAML syntax error names a line inside the file, and no key path.
#[test]
fn validate_names_a_syntax_error_inside_the_file() {
    // An unclosed brace: libyaml notices on the next line, and says where it began.
    let (out, text) =
        validate("receivers:\n  otlp:\n    grpc: { endpoint: \"127.0.0.1:4317\"\n    http: {}\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("YAML syntax error at line 4"), "{text}");
    assert!(text.contains("line 3"), "where the mapping began: {text}");
    assert!(!text.contains(".?"), "{text}");
    // An unclosed quote runs to the end of the file: the last line is named, not one past it.
    let (out, text) =
        validate("receivers:\n  otlp:\n    grpc:\n      endpoint: \"127.0.0.1:4317\n");
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("YAML syntax error at line 4"), "{text}");
    assert!(text.contains("unclosed quote"), "{text}");
}

/// Each cause once, naming the path.
#[test]
fn errors_say_their_cause_once() {
    let out = spanward(&["validate", "--config", "/nonexistent/spanward.yaml"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(err.contains("/nonexistent/spanward.yaml"), "{err}");
    assert_eq!(err.matches("No such file or directory").count(), 1, "{err}");

    // A port in use, named with its address.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers: {{ otlp: {{ grpc: {{ endpoint: \"{addr}\" }} }} }}\nexporters: {{ file: {{ path: \"{}\" }} }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\n",
            dir.path().join("data").display()
        ),
    )
    .unwrap();
    let out = spanward(&["run", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains(&addr.to_string()), "{err}");
    assert_eq!(err.matches("Address already in use").count(), 1, "{err}");
    drop(busy);

    // The log's LOCK held by another process, named by its path.
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(data.join("LOCK"))
        .unwrap();
    // flock is per open file description: this test holds it, the child `run` cannot take it.
    lock.try_lock().unwrap();
    std::fs::write(
        &cfg,
        format!(
            "receivers: {{ otlp: {{ grpc: {{ endpoint: \"127.0.0.1:0\" }} }} }}\nexporters: {{ file: {{ path: \"{}\" }} }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\n",
            data.display()
        ),
    )
    .unwrap();
    let out = spanward(&["run", "--config", cfg.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains(&data.join("LOCK").display().to_string()),
        "{err}"
    );
    assert_eq!(err.matches("held by another process").count(), 1, "{err}");
    drop(lock);

    // A signing key file that is not one: `validate` refuses it as `run` would, naming the
    // file, once.
    let bad_key = dir.path().join("signing.key");
    std::fs::write(&bad_key, "not a key\n").unwrap();
    std::fs::write(
        &cfg,
        format!(
            "exporters: {{ file: {{ path: \"{}\", signing_key_file: \"{}\" }} }}\n",
            data.display(),
            bad_key.display()
        ),
    )
    .unwrap();
    for cmd in ["validate", "run"] {
        let out = spanward(&[cmd, "--config", cfg.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{cmd}: {err}");
        assert!(err.contains(&bad_key.display().to_string()), "{cmd}: {err}");
        assert_eq!(
            err.matches("not a note signer key").count(),
            1,
            "{cmd}: {err}"
        );
    }
}

/// `validate` loads what `run` loads: keys (a placeholder HMAC key is refused), and directories
/// it will write.
#[test]
fn validate_refuses_what_run_would_refuse() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("hmac.key");
    std::fs::write(&key, "REPLACE-WITH-OUTPUT-OF-spanward-keygen\n").unwrap();
    let (out, text) = validate(&format!(
        "keys: {{ hmac_key_file: \"{}\", allow_weak_key: true }}\nexporters: {{ file: {{ path: \"{}\" }} }}\n",
        key.display(),
        dir.path().join("data").display()
    ));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("`keys.hmac_key_file` (line 1)"), "{text}");
    assert!(text.contains("placeholder"), "{text}");
    // A passphrase: refused unless allowed.
    std::fs::write(&key, "correct horse battery staple\n").unwrap();
    let cfg = |allow: bool| {
        format!(
            "keys: {{ hmac_key_file: \"{}\", allow_weak_key: {allow} }}\nexporters: {{ file: {{ path: \"{}\" }} }}\n",
            key.display(),
            dir.path().join("data").display()
        )
    };
    let (out, text) = validate(&cfg(false));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(text.contains("spanward keygen"), "{text}");
    let (out, text) = validate(&cfg(true));
    assert!(out.status.success(), "{text}");
    // A log directory under a file cannot be created.
    let file = dir.path().join("plain-file");
    std::fs::write(&file, "x").unwrap();
    let (out, text) = validate(&format!(
        "exporters: {{ file: {{ path: \"{}\" }} }}\n",
        file.join("data").display()
    ));
    assert_eq!(out.status.code(), Some(2), "{text}");
    assert!(
        text.contains("exporters.file.path") && text.contains("not a directory"),
        "{text}"
    );
    // The accepted config's log directory: validate checked it, and created nothing.
    assert!(
        !dir.path().join("data").exists(),
        "validate created the log directory"
    );
}

const LEAKY: &str = "mail jane.roe@example.org\nkey AKIAQ3EGRTY5LPMNBV2X and jane.roe@example.org again\nnothing here\n";

/// `spanward scrub --report` on a text file: (stdout, stderr).
fn scrub_report(key: Option<&str>) -> (String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dump.txt");
    std::fs::write(&path, LEAKY).unwrap();
    let out = spanward_env(
        &[
            "scrub",
            "--input",
            path.to_str().unwrap(),
            "--format",
            "text",
            "--report",
        ],
        key,
    );
    assert!(out.status.success(), "{out:?}");
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn scrub_report_counts_types_and_warns_once_without_a_key() {
    let (stdout, stderr) = scrub_report(None);
    assert!(
        !stdout.contains("jane.roe") && !stdout.contains("AKIAQ3EGRTY5LPMNBV2X"),
        "{stdout}"
    );
    assert!(stdout.contains("[REDACTED:aws_access_key_id]"), "{stdout}");
    assert_eq!(stdout.lines().nth(2), Some("nothing here"), "{stdout}");
    assert_eq!(stdout.lines().count(), 3, "{stdout}");
    assert_eq!(
        stderr.matches("WARN no HMAC key configured").count(),
        1,
        "{stderr}"
    );
    let row = |t: &str| {
        stderr
            .lines()
            .find(|l| l.split_whitespace().next() == Some(t))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_string)
    };
    assert_eq!(row("email").as_deref(), Some("2"), "{stderr}");
    assert_eq!(row("aws_access_key_id").as_deref(), Some("1"), "{stderr}");
    assert!(stderr.contains("total 3 redactions;"), "{stderr}");
    // Secrets are masked, and the report never prints a matched value.
    assert!(
        !stderr.contains("jane.roe") && !stderr.contains("AKIAQ"),
        "{stderr}"
    );
}

#[test]
fn scrub_pseudonyms_are_stable_under_a_shared_key_and_differ_without_it() {
    let pseudonyms = |stdout: &str| -> Vec<String> {
        stdout
            .split('<')
            .skip(1)
            .filter_map(|s| s.split_once('>').map(|(p, _)| p.to_string()))
            .filter(|p| p.starts_with("email:"))
            .collect()
    };
    let key = "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0";
    let (a, err) = scrub_report(Some(key));
    assert!(!err.contains("WARN"), "{err}");
    let (b, _) = scrub_report(Some(key));
    let pa = pseudonyms(&a);
    // Both occurrences of the address get the same pseudonym, in every run with this key.
    assert_eq!(pa.len(), 2, "{a}");
    assert_eq!(pa[0], pa[1]);
    assert_eq!(pa, pseudonyms(&b));
    let (other, _) = scrub_report(Some(
        "ffeeddccbbaa998877665544332211000123456789abcdeffedcba9876543210",
    ));
    assert_ne!(pseudonyms(&other)[0], pa[0]);
    let (random1, _) = scrub_report(None);
    let (random2, _) = scrub_report(None);
    assert_ne!(pseudonyms(&random1)[0], pseudonyms(&random2)[0]);
}

#[test]
fn patterns_list_prints_every_rule_and_user_packs() {
    let rules = |out: &Output| -> Vec<(String, String)> {
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let lines: Vec<&str> = text.lines().collect();
        // Header first, the count last.
        lines[1..lines.len().saturating_sub(1).max(1)]
            .iter()
            .map(|l| {
                let mut f = l.split_whitespace();
                let id = f.next().unwrap_or_default().to_string();
                (id, l.to_string())
            })
            .collect()
    };
    let builtin = spanward(&["patterns", "list"]);
    assert!(builtin.status.success());
    let text = String::from_utf8(builtin.stdout.clone()).unwrap();
    assert!(text.lines().next().unwrap().starts_with("id "), "{text}");
    let list = rules(&builtin);
    let last = text.lines().last().unwrap();
    assert_eq!(
        last,
        format!(
            "{} rules, {} types",
            list.len(),
            last.split_whitespace().nth(2).unwrap()
        )
    );
    assert!(list.len() >= 60 + 10, "{}", list.len());
    let row = |l: &[(String, String)], id: &str| l.iter().find(|r| r.0 == id).map(|r| r.1.clone());
    let email = row(&list, "email").unwrap();
    assert!(
        email.contains(" pii ") && email.contains(" token "),
        "{email}"
    );
    let aws = row(&list, "aws_access_key_id").unwrap();
    assert!(aws.contains(" secret ") && aws.contains(" mask "), "{aws}");

    let dir = tempfile::tempdir().unwrap();
    let pack = dir.path().join("acme.toml");
    std::fs::write(
        &pack,
        "[pack]\nname = \"acme\"\n[[rules]]\nid = \"acme_key\"\ntype = \"acme_key\"\ndescription = \"ACME key.\"\nregex = 'acme_[a-z0-9]{16}'\nkeywords = [\"acme_\"]\ntp = [\"acme_0123456789abcdef\"]\n\n[[rules]]\nid = \"email\"\ntype = \"email\"\ncategory = \"secret\"\ndescription = \"Overridden email.\"\nregex = '[a-z]+@corp\\\\.example'\nkeywords = [\"@\"]\ntp = [\"x@corp.example\"]\n",
    )
    .unwrap();
    let user = spanward(&["patterns", "list", pack.to_str().unwrap()]);
    assert!(user.status.success(), "{user:?}");
    let ulist = rules(&user);
    // One rule added; `email` replaced in place, not duplicated.
    assert_eq!(ulist.len(), list.len() + 1);
    assert_eq!(ulist.iter().filter(|r| r.0 == "email").count(), 1);
    let acme = row(&ulist, "acme_key").unwrap();
    assert!(
        acme.contains(" secret ") && acme.contains(" mask ") && acme.ends_with("ACME key."),
        "{acme}"
    );
    let email = row(&ulist, "email").unwrap();
    assert!(
        email.contains(" secret ") && email.ends_with("Overridden email."),
        "{email}"
    );
}

/// `load --protocol http` without `--endpoint` targets the HTTP receiver's default port, and says
/// where the data goes; a run in which every request failed exits non-zero.
#[test]
fn load_targets_the_protocols_default_port_and_fails_when_nothing_got_through() {
    use clap::Parser;
    #[derive(Parser)]
    struct W {
        #[command(flatten)]
        load: spanward::load::LoadArgs,
    }
    let http = W::parse_from(["load", "--protocol", "http"]).load;
    assert_eq!(http.target(), "127.0.0.1:4318");
    let grpc = W::parse_from(["load"]).load;
    assert_eq!(grpc.target(), "127.0.0.1:4317");
    let given = W::parse_from(["load", "--protocol", "http", "--endpoint", "10.0.0.1:9"]).load;
    assert_eq!(given.target(), "10.0.0.1:9");

    // Nothing listens there: every request fails.
    let dead = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let out = spanward(&[
        "load",
        "--protocol",
        "http",
        "--endpoint",
        &dead.to_string(),
        "--duration",
        "300ms",
        "--spans-per-request",
        "2",
        "--concurrency",
        "1",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("OTLP/HTTP to {dead}")), "{err}");
    assert!(err.contains("./spanward-data"), "{err}");
    assert!(err.contains("every request failed"), "{err}");
}

/// A reader that stops early (`spanward patterns list | head -1`) ends the command quietly:
/// no panic message, the status a tool killed by SIGPIPE has.
#[test]
fn a_closed_stdout_ends_a_listing_quietly() {
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_spanward"))
        .args(["patterns", "list"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the read end before the listing is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        matches!(out.status.code(), Some(141) | Some(0)),
        "{:?}",
        out.status
    );
}
