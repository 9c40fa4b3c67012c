//! What recovery does at start with damage: a torn last record is cut (and the dropped bytes
//! logged) only when no checkpoint covers it; damage in checkpointed records or in sealed
//! segments refuses to start without changing a byte, and `--salvage` leaves it in place while
//! the tree, proofs and later appends stay intact. `startup_check: open_segment` skips the scan
//! of sealed segments.

mod log_support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use log_support::*;
use spanward::sink::log::verify::{prove, verify_dir, verify_proof};
use spanward::sink::log::{LogConfig, LogError, LogSink, StartupCheck};

/// Every file of a log directory but its LOCK, by name.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != "LOCK")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Flips one bit in place (sealed segments are read-only: lift that for the edit, then restore).
fn flip(path: &Path, at: u64) {
    let perm = std::fs::metadata(path).unwrap().permissions();
    let mut w = perm.clone();
    #[allow(clippy::permissions_set_readonly_false)]
    w.set_readonly(false);
    std::fs::set_permissions(path, w).unwrap();
    let mut b = std::fs::read(path).unwrap();
    b[at as usize] ^= 0x10;
    std::fs::write(path, b).unwrap();
    std::fs::set_permissions(path, perm).unwrap();
}

fn cut(path: &Path, len: u64) {
    let perm = std::fs::metadata(path).unwrap().permissions();
    let mut w = perm.clone();
    #[allow(clippy::permissions_set_readonly_false)]
    w.set_readonly(false);
    std::fs::set_permissions(path, w).unwrap();
    std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .unwrap()
        .set_len(len)
        .unwrap();
    std::fs::set_permissions(path, perm).unwrap();
}

/// Log lines written on this thread while `f` runs (recovery runs on the opening thread).
fn logs_of<T>(f: impl FnOnce() -> T) -> (T, String) {
    let buf = LogBuf::default();
    let out = tracing::subscriber::with_default(buf.subscriber(), f);
    (out, buf.text())
}

fn open_err(cfg: &LogConfig, env: &std::collections::HashMap<String, String>) -> LogError {
    match LogSink::open(cfg, env, false) {
        Err(e) => e,
        Ok(s) => panic!("opened a damaged log ({} records)", s.stats().tree_size),
    }
}

/// Opening refuses with `Corrupt` and leaves every file of the log as it was; returns the
/// damaged file, the offset and the reason.
fn corrupt_refusal(
    cfg: &LogConfig,
    env: &std::collections::HashMap<String, String>,
) -> (PathBuf, u64, String) {
    let before = snapshot(&cfg.path);
    let got = match open_err(cfg, env) {
        LogError::Corrupt { file, offset, what } => (PathBuf::from(file), offset, what),
        e => panic!("unexpected {e}"),
    };
    assert_eq!(
        snapshot(&cfg.path),
        before,
        "a refusal changed the directory"
    );
    got
}

#[test]
fn bad_crc_in_the_last_uncheckpointed_record_is_cut_and_the_dropped_bytes_logged() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    {
        let s = LogSink::open(&cfg, &env, false).unwrap();
        for i in 0..3 {
            s.append(&otlp_bytes(&format!("kept-{i}"), 2)).unwrap();
        }
        s.close().unwrap(); // checkpoint at 3
    }
    {
        // Two more records, then a crash: no checkpoint covers them.
        let s = LogSink::open(&cfg, &env, false).unwrap();
        s.append(&otlp_bytes("kept-3", 2)).unwrap();
        s.append(&otlp_bytes("torn", 2)).unwrap();
    }
    let seg = segments(tmp.path()).pop().unwrap();
    let recs = record_spans(&seg);
    assert_eq!(recs.len(), 5);
    let (off, len) = recs[4];
    // A bit flip in the last record's payload: what a write torn inside a sector leaves.
    flip(&seg, off + 20);
    let (s, logs) = logs_of(|| LogSink::open(&cfg, &env, false).unwrap());
    assert_eq!(s.stats().tree_size, 4);
    assert_eq!(std::fs::metadata(&seg).unwrap().len(), off);
    assert!(
        logs.contains("torn tail")
            && logs.contains(&format!("dropped_bytes={len}"))
            && logs.contains("CRC mismatch in the last record"),
        "{logs}"
    );
    assert_eq!(s.append(b"after").unwrap().seq, 4);
    s.close().unwrap();
    let rep = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(rep.tree_size, 5);
    let stored = read_all(tmp.path());
    assert_eq!(stored[3].1, otlp_bytes("kept-3", 2));
    assert_eq!(stored[4].1, b"after");
}

