//! Offline checks and reads of a log directory: `verify` (every CRC, leaf, stored node, root and
//! checkpoint signature), `prove` / `verify_proof` (RFC 9162 inclusion proofs against the latest
//! signed checkpoint) and `cat` (records as OTLP JSON, each in its signal's). All read-only.

use std::io::{BufReader, Read, Write};
use std::path::{Path, PathBuf};

use base64::prelude::*;
use serde::{Deserialize, Serialize};

use super::checkpoint::{self, ParsedCheckpoint};
use super::files::{known_vkeys, read_pruned};
use super::kind::Request;
use super::record::{list_segments, Fault, RecordRef, SegmentScanner};
use super::tree::{self, stored_hash_count, stored_hash_index, Frontier, HashFile, ReadHashes};
use super::walk::{walk, AfterFault, HeaderFault, ReadAs, Segment, SegmentReader};
use crate::vocab::Signal;
use tlog_tiles::Hash;

/// The first problem found, with the file and byte offset where it is.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{} at byte offset {offset}: {what}", file.display())]
pub struct VerifyFailure {
    pub file: PathBuf,
    pub offset: u64,
    pub what: String,
}

fn fail(file: &Path, offset: u64, what: impl Into<String>) -> VerifyFailure {
    VerifyFailure {
        file: file.to_path_buf(),
        offset,
        what: what.into(),
    }
}

/// Totals of a log that verified.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VerifyReport {
    /// Tree size: every record ever appended.
    pub tree_size: u64,
    /// Records whose payload is still present (the rest were removed by retention).
    pub records: u64,
    pub pruned_records: u64,
    /// Items of the records present, per signal (see [`super::kind`]).
    pub spans: u64,
    pub log_records: u64,
    pub metric_points: u64,
    /// Records holding log batches and metric batches (the rest of `records` are trace
    /// batches, or undecodable).
    pub log_batches: u64,
    pub metric_batches: u64,
    /// Bytes of segment files.
    pub bytes: u64,
    pub segments: u64,
    pub checkpoints: u64,
    /// Size covered by the last checkpoint; records after it are not signed yet.
    pub last_checkpoint_size: u64,
    /// Payloads that are no OTLP export request of a known record kind (not an integrity
    /// problem: the leaf hash covers whatever bytes the record holds).
    pub undecodable_payloads: u64,
    pub root: String,
}

/// Span count of a stored payload: `None` if it is not a trace request that decodes.
pub fn count_spans(payload: &[u8]) -> Option<u64> {
    match Request::decode(payload).ok()? {
        r @ Request::Traces(_) => Some(r.items()),
        _ => None,
    }
}

fn load_checkpoints(
    dir: &Path,
    vkeys: &[String],
) -> Result<Vec<(u64, ParsedCheckpoint)>, VerifyFailure> {
    let cpath = checkpoint::checkpoints_path(dir);
    let frames = checkpoint::read_frames(dir).map_err(|e| fail(&cpath, 0, e.to_string()))?;
    if let Some((off, _, what)) = &frames.fault {
        return Err(fail(&cpath, *off, what.clone()));
    }
    let mut out: Vec<(u64, ParsedCheckpoint)> = Vec::new();
    for (off, note) in &frames.frames {
        let cp = checkpoint::parse_checkpoint(note, Some(vkeys))
            .map_err(|e| fail(&cpath, *off, e.to_string()))?;
        if let Some((_, prev)) = out.last() {
            if cp.origin != prev.origin {
                return Err(fail(&cpath, *off, "checkpoint names another origin"));
            }
            if cp.size < prev.size {
                return Err(fail(
                    &cpath,
                    *off,
                    format!(
                        "checkpoint size {} is below the previous one's {}",
                        cp.size, prev.size
                    ),
                ));
            }
            if cp.size == prev.size && cp.root != prev.root {
                return Err(fail(&cpath, *off, "two checkpoints of one size disagree"));
            }
        }
        out.push((*off, cp));
    }
    let latest = dir.join(checkpoint::LATEST_CHECKPOINT_FILE);
    if let Ok(text) = std::fs::read(&latest) {
        match out.last() {
            Some((_, cp)) if cp.note == text => {}
            _ => {
                return Err(fail(
                    &latest,
                    0,
                    "latest-checkpoint file differs from the last entry of checkpoints.log",
                ))
            }
        }
    }
    Ok(out)
}

