//! The segments, as recovery reads them: which files there are, the sealed segments' check and
//! the open segment's check, both through the shared [walk](crate::sink::log::walk).

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::{corrupt, ioe, ActiveSeg, Damage, TailPlan};
use crate::sink::log::files::read_pruned;
use crate::sink::log::record::{list_segments, Fault, RecordRef, SegmentScanner};
use crate::sink::log::tree::{self, stored_hash_index, Hash, HashFile, ReadHashes, HASH_LEN};
use crate::sink::log::walk::{walk, AfterFault, HeaderFault, ReadAs, Segment, SegmentReader};
use crate::sink::log::{LogError, SegInfo};

/// The segment files: the live ones, and those an interrupted retention pass left below the
/// pruned marker.
pub(super) struct SegmentFiles {
    pub(super) pruned: u64,
    pub(super) stale: Vec<PathBuf>,
    pub(super) live: Vec<(u64, PathBuf)>,
}

impl SegmentFiles {
    pub(super) fn read(dir: &Path, salvage: bool) -> Result<SegmentFiles, LogError> {
        let pruned = read_pruned(dir)?;
        let (stale, live): (Vec<_>, Vec<_>) = list_segments(dir)
            .map_err(ioe(dir))?
            .into_iter()
            .partition(|(first, _)| *first < pruned);
        if let Some((first, p)) = live.first() {
            if *first != pruned && !salvage {
                return Err(corrupt(
                    p,
                    0,
                    format!("segments holding records {pruned}..{first} are missing"),
                ));
            }
        }
        Ok(SegmentFiles {
            pruned,
            stale: stale.into_iter().map(|(_, p)| p).collect(),
            live,
        })
    }
}

/// Checks the sealed segments (all but the last): headers, and with `startup_check: full`
/// every record's CRC, framing and sequence number, and contiguity with the next segment (no
/// hashing). They are never written again, not even by `--salvage`: the tree does not need
/// their bytes (`hashes.dat` has the leaf hashes). Returns them for retention; damage
/// `--salvage` leaves in place goes to `damage`.
pub(super) fn check_sealed(
    segs: &[(u64, PathBuf)],
    full: bool,
    salvage: bool,
    damage: &mut Vec<Damage>,
) -> Result<Vec<SegInfo>, LogError> {
    let mut check = SealedCheck {
        full,
        salvage,
        damage,
        sealed: Vec::new(),
    };
    walk(segs, 0..segs.len().saturating_sub(1), &mut check)?;
    Ok(check.sealed)
}

struct SealedCheck<'a> {
    full: bool,
    salvage: bool,
    damage: &'a mut Vec<Damage>,
    sealed: Vec<SegInfo>,
}

impl SealedCheck<'_> {
    /// Damage in a sealed segment: a crash cannot explain it (the segment was fsynced before
    /// the next one existed). Refused, or with `--salvage` left in place.
    fn damaged(&mut self, file: &Path, offset: u64, what: String) -> Result<(), LogError> {
        if !self.salvage {
            return Err(corrupt(file, offset, what));
        }
        self.damage.push(Damage {
            file: file.to_path_buf(),
            offset,
            what,
        });
        Ok(())
    }

    fn push(&mut self, seg: Segment<'_>) -> Result<(), LogError> {
        let meta = std::fs::metadata(seg.path).map_err(ioe(seg.path))?;
        self.sealed.push(SegInfo {
            first_seq: seg.first,
            path: seg.path.to_path_buf(),
            bytes: meta.len(),
            sealed_at: meta.modified().unwrap_or_else(|_| SystemTime::now()),
        });
        Ok(())
    }
}

