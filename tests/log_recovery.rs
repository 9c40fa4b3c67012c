//! Recovery, group commit, the Sink contract and config parsing of the span log.

mod log_support;

use spanward::vocab::Signal;
use std::sync::Arc;
use std::time::Duration;

use log_support::*;
use spanward::sink::log::verify::verify_dir;
use spanward::sink::log::{FsyncPolicy, LogConfig, LogError, LogSink};
use spanward::sink::{Delivery, FailureKind, Sink};

#[test]
fn truncation_at_every_offset_of_the_last_two_records_keeps_exactly_the_complete_ones() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    {
        let s = LogSink::open(&config(&base), &env, false).unwrap();
        for i in 0..3 {
            s.append(&otlp_bytes(&format!("early-{i}"), 2)).unwrap();
        }
        s.close().unwrap(); // checkpoint at 3
    }
    {
        // Two more records, then a "crash" (drop without close: no checkpoint covers them).
        let s = LogSink::open(&config(&base), &env, false).unwrap();
        s.append(&otlp_bytes("late-a", 3)).unwrap();
        s.append(&otlp_bytes("late-b-longer-payload", 4)).unwrap();
    }
    let seg = segments(&base).pop().unwrap();
    let recs = record_spans(&seg);
    assert_eq!(recs.len(), 5);
    let start = recs[3].0;
    let end = recs[4].0 + recs[4].1;
    let mut checked = 0;
    for cut in start..end {
        let dir = tmp.path().join(format!("cut-{cut}"));
        copy_dir(&base, &dir);
        let f = std::fs::OpenOptions::new()
            .write(true)
            .open(dir.join(seg.file_name().unwrap()))
            .unwrap();
        f.set_len(cut).unwrap();
        drop(f);
        let complete = recs.iter().filter(|(o, l)| o + l <= cut).count() as u64;
        let s = LogSink::open(&config(&dir), &env, false)
            .unwrap_or_else(|e| panic!("cut at {cut}: {e}"));
        assert_eq!(s.stats().tree_size, complete, "cut at {cut}");
        // The log keeps working after recovery.
        let r = s.append(b"after recovery").unwrap();
        assert_eq!(r.seq, complete);
        s.close().unwrap();
        let rep = verify_dir(&dir, Some(std::slice::from_ref(&vkey)), &mut |_, _| {}).unwrap();
        assert_eq!(rep.tree_size, complete + 1);
        std::fs::remove_dir_all(&dir).unwrap();
        checked += 1;
    }
    assert!(checked > 100, "only {checked} offsets");
}

#[test]
fn a_second_writer_on_the_same_directory_is_refused() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let a = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    assert!(matches!(
        LogSink::open(&config(tmp.path()), &env, false),
        Err(LogError::Locked(_))
    ));
    drop(a);
    LogSink::open(&config(tmp.path()), &env, false).unwrap();
}

#[test]
fn zero_filled_tail_is_torn_not_corrupt() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    {
        let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
        s.append(b"one").unwrap();
        s.close().unwrap();
    }
    let seg = segments(tmp.path()).pop().unwrap();
    let len = std::fs::metadata(&seg).unwrap().len();
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(len + 4096).unwrap(); // what a crash after a size update can leave
    drop(f);
    let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    assert_eq!(s.stats().tree_size, 1);
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), len);
}