/// Checks everything: segment headers and contiguity, every record's CRC and sequence number,
/// every leaf and stored node against `hashes.dat`, the root at every checkpoint, and every
/// checkpoint's signature (against `vkeys`, or the directory's `pubkeys` when `None`).
/// `progress(done_bytes, total_bytes)` is called as segments are read.
pub fn verify_dir(
    dir: &Path,
    vkeys: Option<&[String]>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<VerifyReport, VerifyFailure> {
    let keys_owned;
    let vkeys = match vkeys {
        Some(k) => k,
        None => {
            keys_owned = known_vkeys(dir)
                .map_err(|e| fail(&dir.join(checkpoint::PUBKEYS_FILE), 0, e.to_string()))?;
            &keys_owned
        }
    };
    let cps = load_checkpoints(dir, vkeys)?;
    let pruned = read_pruned(dir).map_err(|e| fail(dir, 0, e.to_string()))?;
    let segs = list_segments(dir).map_err(|e| fail(dir, 0, e.to_string()))?;
    let mut tree = TreeCheck::open(dir, &cps)?;
    let total: u64 = segs
        .iter()
        .filter_map(|(_, p)| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum();
    tree.empty_checkpoints()?;
    // Records whose payloads retention removed: their leaves come from hashes.dat.
    for seq in 0..pruned {
        let leaf = tree.stored_leaf(seq)?;
        tree.step(leaf, None)?;
    }
    let mut reader = VerifyReader {
        tree,
        rep: VerifyReport {
            checkpoints: cps.len() as u64,
            segments: segs.len() as u64,
            pruned_records: pruned,
            ..VerifyReport::default()
        },
        expected: pruned,
        done_bytes: 0,
        total,
        progress,
    };
    walk(&segs, 0..segs.len(), &mut reader)?;
    let VerifyReader { tree, mut rep, .. } = reader;
    let (size, root) = tree.finish()?;
    rep.tree_size = size;
    rep.root = root.to_string();
    rep.last_checkpoint_size = cps.last().map(|(_, c)| c.size).unwrap_or(0);
    Ok(rep)
}

/// Recomputes the tree leaf by leaf and holds it against `hashes.dat` (read in order) and the
/// signed checkpoints.
struct TreeCheck<'a> {
    frontier: Frontier,
    hpath: PathBuf,
    hfile: HashFile,
    /// `hashes.dat` read in order, at node `hpos`.
    hseq: BufReader<std::fs::File>,
    hpos: u64,
    cpath: PathBuf,
    cps: &'a [(u64, ParsedCheckpoint)],
    /// The first checkpoint not reached yet.
    next_cp: usize,
}

impl<'a> TreeCheck<'a> {
    fn open(dir: &Path, cps: &'a [(u64, ParsedCheckpoint)]) -> Result<Self, VerifyFailure> {
        let hpath = dir.join(tree::HASHES_FILE);
        let hfile = HashFile::open(dir).map_err(|e| fail(&hpath, 0, e.to_string()))?;
        let hseq = BufReader::with_capacity(
            1 << 20,
            std::fs::File::open(&hpath).map_err(|e| fail(&hpath, 0, e.to_string()))?,
        );
        Ok(TreeCheck {
            frontier: Frontier::default(),
            hpath,
            hfile,
            hseq,
            hpos: 0,
            cpath: checkpoint::checkpoints_path(dir),
            cps,
            next_cp: 0,
        })
    }

    /// The checkpoints of the empty tree, before any record.
    fn empty_checkpoints(&mut self) -> Result<(), VerifyFailure> {
        while let Some((off, cp)) = self.cps.get(self.next_cp) {
            if cp.size != 0 {
                break;
            }
            if cp.root != tree::EMPTY_HASH {
                return Err(fail(
                    &self.cpath,
                    *off,
                    "empty-tree checkpoint has a non-empty root",
                ));
            }
            self.next_cp += 1;
        }
        Ok(())
    }

    /// The leaf hash of record `seq` as `hashes.dat` stores it.
    fn stored_leaf(&self, seq: u64) -> Result<Hash, VerifyFailure> {
        let at = stored_hash_index(0, seq);
        self.hfile
            .read_hash(at)
            .map_err(|_| fail(&self.hpath, at * 32, "missing leaf hash"))
    }

    /// Adds the next leaf (of the record at `at`, when its payload is there): compares the
    /// stored nodes it creates with `hashes.dat`, then checks the checkpoints it completes.
    fn step(&mut self, leaf: Hash, at: Option<(&Path, u64)>) -> Result<(), VerifyFailure> {
        let hs = self.frontier.append(leaf);
        for (i, h) in hs.iter().enumerate() {
            self.compare_stored(h, if i == 0 { at } else { None })?;
        }
        self.checkpoints_due()
    }

    /// Compares one computed node with the next one of `hashes.dat`; `leaf_of` names the
    /// record when the node is its leaf.
    fn compare_stored(
        &mut self,
        h: &Hash,
        leaf_of: Option<(&Path, u64)>,
    ) -> Result<(), VerifyFailure> {
        let mut b = [0u8; 32];
        self.hseq.read_exact(&mut b).map_err(|_| {
            fail(
                &self.hpath,
                self.hpos * tree::HASH_LEN,
                "hashes.dat ends before the log does (start the service once to rebuild it)",
            )
        })?;
        if b != h.0 {
            return Err(match leaf_of {
                Some((p, off)) => fail(
                    p,
                    off,
                    "record differs from the leaf hash recorded when it was written",
                ),
                None => fail(
                    &self.hpath,
                    self.hpos * tree::HASH_LEN,
                    "stored tree node differs from the recomputed one",
                ),
            });
        }
        self.hpos += 1;
        Ok(())
    }

    /// Checks the roots of the checkpoints whose size the tree has reached.
    fn checkpoints_due(&mut self) -> Result<(), VerifyFailure> {
        while let Some((off, cp)) = self.cps.get(self.next_cp) {
            if cp.size != self.frontier.size() {
                break;
            }
            if cp.root != self.frontier.root() {
                return Err(fail(
                    &self.cpath,
                    *off,
                    format!(
                        "root of the first {} records differs from this signed checkpoint's",
                        cp.size
                    ),
                ));
            }
            self.next_cp += 1;
        }
        Ok(())
    }

    /// After the last record: no checkpoint left unreached, and `hashes.dat` holds exactly the
    /// nodes of the tree. Returns the tree's size and root.
    fn finish(self) -> Result<(u64, Hash), VerifyFailure> {
        if let Some((off, cp)) = self.cps.get(self.next_cp) {
            return Err(fail(
                &self.cpath,
                *off,
                format!(
                    "checkpoint covers {} records but the log holds {} (records removed below a checkpoint)",
                    cp.size,
                    self.frontier.size()
                ),
            ));
        }
        let want = stored_hash_count(self.frontier.size());
        let have = self
            .hfile
            .entries()
            .map_err(|e| fail(&self.hpath, 0, e.to_string()))?;
        if have != want {
            return Err(fail(
                &self.hpath,
                want * tree::HASH_LEN,
                format!("hashes.dat holds {have} nodes where the log needs {want}"),
            ));
        }
        Ok((self.frontier.size(), self.frontier.root()))
    }
}

/// `verify_dir`'s reader of the segment walk: every record counted and added to the tree,
/// the first problem is the answer.
struct VerifyReader<'a, 'p> {
    tree: TreeCheck<'a>,
    rep: VerifyReport,
    /// The record the next segment must start at.
    expected: u64,
    done_bytes: u64,
    total: u64,
    progress: &'p mut dyn FnMut(u64, u64),
}

impl SegmentReader for VerifyReader<'_, '_> {
    type Error = VerifyFailure;

    fn start(&mut self, seg: Segment<'_>) -> Result<ReadAs, VerifyFailure> {
        if seg.first != self.expected {
            return Err(fail(
                seg.path,
                0,
                format!("segment starts at record {} but the log continues at {} (segment missing or extra)", seg.first, self.expected),
            ));
        }
        Ok(ReadAs::Records)
    }

    fn bad_header(&mut self, seg: Segment<'_>, fault: HeaderFault) -> Result<(), VerifyFailure> {
        Err(fail(seg.path, fault.offset(), fault.to_string()))
    }

    fn record(&mut self, seg: Segment<'_>, r: &RecordRef<'_>) -> Result<(), VerifyFailure> {
        self.rep.records += 1;
        match Request::decode(r.payload) {
            Ok(req @ Request::Traces(_)) => self.rep.spans += req.items(),
            Ok(req @ Request::Logs(_)) => {
                self.rep.log_batches += 1;
                self.rep.log_records += req.items();
            }
            Ok(req @ Request::Metrics(_)) => {
                self.rep.metric_batches += 1;
                self.rep.metric_points += req.items();
            }
            Err(_) => self.rep.undecodable_payloads += 1,
        }
        self.tree.step(r.leaf(), Some((seg.path, r.offset)))?;
        if self.rep.records.is_multiple_of(4096) {
            (self.progress)(self.done_bytes + r.offset + r.raw.len() as u64, self.total);
        }
        Ok(())
    }

    fn fault(
        &mut self,
        seg: Segment<'_>,
        _sc: &mut SegmentScanner,
        fault: &Fault,
    ) -> Result<AfterFault, VerifyFailure> {
        Err(fail(seg.path, fault.offset(), fault.describe()))
    }

    fn end(
        &mut self,
        _seg: Segment<'_>,
        sc: &SegmentScanner,
        _stopped_at: Option<Fault>,
    ) -> Result<(), VerifyFailure> {
        self.expected = sc.next_seq();
        self.done_bytes += sc.file_len();
        self.rep.bytes += sc.file_len();
        (self.progress)(self.done_bytes, self.total);
        Ok(())
    }
}

/// An inclusion proof of one record, as `spanward prove` prints it (JSON).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct InclusionProof {
    pub seq: u64,
    pub tree_size: u64,
    /// Base64 of `SHA-256(0x00 ‖ record)`.
    pub leaf_hash: String,
    /// Base64 audit path, bottom-up (RFC 9162 §2.1.3).
    pub proof: Vec<String>,
    /// The signed checkpoint (C2SP note) the proof leads to.
    pub checkpoint: String,
}

