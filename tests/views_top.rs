//! `spanward top` as a person uses it: in a real terminal (tmux, 80×24), against the real
//! service on ephemeral loopback ports, while traffic flows. The screen is read with
//! `tmux capture-pane -p`: the figures move between two captures, a full queue shows its
//! refusal reason, `q` quits with status 0, and an endpoint that does not answer is said to
//! be unreachable while `top` keeps retrying (and recovers once it answers).
//!
//! Without tmux (Debian package `tmux`; `scripts/test.sh` installs it) the tests say they were
//! skipped and why. `SPANWARD_WRITE_DOCS=1` also writes the capture to `docs/images/top.txt`.

mod common;

use common::*;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `None` (after saying why the test is skipped) when tmux cannot run here.
    fn start(test: &str) -> Option<Tmux> {
        match Command::new("tmux").arg("-V").output() {
            Ok(o) if o.status.success() => {}
            _ => {
                eprintln!(
                    "SKIPPED {test}: tmux is not installed (Debian package `tmux`; scripts/test.sh installs it)"
                );
                return None;
            }
        }
        let t = Tmux {
            socket: format!("spanward-test-{}-{test}", std::process::id()),
        };
        // A placeholder session holds the server and the global options: no status line (the
        // pane is the whole 80×24).
        t.run(&[
            "-f",
            "/dev/null",
            "new-session",
            "-d",
            "-s",
            "idle",
            "-x",
            "80",
            "-y",
            "24",
        ]);
        t.run(&["set-option", "-g", "status", "off"]);
        Some(t)
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs `spanward top ARGS` in a new 80×24 session.
    fn top(&self, session: &str, args: &[&str]) {
        self.top_env(session, &[], args)
    }

    /// Runs `spanward top ARGS` with `envs` (`NAME=value`) in a new 80×24 session.
    fn top_env(&self, session: &str, envs: &[&str], args: &[&str]) {
        // Through a shell that prints top's exit status when it ends, and then waits (tmux does
        // not show what a pane printed just before it died); killing the server ends it.
        let mut cmd = vec![
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "80",
            "-y",
            "24",
            "sh",
            "-c",
            "\"$@\"; echo \"[top exited with status $?]\"; exec sleep 600",
            "sh",
            "env",
            "-u",
            "RUST_LOG",
            "-u",
            "SPANWARD_ADMIN_TOKEN",
        ];
        cmd.extend_from_slice(envs);
        cmd.extend_from_slice(&[env!("CARGO_BIN_EXE_spanward"), "top"]);
        cmd.extend_from_slice(args);
        self.run(&cmd);
        let size = self.run(&[
            "display-message",
            "-p",
            "-t",
            session,
            "#{pane_width}x#{pane_height}",
        ]);
        assert_eq!(size.trim(), "80x24");
    }

    fn capture(&self, session: &str) -> String {
        self.run(&["capture-pane", "-p", "-t", session])
    }

    /// Waits until the screen satisfies `ok`; returns it.
    fn wait_screen(
        &self,
        session: &str,
        what: &str,
        secs: u64,
        ok: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let s = self.capture(session);
            if ok(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Whether `top` has exited (the shell around it said so).
    fn exited(&self, session: &str) -> bool {
        self.capture(session).contains("[top exited with status")
    }

    /// Presses `q` and waits for `top` to exit; asserts it exited 0.
    fn quit(&self, session: &str) {
        self.run(&["send-keys", "-t", session, "q"]);
        let s = self.wait_screen(session, "top to exit on q", 10, |s| {
            s.contains("[top exited with status")
        });
        assert!(s.contains("[top exited with status 0]"), "{s}");
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["-L", &self.socket, "kill-server"])
            .output();
    }
}

/// The `total N` of the screen's `in` line (spans accepted since start).
fn accepted_total(screen: &str) -> Option<u64> {
    let line = screen
        .lines()
        .find(|l| l.contains("│in ") || l.trim_start_matches(['│', ' ']).starts_with("in "))?;
    let rest = &line[line.find("total ")? + "total ".len()..];
    let digits: String = rest
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == ',')
        .filter(|c| *c != ',')
        .collect();
    digits.parse().ok()
}