#[test]
fn checkpointed_last_record_with_a_bad_crc_refuses_and_changes_nothing() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = signed_log(tmp.path(), &env, 4);
    let seg = segments(tmp.path()).pop().unwrap();
    let (off, _) = *record_spans(&seg).last().unwrap();
    flip(&seg, off + 20);
    let before = snapshot(tmp.path());
    let (file, offset, what) = corrupt_refusal(&cfg, &env);
    assert_eq!((file, offset), (seg.clone(), off));
    assert!(what.contains("checkpoint (tree size 4) covers"), "{what}");

    // --salvage: the record stays as it is (no cut, no .salvaged file) and the log goes on.
    let s = LogSink::open(&cfg, &env, true).unwrap();
    assert_eq!(s.stats().tree_size, 4);
    assert_eq!(s.append(b"after salvage").unwrap().seq, 4);
    s.close().unwrap();
    drop(s); // releases the directory lock
    let after = snapshot(tmp.path());
    assert!(!after.keys().any(|k| k.contains(".salvaged-")));
    let seg_name = seg.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        after[&seg_name][..before[&seg_name].len()],
        before[&seg_name][..],
        "salvage rewrote checkpointed bytes"
    );
    // The damage is still reported, where it is; a start without --salvage still refuses.
    let e = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert_eq!((e.file.as_path(), e.offset), (seg.as_path(), off), "{e}");
    assert!(matches!(open_err(&cfg, &env), LogError::Corrupt { .. }));
    // Proofs for intact records still verify against the newest checkpoint.
    let p = prove(tmp.path(), 1).unwrap();
    assert_eq!(p.tree_size, 5);
    verify_proof(&p, Some(std::slice::from_ref(&vkey))).unwrap();
    // The tree was never broken: once the record is restored (here: the bit flipped back, as a
    // restore from a backup would), everything verifies, including the checkpoints written
    // after the salvage start.
    flip(&seg, off + 20);
    let rep = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!((rep.tree_size, rep.last_checkpoint_size), (5, 5));
    LogSink::open(&cfg, &env, false).unwrap().close().unwrap();
}

#[test]
fn checkpointed_damage_whose_length_is_lost_is_never_cut_even_with_salvage() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = signed_log(tmp.path(), &env, 4);
    let seg = segments(tmp.path()).pop().unwrap();
    let (off, _) = record_spans(&seg)[2];
    flip(&seg, off + 1); // the length field: the records after it cannot be found
    let before = snapshot(tmp.path());
    for salvage in [false, true] {
        match LogSink::open(&cfg, &env, salvage) {
            Err(LogError::Corrupt { offset, what, .. }) => {
                assert_eq!(offset, off, "salvage={salvage}");
                assert!(what.contains("checkpoint"), "{what}");
            }
            Err(e) => panic!("unexpected {e}"),
            Ok(_) => panic!("salvage={salvage}: opened by cutting signed records"),
        }
        assert_eq!(snapshot(tmp.path()), before, "salvage={salvage}");
    }
}

#[test]
fn a_log_truncated_below_its_checkpoint_mid_record_refuses_without_cutting() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = signed_log(tmp.path(), &env, 4);
    let seg = segments(tmp.path()).pop().unwrap();
    let (off, len) = record_spans(&seg)[3];
    // Looks like a torn tail, but the checkpoint says record 3 was complete and fsynced.
    cut(&seg, off + len / 2);
    let before = snapshot(tmp.path());
    match open_err(&cfg, &env) {
        LogError::ShorterThanCheckpoint {
            records,
            checkpoint,
        } => assert_eq!((records, checkpoint), (3, 4)),
        e => panic!("unexpected {e}"),
    }
    assert_eq!(snapshot(tmp.path()), before);
}

