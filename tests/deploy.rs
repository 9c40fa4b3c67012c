//! Everything under deploy/ parses, holds the pieces a deployment relies on, and every spanward
//! config in it (standalone files and the Kubernetes ConfigMap) passes the real
//! `spanward validate`. The container health check command is run against a live service.

mod common;

use serde_norway::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn deploy_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy")
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| {
            <Value as serde::Deserialize>::deserialize(d)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .collect()
}

/// A checkpoint signing key made by the real `spanward keygen --signing`.
fn signing_key(dir: &Path) -> String {
    let out = dir.join("signing.key");
    let st = Command::new(env!("CARGO_BIN_EXE_spanward"))
        .args(["keygen", "--signing", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(st.status.success(), "{st:?}");
    std::fs::read_to_string(out).unwrap()
}

/// Runs the binary's `validate` on `text`, as `ExecStartPre=` and an operator would. Keys come
/// from mounted secrets in deployments; the environment stands in for them (it wins over
/// `keys.hmac_key_file` and `signing_key_file`), and the data directory under `/var/lib` (made by
/// the image, the unit or the volume) is a temporary one here. Returns what it printed.
fn spanward_validate(text: &str, name: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join(name);
    let data = dir.path().join("var-lib-spanward");
    std::fs::write(
        &cfg,
        text.replace("/var/lib/spanward", &data.display().to_string()),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_spanward"))
        .args(["validate", "--config"])
        .arg(&cfg)
        .env(
            "SPANWARD_HMAC_KEY",
            "00112233445566778899aabbccddeeff0f1e2d3c4b5a69788796a5b4c3d2e1f0",
        )
        .env("SPANWARD_SIGNING_KEY", signing_key(dir.path()))
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: spanward validate failed: {}{}",
        stdout,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn kinds(docs: &[Value]) -> BTreeSet<String> {
    docs.iter()
        .map(|d| d["kind"].as_str().unwrap().to_string())
        .collect()
}

fn by_kind<'a>(docs: &'a [Value], kind: &str) -> Vec<&'a Value> {
    docs.iter().filter(|d| d["kind"] == kind).collect()
}

#[test]
fn standalone_spanward_configs_pass_validate() {
    let root = deploy_dir();
    let cases = [
        ("docker/spanward.yaml", "exporters: file)"),
        ("systemd/spanward.yaml", "exporters: file"),
        ("collector/spanward-forward.yaml", "otlp"),
    ];
    for (rel, want) in cases {
        let text = std::fs::read_to_string(root.join(rel)).unwrap();
        let name = Path::new(rel).file_name().unwrap().to_str().unwrap();
        let out = spanward_validate(&text, name);
        assert!(out.contains("valid") && out.contains(want), "{rel}: {out}");
    }
}

#[test]
fn kubernetes_manifest_has_every_piece_and_its_config_validates() {
    let docs = yaml_docs(&deploy_dir().join("kubernetes/spanward.yaml"));
    for d in &docs {
        assert!(d.get("apiVersion").is_some() && d.get("kind").is_some());
        assert!(d["metadata"].get("name").is_some());
    }
    // No Secret: one with values here would overwrite the real keys at every `kubectl apply`.
    let want: BTreeSet<String> = [
        "ConfigMap",
        "Deployment",
        "Service",
        "PodDisruptionBudget",
        "HorizontalPodAutoscaler",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    assert_eq!(kinds(&docs), want);

    // The ConfigMap's config is what the pods run: the real validator accepts it, with Kafka
    // and the per-pod log on (in a build with Kafka support, the default).
    let cm = by_kind(&docs, "ConfigMap");
    let text = cm[0]["data"]["spanward.yaml"].as_str().unwrap();
    if cfg!(feature = "kafka") {
        let out = spanward_validate(text, "configmap.yaml");
        assert!(out.contains("exporters: file+kafka"), "{out}");
    }

    // The keys come from a Secret the reader creates (the file says how), mounted where the
    // config reads them.
    let manifest = std::fs::read_to_string(deploy_dir().join("kubernetes/spanward.yaml")).unwrap();
    assert!(
        !manifest.contains("REPLACE-WITH"),
        "no placeholder keys in the manifest"
    );
    assert!(manifest.contains("kubectl create secret generic spanward-keys"));
    assert!(manifest.contains("--from-file=hmac.key --from-file=signing.key"));
    assert!(text.contains("/var/run/secrets/spanward/hmac.key"));
    assert!(text.contains("/var/run/secrets/spanward/signing.key"));

    let dep = by_kind(&docs, "Deployment")[0];
    let pod = &dep["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], Value::Bool(true));
    let c = &pod["containers"][0];
    assert_eq!(c["readinessProbe"]["httpGet"]["path"], "/readyz");
    assert_eq!(c["livenessProbe"]["httpGet"]["path"], "/healthz");
    assert_eq!(
        c["securityContext"]["readOnlyRootFilesystem"],
        Value::Bool(true)
    );
    for k in ["requests", "limits"] {
        let mem = c["resources"][k]["memory"].as_str().unwrap();
        let mib: u64 = mem.trim_end_matches("Mi").parse().unwrap();
        // Measured peak RSS of the full pipeline (213 MiB) plus librdkafka's queue (64 MiB).
        assert!(mib >= 277, "{k} memory {mem} below the measured peak");
    }
    let env_names: Vec<&str> = c["env"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert!(env_names.contains(&"SPANWARD_LOG_ORIGIN"), "{env_names:?}");
    // The pod outlives a drain: its grace period is longer than the config's shutdown_timeout.
    let grace = pod["terminationGracePeriodSeconds"].as_u64().unwrap();
    assert!(grace > 25, "grace {grace}s");

    // One Service load-balances clients; a headless one gives the collector's loadbalancing
    // exporter every pod's address.
    let services = by_kind(&docs, "Service");
    assert_eq!(services.len(), 2);
    let ports = |s: &Value| -> BTreeSet<u64> {
        s["spec"]["ports"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|p| p["port"].as_u64().unwrap())
            .collect()
    };
    let lb = services
        .iter()
        .find(|s| s["metadata"]["name"] == "spanward")
        .unwrap();
    assert_eq!(ports(lb), [4317, 4318, 8888].into_iter().collect());
    let headless = services
        .iter()
        .find(|s| s["spec"]["clusterIP"] == "None")
        .expect("a headless Service");
    assert!(ports(headless).contains(&4317));
    let lb_cfg = yaml_docs(&deploy_dir().join("collector/loadbalancing-to-replicas.yaml"));
    let host = lb_cfg[0]["exporters"]["loadbalancing"]["resolver"]["dns"]["hostname"]
        .as_str()
        .unwrap();
    let headless_name = headless["metadata"]["name"].as_str().unwrap();
    assert!(
        host.starts_with(&format!("{headless_name}.")),
        "{host} is not the headless Service {headless_name}"
    );
    assert_eq!(
        lb_cfg[0]["exporters"]["loadbalancing"]["routing_key"],
        "traceID"
    );

    // The disruption budget and both Services select the Deployment's pods.
    let selector = &dep["spec"]["selector"]["matchLabels"];
    let pdb = by_kind(&docs, "PodDisruptionBudget")[0];
    assert_eq!(&pdb["spec"]["selector"]["matchLabels"], selector);
    for s in &services {
        assert_eq!(&s["spec"]["selector"], selector);
    }
    let hpa = by_kind(&docs, "HorizontalPodAutoscaler")[0];
    assert_eq!(
        hpa["spec"]["scaleTargetRef"]["name"],
        dep["metadata"]["name"]
    );
}

#[test]
fn collector_configs_wire_their_pipelines_to_spanward() {
    for name in ["agents-to-spanward.yaml", "loadbalancing-to-replicas.yaml"] {
        let d = &yaml_docs(&deploy_dir().join("collector").join(name))[0];
        let exporters = d["service"]["pipelines"]["traces"]["exporters"]
            .as_sequence()
            .unwrap();
        assert!(!exporters.is_empty(), "{name}");
        for e in exporters {
            assert!(d["exporters"].get(e.as_str().unwrap()).is_some(), "{name}");
        }
        let text = std::fs::read_to_string(deploy_dir().join("collector").join(name)).unwrap();
        assert!(
            text.contains("4317"),
            "{name} does not point at spanward's gRPC port"
        );
    }
}

#[test]
fn dockerfile_and_systemd_unit_hold_what_deployments_rely_on() {
    let dockerfile = std::fs::read_to_string(deploy_dir().join("docker/Dockerfile")).unwrap();
    // One instruction per logical line: a trailing backslash continues it.
    let joined = dockerfile.replace("\\\n", " ");
    let instr: Vec<(&str, &str)> = joined
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once(' '))
        .filter(|(k, _)| k.chars().all(|c| c.is_ascii_uppercase()))
        .collect();
    let froms: Vec<&str> = instr
        .iter()
        .filter(|(k, _)| *k == "FROM")
        .map(|(_, v)| *v)
        .collect();
    assert!(froms.len() >= 2, "multi-stage build: {froms:?}");
    let user = instr.iter().rev().find(|(k, _)| *k == "USER").unwrap().1;
    let uid: u32 = user.split(':').next().unwrap().parse().unwrap();
    assert_ne!(uid, 0, "runtime user must not be root");
    let hc = instr.iter().find(|(k, _)| *k == "HEALTHCHECK").unwrap().1;
    assert!(
        hc.contains("healthcheck") && hc.contains("/healthz"),
        "{hc}"
    );
    assert!(instr
        .iter()
        .any(|(k, v)| *k == "COPY" && v.contains("--from=")));

    let unit = std::fs::read_to_string(deploy_dir().join("systemd/spanward.service")).unwrap();
    let keys: Vec<(&str, &str)> = unit
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let has = |k: &str, v: &str| keys.contains(&(k, v));
    assert!(has("NoNewPrivileges", "yes"));
    assert!(has("ProtectSystem", "strict"));
    assert!(has("ReadWritePaths", "/var/lib/spanward"));
    assert!(keys
        .iter()
        .any(|(k, v)| *k == "ExecStartPre" && v.contains("spanward validate")));
    assert!(keys.iter().any(|(k, _)| *k == "User"));
}

#[tokio::test]
async fn healthcheck_command_succeeds_against_a_live_service_and_fails_without_one() {
    let dir = tempfile::tempdir().unwrap();
    let admin: std::net::SocketAddr = format!("127.0.0.1:{}", common::free_port())
        .parse()
        .unwrap();
    let cfg = dir.path().join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{}\" }}\nexporters:\n  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"{admin}\" }}\n",
            common::free_port(),
            dir.path().join("log").display()
        ),
    )
    .unwrap();
    let child = common::start_binary(&cfg, admin, &[], std::process::Stdio::null()).await;
    // `--url URL` and the URL alone (as the Dockerfile's HEALTHCHECK writes it).
    let healthcheck = |args: Vec<String>| {
        let out = Command::new(env!("CARGO_BIN_EXE_spanward"))
            .arg("healthcheck")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let url = format!("http://{admin}/healthz");
    for args in [vec!["--url".to_string(), url.clone()], vec![url.clone()]] {
        let (ok, err) = tokio::task::spawn_blocking(move || healthcheck(args))
            .await
            .unwrap();
        assert!(ok, "healthcheck against a running service: {err}");
    }
    common::stop_binary(child).await;
    let args = vec![url.clone()];
    let (after, err) = tokio::task::spawn_blocking(move || healthcheck(args))
        .await
        .unwrap();
    assert!(!after, "healthcheck with nothing listening");
    // The failure names the URL, and says the cause once.
    assert!(err.contains(&url), "{err}");
    assert_eq!(err.matches("refused").count(), 1, "{err}");
}

/// The image's steps without a container engine (none runs here): the service as uid 65532 in
/// a data directory prepared as the Dockerfile prepares it (owned by 65532, mode 0700) starts
/// and writes its log; in a root-owned 0755 directory, as a fresh volume would be without that
/// step, it refuses to start and names the path. Needs root (to change owner and user); says so
/// and returns otherwise.
#[tokio::test]
async fn image_steps_with_the_runtime_user_in_a_plain_directory() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let meta = std::fs::metadata("/proc/self").unwrap();
    if std::os::unix::fs::MetadataExt::uid(&meta) != 0 {
        eprintln!("image_steps_with_the_runtime_user_in_a_plain_directory: SKIPPED (needs root to run as uid 65532)");
        return;
    }
    let uid = 65532;
    let tmp = tempfile::tempdir().unwrap();
    // The binary and the config must be reachable by the runtime user.
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let bin = tmp.path().join("spanward");
    std::fs::copy(env!("CARGO_BIN_EXE_spanward"), &bin).unwrap();
    let docker_cfg = std::fs::read_to_string(deploy_dir().join("docker/spanward.yaml")).unwrap();
    for (owner, mode, starts) in [(uid, 0o700, true), (0, 0o755, false)] {
        let data = tmp.path().join(format!("var-lib-spanward-{owner}"));
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&data, Some(owner), Some(owner)).unwrap();
        let (g, h, a) = (
            common::free_port(),
            common::free_port(),
            common::free_port(),
        );
        let cfg = tmp.path().join(format!("spanward-{owner}.yaml"));
        std::fs::write(
            &cfg,
            docker_cfg
                .replace("/var/lib/spanward", &data.display().to_string())
                .replace("0.0.0.0:4317", &format!("127.0.0.1:{g}"))
                .replace("0.0.0.0:4318", &format!("127.0.0.1:{h}"))
                .replace("0.0.0.0:8888", &format!("127.0.0.1:{a}")),
        )
        .unwrap();
        std::fs::set_permissions(&cfg, std::fs::Permissions::from_mode(0o644)).unwrap();
        let mut child = common::Binary(Some(
            Command::new(&bin)
                .args(["run", "--config"])
                .arg(&cfg)
                .env_remove("RUST_LOG")
                .env_remove("SPANWARD_HMAC_KEY")
                .uid(uid)
                .gid(uid)
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap(),
        ));
        let admin: std::net::SocketAddr = format!("127.0.0.1:{a}").parse().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        let outcome = loop {
            if let Ok((200, _)) = common::http_get(admin, "/readyz").await {
                break Ok(());
            }
            if let Ok(Some(st)) = child.try_wait() {
                break Err(st);
            }
            assert!(
                std::time::Instant::now() < deadline,
                "neither ready nor exited"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        };
        if starts {
            assert!(outcome.is_ok(), "{outcome:?}");
            common::stop_binary(child).await;
            let log = data.join("log");
            let m = std::fs::metadata(&log).unwrap();
            assert_eq!(std::os::unix::fs::MetadataExt::uid(&m), uid);
            assert_eq!(m.permissions().mode() & 0o777, 0o700);
            assert!(std::fs::read_dir(&log).unwrap().count() >= 4);
        } else {
            assert!(outcome.is_err(), "started in a root-owned directory");
            let mut err = String::new();
            if let Some(mut e) = child.0.as_mut().and_then(|c| c.stderr.take()) {
                std::io::Read::read_to_string(&mut e, &mut err).unwrap();
            }
            assert!(err.contains(&data.display().to_string()), "{err}");
            assert_eq!(err.matches("Permission denied").count(), 1, "{err}");
        }
    }
}
