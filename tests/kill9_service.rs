//! kill -9 durability through the real service: `spanward run` with `ack: durable`, a client that
//! records which requests were acknowledged, SIGKILL at a random moment, restart (which recovers
//! the torn tail), and then: the log verifies, and every acknowledged span is in it.
//! `SPANWARD_KILL9_ITERATIONS` overrides the 50 iterations (`benches/kill9.sh` runs 1,000).

mod common;

use common::*;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*: enough randomness for kill timing, reproducible from the printed seed.
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn span_ids(
    reqs: &[opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest],
) -> HashSet<Vec<u8>> {
    reqs.iter()
        .flat_map(|r| r.resource_spans.iter())
        .flat_map(|r| r.scope_spans.iter())
        .flat_map(|s| s.spans.iter().map(|sp| sp.span_id.clone()))
        .collect()
}

async fn start(cfg: &std::path::Path, skey: &str, admin: std::net::SocketAddr) -> Binary {
    start_binary(
        cfg,
        admin,
        &[("SPANWARD_SIGNING_KEY", skey)],
        std::process::Stdio::null(),
    )
    .await
}

fn verify(bin: &str, dir: &std::path::Path, pubkey: &std::path::Path) {
    let out = std::process::Command::new(bin)
        .arg("verify")
        .arg(dir)
        .arg("--pubkey")
        .arg(pubkey)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "verify failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill9_never_loses_an_acknowledged_span() {
    let iterations: usize = std::env::var("SPANWARD_KILL9_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("kill9 seed {seed}");
    let mut rng = Rng(seed);
    let bin = env!("CARGO_BIN_EXE_spanward");
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("log");
    let keyfile = tmp.path().join("log.key");
    let st = std::process::Command::new(bin)
        .args(["keygen", "--signing", "--name", "kill9-test", "--out"])
        .arg(&keyfile)
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let skey = std::fs::read_to_string(&keyfile)
        .unwrap()
        .trim()
        .to_string();
    let pubkey = tmp.path().join("log.key.pub");
    let (pg, pa) = (free_port(), free_port());
    let admin: std::net::SocketAddr = format!("127.0.0.1:{pa}").parse().unwrap();
    let cfg = tmp.path().join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{pg}\" }}\nexporters:\n  file: {{ path: \"{}\", fsync: batch, checkpoint_interval: 200ms }}\nadmin: {{ endpoint: \"127.0.0.1:{pa}\" }}\npipeline: {{ ack: durable }}\n{PASS_THROUGH}",
            data.display()
        ),
    )
    .unwrap();

    let acked: Arc<Mutex<HashSet<Vec<u8>>>> = Arc::default();
    let mut next_id: u64 = 0;
    let mut killed_mid_flight = 0;
    for it in 0..iterations {
        let mut child = start(&cfg, &skey, admin).await;
        if it > 0 {
            // After recovery the log verifies and holds every span acknowledged so far.
            verify(bin, &data, &pubkey);
            let stored = span_ids(&file_sink_requests(&data));
            let missing = acked.lock().unwrap().difference(&stored).count();
            assert_eq!(
                missing, 0,
                "iteration {it} (seed {seed}): {missing} acknowledged spans lost"
            );
        }
        // Four clients send small batches with unique span ids and record what was acknowledged.
        let mut clients = Vec::new();
        for c in 0..4u64 {
            let acked = acked.clone();
            let base = next_id + c * 1_000_000;
            clients.push(tokio::spawn(async move {
                let Ok(mut client) = opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient::connect(format!("http://127.0.0.1:{pg}")).await else {
                    return;
                };
                for n in 0..100_000u64 {
                    let mut req = request(5, 1);
                    let mut ids = Vec::new();
                    for (k, s) in req.resource_spans[0].scope_spans[0].spans.iter_mut().enumerate() {
                        s.span_id = (base + n * 5 + k as u64).to_be_bytes().to_vec();
                        ids.push(s.span_id.clone());
                    }
                    match client.export(req).await {
                        Ok(_) => acked.lock().unwrap().extend(ids),
                        Err(_) => return, // the service died: the request is not acknowledged
                    }
                }
            }));
        }
        next_id += 4 * 1_000_000;
        tokio::time::sleep(Duration::from_millis(30 + rng.next() % 300)).await;
        child.kill().unwrap(); // SIGKILL
        tokio::task::spawn_blocking(move || child.wait())
            .await
            .unwrap()
            .unwrap();
        for c in clients {
            if !c.is_finished() {
                killed_mid_flight += 1;
            }
            let _ = c.await;
        }
    }
    // A last restart recovers the final kill; then everything is checked once more.
    let child = start(&cfg, &skey, admin).await;
    verify(bin, &data, &pubkey);
    let stored = span_ids(&file_sink_requests(&data));
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() > iterations * 5,
        "the clients were acknowledged too little to prove anything"
    );
    assert_eq!(
        acked.difference(&stored).count(),
        0,
        "seed {seed}: acknowledged spans lost"
    );
    println!(
        "kill9: {iterations} kills, {} acknowledged spans, {} stored, {killed_mid_flight} clients cut mid-flight",
        acked.len(),
        stored.len()
    );
    stop_binary(child).await;
}