/// Sends requests with an e-mail address in each span until `stop` (at most 60 s).
fn drive_load(grpc: std::net::SocketAddr, stop: Arc<AtomicBool>) -> tokio::task::JoinHandle<u64> {
    tokio::spawn(async move {
        let mut c = grpc_client(grpc).await;
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut i: u64 = 0;
        while !stop.load(Ordering::Acquire) && Instant::now() < deadline {
            let mut r = request(20, (i % 251) as u8 + 1);
            for rs in &mut r.resource_spans {
                for ss in &mut rs.scope_spans {
                    for s in &mut ss.spans {
                        s.attributes
                            .push(kv("user.contact", "write to jane.roe@example.org"));
                    }
                }
            }
            let _ = c.export(r).await;
            i += 1;
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        i
    })
}

fn write_doc(name: &str, text: &str) {
    let target = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target");
    let _ = std::fs::create_dir_all(&target);
    let _ = std::fs::write(target.join(name), text);
    if std::env::var("SPANWARD_WRITE_DOCS").as_deref() == Ok("1") {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("docs/images");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_shows_moving_figures_and_refusal_reasons_and_quits_on_q() {
    let Some(tmux) = Tmux::start("top_moving") else {
        return;
    };
    let (down, addr) = Downstream::start().await;
    let svc = Service::start(
        Some(addr),
        "pipeline:\n  workers: 1\n  shutdown_timeout: 2s\n  queue: { max_spans: 300, when_full: refuse }\n",
    )
    .await;
    tmux.top("top", &["--endpoint", &svc.admin.to_string()]);
    tmux.wait_screen("top", "the first reading", 15, |s| s.contains("ready"));

    let stop = Arc::new(AtomicBool::new(false));
    let load = drive_load(svc.grpc, stop.clone());
    let first = tmux.wait_screen("top", "spans accepted", 15, |s| {
        accepted_total(s).is_some_and(|n| n > 0)
    });
    let a = accepted_total(&first).unwrap();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let second = tmux.capture("top");
    let b = accepted_total(&second).unwrap_or(0);
    assert!(
        b > a,
        "accepted did not move ({a} then {b}):\n{first}\n{second}"
    );
    assert!(
        second.contains("email"),
        "no email redactions shown:\n{second}"
    );
    assert!(second.contains("file  ok"), "{second}");

    // The next stage stops answering: its sink retries, the worker holds, the queue fills and
    // new requests are refused as queue_full.
    down.fail_unavailable.store(true, Ordering::Release);
    let full = tmux.wait_screen("top", "a queue_full refusal", 30, |s| {
        s.contains("refused queue_full") && s.contains("retrying")
    });
    assert!(full.contains("DEGRADED"), "{full}");
    for line in full.lines() {
        assert!(line.chars().count() <= 80, "wider than 80: {line:?}");
    }
    assert_eq!(full.lines().count(), 24, "{full}");
    write_doc("top.txt", &full);

    down.fail_unavailable.store(false, Ordering::Release);
    stop.store(true, Ordering::Release);
    let sent = load.await.unwrap();
    assert!(sent > 10);
    tmux.quit("top");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_says_when_the_endpoint_is_unreachable_and_keeps_retrying() {
    let Some(tmux) = Tmux::start("top_unreachable") else {
        return;
    };
    let port = free_port();
    let endpoint = format!("127.0.0.1:{port}");
    tmux.top("top", &["--endpoint", &endpoint]);
    let s = tmux.wait_screen("top", "the unreachable notice", 15, |s| {
        s.contains("UNREACHABLE")
    });
    assert!(s.contains("retrying every 1s"), "{s}");
    assert!(
        s.to_lowercase().contains("refused"),
        "the cause is shown: {s}"
    );
    // Still running, still saying so, a few readings later.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(!tmux.exited("top"), "top exited:\n{}", tmux.capture("top"));
    assert!(tmux.capture("top").contains("UNREACHABLE"));

    // A service comes up on that port: top finds it by itself.
    let data_dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\n\
         exporters:\n  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"{endpoint}\" }}\n",
        data_dir.path().join("log").display()
    );
    let svc = Service::start_yaml(&yaml, data_dir).await;
    let s = tmux.wait_screen("top", "the service found", 15, |s| {
        s.contains("ready") && !s.contains("UNREACHABLE")
    });
    assert!(s.contains("file  ok"), "{s}");
    tmux.quit("top");
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_takes_the_admin_token_from_a_file_or_the_environment() {
    let Some(tmux) = Tmux::start("top_token") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let token = "tok-top-0123456789abcdef";
    let tokens = dir.path().join("admin.tokens");
    std::fs::write(&tokens, format!("ops:{token}\n")).unwrap();
    let token_file = dir.path().join("admin.token");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let data_dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\n\
         exporters:\n  file: {{ path: \"{}\" }}\n\
         admin: {{ endpoint: \"127.0.0.1:0\", auth: {{ tokens_file: \"{}\" }} }}\n",
        data_dir.path().join("log").display(),
        tokens.display()
    );
    let svc = Service::start_yaml(&yaml, data_dir).await;
    let endpoint = svc.admin.to_string();
    tmux.top("none", &["--endpoint", &endpoint]);
    let s = tmux.wait_screen("none", "the token refusal", 15, |s| {
        s.contains("UNAUTHORIZED")
    });
    assert!(s.contains("HTTP 401"), "{s}");
    let file = token_file.display().to_string();
    tmux.top("file", &["--endpoint", &endpoint, "--token-file", &file]);
    tmux.wait_screen("file", "figures with --token-file", 15, |s| {
        s.contains("ready") && s.contains("file  ok")
    });
    let env = format!("SPANWARD_ADMIN_TOKEN={token}");
    tmux.top_env("env", &[&env], &["--endpoint", &endpoint]);
    let s = tmux.wait_screen("env", "figures with SPANWARD_ADMIN_TOKEN", 15, |s| {
        s.contains("ready") && s.contains("file  ok")
    });
    assert!(!s.contains(token), "the token is on the screen");
    for session in ["none", "file", "env"] {
        tmux.quit(session);
    }
    svc.stop().await;
}