/// Proves record `seq` against the latest checkpoint.
/// Why `prove` gave no proof: the record is past what the latest checkpoint covers (not damage),
/// or the log failed a check.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProveError {
    #[error(
        "{dir}: no record {seq}: the latest checkpoint covers {size} records (0..={last}); records \
         appended since become provable at the next checkpoint"
    , last = size.saturating_sub(1), dir = dir.display())]
    PastEnd { dir: PathBuf, seq: u64, size: u64 },
    #[error("{dir}: no checkpoint yet, so no record can be proved", dir = dir.display())]
    NoCheckpoint { dir: PathBuf },
    #[error(transparent)]
    Failure(#[from] VerifyFailure),
}

pub fn prove(dir: &Path, seq: u64) -> Result<InclusionProof, ProveError> {
    let cpath = checkpoint::checkpoints_path(dir);
    let frames = checkpoint::read_frames(dir).map_err(|e| fail(&cpath, 0, e.to_string()))?;
    let (off, note) = frames
        .frames
        .last()
        .ok_or_else(|| ProveError::NoCheckpoint {
            dir: dir.to_path_buf(),
        })?;
    let cp =
        checkpoint::parse_checkpoint(note, None).map_err(|e| fail(&cpath, *off, e.to_string()))?;
    if seq >= cp.size {
        return Err(ProveError::PastEnd {
            dir: dir.to_path_buf(),
            seq,
            size: cp.size,
        });
    }
    let hpath = dir.join(tree::HASHES_FILE);
    let hfile = HashFile::open(dir).map_err(|e| fail(&hpath, 0, e.to_string()))?;
    let leaf = hfile
        .read_hash(stored_hash_index(0, seq))
        .map_err(|e| fail(&hpath, stored_hash_index(0, seq) * 32, e.to_string()))?;
    // When the payload is still there, the proof must be of the record as stored.
    if let Some((path, off, actual)) = find_record_leaf(dir, seq)? {
        if actual != leaf {
            return Err(fail(
                &path,
                off,
                "record differs from the leaf hash recorded when it was written",
            )
            .into());
        }
    }
    let proof = tlog_tiles::prove_record(cp.size, seq, &hfile)
        .map_err(|e| fail(&hpath, 0, e.to_string()))?;
    let p = InclusionProof {
        seq,
        tree_size: cp.size,
        leaf_hash: leaf.to_string(),
        proof: proof.iter().map(|h| h.to_string()).collect(),
        checkpoint: String::from_utf8_lossy(note).into_owned(),
    };
    // Never hand out a proof that does not check.
    verify_proof(&p, None).map_err(|e| fail(&hpath, 0, e))?;
    Ok(p)
}

