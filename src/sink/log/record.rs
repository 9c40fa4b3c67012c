//! Segment and record encoding, and the scanner recovery, verify, prove and `log cat` share.
//!
//! Segment file `{first_seq:020}.seg`:
//! ```text
//! header (32 B): magic "SPWLOG\0\x01" | first_seq u64 | created_unix_ms u64 | reserved u32 | crc32c(previous 28 B) u32
//! records, back to back:
//!   len u32 | len_check u32 | payload [len] | seq u64 | unix_nanos u64 | crc32c(all previous bytes of the record) u32
//! ```
//! All integers little-endian. `len_check` lets a reader tell a corrupted length (corruption)
//! from a record cut short by a crash (torn tail). The trailer sits after the payload so the
//! expensive part of the CRC and of the Merkle leaf hash (`SHA-256(0x00 ‖ record)`, the whole
//! record as stored) is computed before the writer takes its lock; only 20 bytes are hashed
//! under it.

use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use tlog_tiles::Hash;

pub const SEG_MAGIC: [u8; 8] = *b"SPWLOG\x00\x01";
pub const SEG_HEADER_LEN: u64 = 32;
pub const REC_PREFIX: usize = 8;
pub const REC_TRAILER: usize = 20;
/// Bytes a record adds around its payload.
pub const REC_OVERHEAD: usize = REC_PREFIX + REC_TRAILER;
/// Hard cap on one payload, whatever the config says: bounds what a reader allocates for a
/// length field it has not checked yet.
pub const MAX_PAYLOAD: u32 = 256 << 20;

const LEN_CHECK_XOR: u32 = 0x5350_574c;

pub fn segment_file_name(first_seq: u64) -> String {
    format!("{first_seq:020}.seg")
}

pub fn parse_segment_name(name: &str) -> Option<u64> {
    let stem = name.strip_suffix(".seg")?;
    if stem.len() != 20 || !stem.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    stem.parse().ok()
}

/// The segment files of a log directory, sorted by first sequence number.
pub fn list_segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut v = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if let Some(first) = e.file_name().to_str().and_then(parse_segment_name) {
            v.push((first, e.path()));
        }
    }
    v.sort();
    Ok(v)
}

pub fn encode_segment_header(first_seq: u64, created_ms: u64) -> [u8; SEG_HEADER_LEN as usize] {
    let mut h = [0u8; SEG_HEADER_LEN as usize];
    h[..8].copy_from_slice(&SEG_MAGIC);
    h[8..16].copy_from_slice(&first_seq.to_le_bytes());
    h[16..24].copy_from_slice(&created_ms.to_le_bytes());
    let crc = crc32c::crc32c(&h[..28]);
    h[28..].copy_from_slice(&crc.to_le_bytes());
    h
}

/// `(first_seq, created_ms)`, or what is wrong with the header.
pub fn decode_segment_header(h: &[u8]) -> Result<(u64, u64), &'static str> {
    if h.len() < SEG_HEADER_LEN as usize {
        return Err("segment header is incomplete");
    }
    if h[..8] != SEG_MAGIC {
        return Err("bad segment magic");
    }
    if crc32c::crc32c(&h[..28]).to_le_bytes() != h[28..32] {
        return Err("segment header CRC mismatch");
    }
    Ok((le_u64(&h[8..16]), le_u64(&h[16..24])))
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

fn le_u32(b: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(&b[..4]);
    u32::from_le_bytes(a)
}

fn len_check(len: u32) -> u32 {
    // XOR so that a zero-filled region (a common crash artefact) never passes the check.
    crc32c::crc32c(&len.to_le_bytes()) ^ LEN_CHECK_XOR
}

/// A record whose payload part is encoded and hashed, waiting for its sequence number.
pub struct Prepared {
    buf: Vec<u8>,
    crc: u32,
    hasher: Sha256,
}

