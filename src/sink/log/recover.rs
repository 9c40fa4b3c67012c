//! Recovery at open: cut a torn tail off the open segment, refuse (or, with `--salvage`, cut
//! at) any other corruption, bring `hashes.dat` up to date with the segments, and check the
//! result against the last checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::checkpoint::{self, ParsedCheckpoint};
use super::io::{Fs, WFile};
use super::record::{list_segments, Fault, ScanOpenError, SegmentScanner};
use super::tree::{self, hashes_bytes, stored_hash_count, Frontier, Hash, HashFile, HASH_LEN};
use super::LogError;

pub const PRUNED_FILE: &str = "pruned";

pub(super) struct ActiveSeg {
    pub first_seq: u64,
    pub path: PathBuf,
    pub len: u64,
    pub created: SystemTime,
}

pub(super) struct Recovered {
    pub n: u64,
    pub active: Option<ActiveSeg>,
    pub sealed: Vec<super::SegInfo>,
    pub hashes: Arc<dyn WFile>,
    pub hash_entries: u64,
    pub frontier: Frontier,
    pub last_checkpoint: Option<ParsedCheckpoint>,
    pub checkpoints_len: u64,
}

fn corrupt(file: &Path, offset: u64, what: impl Into<String>) -> LogError {
    LogError::Corrupt {
        file: file.display().to_string(),
        offset,
        what: what.into(),
    }
}

fn ioe(p: &Path) -> impl FnOnce(std::io::Error) -> LogError + '_ {
    move |e| LogError::io(p, e)
}

/// First sequence number whose payload is kept (0 when retention never ran).
pub fn read_pruned(dir: &Path) -> Result<u64, LogError> {
    let p = dir.join(PRUNED_FILE);
    match std::fs::read_to_string(&p) {
        Ok(s) => s
            .trim()
            .parse()
            .map_err(|_| corrupt(&p, 0, "pruned marker is not a number")),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(LogError::io(&p, e)),
    }
}

/// Replaces `dir/name` with `data` atomically (temp file, fsync, rename, directory fsync).
pub fn write_atomic(
    fs: &dyn Fs,
    dir: &Path,
    name: &str,
    data: &[u8],
    durable: bool,
) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let f = fs.open_write(&tmp, true)?;
    f.set_len(0)?;
    f.write_all_at(data, 0)?;
    if durable {
        f.sync_data()?;
    }
    fs.rename(&tmp, &dir.join(name))?;
    if durable {
        fs.sync_dir(dir)?;
    }
    Ok(())
}

/// Adds `vkey` to the directory's `pubkeys` if it is not there yet.
pub(super) fn record_pubkey(fs: &dyn Fs, dir: &Path, vkey: &str) -> Result<(), LogError> {
    let p = dir.join(checkpoint::PUBKEYS_FILE);
    let existing = match std::fs::read_to_string(&p) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(LogError::io(&p, e)),
    };
    if existing.lines().any(|l| l.trim() == vkey) {
        return Ok(());
    }
    let f = fs.open_write(&p, true).map_err(ioe(&p))?;
    let mut line = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        line.push('\n');
    }
    line.push_str(vkey);
    line.push('\n');
    f.write_all_at(line.as_bytes(), existing.len() as u64)
        .and_then(|_| f.sync_data())
        .and_then(|_| fs.sync_dir(dir))
        .map_err(ioe(&p))
}

/// Keeps the bytes a salvage cuts off, for forensics, then cuts.
fn salvage_cut(fs: &dyn Fs, path: &Path, offset: u64, what: &str) -> Result<(), LogError> {
    let all = std::fs::read(path).map_err(ioe(path))?;
    let data = all.get(offset as usize..).unwrap_or(&[]);
    let keep = PathBuf::from(format!("{}.salvaged-{offset}", path.display()));
    let k = fs.open_write(&keep, true).map_err(ioe(&keep))?;
    k.write_all_at(data, 0)
        .and_then(|_| k.sync_data())
        .map_err(ioe(&keep))?;
    let w = fs.open_write(path, false).map_err(ioe(path))?;
    w.set_len(offset)
        .and_then(|_| w.sync_data())
        .map_err(ioe(path))?;
    tracing::warn!(
        file = %path.display(),
        offset,
        bytes = data.len(),
        kept_in = %keep.display(),
        problem = what,
        "salvage: cut the log at a corruption"
    );
    Ok(())
}

fn is_readonly(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|m| m.permissions().readonly())
        .unwrap_or(false)
}