fn find_record_leaf(dir: &Path, seq: u64) -> Result<Option<(PathBuf, u64, Hash)>, VerifyFailure> {
    let segs = list_segments(dir).map_err(|e| fail(dir, 0, e.to_string()))?;
    let Some((_, path)) = segs.iter().rev().find(|(first, _)| *first <= seq) else {
        return Ok(None);
    };
    let mut sc = SegmentScanner::open(path).map_err(|e| fail(path, 0, e.to_string()))?;
    loop {
        match sc.next_record() {
            Ok(Some(r)) if r.seq == seq => return Ok(Some((path.clone(), r.offset, r.leaf()))),
            Ok(Some(_)) => {}
            Ok(None) => return Ok(None),
            Err(f) => return Err(fail(path, f.offset(), f.describe())),
        }
    }
}

fn parse_b64_hash(s: &str) -> Result<Hash, String> {
    let b = BASE64_STANDARD
        .decode(s.trim())
        .map_err(|_| format!("{s:?} is not base64"))?;
    let a: [u8; 32] = b
        .try_into()
        .map_err(|_| "a hash must be 32 bytes".to_string())?;
    Ok(Hash(a))
}

/// Checks an inclusion proof: the checkpoint parses (and, with `vkeys`, carries a valid
/// signature by one of them), its size and root are the proof's, and the audit path leads from
/// the leaf to that root.
pub fn verify_proof(p: &InclusionProof, vkeys: Option<&[String]>) -> Result<(), String> {
    let cp =
        checkpoint::parse_checkpoint(p.checkpoint.as_bytes(), vkeys).map_err(|e| e.to_string())?;
    if cp.size != p.tree_size {
        return Err(format!(
            "proof is for tree size {} but the checkpoint has {}",
            p.tree_size, cp.size
        ));
    }
    let leaf = parse_b64_hash(&p.leaf_hash)?;
    let path = p
        .proof
        .iter()
        .map(|s| parse_b64_hash(s))
        .collect::<Result<Vec<_>, _>>()?;
    tlog_tiles::check_record(&path, cp.size, cp.root, p.seq, leaf)
        .map_err(|e| format!("inclusion proof does not verify: {e}"))
}