impl SegmentReader for SealedCheck<'_> {
    type Error = LogError;

    fn start(&mut self, _seg: Segment<'_>) -> Result<ReadAs, LogError> {
        Ok(if self.full {
            ReadAs::Records
        } else {
            ReadAs::Header
        })
    }

    fn bad_header(&mut self, seg: Segment<'_>, fault: HeaderFault) -> Result<(), LogError> {
        match fault {
            HeaderFault::Io(e) => return Err(LogError::io(seg.path, e)),
            HeaderFault::WrongFirst => return Err(corrupt(seg.path, 8, fault.to_string())),
            HeaderFault::Damaged { what, .. } => self.damaged(seg.path, 0, what.into())?,
        }
        self.push(seg)
    }

    fn fault(
        &mut self,
        seg: Segment<'_>,
        _sc: &mut SegmentScanner,
        fault: &Fault,
    ) -> Result<AfterFault, LogError> {
        // Torn-looking or not: nothing a crash does explains a fault in a sealed segment.
        let what = format!("{} in a sealed segment", fault.describe());
        self.damaged(seg.path, fault.offset(), what)?;
        Ok(AfterFault::Stop)
    }

    fn end(
        &mut self,
        seg: Segment<'_>,
        sc: &SegmentScanner,
        stopped_at: Option<Fault>,
    ) -> Result<(), LogError> {
        if let Some(next_first) = seg.next_first {
            if self.full && stopped_at.is_none() && sc.next_seq() != next_first {
                let what = format!(
                    "sealed segment would continue at record {}, but the next segment starts at record {next_first} (records missing or extra)",
                    sc.next_seq()
                );
                self.damaged(seg.path, sc.pos(), what)?;
            }
        }
        self.push(seg)
    }
}

/// How the sink keeps the open segment.
pub(super) enum Kept {
    /// Appends go on in it.
    Active(ActiveSeg),
    /// It was sealed (made read-only) by a roll that a crash interrupted before the next
    /// segment existed.
    Sealed(SegInfo),
}

/// The open segment, as checked.
pub(super) struct OpenSegment {
    /// Its first record (the pruned marker when there is no segment).
    pub first: u64,
    /// Where the log continues.
    pub n: u64,
    /// Leaf hashes of its records from `first` to `n`.
    pub leaves: Vec<Hash>,
    /// What happens to its end.
    pub tail: TailPlan,
    /// How the sink keeps it (`None`: it is removed, or there is no segment).
    pub kept: Option<Kept>,
}

/// Checks the open (last) segment, every record with its leaf hash. A torn tail is cut, but
/// never below the last checkpoint (`covered` records): damage in records it covers is refused,
/// or with `--salvage` left in place (in `damage`).
pub(super) fn check_open(
    dir: &Path,
    segs: &[(u64, PathBuf)],
    pruned: u64,
    covered: u64,
    salvage: bool,
    damage: &mut Vec<Damage>,
) -> Result<OpenSegment, LogError> {
    let mut check = OpenCheck {
        dir,
        covered,
        salvage,
        damage,
        stored: None,
        out: OpenSegment {
            first: pruned,
            n: pruned,
            leaves: Vec::new(),
            tail: TailPlan::Keep,
            kept: None,
        },
    };
    walk(segs, segs.len().saturating_sub(1)..segs.len(), &mut check)?;
    Ok(check.out)
}

struct OpenCheck<'a> {
    dir: &'a Path,
    covered: u64,
    salvage: bool,
    damage: &'a mut Vec<Damage>,
    /// `hashes.dat`, opened for the first damaged record whose stored leaf hash is needed.
    stored: Option<HashFile>,
    out: OpenSegment,
}

impl OpenCheck<'_> {
    /// The leaf hash of damaged record `seq`, as written: `hashes.dat` has it (fsynced before
    /// any checkpoint covering it); the root check confirms it.
    fn stored_leaf(&mut self, seq: u64) -> Result<Hash, LogError> {
        let hpath = self.dir.join(tree::HASHES_FILE);
        let h = match &self.stored {
            Some(h) => h,
            None => self
                .stored
                .insert(HashFile::open(self.dir).map_err(ioe(&hpath))?),
        };
        let at = stored_hash_index(0, seq);
        h.read_hash(at).map_err(|e| {
            corrupt(
                &hpath,
                at * HASH_LEN,
                format!(
                    "leaf hash of damaged record {seq} unreadable ({e}): --salvage cannot keep it"
                ),
            )
        })
    }
}

