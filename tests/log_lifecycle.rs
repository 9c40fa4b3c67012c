//! The log's life in time: segments roll by age, every roll writes a checkpoint, `fsync:
//! always` makes each append durable on its own, and retention by age deletes old payloads
//! while proofs still verify.

mod log_support;

use spanward::vocab::Signal;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use log_support::*;
use spanward::sink::log::io::FaultFs;
use spanward::sink::log::record::parse_segment_name;
use spanward::sink::log::verify::{prove, verify_dir, verify_proof};
use spanward::sink::log::{FsyncPolicy, LogSink};
use spanward::sink::{Delivery, Sink};

/// Tree size of the latest checkpoint (the `checkpoint` file: origin, size, root, signature).
fn latest_checkpoint_size(dir: &Path) -> Option<u64> {
    let text = std::fs::read_to_string(dir.join("checkpoint")).ok()?;
    text.lines().nth(1)?.parse().ok()
}

fn wait_for(what: &str, secs: u64, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen in {secs}s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn first_seq(seg: &Path) -> u64 {
    parse_segment_name(&seg.file_name().unwrap().to_string_lossy()).unwrap()
}

#[test]
fn an_old_segment_rolls_by_age_with_a_checkpoint_and_a_quiet_one_does_not() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path()); // checkpoint_interval 1h: only rolls write checkpoints
    cfg.segment_age = Duration::from_secs(1);
    let s = LogSink::open(&cfg, &env, false).unwrap();
    let cps_at_open = s.stats().checkpoints;
    s.append(b"first").unwrap();
    s.append(b"second").unwrap();
    wait_for("a roll by age", 10, || segments(tmp.path()).len() == 2);
    // The roll asks for a checkpoint once it is complete; it covers everything sealed.
    wait_for("a checkpoint at the roll", 10, || {
        latest_checkpoint_size(tmp.path()) == Some(2)
    });
    let segs = segments(tmp.path());
    assert!(
        std::fs::metadata(&segs[0])
            .unwrap()
            .permissions()
            .readonly(),
        "a sealed segment is read-only"
    );
    assert_eq!(first_seq(&segs[1]), 2);
    assert!(s.stats().checkpoints > cps_at_open);
    // The new segment holds no record: however old it gets, it does not roll.
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(segments(tmp.path()).len(), 2);
    assert_eq!(s.append(b"third").unwrap().seq, 2);
    s.close().unwrap();
    let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
    assert_eq!((rep.tree_size, rep.segments), (3, 2));
}

#[test]
fn a_roll_by_size_writes_a_checkpoint_covering_the_sealed_segment() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path()); // checkpoint_interval 1h
    cfg.segment_bytes = 64 << 10;
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(latest_checkpoint_size(tmp.path()), Some(0));
    let mut n = 0;
    while segments(tmp.path()).len() < 2 {
        s.append(&vec![b'r'; 8 << 10]).unwrap();
        n += 1;
        assert!(n < 20, "no roll after {n} records of 8 KiB");
    }
    let sealed_upto = first_seq(&segments(tmp.path())[1]);
    assert_eq!(
        sealed_upto,
        n - 1,
        "the record that did not fit opened the new segment"
    );
    // Nobody calls checkpoint(): the roll alone must produce one.
    wait_for("a checkpoint at the roll", 10, || {
        latest_checkpoint_size(tmp.path()).is_some_and(|c| c >= sealed_upto)
    });
    drop(s); // a crash: no shutdown checkpoint
    let rep = verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
    assert!(rep.last_checkpoint_size >= sealed_upto);
    assert_eq!(rep.tree_size, n);
}

