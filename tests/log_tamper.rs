//! Tampering with a closed log must make `verify` fail, naming the file and offset, and must
//! make `open` refuse (unless `--salvage`).

mod log_support;

use std::path::{Path, PathBuf};

use log_support::*;
use spanward::sink::log::checkpoint::{encode_frame, SigningKey, SigningKeySource};
use spanward::sink::log::record::{Prepared, SegmentScanner, SEG_HEADER_LEN};
use spanward::sink::log::verify::{verify_dir, VerifyFailure};
use spanward::sink::log::{LogError, LogSink};

struct Fixture {
    _tmp: tempfile::TempDir,
    base: PathBuf,
    vkey: String,
    env: std::collections::HashMap<String, String>,
    n: u64,
}

fn fixture() -> Fixture {
    let (env, vkey) = key_env();
    let tmp = tempfile::tempdir().unwrap();
    let base = tmp.path().join("base");
    let mut n = 0;
    for round in 0..2 {
        let s = LogSink::open(&config(&base), &env, false).unwrap();
        for i in 0..4 {
            s.append(&otlp_bytes(&format!("r{round}-{i}"), 1 + i))
                .unwrap();
            n += 1;
        }
        s.close().unwrap();
    }
    verify_dir(&base, Some(std::slice::from_ref(&vkey)), &mut |_, _| {}).unwrap();
    Fixture {
        _tmp: tmp,
        base,
        vkey,
        env,
        n,
    }
}

fn fresh(fx: &Fixture, name: &str) -> PathBuf {
    let d = fx.base.parent().unwrap().join(name);
    let _ = std::fs::remove_dir_all(&d);
    copy_dir(&fx.base, &d);
    d
}

fn verify_fails(fx: &Fixture, dir: &Path) -> VerifyFailure {
    let with_key = verify_dir(dir, Some(std::slice::from_ref(&fx.vkey)), &mut |_, _| {});
    let with_dir_keys = verify_dir(dir, None, &mut |_, _| {});
    assert!(with_dir_keys.is_err(), "verify (dir pubkeys) passed");
    with_key.expect_err("verify passed on a tampered log")
}

fn flip(path: &Path, at: u64, bit: u8) {
    let mut b = std::fs::read(path).unwrap();
    b[at as usize] ^= 1 << bit;
    std::fs::write(path, b).unwrap();
}

/// Rewrites a segment from (seq, unix_nanos, payload) triples with valid CRCs, as an attacker
/// who knows the format would.
fn rewrite_segment(path: &Path, recs: &[(u64, u64, Vec<u8>)]) {
    let header = std::fs::read(path).unwrap()[..SEG_HEADER_LEN as usize].to_vec();
    let mut out = header;
    for (seq, ts, p) in recs {
        out.extend_from_slice(&Prepared::new(p).finish(*seq, *ts).0);
    }
    std::fs::write(path, out).unwrap();
}

/// (seq, unix_nanos, payload) of each record.
type Recs = Vec<(u64, u64, Vec<u8>)>;

fn records(path: &Path) -> Recs {
    let mut sc = SegmentScanner::open(path).unwrap();
    let mut v = Vec::new();
    while let Some(r) = sc.next_record().unwrap() {
        v.push((r.seq, r.unix_nanos, r.payload.to_vec()));
    }
    v
}

#[test]
fn every_single_bit_flip_in_segments_checkpoints_and_hashes_is_detected() {
    let fx = fixture();
    let dir = fresh(&fx, "flip");
    let mut files = segments(&dir);
    files.push(dir.join("checkpoints.log"));
    files.push(dir.join("hashes.dat"));
    files.push(dir.join("checkpoint"));
    let mut flips = 0;
    for f in &files {
        let name = f.file_name().unwrap().to_owned();
        let len = std::fs::metadata(f).unwrap().len();
        let recs = if name.to_string_lossy().ends_with(".seg") {
            record_spans(f)
        } else {
            Vec::new()
        };
        for at in 0..len {
            let bit = (at % 8) as u8;
            flip(f, at, bit);
            let e = verify_fails(&fx, &dir);
            if !recs.is_empty() {
                // Segment damage is reported in that segment, at the record holding the byte
                // (or at the header).
                assert_eq!(e.file.file_name().unwrap(), name, "flip at {at}: {e}");
                let rec_start = recs
                    .iter()
                    .find(|(o, l)| (*o..o + l).contains(&at))
                    .map(|r| r.0);
                match rec_start {
                    Some(o) => assert_eq!(e.offset, o, "flip at {at}: {e}"),
                    None => assert!(at < SEG_HEADER_LEN && e.offset <= 8, "flip at {at}: {e}"),
                }
            }
            flip(f, at, bit);
            flips += 1;
        }
    }
    verify_dir(&dir, Some(std::slice::from_ref(&fx.vkey)), &mut |_, _| {}).unwrap();
    assert!(flips > 1000, "{flips}");
}