/// A closed log of `n` two-span records, all covered by the checkpoint written at close.
fn signed_log(dir: &Path, env: &std::collections::HashMap<String, String>, n: usize) -> LogConfig {
    let cfg = config(dir);
    let s = LogSink::open(&cfg, env, false).unwrap();
    for i in 0..n {
        s.append(&otlp_bytes(&format!("signed-{i}"), 2)).unwrap();
    }
    s.close().unwrap();
    cfg
}

/// A closed log of several sealed segments (64 KiB each), every record checkpointed.
fn sealed_log(dir: &Path, env: &std::collections::HashMap<String, String>) -> (LogConfig, u64) {
    let mut cfg = config(dir);
    cfg.segment_bytes = 64 << 10;
    let s = LogSink::open(&cfg, env, false).unwrap();
    let n = 40;
    for i in 0..n {
        s.append(&vec![b'a' + (i % 26) as u8; 6000]).unwrap();
    }
    s.close().unwrap();
    assert!(segments(dir).len() >= 4);
    (cfg, n)
}

#[test]
fn corruption_in_a_sealed_segment_refuses_to_start_naming_file_and_offset() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, n) = sealed_log(tmp.path(), &env);
    let segs = segments(tmp.path());
    let victim = segs[1].clone();
    let (off, _) = record_spans(&victim)[3];
    flip(&victim, off + 100);
    let (file, offset, what) = corrupt_refusal(&cfg, &env);
    assert_eq!((file, offset), (victim.clone(), off));
    assert!(what.contains("sealed segment"), "{what}");

    // `startup_check: open_segment` does not read sealed segments: it starts, and the damage
    // is `spanward verify`'s to find.
    let quick = LogConfig {
        startup_check: StartupCheck::OpenSegment,
        ..cfg.clone()
    };
    let s = LogSink::open(&quick, &env, false).unwrap();
    assert_eq!(s.stats().tree_size, n);
    drop(s);
    let e = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert_eq!((e.file.as_path(), e.offset), (victim.as_path(), off), "{e}");
}

#[test]
fn salvage_leaves_a_damaged_sealed_segment_in_place_and_the_tree_intact() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, n) = sealed_log(tmp.path(), &env);
    let segs = segments(tmp.path());
    let victim = segs[1].clone();
    let (off, _) = record_spans(&victim)[3];
    flip(&victim, off + 100);
    let damaged = std::fs::read(&victim).unwrap();
    let (s, logs) = logs_of(|| LogSink::open(&cfg, &env, true).unwrap());
    assert!(
        logs.contains("ERROR")
            && logs.contains(&victim.display().to_string())
            && logs.contains(&format!("offset={off}")),
        "{logs}"
    );
    assert_eq!(s.stats().tree_size, n);
    for i in 0..20 {
        assert_eq!(s.append(&vec![b'z'; 6000]).unwrap().seq, n + i);
    }
    s.close().unwrap();
    drop(s);
    assert_eq!(
        std::fs::read(&victim).unwrap(),
        damaged,
        "a sealed segment was written"
    );
    assert!(!snapshot(tmp.path())
        .keys()
        .any(|k| k.contains(".salvaged-")));
    // verify reports the damage where it is; proofs of records elsewhere, old and new, verify.
    let e = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap_err();
    assert_eq!((e.file.as_path(), e.offset), (victim.as_path(), off), "{e}");
    for seq in [0, n - 1, n + 19] {
        let p = prove(tmp.path(), seq).unwrap();
        assert_eq!(p.tree_size, n + 20);
        verify_proof(&p, Some(std::slice::from_ref(&vkey))).unwrap();
    }
    // Restoring the segment (here: flipping the bit back) makes the whole log verify again.
    flip(&victim, off + 100);
    let rep = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(rep.tree_size, n + 20);
    LogSink::open(&cfg, &env, false).unwrap().close().unwrap();
}