#[test]
fn fsync_always_makes_every_append_durable_before_it_returns() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let fs = FaultFs::new();
    let mut cfg = config(tmp.path());
    cfg.fsync = FsyncPolicy::Always;
    let s = LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap();
    let syncs0 = fs.sync_count();
    let fsyncs0 = s.stats().fsyncs;
    let mut payloads = Vec::new();
    for i in 0..20u64 {
        let p = otlp_bytes(&format!("always-{i}"), 2);
        let r = s.append(&p).unwrap();
        assert!(r.durable);
        // One fdatasync per append, done before append returned.
        assert_eq!(fs.sync_count() - syncs0, i + 1);
        assert_eq!(s.stats().durable_size, i + 1);
        payloads.push(p);
    }
    assert_eq!(s.stats().fsyncs - fsyncs0, 20);
    let req = otlp("via-sink", 1);
    let enc = bytes::Bytes::from(prost::Message::encode_to_vec(&req));
    assert_eq!(s.write(Signal::Traces, &enc, 1).unwrap(), Delivery::Durable);
    payloads.push(enc.to_vec());
    // Power loss right after the last append: everything not fsynced is lost, and yet every
    // acknowledged record is there.
    drop(s);
    fs.power_loss(|synced, _| synced).unwrap();
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(s.stats().tree_size, 21);
    let stored: Vec<Vec<u8>> = read_all(tmp.path()).into_iter().map(|r| r.1).collect();
    assert_eq!(stored, payloads);
    s.close().unwrap();

    // The same power loss under `fsync: interval` (never reached) loses the appends: the check
    // above would notice a policy that does not fsync.
    let tmp = tempfile::tempdir().unwrap();
    let fs = FaultFs::new();
    let mut cfg = config(tmp.path());
    cfg.fsync = FsyncPolicy::Interval;
    cfg.fsync_interval = Duration::from_secs(3600);
    let s = LogSink::open_with_fs(&cfg, &env, false, Arc::new(fs.clone())).unwrap();
    for i in 0..5 {
        assert!(!s.append(&otlp_bytes(&format!("i-{i}"), 1)).unwrap().durable);
    }
    drop(s);
    fs.power_loss(|synced, _| synced).unwrap();
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(s.stats().tree_size, 0);
}

#[test]
fn retention_by_age_deletes_old_payloads_and_proofs_still_verify() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let mut cfg = config(tmp.path());
    cfg.segment_bytes = 64 << 10;
    cfg.retention_max_age = Some(Duration::from_secs(2));
    let t0 = Instant::now();
    let s = LogSink::open(&cfg, &env, false).unwrap();
    for i in 0..40u8 {
        s.append(&vec![i; 8 << 10]).unwrap();
    }
    s.checkpoint().unwrap();
    let segs_written = segments(tmp.path());
    assert!(segs_written.len() >= 4);
    // Nothing is deleted before it is old enough (every segment was sealed after t0).
    let pruned_early = tmp.path().join("pruned").exists();
    let count_early = segments(tmp.path()).len();
    if t0.elapsed() < Duration::from_secs(2) {
        assert!(!pruned_early && count_early == segs_written.len());
    }
    // Then every sealed segment goes; the open one stays.
    wait_for("retention by age", 20, || segments(tmp.path()).len() == 1);
    let open_first = first_seq(&segments(tmp.path())[0]);
    assert_eq!(
        open_first,
        first_seq(segs_written.last().unwrap()),
        "the open segment is never deleted"
    );
    s.close().unwrap();
    drop(s);
    let rep = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(rep.tree_size, 40);
    assert_eq!(rep.pruned_records, open_first);
    assert_eq!(rep.records, 40 - open_first);
    // A deleted record's proof (its leaf hash was kept) and a present one's.
    for seq in [0, open_first - 1, 39] {
        let p = prove(tmp.path(), seq).unwrap();
        verify_proof(&p, Some(std::slice::from_ref(&vkey))).unwrap();
    }
    // The pruned log reopens (with the full start-up check) and keeps growing.
    let s = LogSink::open(&cfg, &env, false).unwrap();
    assert_eq!(s.append(b"more").unwrap().seq, 40);
    s.close().unwrap();
    verify_dir(tmp.path(), Some(&[vkey]), &mut |_, _| {}).unwrap();
}