/// What [`cat_signal`] printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatReport {
    /// Records printed, per signal: traces, logs, metrics.
    pub traces: u64,
    pub logs: u64,
    pub metrics: u64,
    /// Records of the chosen signals left out by the filter.
    pub filtered: u64,
    /// Payloads that are no export request of a known kind, skipped.
    pub skipped: u64,
}

impl CatReport {
    pub fn written(&self) -> u64 {
        self.traces + self.logs + self.metrics
    }
}

/// Writes records from `from` on as OTLP JSON, one request per line, each in its own signal's
/// OTLP/JSON (`ExportTraceServiceRequest`, `ExportLogsServiceRequest`,
/// `ExportMetricsServiceRequest`: the top-level key, `resourceSpans`, `resourceLogs` or
/// `resourceMetrics`, says which). Each line is a valid OTLP/HTTP JSON body for its signal's
/// path. Returns the number of records written; payloads that are not OTLP are skipped and
/// counted in the second value.
pub fn cat(dir: &Path, from: u64, out: &mut dyn Write) -> Result<(u64, u64), VerifyFailure> {
    let r = cat_signal(dir, from, None, out)?;
    Ok((r.written(), r.skipped))
}

/// [`cat`] of one signal's records only (`only`), or of all.
pub fn cat_signal(
    dir: &Path,
    from: u64,
    only: Option<Signal>,
    out: &mut dyn Write,
) -> Result<CatReport, VerifyFailure> {
    let segs = list_segments(dir).map_err(|e| fail(dir, 0, e.to_string()))?;
    let mut rep = CatReport::default();
    for (i, (_, path)) in segs.iter().enumerate() {
        if let Some((next, _)) = segs.get(i + 1) {
            if *next <= from {
                continue;
            }
        }
        let mut sc = SegmentScanner::open(path).map_err(|e| fail(path, 0, e.to_string()))?;
        loop {
            match sc.next_record() {
                Ok(Some(r)) => {
                    if r.seq < from {
                        continue;
                    }
                    let req = match Request::decode(r.payload) {
                        Ok(req) => req,
                        Err(_) => {
                            rep.skipped += 1;
                            continue;
                        }
                    };
                    if only.is_some_and(|s| s != req.signal()) {
                        rep.filtered += 1;
                        continue;
                    }
                    req.write_json(&mut *out)
                        .map_err(|e| fail(path, r.offset, e.to_string()))?;
                    out.write_all(b"\n")
                        .map_err(|e| fail(path, r.offset, e.to_string()))?;
                    match req.signal() {
                        Signal::Traces => rep.traces += 1,
                        Signal::Logs => rep.logs += 1,
                        Signal::Metrics => rep.metrics += 1,
                    }
                }
                Ok(None) => break,
                Err(f) => return Err(fail(path, f.offset(), f.describe())),
            }
        }
    }
    Ok(rep)
}
