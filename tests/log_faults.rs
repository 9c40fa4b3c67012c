//! Injected I/O faults (disk full, fsync EIO, power loss) and a model-based test of writer and
//! reader with crashes at arbitrary points.

mod log_support;

use spanward::vocab::Signal;
use std::sync::Arc;

use log_support::*;
use proptest::prelude::*;
use spanward::sink::log::io::FaultFs;
use spanward::sink::log::verify::verify_dir;
use spanward::sink::log::{LogError, LogSink};
use spanward::sink::{FailureKind, Sink};

#[test]
fn disk_full_refuses_without_acknowledging_and_recovers_when_space_returns() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let fs = FaultFs::new();
    let mut cfg = config(tmp.path());
    cfg.segment_bytes = 64 << 10;
    let s = LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap();
    let mut acked: Vec<(u64, Vec<u8>)> = Vec::new();
    let mut refused: Vec<Vec<u8>> = Vec::new();
    // A disk with ~20 KB left: appends succeed, then fail part-way through a record.
    fs.set_space(Some(20_000));
    for i in 0..60 {
        let p = otlp_bytes(&format!("df-{i}"), 5);
        match s.append(&p) {
            Ok(r) => {
                assert!(r.durable);
                assert_eq!(r.seq, acked.len() as u64, "seq numbers stay dense");
                acked.push((r.seq, p));
            }
            Err(e) => {
                assert!(matches!(e, LogError::DiskFull { .. }), "{e}");
                assert_eq!(e.failure_kind(), FailureKind::Retryable);
                refused.push(p);
            }
        }
    }
    assert!(!acked.is_empty() && !refused.is_empty());
    assert!(s.ready(), "disk full is not fatal");
    // The Sink interface reports it as retryable.
    let req = otlp("via-sink", 1);
    let enc = bytes::Bytes::from(prost::Message::encode_to_vec(&req));
    assert_eq!(
        s.write(Signal::Traces, &enc, 1).unwrap_err().kind,
        FailureKind::Retryable
    );
    assert!(s.stats().disk_full_refusals as usize > refused.len());
    // Space returns: writes resume by themselves, with the next sequence number.
    fs.set_space(None);
    for i in 0..100 {
        let p = otlp_bytes(&format!("after-{i}"), 5);
        let r = s.append(&p).unwrap();
        assert_eq!(r.seq, acked.len() as u64);
        acked.push((r.seq, p));
    }
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
    assert_eq!(rep.tree_size, acked.len() as u64);
    let stored = read_all(tmp.path());
    assert_eq!(stored, acked, "exactly the acknowledged records, in order");
    for p in &refused {
        assert!(
            !stored.iter().any(|(_, q)| q == p),
            "a refused record was stored"
        );
    }
}

#[test]
fn disk_full_while_rolling_a_segment_is_retryable() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let fs = FaultFs::new();
    let mut cfg = config(tmp.path());
    cfg.segment_bytes = 64 << 10;
    let s = LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap();
    let big = vec![b'z'; 40 << 10];
    s.append(&big).unwrap();
    fs.set_space(Some(10)); // the next append must roll, and the new header does not fit
    assert!(matches!(s.append(&big), Err(LogError::DiskFull { .. })));
    fs.set_space(None);
    assert_eq!(s.append(&big).unwrap().seq, 1);
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
    assert_eq!((rep.tree_size, rep.segments), (2, 2));
}

