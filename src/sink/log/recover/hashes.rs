//! `hashes.dat` at recovery: how much of it stays, and the leaf hashes it lacks, rebuilt from
//! the segments.

use std::path::{Path, PathBuf};

use super::{corrupt, ioe, HashesPlan};
use crate::sink::log::checkpoint::ParsedCheckpoint;
use crate::sink::log::record::{Fault, RecordRef, SegmentScanner};
use crate::sink::log::tree::{
    self, hashes_bytes, stored_hash_count, Frontier, Hash, HashFile, HASH_LEN,
};
use crate::sink::log::walk::{walk, AfterFault, HeaderFault, ReadAs, Segment, SegmentReader};
use crate::sink::log::LogError;

/// Plans `hashes.dat`: keeps the prefix that segments cannot have changed, rebuilds the rest
/// (in memory) from the sealed segments after it and the open segment's `tail_leaves`, and
/// checks the root at the last checkpoint's size.
pub(super) fn plan_hashes(
    dir: &Path,
    segs: &[(u64, PathBuf)],
    tail_first: u64,
    tail_leaves: &[Hash],
    last_checkpoint: Option<&ParsedCheckpoint>,
    salvage: bool,
) -> Result<HashesPlan, LogError> {
    let hpath = dir.join(tree::HASHES_FILE);
    let entries = match std::fs::metadata(&hpath) {
        Ok(m) => m.len() / HASH_LEN,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(LogError::io(&hpath, e)),
    };
    let first_kept = segs.first().map(|s| s.0).unwrap_or(0);
    let from = kept_records(&hpath, entries, tail_first, first_kept)?;
    let mut tree = TreeRebuild::start(dir, from, last_checkpoint)?;
    let mut rebuild = RebuildSealed {
        from,
        salvage,
        tree: &mut tree,
    };
    walk(segs, 0..segs.len().saturating_sub(1), &mut rebuild)?;
    for leaf in tail_leaves {
        tree.add(*leaf);
    }
    if let Some(cp) = last_checkpoint {
        if tree.root_at_checkpoint != Some(cp.root) {
            return Err(LogError::CheckpointMismatch { size: cp.size });
        }
    }
    Ok(HashesPlan {
        keep: stored_hash_count(from) * HASH_LEN,
        append: tree.buf,
        frontier: tree.frontier,
    })
}

/// The number of records whose stored nodes `hashes.dat` keeps: those before the open segment
/// (`tail_first`), or, when the file lags behind the sealed segments too (power loss before its
/// fsync), the largest record count its `entries` fully cover.
fn kept_records(
    hpath: &Path,
    entries: u64,
    tail_first: u64,
    first_kept: u64,
) -> Result<u64, LogError> {
    if stored_hash_count(tail_first) <= entries {
        return Ok(tail_first);
    }
    let (mut lo, mut hi) = (0u64, tail_first);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if stored_hash_count(mid) <= entries {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    if lo < first_kept {
        return Err(corrupt(
            hpath,
            entries * HASH_LEN,
            "hashes.dat lacks leaf hashes of records whose payloads were deleted",
        ));
    }
    Ok(lo)
}

/// The tree grown from the kept prefix of `hashes.dat`: the stored nodes to append, and the
/// root at the last checkpoint's size, met on the way (or read from the kept prefix).
struct TreeRebuild {
    frontier: Frontier,
    buf: Vec<u8>,
    checkpoint_size: Option<u64>,
    root_at_checkpoint: Option<Hash>,
}

impl TreeRebuild {
    fn start(
        dir: &Path,
        from: u64,
        last_checkpoint: Option<&ParsedCheckpoint>,
    ) -> Result<TreeRebuild, LogError> {
        let hpath = dir.join(tree::HASHES_FILE);
        let reader = if from > 0 {
            Some(HashFile::open(dir).map_err(ioe(&hpath))?)
        } else {
            None
        };
        let frontier = match &reader {
            Some(r) => Frontier::load(from, r).map_err(ioe(&hpath))?,
            None => Frontier::default(),
        };
        let mut root_at_checkpoint = None;
        if let Some(cp) = last_checkpoint {
            if cp.size == 0 {
                root_at_checkpoint = Some(tree::EMPTY_HASH);
            } else if cp.size <= from {
                let r = reader
                    .as_ref()
                    .ok_or_else(|| corrupt(&hpath, 0, "hashes.dat is missing"))?;
                root_at_checkpoint = Some(
                    tlog_tiles::tree_hash(cp.size, r)
                        .map_err(|e| corrupt(&hpath, 0, e.to_string()))?,
                );
            }
        }
        Ok(TreeRebuild {
            frontier,
            buf: Vec::new(),
            checkpoint_size: last_checkpoint.map(|c| c.size),
            root_at_checkpoint,
        })
    }

    fn add(&mut self, leaf: Hash) {
        let hs = self.frontier.append(leaf);
        self.buf.extend_from_slice(&hashes_bytes(&hs));
        if self.checkpoint_size == Some(self.frontier.size()) {
            self.root_at_checkpoint = Some(self.frontier.root());
        }
    }
}

/// Leaf hashes of the records of sealed segments that `hashes.dat` lacks (from record `from`
/// on). A segment read here must be whole: `--salvage` cannot leave damage in place where
/// `hashes.dat` has no leaf hash to keep.
struct RebuildSealed<'a> {
    from: u64,
    salvage: bool,
    tree: &'a mut TreeRebuild,
}

impl RebuildSealed<'_> {
    fn lacks(&self, path: &Path, offset: u64, what: String) -> LogError {
        corrupt(
            path,
            offset,
            if self.salvage {
                format!("{what} (--salvage cannot leave this segment in place: hashes.dat lacks its leaf hashes)")
            } else {
                what
            },
        )
    }
}

impl SegmentReader for RebuildSealed<'_> {
    type Error = LogError;

    fn start(&mut self, seg: Segment<'_>) -> Result<ReadAs, LogError> {
        Ok(match seg.next_first {
            Some(next) if next <= self.from => ReadAs::Skip,
            _ => ReadAs::Records,
        })
    }

    fn bad_header(&mut self, seg: Segment<'_>, fault: HeaderFault) -> Result<(), LogError> {
        Err(self.lacks(seg.path, fault.offset(), fault.to_string()))
    }

    fn record(&mut self, _seg: Segment<'_>, r: &RecordRef<'_>) -> Result<(), LogError> {
        if r.seq >= self.from {
            self.tree.add(r.leaf());
        }
        Ok(())
    }

    fn fault(
        &mut self,
        seg: Segment<'_>,
        _sc: &mut SegmentScanner,
        fault: &Fault,
    ) -> Result<AfterFault, LogError> {
        Err(self.lacks(seg.path, fault.offset(), fault.describe()))
    }

    fn end(
        &mut self,
        seg: Segment<'_>,
        sc: &SegmentScanner,
        _stopped_at: Option<Fault>,
    ) -> Result<(), LogError> {
        if seg.next_first.is_some_and(|next| sc.next_seq() != next) {
            return Err(self.lacks(
                seg.path,
                sc.pos(),
                "segment does not end where the next one starts".into(),
            ));
        }
        Ok(())
    }
}