impl Prepared {
    /// Encodes `payload` (at most [`MAX_PAYLOAD`] bytes: callers check first) and runs the
    /// CRC and leaf hash over it. No lock needed.
    pub fn new(payload: &[u8]) -> Prepared {
        Prepared::with_header(&[], payload)
    }

    /// [`Prepared::new`] of the payload `header ‖ body` (a record kind header, see
    /// [`super::kind`]), without copying the two together first.
    pub fn with_header(header: &[u8], body: &[u8]) -> Prepared {
        let total = header.len() + body.len();
        let len = u32::try_from(total).unwrap_or(u32::MAX);
        // Room for the trailer, so finishing never reallocates.
        let mut buf = Vec::with_capacity(total + REC_OVERHEAD);
        buf.extend_from_slice(&len.to_le_bytes());
        buf.extend_from_slice(&len_check(len).to_le_bytes());
        buf.extend_from_slice(header);
        buf.extend_from_slice(body);
        let crc = crc32c::crc32c(&buf);
        let mut hasher = Sha256::new();
        hasher.update([0u8]);
        hasher.update(&buf);
        Prepared { buf, crc, hasher }
    }

    /// Size of the finished record.
    pub fn record_len(&self) -> usize {
        self.buf.len() + REC_TRAILER
    }

    /// Adds the trailer: returns the record bytes and its Merkle leaf hash. Cheap: 20 bytes
    /// of CRC and one or two SHA-256 blocks, no copy of the payload.
    pub fn finish(self, seq: u64, unix_nanos: u64) -> (Vec<u8>, Hash) {
        let Prepared {
            mut buf,
            crc,
            mut hasher,
        } = self;
        let mut t = [0u8; REC_TRAILER];
        t[..8].copy_from_slice(&seq.to_le_bytes());
        t[8..16].copy_from_slice(&unix_nanos.to_le_bytes());
        let crc = crc32c::crc32c_append(crc, &t[..16]);
        t[16..].copy_from_slice(&crc.to_le_bytes());
        hasher.update(t);
        buf.extend_from_slice(&t);
        (buf, Hash(hasher.finalize().into()))
    }
}

/// Leaf hash of one stored record: `SHA-256(0x00 ‖ record)` (RFC 9162 §2.1.1).
pub fn leaf_hash(record: &[u8]) -> Hash {
    tlog_tiles::record_hash(record)
}

/// Why a scan stopped before the end of a segment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// What a crash can leave behind at the end of the file being appended: recovery cuts it.
    Torn { offset: u64, what: &'static str },
    /// Anything a crash cannot explain: refuses to start (unless `--salvage`), fails verify.
    Corrupt { offset: u64, what: String },
}

impl Fault {
    pub fn offset(&self) -> u64 {
        match self {
            Fault::Torn { offset, .. } | Fault::Corrupt { offset, .. } => *offset,
        }
    }
    pub fn describe(&self) -> String {
        match self {
            Fault::Torn { what, .. } => format!("torn tail: {what}"),
            Fault::Corrupt { what, .. } => what.clone(),
        }
    }
}

/// One record read back.
#[derive(Debug)]
pub struct RecordRef<'a> {
    pub offset: u64,
    pub seq: u64,
    pub unix_nanos: u64,
    pub payload: &'a [u8],
    /// The whole stored record (what the leaf hash covers).
    pub raw: &'a [u8],
}

impl RecordRef<'_> {
    pub fn leaf(&self) -> Hash {
        leaf_hash(self.raw)
    }
}

/// Streams the records of one segment in order, checking lengths, CRCs and sequence numbers.
pub struct SegmentScanner {
    pub path: PathBuf,
    pub first_seq: u64,
    pub created_ms: u64,
    file: BufReader<File>,
    file_len: u64,
    pos: u64,
    next_seq: u64,
    buf: Vec<u8>,
    done: bool,
    /// End of the record the last fault was in, when that fault left its length fields intact
    /// (a CRC or sequence-number mismatch): what [`SegmentScanner::skip_damaged`] steps to.
    damaged_end: Option<u64>,
}

