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
    let key = "00112233445566778899aabbccddeeff";
    let (a, err) = scrub_report(Some(key));
    assert!(!err.contains("WARN"), "{err}");
    let (b, _) = scrub_report(Some(key));
    let pa = pseudonyms(&a);
    // Both occurrences of the address get the same pseudonym, in every run with this key.
    assert_eq!(pa.len(), 2, "{a}");
    assert_eq!(pa[0], pa[1]);
    assert_eq!(pa, pseudonyms(&b));
    let (other, _) = scrub_report(Some("ffeeddccbbaa99887766554433221100"));
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
