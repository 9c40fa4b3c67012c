//! Recovery at open, in two steps. [`plan`] reads and checks the whole directory and decides
//! everything in a [`RecoveryPlan`]: what is valid (where the log continues), what to truncate
//! (a torn tail, a torn last checkpoint frame, segments an interrupted retention pass left),
//! what `--salvage` cuts aside or leaves in place, and how `hashes.dat` catches up with the
//! segments. Anything else is an error, returned before a byte is written: a refusal leaves
//! every file as it was. [`RecoveryPlan::apply`] then makes the planned changes.
//!
//! The checks are in [`checkpoints`] (the last checkpoint, read first: it decides what may be
//! cut), [`segments`] (the sealed segments and the open one) and [`hashes`] (the leaf hashes
//! `hashes.dat` lacks, rebuilt); the segments are read with the [walk](super::walk) `verify`
//! uses.

mod checkpoints;
mod hashes;
mod segments;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use super::checkpoint::{self, ParsedCheckpoint};
use super::io::{Fs, WFile};
use super::tree::{self, stored_hash_count, Frontier, HASH_LEN};
use super::{LogError, SegInfo, StartupCheck};
use checkpoints::LastCheckpoint;
use hashes::plan_hashes;
use segments::{check_open, check_sealed, Kept, SegmentFiles};

pub(super) struct ActiveSeg {
    pub first_seq: u64,
    pub path: PathBuf,
    pub len: u64,
    pub created: SystemTime,
}

/// The recovered log, as the sink continues it.
pub(super) struct Recovered {
    pub n: u64,
    pub active: Option<ActiveSeg>,
    pub sealed: Vec<SegInfo>,
    pub hashes: Arc<dyn WFile>,
    pub hash_entries: u64,
    pub frontier: Frontier,
    pub last_checkpoint: Option<ParsedCheckpoint>,
    pub checkpoints_len: u64,
    /// Damaged places `--salvage` left in place (each logged at ERROR).
    pub damage: usize,
}

/// Recovers the log: checks the directory into a plan, then applies it.
pub(super) fn recover(
    fs: &dyn Fs,
    dir: &Path,
    origin: &str,
    vkey: &str,
    salvage: bool,
    check: StartupCheck,
) -> Result<Recovered, LogError> {
    plan(dir, origin, vkey, salvage, check)?.apply(fs, dir)
}

/// What recovery will do, decided before anything is written.
pub(super) struct RecoveryPlan {
    // What changes, in the order `apply` changes it.
    /// Damage `--salvage` leaves in place: in a sealed segment, or in records the last
    /// checkpoint covers (their leaf hashes stay in `hashes.dat`). Only logged.
    left_in_place: Vec<Damage>,
    /// Segments below the pruned marker: retention writes the marker before it removes the
    /// segments it gave up, so a crash in between leaves them. Nothing reads their payloads
    /// again (their leaf hashes stay in `hashes.dat`): removed, not taken for damage.
    stale: Vec<PathBuf>,
    /// The open (last) segment and what happens to its end.
    tail: Option<(PathBuf, TailPlan)>,
    hashes: HashesPlan,
    /// A fault in `checkpoints.log` and how it is cut off.
    checkpoints_cut: Option<CheckpointsCut>,
    // What is valid: where the log continues.
    n: u64,
    active: Option<ActiveSeg>,
    sealed: Vec<SegInfo>,
    last_checkpoint: Option<ParsedCheckpoint>,
    /// Length of `checkpoints.log` once cut.
    checkpoints_len: u64,
}

/// A damaged place `--salvage` leaves as it is.
struct Damage {
    file: PathBuf,
    offset: u64,
    what: String,
}

/// What recovery will change in the open segment.
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

/// How `checkpoints.log` is cut at its fault.
enum CheckpointsCut {
    /// A torn last frame (a crash while appending, at `offset`): cut at `valid_len`.
    Torn { offset: u64, valid_len: u64 },
    /// Damage before the end (`--salvage` only): cut at `valid_len`; the signed checkpoints
    /// after the damage are kept aside, for forensics.
    Salvage { valid_len: u64, what: String },
}