#[test]
fn failed_fsync_is_fatal_and_never_retried() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let fs = FaultFs::new();
    let s = LogSink::open_with_fs(&config(tmp.path()), &env, false, Arc::new(fs.clone())).unwrap();
    s.append(b"fine").unwrap();
    fs.set_fail_sync(true);
    let e = s.append(b"not durable").unwrap_err();
    assert!(matches!(e, LogError::Fatal(_)), "{e}");
    assert!(!s.ready());
    fs.set_fail_sync(false);
    // Even with the disk healthy again, the sink stays failed.
    let req = otlp("x", 1);
    let enc = bytes::Bytes::from(prost::Message::encode_to_vec(&req));
    assert_eq!(
        s.write(Signal::Traces, &enc, 1).unwrap_err().kind,
        FailureKind::Fatal
    );
    assert!(matches!(s.append(b"later"), Err(LogError::Fatal(_))));
    drop(s);
    // A restart recovers; the unacknowledged record may or may not be there (it was written
    // but its fsync failed), the acknowledged one is.
    let s = LogSink::open(&config(tmp.path()), &env, false).unwrap();
    assert!(s.stats().tree_size >= 1);
    assert_eq!(read_all(tmp.path())[0].1, b"fine");
}

#[derive(Debug, Clone)]
enum Op {
    Append(usize, u8),
    /// Power loss: each file keeps a random part of what was not fsynced.
    Crash(u64),
    /// Clean shutdown and restart.
    Restart,
    Checkpoint,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => (0usize..9000, any::<u8>()).prop_map(|(n, b)| Op::Append(n, b)),
        1 => any::<u64>().prop_map(Op::Crash),
        1 => Just(Op::Restart),
        1 => Just(Op::Checkpoint),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Model: the log is a prefix of everything appended that contains every acknowledged
    /// record; after any crash and reopen, it verifies and keeps accepting appends.
    #[test]
    fn model_writer_reader_with_crashes(
        ops in proptest::collection::vec(op(), 1..40),
        batch in any::<bool>(),
    ) {
        let (env, vkey) = key_env();
        let tmp = tempfile::tempdir().unwrap();
        let mut cfg = config(tmp.path());
        cfg.segment_bytes = 64 << 10;
        if !batch {
            // Nothing fsynced except at rolls, checkpoints and shutdown: crashes leave torn
            // tails for recovery to cut.
            cfg.fsync = spanward::sink::log::FsyncPolicy::Interval;
            cfg.fsync_interval = std::time::Duration::from_secs(3600);
        }
        let mut fs = FaultFs::new();
        let mut sink = Some(LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap());
        let mut appended: Vec<Vec<u8>> = Vec::new();
        let mut acked = 0usize;
        for op in ops {
            match op {
                Op::Append(n, b) => {
                    let mut p = vec![b; n];
                    p.extend_from_slice(&(appended.len() as u64).to_le_bytes());
                    let r = sink.as_ref().unwrap().append(&p).unwrap();
                    prop_assert_eq!(r.seq, appended.len() as u64);
                    prop_assert_eq!(r.durable, batch);
                    appended.push(p);
                    if r.durable {
                        acked = appended.len();
                    }
                }
                Op::Checkpoint => {
                    sink.as_ref().unwrap().checkpoint().unwrap();
                }
                Op::Restart => {
                    sink.take().unwrap().close().unwrap();
                    acked = appended.len();
                    sink = Some(LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap());
                }
                Op::Crash(seed) => {
                    let s = sink.take().unwrap();
                    acked = acked.max(s.stats().durable_size as usize);
                    drop(s);
                    let mut x = seed | 1;
                    fs.power_loss(|lo, hi| {
                        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                        lo + x % (hi - lo + 1)
                    }).unwrap();
                    fs = FaultFs::new();
                    let s = LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap();
                    let stored = read_all(tmp.path());
                    prop_assert!(stored.len() >= acked, "lost acknowledged records");
                    prop_assert!(stored.len() <= appended.len());
                    for (i, (seq, p)) in stored.iter().enumerate() {
                        prop_assert_eq!(*seq, i as u64);
                        prop_assert_eq!(p, &appended[i]);
                    }
                    appended.truncate(stored.len());
                    sink = Some(s);
                }
            }
        }
        sink.take().unwrap().close().unwrap();
        let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
        prop_assert_eq!(rep.tree_size, appended.len() as u64);
        let stored: Vec<Vec<u8>> = read_all(tmp.path()).into_iter().map(|r| r.1).collect();
        prop_assert_eq!(stored, appended);
    }
}
