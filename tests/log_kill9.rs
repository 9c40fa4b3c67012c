//! kill -9 loop: a writer process appends with durable acknowledgements from several threads
//! and is killed with SIGKILL at a random moment; after each kill the log is reopened
//! (recovery) and verified, and every acknowledged record must be in it, intact.
//! 50 iterations here; `benches/kill9.sh N` runs N (default 1,000).
//!
//! The writer is the `spanward-log-writer` helper binary; once the service supports
//! `ack: durable`, the same loop can drive `spanward run` with an OTLP client instead.

mod log_support;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Duration;

use log_support::*;
use rand::Rng;
use spanward::sink::log::checkpoint::{generate_signing_key, SIGNING_KEY_ENV};
use spanward::sink::log::verify::verify_dir;
use spanward::sink::log::LogSink;

#[test]
fn kill9_loop_loses_no_acknowledged_record() {
    let iterations: usize = std::env::var("KILL9_ITERATIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(50);
    let (skey, vkey) = generate_signing_key("kill9.spanward/log");
    let mut env = HashMap::new();
    env.insert(SIGNING_KEY_ENV.to_string(), skey.clone());
    let tmp = tempfile::tempdir().unwrap();
    let mut dir = tmp.path().join("log-0");
    let mut acked: HashMap<u64, String> = HashMap::new();
    let mut total_acked = 0;
    let mut rng = rand::thread_rng();
    let mut kills_while_writing = 0;
    for it in 0..iterations {
        // A fresh log every 50 kill/restart cycles keeps long runs linear in time.
        if it > 0 && it % 50 == 0 {
            total_acked += acked.len();
            acked.clear();
            std::fs::remove_dir_all(&dir).unwrap();
            dir = tmp.path().join(format!("log-{it}"));
        }
        let mut child = Command::new(env!("CARGO_BIN_EXE_spanward-log-writer"))
            .arg(&dir)
            .arg("4")
            .env(SIGNING_KEY_ENV, &skey)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let reader = std::thread::spawn(move || {
            let mut v = Vec::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let mut parts = line.split_whitespace();
                if let (Some("ack"), Some(seq), Some(id)) =
                    (parts.next(), parts.next(), parts.next())
                {
                    v.push((seq.parse::<u64>().unwrap(), id.to_string()));
                }
            }
            v
        });
        std::thread::sleep(Duration::from_millis(rng.gen_range(5..250)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let got = reader.join().unwrap();
        if !got.is_empty() {
            kills_while_writing += 1;
        }
        for (seq, id) in got {
            if let Some(prev) = acked.insert(seq, id.clone()) {
                panic!("iteration {it}: seq {seq} acknowledged twice ({prev}, {id})");
            }
        }
        // Restart: recovery must succeed and keep every acknowledged record.
        let s = LogSink::open(&config(&dir), &env, false)
            .unwrap_or_else(|e| panic!("iteration {it}: reopen failed: {e}"));
        s.close().unwrap();
        let stored: HashMap<u64, Vec<u8>> = read_all(&dir).into_iter().collect();
        for (seq, id) in &acked {
            let p = stored
                .get(seq)
                .unwrap_or_else(|| panic!("iteration {it}: acknowledged seq {seq} ({id}) lost"));
            let mut want = id.clone().into_bytes();
            want.push(b'|');
            assert!(
                p.starts_with(&want),
                "iteration {it}: seq {seq} holds another record"
            );
        }
        verify_dir(&dir, Some(std::slice::from_ref(&vkey)), &mut |_, _| {})
            .unwrap_or_else(|e| panic!("iteration {it}: verify failed: {e}"));
    }
    total_acked += acked.len();
    eprintln!(
        "kill -9 loop: {iterations} iterations, {kills_while_writing} killed mid-write, {total_acked} acknowledged records all present"
    );
    assert!(
        kills_while_writing > iterations / 2,
        "the writer rarely got to write"
    );
}