#[test]
fn a_missing_or_shortened_sealed_segment_refuses_to_start() {
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let (cfg, _) = sealed_log(&base, &env);
    let fresh = |name: &str| -> PathBuf {
        let d = tmp.path().join(name);
        copy_dir(&base, &d);
        d
    };
    let at = |d: &Path| LogConfig {
        path: d.to_path_buf(),
        ..cfg.clone()
    };

    // A middle segment deleted: the one before it no longer ends where the next one starts.
    let d = fresh("deleted");
    let segs = segments(&d);
    std::fs::remove_file(&segs[2]).unwrap();
    let (file, offset, what) = corrupt_refusal(&at(&d), &env);
    let len = std::fs::metadata(&segs[1]).unwrap().len();
    assert_eq!((file, offset), (segs[1].clone(), len));
    assert!(what.contains("next segment starts"), "{what}");

    // A sealed segment's last record removed at a record boundary.
    let d = fresh("short");
    let segs = segments(&d);
    let (last, _) = *record_spans(&segs[0]).last().unwrap();
    cut(&segs[0], last);
    let (file, offset, _) = corrupt_refusal(&at(&d), &env);
    assert_eq!((file, offset), (segs[0].clone(), last));

    // Cut inside a record: torn-looking, but a sealed segment was fsynced before the next one
    // existed, so it is damage.
    let d = fresh("torn");
    let segs = segments(&d);
    cut(&segs[0], last + 10);
    let (file, offset, what) = corrupt_refusal(&at(&d), &env);
    assert_eq!((file, offset), (segs[0].clone(), last));
    assert!(what.contains("sealed segment"), "{what}");
}

#[test]
fn startup_check_parses_and_defaults_to_full() {
    let c: LogConfig = serde_norway::from_str("path: d\n").unwrap();
    assert_eq!(c.startup_check, StartupCheck::Full);
    let c: LogConfig = serde_norway::from_str("path: d\nstartup_check: open_segment\n").unwrap();
    assert_eq!(c.startup_check, StartupCheck::OpenSegment);
    assert!(serde_norway::from_str::<LogConfig>("path: d\nstartup_check: some\n").is_err());
}

/// The cost of `startup_check: full`, for docs/log.md (Recovery). Not part of the suite (it writes
/// `LOG_STARTUP_MB`, default 300, MB): `cargo test --test log_startup -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_startup_check_cost() {
    let mb: u64 = std::env::var("LOG_STARTUP_MB")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let (env, _) = key_env();
    let base = std::env::var("LOG_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| std::env::temp_dir());
    let tmp = tempfile::tempdir_in(base).unwrap();
    let mut cfg = config(tmp.path());
    cfg.segment_bytes = 32 << 20;
    let payload = otlp_bytes(&"x".repeat(1000), 48);
    {
        let s = LogSink::open(&cfg, &env, false).unwrap();
        let n = (mb << 20) / payload.len() as u64;
        for _ in 0..n {
            s.append(&payload).unwrap();
        }
        s.close().unwrap();
    }
    let segs = segments(tmp.path());
    let sealed_bytes: u64 = segs[..segs.len() - 1]
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    let evict = || {
        for p in segments(tmp.path()) {
            // Drops the clean cached pages of the file (GNU dd): a cold start.
            std::process::Command::new("dd")
                .arg(format!("if={}", p.display()))
                .args(["iflag=nocache", "count=0", "status=none"])
                .status()
                .unwrap();
        }
    };
    let time_open = |check: StartupCheck| {
        let c = LogConfig {
            startup_check: check,
            ..cfg.clone()
        };
        let t = Instant::now();
        let s = LogSink::open(&c, &env, false).unwrap();
        let el = t.elapsed();
        drop(s);
        el
    };
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let warm_quick = time_open(StartupCheck::OpenSegment);
    let warm_full = time_open(StartupCheck::Full);
    evict();
    let cold_quick = time_open(StartupCheck::OpenSegment);
    evict();
    let cold_full = time_open(StartupCheck::Full);
    let rate = |full: Duration, quick: Duration| {
        sealed_bytes as f64 / 1e6 / (full.saturating_sub(quick)).as_secs_f64().max(1e-9)
    };
    println!(
        "sealed: {:.0} MB in {} segments; warm cache: open_segment {:.0} ms, full {:.0} ms ({:.0} MB/s of sealed segments); cold cache: open_segment {:.0} ms, full {:.0} ms ({:.0} MB/s)",
        sealed_bytes as f64 / 1e6,
        segs.len() - 1,
        ms(warm_quick),
        ms(warm_full),
        rate(warm_full, warm_quick),
        ms(cold_quick),
        ms(cold_full),
        rate(cold_full, cold_quick),
    );
}