/// Errors opening a segment for scanning.
#[derive(Debug, thiserror::Error)]
pub enum ScanOpenError {
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The header is unreadable; `torn` when the file is shorter than a header or all zeros.
    #[error("{what}")]
    Header { what: &'static str, torn: bool },
}

impl SegmentScanner {
    pub fn open(path: &Path) -> Result<SegmentScanner, ScanOpenError> {
        let mut f = File::open(path)?;
        let file_len = f.metadata()?.len();
        let mut h = [0u8; SEG_HEADER_LEN as usize];
        let got = read_up_to(&mut f, &mut h)?;
        if got < h.len() {
            return Err(ScanOpenError::Header {
                what: "segment header is incomplete",
                torn: true,
            });
        }
        let (first_seq, created_ms) = decode_segment_header(&h).map_err(|what| {
            let torn = h.iter().all(|b| *b == 0) && file_len == SEG_HEADER_LEN;
            ScanOpenError::Header { what, torn }
        })?;
        Ok(SegmentScanner {
            path: path.to_path_buf(),
            first_seq,
            created_ms,
            file: BufReader::with_capacity(1 << 20, f),
            file_len,
            pos: SEG_HEADER_LEN,
            next_seq: first_seq,
            buf: Vec::new(),
            done: false,
            damaged_end: None,
        })
    }

    pub fn file_len(&self) -> u64 {
        self.file_len
    }
    /// Offset just after the last record returned.
    pub fn pos(&self) -> u64 {
        self.pos
    }
    /// Sequence number the next record must carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// The next record, `Ok(None)` at a clean end, or the fault that stops the scan.
    pub fn next_record(&mut self) -> Result<Option<RecordRef<'_>>, Fault> {
        if self.done || self.pos == self.file_len {
            return Ok(None);
        }
        let off = self.pos;
        let remaining = self.file_len - off;
        let io_fault = |e: io::Error| Fault::Corrupt {
            offset: off,
            what: format!("read error: {e}"),
        };
        if remaining < REC_PREFIX as u64 {
            self.done = true;
            return Err(Fault::Torn {
                offset: off,
                what: "partial record header",
            });
        }
        let mut pre = [0u8; REC_PREFIX];
        self.file.read_exact(&mut pre).map_err(io_fault)?;
        let len = le_u32(&pre[..4]);
        if le_u32(&pre[4..]) != len_check(len) {
            self.done = true;
            let zeros = pre.iter().all(|b| *b == 0) && self.rest_is_zero().map_err(io_fault)?;
            return Err(if zeros {
                Fault::Torn {
                    offset: off,
                    what: "zero-filled tail",
                }
            } else {
                Fault::Corrupt {
                    offset: off,
                    what: "record length check failed".into(),
                }
            });
        }
        if len > MAX_PAYLOAD {
            self.done = true;
            return Err(Fault::Corrupt {
                offset: off,
                what: format!("record length {len} over the {MAX_PAYLOAD}-byte cap"),
            });
        }
        let total = len as u64 + REC_OVERHEAD as u64;
        if total > remaining {
            self.done = true;
            return Err(Fault::Torn {
                offset: off,
                what: "partial record",
            });
        }
        self.buf.clear();
        self.buf.extend_from_slice(&pre);
        self.buf.resize(total as usize, 0);
        self.file
            .read_exact(&mut self.buf[REC_PREFIX..])
            .map_err(io_fault)?;
        let n = self.buf.len();
        let crc_ok = crc32c::crc32c(&self.buf[..n - 4]).to_le_bytes() == self.buf[n - 4..];
        if !crc_ok {
            self.done = true;
            self.damaged_end = Some(off + total);
            return Err(if off + total == self.file_len {
                Fault::Torn {
                    offset: off,
                    what: "CRC mismatch in the last record",
                }
            } else {
                Fault::Corrupt {
                    offset: off,
                    what: "record CRC mismatch".into(),
                }
            });
        }
        let t = &self.buf[n - REC_TRAILER..];
        let seq = le_u64(&t[..8]);
        let unix_nanos = le_u64(&t[8..16]);
        if seq != self.next_seq {
            self.done = true;
            self.damaged_end = Some(off + total);
            return Err(Fault::Corrupt {
                offset: off,
                what: format!(
                    "sequence number {seq} where {} was expected (record deleted, duplicated or reordered)",
                    self.next_seq
                ),
            });
        }
        self.next_seq += 1;
        self.pos = off + total;
        Ok(Some(RecordRef {
            offset: off,
            seq,
            unix_nanos,
            payload: &self.buf[REC_PREFIX..REC_PREFIX + len as usize],
            raw: &self.buf,
        }))
    }