/// `hashes.dat` brought up to date: its first `keep` bytes (which the segments cannot have
/// changed) stay, `append` follows them.
struct HashesPlan {
    keep: u64,
    append: Vec<u8>,
    /// The tree's frontier after the last record.
    frontier: Frontier,
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

/// Reads and checks everything (the last checkpoint first, because it decides what may be
/// cut) and decides what recovery changes. Writes nothing.
fn plan(
    dir: &Path,
    origin: &str,
    vkey: &str,
    salvage: bool,
    check: StartupCheck,
) -> Result<RecoveryPlan, LogError> {
    let files = SegmentFiles::read(dir, salvage)?;
    let segs = &files.live;
    let cps = LastCheckpoint::read(dir, origin, vkey, salvage)?;
    let mut left_in_place = Vec::new();
    let full = check == StartupCheck::Full;
    let mut sealed = check_sealed(segs, full, salvage, &mut left_in_place)?;
    let open = check_open(
        dir,
        segs,
        files.pruned,
        cps.covered,
        salvage,
        &mut left_in_place,
    )?;
    if cps.covered > open.n {
        return Err(LogError::ShorterThanCheckpoint {
            records: open.n,
            checkpoint: cps.covered,
        });
    }
    let active = match open.kept {
        Some(Kept::Active(a)) => Some(a),
        Some(Kept::Sealed(s)) => {
            sealed.push(s);
            None
        }
        None => None,
    };
    let hashes = plan_hashes(
        dir,
        segs,
        open.first,
        &open.leaves,
        cps.last.as_ref(),
        salvage,
    )?;
    Ok(RecoveryPlan {
        left_in_place,
        stale: files.stale,
        tail: segs.last().map(|(_, p)| (p.clone(), open.tail)),
        hashes,
        checkpoints_cut: cps.cut,
        n: open.n,
        active,
        sealed,
        last_checkpoint: cps.last,
        checkpoints_len: cps.len,
    })
}

impl RecoveryPlan {
    /// Makes the planned changes. Each step is idempotent, so a crash in between is recovered
    /// by the next start.
    fn apply(self, fs: &dyn Fs, dir: &Path) -> Result<Recovered, LogError> {
        for d in &self.left_in_place {
            tracing::error!(
                file = %d.file.display(),
                offset = d.offset,
                problem = d.what.as_str(),
                "salvage: damage in a sealed segment or in checkpointed records is left in place, not cut (the tree keeps their leaf hashes from hashes.dat; `spanward verify` reports it until the segment is restored from a backup)"
            );
        }
        remove_stale(fs, dir, &self.stale)?;
        if let Some((path, tail)) = &self.tail {
            tail.apply(fs, dir, path)?;
        }
        let (hashes, hash_entries) = self.hashes.apply(fs, dir)?;
        debug_assert_eq!(hash_entries, stored_hash_count(self.n));
        if let Some(cut) = &self.checkpoints_cut {
            cut.apply(fs, dir)?;
        }
        Ok(Recovered {
            n: self.n,
            active: self.active,
            sealed: self.sealed,
            hashes,
            hash_entries,
            frontier: self.hashes.frontier,
            last_checkpoint: self.last_checkpoint,
            checkpoints_len: self.checkpoints_len,
            damage: self.left_in_place.len(),
        })
    }
}

fn remove_stale(fs: &dyn Fs, dir: &Path, stale: &[PathBuf]) -> Result<(), LogError> {
    for path in stale {
        fs.remove_file(path).map_err(ioe(path))?;
    }
    if !stale.is_empty() {
        fs.sync_dir(dir).map_err(ioe(dir))?;
        tracing::info!(
            segments = stale.len(),
            "recovery finished an interrupted retention pass"
        );
    }
    Ok(())
}

impl TailPlan {
    fn apply(&self, fs: &dyn Fs, dir: &Path, path: &Path) -> Result<(), LogError> {
        match self {
            TailPlan::Keep => {}
            TailPlan::CutTorn {
                offset,
                dropped,
                what,
            } => {
                let w = fs.open_write(path, false).map_err(ioe(path))?;
                w.set_len(*offset)
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
            TailPlan::Salvage { offset, what } => salvage_cut(fs, path, *offset, what)?,
            TailPlan::Remove { keep_copy, what } => {
                if *keep_copy {
                    salvage_cut(fs, path, 0, what)?;
                }
                // Created by a roll that a crash interrupted: holds no record yet.
                tracing::warn!(segment = %path.display(), "removing a segment whose header never reached the disk");
                fs.remove_file(path).map_err(ioe(path))?;
                fs.sync_dir(dir).map_err(ioe(dir))?;
            }
        }
        Ok(())
    }
}

impl HashesPlan {
    /// Writes the rebuilt nodes; returns the file and its number of stored nodes.
    fn apply(&self, fs: &dyn Fs, dir: &Path) -> Result<(Arc<dyn WFile>, u64), LogError> {
        let hpath = dir.join(tree::HASHES_FILE);
        let hashes = fs.open_write(&hpath, true).map_err(ioe(&hpath))?;
        // Write first, then set the length: truncating to `keep` first would, if the process
        // died in between, lose leaf hashes that only hashes.dat holds (records a salvage left
        // in place).
        let len = self.keep + self.append.len() as u64;
        hashes
            .write_all_at(&self.append, self.keep)
            .and_then(|_| hashes.set_len(len))
            .and_then(|_| hashes.sync_data())
            .map_err(ioe(&hpath))?;
        Ok((hashes, len / HASH_LEN))
    }
}

impl CheckpointsCut {
    fn apply(&self, fs: &dyn Fs, dir: &Path) -> Result<(), LogError> {
        let cpath = checkpoint::checkpoints_path(dir);
        match self {
            CheckpointsCut::Salvage { valid_len, what } => {
                salvage_cut(fs, &cpath, *valid_len, what)
            }
            CheckpointsCut::Torn { offset, valid_len } => {
                let w = fs.open_write(&cpath, false).map_err(ioe(&cpath))?;
                w.set_len(*valid_len)
                    .and_then(|_| w.sync_data())
                    .map_err(ioe(&cpath))?;
                tracing::warn!(offset, "recovery cut a torn last frame off checkpoints.log");
                Ok(())
            }
        }
    }
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
