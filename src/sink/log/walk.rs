//! The segment walk that recovery and `verify` share: segments in order, each opened with its
//! header checked against its file name, then its records read in order (framing, CRC and
//! sequence numbers, by [`SegmentScanner`]) until the clean end or a fault. The walk decides
//! nothing: a [`SegmentReader`] says how far to read each segment, what a record means, whether
//! to step over a damaged record, and what the end of a segment must look like. So recovery
//! (which may cut, salvage or refuse) and `verify` (which refuses at the first problem) word
//! their findings in their own terms over one reading of the format.

use std::ops::Range;
use std::path::{Path, PathBuf};

use super::record::{Fault, RecordRef, ScanOpenError, SegmentScanner};

/// One segment as the walk meets it.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment<'a> {
    /// First record, as the file name says.
    pub first: u64,
    pub path: &'a Path,
    /// Where the next segment of the directory starts; `None` for the last one.
    pub next_first: Option<u64>,
}

/// Why a segment's header cannot be used.
#[derive(Debug, thiserror::Error)]
pub(super) enum HeaderFault {
    /// Opening or reading the file failed.
    #[error("{0}")]
    Io(std::io::Error),
    /// The header is unreadable; `torn` when the file is shorter than a header or all zeros
    /// (what a crash during a roll leaves).
    #[error("{what}")]
    Damaged { what: &'static str, torn: bool },
    /// The header names another first record than the file name.
    #[error("segment header names another first record")]
    WrongFirst,
}

impl HeaderFault {
    /// Byte offset of the problem in the segment file.
    pub fn offset(&self) -> u64 {
        match self {
            HeaderFault::WrongFirst => 8,
            HeaderFault::Io(_) | HeaderFault::Damaged { .. } => 0,
        }
    }
}

/// How much of a segment the reader wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ReadAs {
    /// Not even opened.
    Skip,
    /// Only the header is checked; [`SegmentReader::end`] follows at once.
    Header,
    /// Every record.
    Records,
}

/// What the walk does after a damaged record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AfterFault {
    /// The segment ends at the fault.
    Stop,
    /// The reader stepped over the record ([`SegmentScanner::skip_damaged`]): read on.
    Continue,
}

/// What the walk reports to its reader. An error from any method ends the walk with it.
pub(super) trait SegmentReader {
    type Error;

    /// Before `seg` is opened: how much of it to read.
    fn start(&mut self, _seg: Segment<'_>) -> Result<ReadAs, Self::Error> {
        Ok(ReadAs::Records)
    }

    /// `seg`'s header cannot be used; the walk goes on with the next segment.
    fn bad_header(&mut self, seg: Segment<'_>, fault: HeaderFault) -> Result<(), Self::Error>;

    /// One record of `seg`, in order.
    fn record(&mut self, _seg: Segment<'_>, _r: &RecordRef<'_>) -> Result<(), Self::Error> {
        Ok(())
    }

    /// A record of `seg` is damaged or cut short (`sc` stands at it).
    fn fault(
        &mut self,
        seg: Segment<'_>,
        sc: &mut SegmentScanner,
        fault: &Fault,
    ) -> Result<AfterFault, Self::Error>;

    /// `seg` was read as far as it goes: to its clean end, to the fault that stopped it
    /// (`stopped_at`), or, under [`ReadAs::Header`], just past its header.
    fn end(
        &mut self,
        seg: Segment<'_>,
        sc: &SegmentScanner,
        stopped_at: Option<Fault>,
    ) -> Result<(), Self::Error>;
}

/// Opens a segment and checks that its header names the first record its file name does.
pub(super) fn open_segment(seg: Segment<'_>) -> Result<SegmentScanner, HeaderFault> {
    let sc = SegmentScanner::open(seg.path).map_err(|e| match e {
        ScanOpenError::Io(e) => HeaderFault::Io(e),
        ScanOpenError::Header { what, torn } => HeaderFault::Damaged { what, torn },
    })?;
    if sc.first_seq != seg.first {
        return Err(HeaderFault::WrongFirst);
    }
    Ok(sc)
}

/// Walks `segs[which]` (a directory's segments, sorted, as
/// [`list_segments`](super::record::list_segments) returns them) in order.
pub(super) fn walk<R: SegmentReader>(
    segs: &[(u64, PathBuf)],
    which: Range<usize>,
    reader: &mut R,
) -> Result<(), R::Error> {
    for i in which {
        let Some((first, path)) = segs.get(i) else {
            break;
        };
        let seg = Segment {
            first: *first,
            path,
            next_first: segs.get(i + 1).map(|s| s.0),
        };
        walk_segment(seg, reader)?;
    }
    Ok(())
}

fn walk_segment<R: SegmentReader>(seg: Segment<'_>, reader: &mut R) -> Result<(), R::Error> {
    let read = reader.start(seg)?;
    if read == ReadAs::Skip {
        return Ok(());
    }
    let mut sc = match open_segment(seg) {
        Ok(sc) => sc,
        Err(fault) => return reader.bad_header(seg, fault),
    };
    if read == ReadAs::Header {
        return reader.end(seg, &sc, None);
    }
    let stopped_at = loop {
        let fault = match sc.next_record() {
            Ok(Some(r)) => {
                reader.record(seg, &r)?;
                continue;
            }
            Ok(None) => break None,
            Err(f) => f,
        };
        match reader.fault(seg, &mut sc, &fault)? {
            AfterFault::Continue => {}
            AfterFault::Stop => break Some(fault),
        }
    };
    reader.end(seg, &sc, stopped_at)
}
