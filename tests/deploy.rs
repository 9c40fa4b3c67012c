//! Everything under deploy/ parses, and every spanward config in it (standalone files and the
//! Kubernetes ConfigMap) passes the same validation as `spanward validate`.

use std::collections::HashMap;
use std::path::Path;

fn yaml_docs(path: &Path) -> Vec<serde_norway::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| {
            <serde_norway::Value as serde::Deserialize>::deserialize(d)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

fn validate(text: &str, origin: &str) {
    let cfg = spanward::config::Config::from_yaml(text, origin).unwrap_or_else(|e| panic!("{e}"));
    // Keys come from the environment in deployments; a fixed one stands in for the secret.
    let mut env = HashMap::new();
    env.insert(
        spanward::keys::HMAC_KEY_ENV.to_string(),
        "00112233445566778899aabbccddeeff".to_string(),
    );
    let mut c = cfg.clone();
    c.keys.hmac_key_file = None;
    c.resolve_with_env(origin, &env)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn deploy_files_parse_and_configs_validate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy");
    let mut spanward_configs = 0;
    for sub in ["docker", "kubernetes", "collector", "systemd"] {
        for entry in std::fs::read_dir(root.join(sub)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().and_then(|e| e.to_str()) != Some("yaml") {
                continue;
            }
            let docs = yaml_docs(&p);
            assert!(!docs.is_empty(), "{}", p.display());
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            if sub == "kubernetes" {
                for d in &docs {
                    assert!(
                        d.get("apiVersion").is_some() && d.get("kind").is_some(),
                        "{name}"
                    );
                    assert!(d["metadata"].get("name").is_some(), "{name}");
                    if d["kind"] == "ConfigMap" {
                        validate(d["data"]["spanward.yaml"].as_str().unwrap(), &name);
                        spanward_configs += 1;
                    }
                }
            } else if sub != "collector" || name.starts_with("spanward") {
                validate(&std::fs::read_to_string(&p).unwrap(), &name);
                spanward_configs += 1;
            } else {
                // OpenTelemetry Collector configs: the pipeline names an exporter it defines.
                let d = &docs[0];
                let exporters = d["service"]["pipelines"]["traces"]["exporters"]
                    .as_sequence()
                    .unwrap();
                for e in exporters {
                    assert!(d["exporters"].get(e.as_str().unwrap()).is_some(), "{name}");
                }
            }
        }
    }
    assert!(spanward_configs >= 4);
    let dockerfile = std::fs::read_to_string(root.join("docker/Dockerfile")).unwrap();
    assert!(dockerfile.contains("USER 65532") && dockerfile.contains("HEALTHCHECK"));
    let unit = std::fs::read_to_string(root.join("systemd/spanward.service")).unwrap();
    assert!(
        unit.contains("NoNewPrivileges=yes") && unit.contains("ReadWritePaths=/var/lib/spanward")
    );
}

#[test]
fn healthcheck_command_reports_status() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_spanward"))
        .args(["healthcheck", "--url", "http://127.0.0.1:1/healthz"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "nothing listens on port 1");
}