#[test]
fn concurrent_writers_share_fsyncs_and_every_ack_is_durable() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.segment_bytes = 64 << 10; // several rolls during the test
    let s = Arc::new(LogSink::open(&cfg, &env, false).unwrap());
    let threads = 8;
    let per = 150;
    let hs: Vec<_> = (0..threads)
        .map(|t| {
            let s = s.clone();
            std::thread::spawn(move || {
                (0..per)
                    .map(|i| {
                        let r = s.append(&otlp_bytes(&format!("t{t}-{i}"), 1)).unwrap();
                        assert!(r.durable);
                        r.seq
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let mut seqs: Vec<u64> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
    seqs.sort();
    assert_eq!(seqs, (0..(threads * per) as u64).collect::<Vec<_>>());
    let st = s.stats();
    assert_eq!(st.durable_size, (threads * per) as u64);
    assert!(
        st.fsyncs < (threads * per) as u64,
        "group commit should share fsyncs: {} fsyncs for {} appends",
        st.fsyncs,
        threads * per
    );
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
    assert_eq!(rep.records, (threads * per) as u64);
    assert_eq!(rep.spans, (threads * per) as u64);
    assert!(rep.segments > 1);
    assert!(rep.checkpoints >= 2);
}

#[test]
fn sink_contract_durable_and_failure_kinds() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.max_record_bytes = 1024;
    let s = LogSink::open(&cfg, &env, false).unwrap();
    let req = otlp("x", 3);
    let enc = bytes::Bytes::from(prost::Message::encode_to_vec(&req));
    assert_eq!(s.write(Signal::Traces, &enc, 3).unwrap(), Delivery::Durable);
    assert_eq!(s.stats().spans, 3);
    let big = vec![0u8; 2000];
    let e = s
        .write(Signal::Traces, &bytes::Bytes::from(big), 1)
        .unwrap_err();
    assert_eq!(e.kind, FailureKind::Permanent);
    assert!(s.ready());
    Sink::shutdown(&s).unwrap();
    assert!(!s.ready());
    assert!(matches!(s.append(b"late"), Err(LogError::Closed)));
}

#[test]
fn interval_policy_acks_accepted_and_syncs_in_background() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.fsync = FsyncPolicy::Interval;
    cfg.fsync_interval = Duration::from_millis(20);
    let s = LogSink::open(&cfg, &env, false).unwrap();
    let r = s.append(b"x").unwrap();
    assert!(!r.durable);
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while s.stats().durable_size < 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "background fsync never ran"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn checkpoints_at_interval_and_reopen_continues_the_tree() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.checkpoint_interval = Duration::from_millis(100);
    {
        let s = LogSink::open(&cfg, &env, false).unwrap();
        s.append(b"a").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while s.stats().checkpoints < 1 {
            assert!(
                std::time::Instant::now() < deadline,
                "no interval checkpoint"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        s.close().unwrap();
    }
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(s.append(b"b").unwrap().seq, 1);
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
    assert_eq!(rep.tree_size, 2);
    assert_eq!(rep.last_checkpoint_size, 2);
}

#[test]
fn config_yaml_documents_defaults_and_rejects_unknown_keys() {
    let c: LogConfig = serde_norway::from_str("path: /tmp/x\n").unwrap();
    assert_eq!(c.path, std::path::PathBuf::from("/tmp/x"));
    assert_eq!(c.fsync, FsyncPolicy::Batch);
    let c: LogConfig = serde_norway::from_str(
        "path: d\nfsync: interval\nfsync_interval: 50ms\nsegment_bytes: 1048576\nsegment_age: 10m\ncheckpoint_interval: 5s\nretention_max_age: 30d\nretention_max_bytes: 1000000000\nsigning_key_file: /k\norigin: example.com/log\nmax_record_bytes: 1000\n",
    )
    .unwrap();
    assert_eq!(c.fsync, FsyncPolicy::Interval);
    assert_eq!(c.fsync_interval, Duration::from_millis(50));
    assert_eq!(c.retention_max_age, Some(Duration::from_secs(30 * 86400)));
    c.validate().unwrap();
    assert!(serde_norway::from_str::<LogConfig>("path: d\nfsynk: batch\n").is_err());
    let bad = LogConfig {
        segment_bytes: 10,
        ..LogConfig::default()
    };
    assert!(bad.validate().is_err());
}

/// Every file and directory the log creates is owner-only by default (the log holds scrubbed but
/// still sensitive data), and `file_mode` / `dir_mode` change that.
#[test]
fn log_files_and_directories_are_owner_only_by_default_and_configurable() {
    use std::os::unix::fs::PermissionsExt;
    let env: std::collections::HashMap<String, String> = Default::default();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let tmp = tempfile::tempdir().unwrap();
    for (file_mode, dir_mode, yaml) in [
        (0o600, 0o700, String::new()),
        (
            0o640,
            0o750,
            "file_mode: \"0640\"\ndir_mode: \"0750\"\n".to_string(),
        ),
    ] {
        let dir = tmp.path().join(format!("d{dir_mode:o}")).join("data");
        let mut c: LogConfig =
            serde_norway::from_str(&format!("path: {}\n{yaml}", dir.display())).unwrap();
        c.checkpoint_interval = Duration::from_secs(3600);
        c.segment_bytes = 64 << 10;
        assert_eq!((c.file_mode, c.dir_mode), (file_mode, dir_mode));
        let s = LogSink::open(&c, &env, false).unwrap();
        // Enough to roll a segment (sealed segments are made read-only: 0400 / 0440).
        for _ in 0..40 {
            s.append(&[7u8; 4096]).unwrap();
        }
        s.close().unwrap();
        assert_eq!(mode(&dir), dir_mode, "{}", dir.display());
        assert_eq!(mode(dir.parent().unwrap()), dir_mode, "created parent");
        let mut files = 0;
        for e in std::fs::read_dir(&dir).unwrap() {
            let p = e.unwrap().path();
            let m = mode(&p);
            assert!(
                m == file_mode || m == file_mode & 0o444,
                "{} has mode {m:o}, want {file_mode:o}",
                p.display()
            );
            files += 1;
        }
        assert!(
            files >= 6,
            "segments, hashes, checkpoints, pubkeys, LOCK: {files}"
        );
    }
    for bad in [
        "file_mode: \"0400\"\n",
        "dir_mode: \"0600\"\n",
        "file_mode: \"4755\"\n",
    ] {
        let c: LogConfig = serde_norway::from_str(&format!("path: d\n{bad}")).unwrap();
        assert!(c.validate().is_err(), "{bad}");
    }
    assert!(serde_norway::from_str::<LogConfig>("path: d\nfile_mode: \"rw\"\n").is_err());
}

#[test]
fn ephemeral_key_still_verifies_against_directory_pubkeys() {
    let env: std::collections::HashMap<String, String> = Default::default();
    let tmp = tempfile::tempdir().unwrap();
    for _ in 0..2 {
        let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
        s.append(b"x").unwrap();
        s.close().unwrap();
    }
    let rep = verify_dir(tmp.path(), None, &mut |_, _| {}).unwrap();
    assert_eq!(rep.tree_size, 2);
    let pubkeys = std::fs::read_to_string(tmp.path().join("pubkeys")).unwrap();
    assert_eq!(pubkeys.lines().count(), 2, "one ephemeral key per start");
}

#[test]
fn checkpoints_and_recovery_are_logged_without_payload_text() {
    let buf = LogBuf::default();
    let sub = buf.subscriber();
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    // Global, not thread-local: checkpoints are also written by the sink's background thread.
    tracing::subscriber::set_global_default(sub).unwrap();
    {
        {
            let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
            s.append(b"secret-payload-text").unwrap();
            s.close().unwrap();
        }
        let seg = segments(tmp.path()).pop().unwrap();
        let len = std::fs::metadata(&seg).unwrap().len();
        {
            let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
            s.append(b"second-secret").unwrap();
        }
        let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
        f.set_len(len + 5).unwrap(); // torn second record
        drop(f);
        let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
        assert_eq!(s.stats().tree_size, 1);
    }
    let out = buf.text();
    assert!(
        out.contains("INFO") && out.contains("log checkpoint"),
        "{out}"
    );
    assert!(
        out.contains("test.spanward/log\\n1\\n"),
        "checkpoint text in the log: {out}"
    );
    assert!(
        out.contains("torn tail") && out.contains("dropped_bytes=5"),
        "{out}"
    );
    assert!(!out.contains("secret"), "payload text leaked into logs");
}