/// Damage inside checkpoints.log hides the signed checkpoints after it. `--salvage` still must
/// not cut what they signed: it takes their reach from the copy of the latest checkpoint, keeps
/// the cut part of checkpoints.log, and refuses when that copy is unreadable too.
#[test]
fn damage_inside_checkpoints_log_never_lets_salvage_cut_signed_records() {
    use spanward::sink::log::checkpoint::read_frames;
    let (env, _) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let cfg = config(tmp.path());
    {
        let s = LogSink::open(&cfg, &env, false).unwrap();
        for i in 0..6 {
            s.append(&otlp_bytes(&format!("signed-{i}"), 2)).unwrap();
            if i == 1 || i == 3 {
                s.checkpoint().unwrap(); // tree sizes 2 and 4
            }
        }
        s.close().unwrap(); // tree size 6
    }
    let frames = read_frames(tmp.path()).unwrap().frames;
    assert!(frames.len() >= 3, "{} frames", frames.len());
    // The frame of tree size 4 is damaged: the last readable checkpoint is the one of size 2.
    let cpath = tmp.path().join("checkpoints.log");
    let (foff, _) = frames[frames.len() - 2];
    flip(&cpath, foff + 12);
    // Record 3, signed by the checkpoints of size 4 and 6, is damaged too.
    let seg = segments(tmp.path()).pop().unwrap();
    let (roff, _) = record_spans(&seg)[3];
    flip(&seg, roff + 20);
    let seg_before = std::fs::read(&seg).unwrap();

    // Without --salvage: refused, nothing written.
    let (file, _, _) = corrupt_refusal(&cfg, &env);
    assert_eq!(file, cpath);

    // With the latest checkpoint's copy unreadable as well, even --salvage refuses.
    let copy = tempfile::tempdir().unwrap();
    copy_dir(tmp.path(), copy.path());
    std::fs::remove_file(copy.path().join("checkpoint")).unwrap();
    let cfg_copy = config(copy.path());
    let before = snapshot(copy.path());
    match LogSink::open(&cfg_copy, &env, true) {
        Err(LogError::Corrupt { what, .. }) => {
            assert!(what.contains("unknown which records are signed"), "{what}")
        }
        Err(e) => panic!("unexpected {e}"),
        Ok(s) => panic!("salvage opened with {} records", s.stats().tree_size),
    }
    assert_eq!(snapshot(copy.path()), before);

    // With it: --salvage cuts no signed record and keeps checkpoints.log's cut tail.
    let s = LogSink::open(&cfg, &env, true).unwrap();
    assert_eq!(s.stats().tree_size, 6, "signed records were cut");
    s.close().unwrap();
    drop(s);
    let after = std::fs::read(&seg).unwrap();
    assert_eq!(&after[..seg_before.len()], &seg_before[..]);
    let kept: Vec<String> = snapshot(tmp.path())
        .into_keys()
        .filter(|k| k.starts_with("checkpoints.log.salvaged-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
}

/// Retention writes its pruned marker before it removes the segments it gave up; a crash in
/// between leaves those segments behind. The next start removes them instead of refusing.
#[test]
fn segments_left_by_an_interrupted_retention_pass_are_removed_at_start() {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let (cfg, n) = sealed_log(tmp.path(), &env);
    let segs = segments(tmp.path());
    let first_kept = record_spans(&segs[2]);
    assert!(!first_kept.is_empty());
    // The first record of segs[2]: its sequence number is in the file name.
    let name = segs[2].file_stem().unwrap().to_string_lossy().into_owned();
    let pruned: u64 = name.parse().unwrap();
    std::fs::write(tmp.path().join("pruned"), format!("{pruned}\n")).unwrap();

    let (s, logs) = logs_of(|| LogSink::open(&cfg, &env, false).unwrap());
    assert_eq!(s.stats().tree_size, n);
    s.close().unwrap();
    drop(s);
    assert!(logs.contains("interrupted retention"), "{logs}");
    assert!(!segs[0].exists() && !segs[1].exists());
    assert!(segs[2].exists());
    let rep = verify_dir(
        tmp.path(),
        Some(std::slice::from_ref(&vkey)),
        &mut |_, _| {},
    )
    .unwrap();
    assert_eq!(rep.tree_size, n);
}