    /// End of the record the last fault was in, when its length fields were intact.
    pub fn damaged_record_end(&self) -> Option<u64> {
        self.damaged_end
    }

    /// After a CRC or sequence-number fault, whose length fields were intact, steps over the
    /// damaged record as if it were record [`SegmentScanner::next_seq`] and lets the scan go
    /// on. Returns that record's sequence number, or `None` when the last fault left no framing
    /// to trust (or there was none). Only salvage of records whose leaf hashes are known from
    /// elsewhere (`hashes.dat`, below a checkpoint) may use this.
    pub fn skip_damaged(&mut self) -> Option<u64> {
        let end = self.damaged_end.take()?;
        let seq = self.next_seq;
        self.pos = end;
        self.next_seq += 1;
        self.done = false;
        Some(seq)
    }

    fn rest_is_zero(&mut self) -> io::Result<bool> {
        let mut chunk = vec![0u8; 64 << 10];
        loop {
            let n = self.file.read(&mut chunk)?;
            if n == 0 {
                return Ok(true);
            }
            if chunk[..n].iter().any(|b| *b != 0) {
                return Ok(false);
            }
        }
    }

    /// Re-positions the reader after the header (used by readers that skip records).
    pub fn rewind(&mut self) -> io::Result<()> {
        self.file.seek(SeekFrom::Start(SEG_HEADER_LEN))?;
        self.pos = SEG_HEADER_LEN;
        self.next_seq = self.first_seq;
        self.done = false;
        self.damaged_end = None;
        Ok(())
    }
}

fn read_up_to(f: &mut File, buf: &mut [u8]) -> io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        let n = f.read(&mut buf[got..])?;
        if n == 0 {
            break;
        }
        got += n;
    }
    Ok(got)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prepared_matches_plain_leaf_hash_and_crc() {
        let p = Prepared::new(b"hello spans");
        let want_len = p.record_len();
        let (rec, leaf) = p.finish(7, 99);
        assert_eq!(rec.len(), want_len);
        assert_eq!(leaf, leaf_hash(&rec));
        let n = rec.len();
        assert_eq!(crc32c::crc32c(&rec[..n - 4]).to_le_bytes(), rec[n - 4..]);
    }

    #[test]
    fn a_header_is_part_of_the_payload_as_if_concatenated() {
        let (a, la) = Prepared::with_header(&[0, 2], b"logs").finish(3, 4);
        let (b, lb) = Prepared::new(b"\x00\x02logs").finish(3, 4);
        assert_eq!((a, la), (b, lb));
    }

    #[test]
    fn segment_names_roundtrip() {
        assert_eq!(parse_segment_name(&segment_file_name(42)), Some(42));
        assert_eq!(parse_segment_name("42.seg"), None);
        assert_eq!(parse_segment_name("0000000000000000004x.seg"), None);
    }

    #[test]
    fn zero_bytes_never_pass_the_length_check() {
        assert_ne!(len_check(0), 0);
    }
}