impl SegmentReader for OpenCheck<'_> {
    type Error = LogError;

    fn start(&mut self, seg: Segment<'_>) -> Result<ReadAs, LogError> {
        self.out.first = seg.first;
        self.out.n = seg.first;
        Ok(ReadAs::Records)
    }

    fn bad_header(&mut self, seg: Segment<'_>, fault: HeaderFault) -> Result<(), LogError> {
        let (what, torn) = match fault {
            HeaderFault::Io(e) => return Err(LogError::io(seg.path, e)),
            HeaderFault::WrongFirst => return Err(corrupt(seg.path, 8, fault.to_string())),
            HeaderFault::Damaged { what, torn } => (what, torn),
        };
        if seg.first < self.covered {
            return Err(corrupt(
                seg.path,
                0,
                format!("{what}; the last checkpoint (tree size {}) covers records of this segment, so recovery does not remove it, not even with --salvage (restore it from a backup)", self.covered),
            ));
        }
        if !(torn || self.salvage) {
            return Err(corrupt(seg.path, 0, what));
        }
        self.out.tail = TailPlan::Remove {
            keep_copy: !torn,
            what,
        };
        Ok(())
    }

    fn record(&mut self, _seg: Segment<'_>, r: &RecordRef<'_>) -> Result<(), LogError> {
        self.out.leaves.push(r.leaf());
        Ok(())
    }

    fn fault(
        &mut self,
        seg: Segment<'_>,
        sc: &mut SegmentScanner,
        fault: &Fault,
    ) -> Result<AfterFault, LogError> {
        let seq = sc.next_seq();
        if seq >= self.covered {
            // After the last checkpoint: `end` decides between a torn tail and damage.
            return Ok(AfterFault::Stop);
        }
        // The last checkpoint covers this record: it is signed (and was fsynced before it was
        // signed), so this is damage, not a torn write, and cutting it would remove signed
        // records.
        let covered = self.covered;
        if sc.damaged_record_end().is_none() && matches!(fault, Fault::Torn { .. }) {
            // The file ends (or turns to zeros) before the records the checkpoint covers.
            return Err(LogError::ShorterThanCheckpoint {
                records: seq,
                checkpoint: covered,
            });
        }
        let what = format!(
            "{} in record {seq}, which the last checkpoint (tree size {covered}) covers",
            fault.describe()
        );
        if !self.salvage {
            return Err(corrupt(
                seg.path,
                fault.offset(),
                format!("{what}: not a torn tail, so recovery does not cut it (restore the segment from a backup, or start with --salvage to leave the record in place and keep going)"),
            ));
        }
        if sc.skip_damaged().is_none() {
            return Err(corrupt(
                seg.path,
                fault.offset(),
                format!("{what}: its length is damaged too, so not even --salvage can step over it without cutting signed records (restore the segment from a backup)"),
            ));
        }
        let leaf = self.stored_leaf(seq)?;
        self.out.leaves.push(leaf);
        self.damage.push(Damage {
            file: seg.path.to_path_buf(),
            offset: fault.offset(),
            what,
        });
        Ok(AfterFault::Continue)
    }

    fn end(
        &mut self,
        seg: Segment<'_>,
        sc: &SegmentScanner,
        stopped_at: Option<Fault>,
    ) -> Result<(), LogError> {
        let end = sc.pos();
        self.out.tail = match stopped_at {
            None => TailPlan::Keep,
            Some(Fault::Torn { offset, what }) => TailPlan::CutTorn {
                offset,
                dropped: sc.file_len() - offset,
                what,
            },
            Some(Fault::Corrupt { offset, what }) => {
                if !self.salvage {
                    return Err(corrupt(seg.path, offset, what));
                }
                TailPlan::Salvage { offset, what }
            }
        };
        self.out.n = sc.next_seq();
        let created = SystemTime::UNIX_EPOCH + std::time::Duration::from_millis(sc.created_ms);
        self.out.kept = Some(if is_readonly(seg.path) {
            let meta = std::fs::metadata(seg.path).map_err(ioe(seg.path))?;
            Kept::Sealed(SegInfo {
                first_seq: seg.first,
                path: seg.path.to_path_buf(),
                bytes: end,
                sealed_at: meta.modified().unwrap_or_else(|_| SystemTime::now()),
            })
        } else {
            Kept::Active(ActiveSeg {
                first_seq: seg.first,
                path: seg.path.to_path_buf(),
                len: end,
                created,
            })
        });
        Ok(())
    }
}

fn is_readonly(p: &Path) -> bool {
    std::fs::metadata(p)
        .map(|m| m.permissions().readonly())
        .unwrap_or(false)
}