#[test]
fn deleted_duplicated_and_reordered_records_fail_even_with_crcs_fixed_up() {
    let fx = fixture();
    let seg = segments(&fx.base).pop().unwrap();
    let orig = records(&seg);
    assert!(orig.len() >= 4);
    let seg_name = seg.file_name().unwrap().to_owned();

    let cases: Vec<(&str, Recs)> = vec![
        ("delete", {
            let mut v = orig.clone();
            v.remove(1);
            v
        }),
        ("duplicate", {
            let mut v = orig.clone();
            v.insert(2, v[1].clone());
            v
        }),
        ("reorder", {
            let mut v = orig.clone();
            v.swap(1, 2);
            v
        }),
        // A careful attacker also renumbers, so sequence numbers look right.
        ("delete+renumber", {
            let mut v = orig.clone();
            v.remove(1);
            let first = orig[0].0;
            for (i, r) in v.iter_mut().enumerate() {
                r.0 = first + i as u64;
            }
            v
        }),
        ("reorder+renumber", {
            let mut v = orig.clone();
            v.swap(1, 2);
            let first = orig[0].0;
            for (i, r) in v.iter_mut().enumerate() {
                r.0 = first + i as u64;
            }
            v
        }),
        ("edit payload", {
            let mut v = orig.clone();
            v[2].2 = otlp_bytes("forged", 1);
            v
        }),
    ];
    for (what, recs) in cases {
        let dir = fresh(&fx, what);
        rewrite_segment(&dir.join(&seg_name), &recs);
        let e = verify_fails(&fx, &dir);
        assert_eq!(
            e.file.file_name().unwrap(),
            seg_name.as_os_str(),
            "{what}: {e}"
        );
        assert!(e.offset >= SEG_HEADER_LEN, "{what}: {e}");
        // The service refuses to build on it too (the damage is in the open segment).
        let r = LogSink::open(&config(&dir), &fx.env, false);
        assert!(r.is_err(), "{what}: open accepted a tampered log");
    }
}

#[test]
fn truncation_below_a_checkpoint_fails_verify_and_open() {
    let fx = fixture();
    let dir = fresh(&fx, "trunc");
    let seg = segments(&dir).pop().unwrap();
    let recs = record_spans(&seg);
    // Cut exactly at a record boundary: every remaining record is intact.
    let f = std::fs::OpenOptions::new().write(true).open(&seg).unwrap();
    f.set_len(recs[recs.len() - 1].0).unwrap();
    drop(f);
    let e = verify_fails(&fx, &dir);
    assert_eq!(e.file.file_name().unwrap(), "checkpoints.log", "{e}");
    assert!(e.what.contains("records removed below a checkpoint"), "{e}");
    match LogSink::open(&config(&dir), &fx.env, false) {
        Err(LogError::ShorterThanCheckpoint {
            records,
            checkpoint,
        }) => assert_eq!((records, checkpoint), (fx.n - 1, fx.n)),
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("open accepted a truncated log"),
    }
    // Deleting the whole segment directory content except the first segment is the same.
    let dir2 = fresh(&fx, "trunc2");
    std::fs::remove_file(segments(&dir2).pop().unwrap()).unwrap();
    verify_fails(&fx, &dir2);
}

