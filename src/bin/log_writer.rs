//! Test helper for the kill -9 loop (`tests/log_kill9.rs`): opens the span log in DIR with
//! `fsync: batch` and appends from several threads until killed, printing `ack <seq> <id>` for
//! every append acknowledged as durable. The test kills it with SIGKILL at a random moment
//! and checks that every acknowledged record survived.
#![forbid(unsafe_code)]

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use spanward::sink::log::{LogConfig, LogSink};

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: spanward-log-writer DIR [THREADS]");
        return std::process::ExitCode::FAILURE;
    };
    let threads: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(4);
    let cfg = LogConfig {
        path: PathBuf::from(dir),
        segment_bytes: 256 << 10,
        checkpoint_interval: std::time::Duration::from_millis(200),
        ..LogConfig::default()
    };
    let sink = match LogSink::open(&cfg, &spanward::keys::ProcessEnv, false) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            eprintln!("open: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let out = Arc::new(Mutex::new(std::io::stdout()));
    let run = std::process::id();
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let sink = sink.clone();
            let out = out.clone();
            std::thread::spawn(move || {
                for k in 0u64.. {
                    let id = format!("{run}-{t}-{k}");
                    // Payload sizes vary so records straddle pages and segment boundaries.
                    let pad = (k as usize * 131 + t * 977) % 3000;
                    let mut payload = id.clone().into_bytes();
                    payload.push(b'|');
                    payload.extend(std::iter::repeat_n(b'x', pad));
                    match sink.append(&payload) {
                        Ok(r) if r.durable => {
                            let mut o = out.lock().unwrap_or_else(|e| e.into_inner());
                            let _ = writeln!(o, "ack {} {id}", r.seq);
                            let _ = o.flush();
                        }
                        Ok(_) => {}
                        Err(e) => {
                            eprintln!("append: {e}");
                            return;
                        }
                    }
                }
            })
        })
        .collect();
    for h in hs {
        let _ = h.join();
    }
    std::process::ExitCode::SUCCESS
}
