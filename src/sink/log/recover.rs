//! Recovery at open: cut a torn tail off the open segment, refuse (or, with `--salvage`, cut
//! at) any other corruption, bring `hashes.dat` up to date with the segments, and check the
//! result against the last checkpoint.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::checkpoint::{self, ParsedCheckpoint};
use super::files::{known_vkeys, read_pruned};
use super::io::{Fs, WFile};
use super::record::{list_segments, Fault, ScanOpenError, SegmentScanner};
use super::tree::{
    self, hashes_bytes, stored_hash_count, stored_hash_index, Frontier, Hash, HashFile, ReadHashes,
    HASH_LEN,
};
use super::{LogError, StartupCheck};

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
    /// Damaged places `--salvage` left in place (each logged at ERROR).
    pub damage: usize,
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

/// Tree size of the copy of the latest checkpoint (`checkpoint`), when it reads, verifies with
/// a known key and names this log's origin.
fn latest_checkpoint_size(dir: &Path, origin: &str, known: &[String]) -> Option<u64> {
    let note = std::fs::read(dir.join(checkpoint::LATEST_CHECKPOINT_FILE)).ok()?;
    let cp = checkpoint::parse_checkpoint(&note, Some(known)).ok()?;
    (cp.origin == origin).then_some(cp.size)
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

/// What recovery will change in the open segment, decided before anything is written.
enum TailPlan {
    Keep,
    /// A torn tail (what a crash leaves): cut at `offset`, dropping `dropped` bytes.
    CutTorn {
        offset: u64,
        dropped: u64,
        what: &'static str,
    },
    /// Damage after the last checkpoint, with `--salvage`: cut, keeping the bytes aside.
    Salvage {
        offset: u64,
        what: String,
    },
    /// The segment's header never reached the disk (or, with `--salvage`, is damaged): remove
    /// it; `keep_copy` keeps its bytes aside first.
    Remove {
        keep_copy: bool,
        what: &'static str,
    },
}

/// Logs damage that `--salvage` leaves in place (records a checkpoint covers, or a sealed
/// segment) and counts it.
fn left_in_place(count: &mut usize, file: &Path, offset: u64, what: &str) {
    tracing::error!(
        file = %file.display(),
        offset,
        problem = what,
        "salvage: damage in a sealed segment or in checkpointed records is left in place, not cut (the tree keeps their leaf hashes from hashes.dat; `spanward verify` reports it until the segment is restored from a backup)"
    );
    *count += 1;
}

/// Reads every record of a sealed segment (CRC, framing, sequence numbers, no hashing) and
/// checks that it ends where the next segment starts. `Some((offset, problem))` on damage.
fn scan_sealed(sc: &mut SegmentScanner, next_first: u64) -> Option<(u64, String)> {
    loop {
        match sc.next_record() {
            Ok(Some(_)) => {}
            Ok(None) => break,
            // A sealed segment was fsynced before the next one existed: nothing a crash does
            // explains a fault in it, torn-looking or not.
            Err(f) => return Some((f.offset(), format!("{} in a sealed segment", f.describe()))),
        }
    }
    if sc.next_seq() != next_first {
        return Some((
            sc.pos(),
            format!(
                "sealed segment would continue at record {}, but the next segment starts at record {next_first} (records missing or extra)",
                sc.next_seq()
            ),
        ));
    }
    None
}

/// Recovers the log in two steps: first everything is read and checked (the last checkpoint
/// first, because it decides what may be cut), and only when the log can start is anything
/// written: a refusal leaves every file as it was.
pub(super) fn recover(
    fs: &dyn Fs,
    dir: &Path,
    origin: &str,
    vkey: &str,
    salvage: bool,
    check: StartupCheck,
) -> Result<Recovered, LogError> {
    let pruned = read_pruned(dir)?;
    // Retention writes the pruned marker before it removes the segments it gave up, so a crash
    // in between leaves segments that start below the marker: nothing reads their payloads again
    // (their leaf hashes stay in hashes.dat), and they are removed below, not taken for damage.
    let (stale, segs): (Vec<_>, Vec<_>) = list_segments(dir)
        .map_err(ioe(dir))?
        .into_iter()
        .partition(|(first, _)| *first < pruned);
    if let Some((first, p)) = segs.first() {
        if *first != pruned && !salvage {
            return Err(corrupt(
                p,
                0,
                format!("segments holding records {pruned}..{first} are missing"),
            ));
        }
    }

    // The last checkpoint: nothing it covers may be cut.
    let frames = checkpoint::read_frames(dir).map_err(ioe(dir))?;
    let cpath = checkpoint::checkpoints_path(dir);
    let mut checkpoints_len = frames.file_len;
    let mut cut_checkpoints = None;
    if let Some((off, torn, what)) = &frames.fault {
        if !torn && !salvage {
            return Err(corrupt(&cpath, *off, what.clone()));
        }
        checkpoints_len = frames.valid_len;
        cut_checkpoints = Some(*off);
    }
    // The signer's own key counts as known although `record_pubkey` only adds it to `pubkeys`
    // after recovery (so that a refusal writes nothing).
    let mut known = known_vkeys(dir)?;
    if !known.iter().any(|k| k == vkey) {
        known.push(vkey.to_string());
    }
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
            Some(cp)
        }
    };
    let mut covered = last_checkpoint.as_ref().map_or(0, |c| c.size);
    if cut_checkpoints.is_some() && !frames.fault.as_ref().is_some_and(|f| f.1) {
        // Damage inside checkpoints.log (only --salvage gets here): the signed checkpoints after
        // it are unreadable there, so what they cover comes from the copy of the latest one; if
        // that cannot be read either, nothing tells which records are signed, and none is cut.
        covered = covered.max(latest_checkpoint_size(dir, origin, &known).ok_or_else(|| {
            corrupt(
                &cpath,
                frames.valid_len,
                "checkpoints.log is damaged and the latest checkpoint file cannot be read, so it is unknown which records are signed; restore checkpoints.log or `checkpoint` from a backup",
            )
        })?);
    }
    let mut damage = 0usize;

    // Sealed segments: headers, and with `startup_check: full` every record's CRC, framing and
    // sequence number, and contiguity with the next segment. They are never written again, not
    // even by --salvage: the tree does not need their bytes (hashes.dat has the leaf hashes).
    let mut sealed = Vec::new();
    for w in segs.windows(2) {
        let (first, path) = &w[0];
        let mut sc = match SegmentScanner::open(path) {
            Ok(sc) => Some(sc),
            Err(ScanOpenError::Io(e)) => return Err(LogError::io(path, e)),
            Err(ScanOpenError::Header { what, .. }) => {
                if !salvage {
                    return Err(corrupt(path, 0, what));
                }
                left_in_place(&mut damage, path, 0, what);
                None
            }
        };
        if let Some(sc) = sc.as_mut() {
            if sc.first_seq != *first {
                return Err(corrupt(
                    path,
                    8,
                    "segment header names another first record",
                ));
            }
            if check == StartupCheck::Full {
                if let Some((offset, what)) = scan_sealed(sc, w[1].0) {
                    if !salvage {
                        return Err(corrupt(path, offset, what));
                    }
                    left_in_place(&mut damage, path, offset, &what);
                }
            }
        }
        let meta = std::fs::metadata(path).map_err(ioe(path))?;
        sealed.push(super::SegInfo {
            first_seq: *first,
            path: path.clone(),
            bytes: meta.len(),
            sealed_at: meta.modified().unwrap_or_else(|_| SystemTime::now()),
        });
    }

    // The open (last) segment: full scan. A torn tail is cut, but never below the checkpoint.
    let hpath = dir.join(tree::HASHES_FILE);
    let mut n = pruned;
    let mut active = None;
    let mut tail_leaves: Vec<Hash> = Vec::new();
    let mut tail_first = n;
    let mut tail_plan = TailPlan::Keep;
    if let Some((first, path)) = segs.last() {
        tail_first = *first;
        n = *first;
        match SegmentScanner::open(path) {
            Err(ScanOpenError::Io(e)) => return Err(LogError::io(path, e)),
            Err(ScanOpenError::Header { what, torn }) => {
                if *first < covered {
                    return Err(corrupt(
                        path,
                        0,
                        format!("{what}; the last checkpoint (tree size {covered}) covers records of this segment, so recovery does not remove it, not even with --salvage (restore it from a backup)"),
                    ));
                }
                if !(torn || salvage) {
                    return Err(corrupt(path, 0, what));
                }
                tail_plan = TailPlan::Remove {
                    keep_copy: !torn,
                    what,
                };
            }
            Ok(mut sc) => {
                if sc.first_seq != *first {
                    return Err(corrupt(
                        path,
                        8,
                        "segment header names another first record",
                    ));
                }
                let mut stored: Option<HashFile> = None;
                let fault = loop {
                    let f = match sc.next_record().map(|r| r.map(|r| r.leaf())) {
                        Ok(Some(leaf)) => {
                            tail_leaves.push(leaf);
                            continue;
                        }
                        Ok(None) => break None,
                        Err(f) => f,
                    };
                    let seq = sc.next_seq();
                    if seq >= covered {
                        break Some(f);
                    }
                    // The last checkpoint covers this record: it is signed (and was fsynced
                    // before it was signed), so this is damage, not a torn write, and cutting
                    // it would remove signed records.
                    if sc.damaged_record_end().is_none() && matches!(f, Fault::Torn { .. }) {
                        // The file ends (or turns to zeros) before the records the
                        // checkpoint covers.
                        return Err(LogError::ShorterThanCheckpoint {
                            records: seq,
                            checkpoint: covered,
                        });
                    }
                    let what = format!(
                        "{} in record {seq}, which the last checkpoint (tree size {covered}) covers",
                        f.describe()
                    );
                    if !salvage {
                        return Err(corrupt(
                            path,
                            f.offset(),
                            format!("{what}: not a torn tail, so recovery does not cut it (restore the segment from a backup, or start with --salvage to leave the record in place and keep going)"),
                        ));
                    }
                    if sc.skip_damaged().is_none() {
                        return Err(corrupt(
                            path,
                            f.offset(),
                            format!("{what}: its length is damaged too, so not even --salvage can step over it without cutting signed records (restore the segment from a backup)"),
                        ));
                    }
                    // Its leaf hash, as written, is in hashes.dat (fsynced before any
                    // checkpoint covering it); the root check below confirms it.
                    let h = match &stored {
                        Some(h) => h,
                        None => stored.insert(HashFile::open(dir).map_err(ioe(&hpath))?),
                    };
                    let at = stored_hash_index(0, seq);
                    let leaf = h.read_hash(at).map_err(|e| {
                        corrupt(
                            &hpath,
                            at * HASH_LEN,
                            format!("leaf hash of damaged record {seq} unreadable ({e}): --salvage cannot keep it"),
                        )
                    })?;
                    tail_leaves.push(leaf);
                    left_in_place(&mut damage, path, f.offset(), &what);
                };
                let end = sc.pos();
                match fault {
                    None => {}
                    Some(Fault::Torn { offset, what }) => {
                        tail_plan = TailPlan::CutTorn {
                            offset,
                            dropped: sc.file_len() - offset,
                            what,
                        };
                    }
                    Some(Fault::Corrupt { offset, what }) => {
                        if !salvage {
                            return Err(corrupt(path, offset, what));
                        }
                        tail_plan = TailPlan::Salvage { offset, what };
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
    if covered > n {
        return Err(LogError::ShorterThanCheckpoint {
            records: n,
            checkpoint: covered,
        });
    }

    // hashes.dat: keep the prefix that segments cannot have changed, rebuild the rest (in
    // memory for now).
    let entries = match std::fs::metadata(&hpath) {
        Ok(m) => m.len() / HASH_LEN,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(LogError::io(&hpath, e)),
    };
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
    let reader = if from > 0 {
        Some(HashFile::open(dir).map_err(ioe(&hpath))?)
    } else {
        None
    };
    let mut frontier = match &reader {
        Some(r) => Frontier::load(from, r).map_err(ioe(&hpath))?,
        None => Frontier::default(),
    };
    // The root at the checkpoint's size, met on the way (or read from the kept prefix).
    let mut root_at_checkpoint = None;
    if let Some(cp) = &last_checkpoint {
        if cp.size == 0 {
            root_at_checkpoint = Some(tree::EMPTY_HASH);
        } else if cp.size <= from {
            let r = reader
                .as_ref()
                .ok_or_else(|| corrupt(&hpath, 0, "hashes.dat is missing"))?;
            root_at_checkpoint = Some(
                tlog_tiles::tree_hash(cp.size, r).map_err(|e| corrupt(&hpath, 0, e.to_string()))?,
            );
        }
    }
    let mut buf = Vec::new();
    let mut add = |leaf: Hash, buf: &mut Vec<u8>, frontier: &mut Frontier| {
        let hs = frontier.append(leaf);
        buf.extend_from_slice(&hashes_bytes(&hs));
        if let Some(cp) = &last_checkpoint {
            if cp.size == frontier.size() {
                root_at_checkpoint = Some(frontier.root());
            }
        }
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
        let lacks = |offset: u64, what: String| {
            corrupt(
                path,
                offset,
                if salvage {
                    format!("{what} (--salvage cannot leave this segment in place: hashes.dat lacks its leaf hashes)")
                } else {
                    what
                },
            )
        };
        let mut sc = SegmentScanner::open(path).map_err(|e| lacks(0, e.to_string()))?;
        loop {
            match sc.next_record() {
                Ok(Some(r)) => {
                    if r.seq >= from {
                        add(r.leaf(), &mut buf, &mut frontier);
                    }
                }
                Ok(None) => break,
                Err(f) => return Err(lacks(f.offset(), f.describe())),
            }
        }
        if sc.next_seq() != next {
            return Err(lacks(
                sc.pos(),
                "segment does not end where the next one starts".into(),
            ));
        }
    }
    for leaf in &tail_leaves[..(n - tail_first) as usize] {
        add(*leaf, &mut buf, &mut frontier);
    }
    if let Some(cp) = &last_checkpoint {
        if root_at_checkpoint != Some(cp.root) {
            return Err(LogError::CheckpointMismatch { size: cp.size });
        }
    }

    // Everything checked: now write. Each step is idempotent, so a crash in between is
    // recovered by the next start.
    for (_, path) in &stale {
        fs.remove_file(path).map_err(ioe(path))?;
    }
    if !stale.is_empty() {
        fs.sync_dir(dir).map_err(ioe(dir))?;
        tracing::info!(
            segments = stale.len(),
            "recovery finished an interrupted retention pass"
        );
    }
    if let Some((_, path)) = segs.last() {
        match tail_plan {
            TailPlan::Keep => {}
            TailPlan::CutTorn {
                offset,
                dropped,
                what,
            } => {
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
            TailPlan::Salvage { offset, what } => salvage_cut(fs, path, offset, &what)?,
            TailPlan::Remove { keep_copy, what } => {
                if keep_copy {
                    salvage_cut(fs, path, 0, what)?;
                }
                // Created by a roll that a crash interrupted: holds no record yet.
                tracing::warn!(segment = %path.display(), "removing a segment whose header never reached the disk");
                fs.remove_file(path).map_err(ioe(path))?;
                fs.sync_dir(dir).map_err(ioe(dir))?;
            }
        }
    }
    let hashes = fs.open_write(&hpath, true).map_err(ioe(&hpath))?;
    // Write first, then set the length: truncating to `keep` first would, if the process died
    // in between, lose leaf hashes that only hashes.dat holds (records a salvage left in place).
    hashes
        .write_all_at(&buf, keep)
        .and_then(|_| hashes.set_len(keep + buf.len() as u64))
        .and_then(|_| hashes.sync_data())
        .map_err(ioe(&hpath))?;
    let hash_entries = (keep + buf.len() as u64) / HASH_LEN;
    debug_assert_eq!(hash_entries, stored_hash_count(n));
    if let Some(off) = cut_checkpoints {
        match &frames.fault {
            // Damage before the end: the signed checkpoints after it are kept, for forensics.
            Some((_, false, what)) => salvage_cut(fs, &cpath, frames.valid_len, what)?,
            _ => {
                let w = fs.open_write(&cpath, false).map_err(ioe(&cpath))?;
                w.set_len(frames.valid_len)
                    .and_then(|_| w.sync_data())
                    .map_err(ioe(&cpath))?;
                tracing::warn!(
                    offset = off,
                    "recovery cut a torn last frame off checkpoints.log"
                );
            }
        }
    }
    Ok(Recovered {
        n,
        active,
        sealed,
        hashes,
        hash_entries,
        frontier,
        last_checkpoint,
        checkpoints_len,
        damage,
    })
}