#[test]
fn checkpoint_forged_with_another_key_fails() {
    let fx = fixture();
    let other = SigningKey::from_skey(
        &spanward::sink::log::checkpoint::generate_signing_key("test.spanward/log").0,
        SigningKeySource::File,
        "test",
    )
    .unwrap();
    // An attacker edits a record, recomputes everything, and signs with their own key.
    let dir = fresh(&fx, "forge");
    let seg = segments(&dir).pop().unwrap();
    let mut recs = records(&seg);
    recs[0].2 = otlp_bytes("rewritten history", 1);
    rewrite_segment(&seg, &recs);
    let cp_before = std::fs::metadata(dir.join("checkpoints.log"))
        .unwrap()
        .len();
    // Recompute the tree the way the writer would, by replaying into a fresh log.
    let replay = dir.parent().unwrap().join("replay");
    let all: Vec<Vec<u8>> = read_all(&dir).into_iter().map(|r| r.1).collect();
    let s = LogSink::open(
        &config(&replay),
        &std::collections::HashMap::<String, String>::new(),
        false,
    )
    .unwrap();
    for p in &all {
        s.append(p).unwrap();
    }
    s.close().unwrap();
    let rep = verify_dir(&replay, None, &mut |_, _| {}).unwrap();
    let root = rep.root;
    let root_hash = {
        use base64::prelude::*;
        let b = BASE64_STANDARD.decode(root).unwrap();
        tlog_tiles::Hash(b.try_into().unwrap())
    };
    let forged = other
        .sign_checkpoint("test.spanward/log", all.len() as u64, root_hash)
        .unwrap();
    std::fs::copy(replay.join("hashes.dat"), dir.join("hashes.dat")).unwrap();
    let mut cps = std::fs::read(dir.join("checkpoints.log")).unwrap();
    cps.extend_from_slice(&encode_frame(&forged));
    std::fs::write(dir.join("checkpoints.log"), cps).unwrap();
    std::fs::write(dir.join("checkpoint"), &forged).unwrap();
    let e = verify_fails(&fx, &dir);
    // Either the forged checkpoint's signature or an earlier genuine checkpoint's root
    // catches it; both name checkpoints.log and a frame offset.
    assert_eq!(e.file.file_name().unwrap(), "checkpoints.log", "{e}");
    assert!(e.offset <= cp_before, "{e}");

    // Appending a forged checkpoint to an untouched log: the signature check names it.
    let dir = fresh(&fx, "forge2");
    let rep = verify_dir(&dir, Some(std::slice::from_ref(&fx.vkey)), &mut |_, _| {}).unwrap();
    let b = {
        use base64::prelude::*;
        BASE64_STANDARD.decode(&rep.root).unwrap()
    };
    let forged = other
        .sign_checkpoint(
            "test.spanward/log",
            fx.n,
            tlog_tiles::Hash(b.try_into().unwrap()),
        )
        .unwrap();
    let mut cps = std::fs::read(dir.join("checkpoints.log")).unwrap();
    let off = cps.len() as u64;
    cps.extend_from_slice(&encode_frame(&forged));
    std::fs::write(dir.join("checkpoints.log"), cps).unwrap();
    let e = verify_fails(&fx, &dir);
    assert_eq!(
        (e.file.file_name().unwrap().to_str().unwrap(), e.offset),
        ("checkpoints.log", off),
        "{e}"
    );
    assert!(
        e.what.contains("signature") || e.what.contains("verif"),
        "{e}"
    );
    // And open refuses a log whose last checkpoint is signed by an unknown key.
    assert!(LogSink::open(&config(&dir), &fx.env, false).is_err());
}

#[test]
fn corruption_in_the_open_segment_refuses_start_unless_salvage() {
    let fx = fixture();
    let dir = fresh(&fx, "salvage");
    // Reopen with a crash so the last records are not covered by a checkpoint.
    {
        let s = LogSink::open(&config(&dir), &fx.env, false).unwrap();
        for i in 0..3 {
            s.append(&otlp_bytes(&format!("tail-{i}"), 1)).unwrap();
        }
    }
    let seg = segments(&dir).pop().unwrap();
    let recs = record_spans(&seg);
    let victim = recs[recs.len() - 2]; // not the last: a crash cannot explain it
    flip(&seg, victim.0 + 12, 0);
    match LogSink::open(&config(&dir), &fx.env, false) {
        Err(LogError::Corrupt { offset, .. }) => assert_eq!(offset, victim.0),
        Err(e) => panic!("unexpected {e}"),
        Ok(_) => panic!("opened a corrupt log"),
    }
    let s = LogSink::open(&config(&dir), &fx.env, true).unwrap();
    assert_eq!(s.stats().tree_size, fx.n + 1);
    s.close().unwrap();
    let kept: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".salvaged-"))
        .collect();
    assert_eq!(kept.len(), 1, "salvaged bytes are kept aside");
    verify_dir(&dir, Some(std::slice::from_ref(&fx.vkey)), &mut |_, _| {}).unwrap();
}