pub(super) fn recover(
    fs: &dyn Fs,
    dir: &Path,
    origin: &str,
    salvage: bool,
) -> Result<Recovered, LogError> {
    let segs = list_segments(dir).map_err(ioe(dir))?;
    let pruned = read_pruned(dir)?;
    if let Some((first, p)) = segs.first() {
        if *first != pruned && !salvage {
            return Err(corrupt(
                p,
                0,
                format!("segments holding records {pruned}..{first} are missing"),
            ));
        }
    }

    // Sealed segments: headers only (the full check is `spanward verify`).
    let mut sealed = Vec::new();
    for w in segs.windows(2) {
        let (first, path) = &w[0];
        let sc = SegmentScanner::open(path).map_err(|e| match e {
            ScanOpenError::Io(e) => LogError::io(path, e),
            ScanOpenError::Header { what, .. } => corrupt(path, 0, what),
        })?;
        if sc.first_seq != *first {
            return Err(corrupt(
                path,
                8,
                "segment header names another first record",
            ));
        }
        let meta = std::fs::metadata(path).map_err(ioe(path))?;
        sealed.push(super::SegInfo {
            first_seq: *first,
            path: path.clone(),
            bytes: meta.len(),
            sealed_at: meta.modified().unwrap_or_else(|_| SystemTime::now()),
        });
    }

    // The open (last) segment: full scan; a torn tail is cut.
    let mut n = pruned;
    let mut active = None;
    let mut tail_leaves: Vec<Hash> = Vec::new();
    let mut tail_first = n;
    if let Some((first, path)) = segs.last() {
        tail_first = *first;
        n = *first;
        match SegmentScanner::open(path) {
            Err(ScanOpenError::Io(e)) => return Err(LogError::io(path, e)),
            Err(ScanOpenError::Header { what, torn }) => {
                if torn || salvage {
                    if !torn {
                        salvage_cut(fs, path, 0, what)?;
                    }
                    // Created by a roll that a crash interrupted: holds no record yet.
                    tracing::warn!(segment = %path.display(), "removing a segment whose header never reached the disk");
                    fs.remove_file(path).map_err(ioe(path))?;
                    fs.sync_dir(dir).map_err(ioe(dir))?;
                } else {
                    return Err(corrupt(path, 0, what));
                }
            }
            Ok(mut sc) => {
                if sc.first_seq != *first {
                    return Err(corrupt(
                        path,
                        8,
                        "segment header names another first record",
                    ));
                }
                let fault = loop {
                    match sc.next_record() {
                        Ok(Some(r)) => tail_leaves.push(r.leaf()),
                        Ok(None) => break None,
                        Err(f) => break Some(f),
                    }
                };
                let end = sc.pos();
                match fault {
                    None => {}
                    Some(Fault::Torn { offset, what }) => {
                        let dropped = sc.file_len() - offset;
                        let w = fs.open_write(path, false).map_err(ioe(path))?;
                        w.set_len(offset)
                            .and_then(|_| w.sync_data())
                            .map_err(ioe(path))?;
                        tracing::warn!(
                            segment = %path.display(),
                            offset,
                            dropped_bytes = dropped,
                            reason = what,
                            "recovery cut a torn tail off the open segment"
                        );
                    }
                    Some(Fault::Corrupt { offset, what }) => {
                        if !salvage {
                            return Err(corrupt(path, offset, what));
                        }
                        salvage_cut(fs, path, offset, &what)?;
                    }
                }
                n = sc.next_seq();
                let created =
                    SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(sc.created_ms);
                if is_readonly(path) {
                    let meta = std::fs::metadata(path).map_err(ioe(path))?;
                    sealed.push(super::SegInfo {
                        first_seq: *first,
                        path: path.clone(),
                        bytes: end,
                        sealed_at: meta.modified().unwrap_or_else(|_| SystemTime::now()),
                    });
                } else {
                    active = Some(ActiveSeg {
                        first_seq: *first,
                        path: path.clone(),
                        len: end,
                        created,
                    });
                }
            }
        }
    }

    // hashes.dat: keep the prefix that segments cannot have changed, rebuild the rest.
    let hpath = dir.join(tree::HASHES_FILE);
    let hashes = fs.open_write(&hpath, true).map_err(ioe(&hpath))?;
    let entries = std::fs::metadata(&hpath).map_err(ioe(&hpath))?.len() / HASH_LEN;
    let mut from = tail_first;
    if stored_hash_count(from) > entries {
        // The file lags behind the sealed segments too (power loss before its fsync): find
        // the largest record count it fully covers.
        let (mut lo, mut hi) = (0u64, from);
        while lo < hi {
            let mid = lo + (hi - lo).div_ceil(2);
            if stored_hash_count(mid) <= entries {
                lo = mid;
            } else {
                hi = mid - 1;
            }
        }
        from = lo;
        let first_kept = segs.first().map(|s| s.0).unwrap_or(0);
        if from < first_kept {
            return Err(corrupt(
                &hpath,
                entries * HASH_LEN,
                "hashes.dat lacks leaf hashes of records whose payloads were deleted",
            ));
        }
    }
    let keep = stored_hash_count(from) * HASH_LEN;
    hashes.set_len(keep).map_err(ioe(&hpath))?;
    let reader = HashFile::open(dir).map_err(ioe(&hpath))?;
    let mut frontier = Frontier::load(from, &reader).map_err(ioe(&hpath))?;
    let mut buf = Vec::new();
    let mut add = |leaf: Hash, buf: &mut Vec<u8>| {
        let hs = frontier.append(leaf);
        buf.extend_from_slice(&hashes_bytes(&hs));
    };
    // Records from sealed segments between `from` and the open segment.
    for (first, path) in segs.iter().filter(|(f, _)| *f < tail_first) {
        let next = segs
            .iter()
            .map(|s| s.0)
            .find(|f| f > first)
            .unwrap_or(tail_first);
        if next <= from {
            continue;
        }
        let mut sc = SegmentScanner::open(path).map_err(|e| corrupt(path, 0, e.to_string()))?;
        loop {
            match sc.next_record() {
                Ok(Some(r)) => {
                    if r.seq >= from {
                        add(r.leaf(), &mut buf);
                    }
                }
                Ok(None) => break,
                Err(f) => return Err(corrupt(path, f.offset(), f.describe())),
            }
        }
        if sc.next_seq() != next {
            return Err(corrupt(
                path,
                sc.pos(),
                "segment does not end where the next one starts",
            ));
        }
    }
    for leaf in &tail_leaves[..(n - tail_first) as usize] {
        add(*leaf, &mut buf);
    }
    hashes
        .write_all_at(&buf, keep)
        .and_then(|_| hashes.set_len(keep + buf.len() as u64))
        .and_then(|_| hashes.sync_data())
        .map_err(ioe(&hpath))?;
    let hash_entries = (keep + buf.len() as u64) / HASH_LEN;
    debug_assert_eq!(hash_entries, stored_hash_count(n));

    // Checkpoints: a torn last frame is cut; the last one must match the log.
    let frames = checkpoint::read_frames(dir).map_err(ioe(dir))?;
    let cpath = checkpoint::checkpoints_path(dir);
    let mut checkpoints_len = frames.valid_len;
    if let Some((off, torn, what)) = &frames.fault {
        if !torn && !salvage {
            return Err(corrupt(&cpath, *off, what.clone()));
        }
        let w = fs.open_write(&cpath, false).map_err(ioe(&cpath))?;
        w.set_len(frames.valid_len)
            .and_then(|_| w.sync_data())
            .map_err(ioe(&cpath))?;
        tracing::warn!(
            offset = off,
            "recovery cut a damaged tail off checkpoints.log"
        );
    } else {
        checkpoints_len = frames.file_len;
    }
    let known = known_vkeys(dir)?;
    let last_checkpoint = match frames.frames.last() {
        None => None,
        Some((off, note)) => {
            let cp = checkpoint::parse_checkpoint(note, Some(&known))
                .map_err(|e| corrupt(&cpath, *off, format!("last checkpoint: {e}")))?;
            if cp.origin != origin {
                return Err(LogError::Config(format!(
                    "this log's origin is {:?} but the config says {origin:?}",
                    cp.origin
                )));
            }
            if cp.size > n {
                return Err(LogError::ShorterThanCheckpoint {
                    records: n,
                    checkpoint: cp.size,
                });
            }
            let root = if cp.size == n {
                frontier.root()
            } else if cp.size == 0 {
                tree::EMPTY_HASH
            } else {
                let r2 = HashFile::open(dir).map_err(ioe(&hpath))?;
                tlog_tiles::tree_hash(cp.size, &r2)
                    .map_err(|e| corrupt(&hpath, 0, e.to_string()))?
            };
            if root != cp.root {
                return Err(LogError::CheckpointMismatch { size: cp.size });
            }
            Some(cp)
        }
    };
    Ok(Recovered {
        n,
        active,
        sealed,
        hashes,
        hash_entries,
        frontier,
        last_checkpoint,
        checkpoints_len,
    })
}

/// Verifier keys recorded in the directory.
pub fn known_vkeys(dir: &Path) -> Result<Vec<String>, LogError> {
    let p = dir.join(checkpoint::PUBKEYS_FILE);
    if !p.exists() {
        return Ok(Vec::new());
    }
    Ok(checkpoint::read_vkeys(&p)?)
}
