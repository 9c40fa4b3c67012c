//! Interim local log: each processed batch is appended as one length-delimited record (4-byte
//! little-endian length, then the OTLP protobuf `ExportTraceServiceRequest`) to segment files
//! `segment-NNNNNNNN.otlp` under the configured directory. Existing bytes are never rewritten:
//! every start opens a new segment after the highest existing one.

use super::{Delivery, FailureKind, Sink, SinkError};
use crate::config::FileSinkConfig;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

#[derive(Debug, thiserror::Error)]
pub enum FileSinkError {
    #[error("file sink directory {path}: {source}")]
    Dir {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

struct Segment {
    index: u64,
    file: File,
    written: u64,
}

pub struct FileSink {
    dir: PathBuf,
    segment_bytes: u64,
    current: Mutex<Option<Segment>>,
    failed: AtomicBool,
}

fn segment_name(index: u64) -> String {
    format!("segment-{index:08}.otlp")
}

/// Segment files of a directory, in order.
pub fn segments(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut v: Vec<(u64, PathBuf)> = std::fs::read_dir(dir)?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let idx = name
                .strip_prefix("segment-")?
                .strip_suffix(".otlp")?
                .parse::<u64>()
                .ok()?;
            Some((idx, e.path()))
        })
        .collect();
    v.sort();
    Ok(v.into_iter().map(|(_, p)| p).collect())
}

/// Reads every record of a segment file. A torn last record (crash mid-write) is ignored.
pub fn read_segment(path: &Path) -> std::io::Result<Vec<ExportTraceServiceRequest>> {
    use prost::Message;
    let data = std::fs::read(path)?;
    let mut out = Vec::new();
    let mut pos = 0usize;
    while pos + 4 <= data.len() {
        let len =
            u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let end = pos + 4 + len;
        if end > data.len() {
            break;
        }
        let req = ExportTraceServiceRequest::decode(&data[pos + 4..end])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        out.push(req);
        pos = end;
    }
    Ok(out)
}

impl FileSink {
    pub fn open(cfg: &FileSinkConfig) -> Result<Self, FileSinkError> {
        let dir = cfg.path.clone();
        std::fs::create_dir_all(&dir).map_err(|source| FileSinkError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        // Probe writability now rather than at the first batch.
        segments(&dir).map_err(|source| FileSinkError::Dir {
            path: dir.display().to_string(),
            source,
        })?;
        Ok(FileSink {
            dir,
            segment_bytes: cfg.segment_bytes,
            current: Mutex::new(None),
            failed: AtomicBool::new(false),
        })
    }

    fn next_segment(&self, after: Option<u64>) -> std::io::Result<Segment> {
        let last = segments(&self.dir)?
            .last()
            .and_then(|p| p.file_name()?.to_str()?.get(8..16)?.parse::<u64>().ok());
        let index = last.max(after).map(|i| i + 1).unwrap_or(0);
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(self.dir.join(segment_name(index)))?;
        Ok(Segment {
            index,
            file,
            written: 0,
        })
    }

    fn append(&self, encoded: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(encoded.len()).map_err(|_| {
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "record over 4 GiB")
        })?;
        let mut guard = self
            .current
            .lock()
            .map_err(|_| std::io::Error::other("file sink lock poisoned"))?;
        let roll = match guard.as_ref() {
            None => true,
            Some(s) => s.written > 0 && s.written + 4 + encoded.len() as u64 > self.segment_bytes,
        };
        if roll {
            let prev = guard.as_ref().map(|s| s.index);
            if let Some(old) = guard.take() {
                old.file.sync_data()?;
            }
            *guard = Some(self.next_segment(prev)?);
        }
        let seg = guard
            .as_mut()
            .ok_or_else(|| std::io::Error::other("no open segment"))?;
        let mut rec = Vec::with_capacity(4 + encoded.len());
        rec.extend_from_slice(&len.to_le_bytes());
        rec.extend_from_slice(encoded);
        seg.file.write_all(&rec)?;
        seg.written += rec.len() as u64;
        Ok(())
    }
}

impl Sink for FileSink {
    fn name(&self) -> &'static str {
        "file"
    }

    fn write(
        &self,
        _batch: &ExportTraceServiceRequest,
        encoded: &[u8],
        _spans: usize,
    ) -> Result<Delivery, SinkError> {
        if self.failed.load(Ordering::Acquire) {
            return Err(SinkError::new(
                "file",
                FailureKind::Fatal,
                "sink failed earlier",
            ));
        }
        self.append(encoded)
            .map(|()| Delivery::Accepted)
            .map_err(|e| {
                let kind = match e.raw_os_error() {
                    // ENOSPC / EDQUOT: space may come back; the batch is refused, not the sink.
                    Some(28) | Some(122) => FailureKind::Retryable,
                    _ => {
                        self.failed.store(true, Ordering::Release);
                        FailureKind::Fatal
                    }
                };
                SinkError::new("file", kind, format!("append failed: {e}"))
            })
    }

    fn ready(&self) -> bool {
        !self.failed.load(Ordering::Acquire)
    }

    fn shutdown(&self) -> Result<(), SinkError> {
        let guard = self
            .current
            .lock()
            .map_err(|_| SinkError::new("file", FailureKind::Fatal, "lock poisoned"))?;
        if let Some(s) = guard.as_ref() {
            s.file
                .sync_all()
                .map_err(|e| SinkError::new("file", FailureKind::Fatal, format!("fsync: {e}")))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn appends_and_rolls_without_rewriting() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = FileSinkConfig {
            path: dir.path().to_path_buf(),
            segment_bytes: 4096,
        };
        let req = ExportTraceServiceRequest::default();
        let payload = vec![0u8; 0];
        let sink = FileSink::open(&cfg).unwrap();
        let big = {
            use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
            ExportTraceServiceRequest {
                resource_spans: vec![ResourceSpans {
                    scope_spans: vec![ScopeSpans {
                        spans: vec![Span {
                            name: "x".repeat(3000),
                            ..Default::default()
                        }],
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
            }
        };
        let enc = big.encode_to_vec();
        sink.write(&big, &enc, 1).unwrap();
        sink.write(&big, &enc, 1).unwrap();
        sink.write(&req, &payload, 0).unwrap();
        sink.shutdown().unwrap();
        drop(sink);
        let sink2 = FileSink::open(&cfg).unwrap();
        sink2.write(&big, &enc, 1).unwrap();
        sink2.shutdown().unwrap();
        let segs = segments(dir.path()).unwrap();
        assert_eq!(segs.len(), 3);
        let all: Vec<_> = segs.iter().flat_map(|p| read_segment(p).unwrap()).collect();
        assert_eq!(all.len(), 4);
        assert_eq!(all[0], big);
        assert_eq!(all[2], req);
    }
}
