//! Helpers shared by the `log_*` integration tests.
#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{any_value, AnyValue, KeyValue};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};
use prost::Message;
use spanward::sink::log::checkpoint::{generate_signing_key, SIGNING_KEY_ENV};
use spanward::sink::log::record::{list_segments, SegmentScanner};
use spanward::sink::log::{FsyncPolicy, LogConfig};

/// A fixed signing key in a fake environment, plus its verifier key.
pub fn key_env() -> (HashMap<String, String>, String) {
    let (skey, vkey) = generate_signing_key("test.spanward/log");
    let mut env = HashMap::new();
    env.insert(SIGNING_KEY_ENV.to_string(), skey);
    (env, vkey)
}

pub fn config(dir: &Path) -> LogConfig {
    LogConfig {
        path: dir.to_path_buf(),
        fsync: FsyncPolicy::Batch,
        // Tests write checkpoints explicitly unless they test the interval.
        checkpoint_interval: Duration::from_secs(3600),
        ..LogConfig::default()
    }
}

/// An OTLP request with `spans` spans whose attribute carries `tag`.
pub fn otlp(tag: &str, spans: usize) -> ExportTraceServiceRequest {
    let spans = (0..spans)
        .map(|i| Span {
            trace_id: vec![7; 16],
            span_id: (i as u64 + 1).to_be_bytes().to_vec(),
            name: format!("execute_tool {i}"),
            attributes: vec![KeyValue {
                key: "gen_ai.tool.name".into(),
                value: Some(AnyValue {
                    value: Some(any_value::Value::StringValue(tag.to_string())),
                }),
                ..KeyValue::default()
            }],
            ..Span::default()
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource::default()),
            scope_spans: vec![ScopeSpans {
                spans,
                ..ScopeSpans::default()
            }],
            ..ResourceSpans::default()
        }],
    }
}

pub fn otlp_bytes(tag: &str, spans: usize) -> Vec<u8> {
    otlp(tag, spans).encode_to_vec()
}

/// Every record present in the directory: (seq, payload).
pub fn read_all(dir: &Path) -> Vec<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    for (_, p) in list_segments(dir).unwrap() {
        let mut sc = SegmentScanner::open(&p).unwrap();
        while let Some(r) = sc.next_record().unwrap() {
            out.push((r.seq, r.payload.to_vec()));
        }
    }
    out
}

/// (offset, length) of every record of a segment.
pub fn record_spans(seg: &Path) -> Vec<(u64, u64)> {
    let mut sc = SegmentScanner::open(seg).unwrap();
    let mut v = Vec::new();
    while let Some(r) = sc.next_record().unwrap() {
        v.push((r.offset, r.raw.len() as u64));
    }
    v
}

pub fn segments(dir: &Path) -> Vec<PathBuf> {
    list_segments(dir)
        .unwrap()
        .into_iter()
        .map(|s| s.1)
        .collect()
}

/// Copies a flat directory (a log) to `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        std::fs::copy(e.path(), &dst).unwrap();
        let mut p = std::fs::metadata(&dst).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        std::fs::set_permissions(&dst, p).unwrap();
    }
}

/// Log lines captured in memory, for tests that check what the sink logs.
#[derive(Clone, Default)]
pub struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl LogBuf {
    /// A subscriber at INFO, without colours, writing into this buffer.
    pub fn subscriber(&self) -> impl tracing::Subscriber + Send + Sync {
        let w = self.clone();
        tracing_subscriber::fmt()
            .with_writer(move || w.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish()
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}
