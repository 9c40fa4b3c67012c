//! Structured audit records of agent operations: one JSON object per kept tool, LLM, step or
//! agent span, written after scrubbing, carrying identifiers and fingerprints, never payload.
//!
//! A span is an agent operation when it has `gen_ai.operation.name` (OpenTelemetry GenAI), an
//! `openinference.span.kind` (OpenInference), is a WayFlow tool, LLM, agent, flow or step span
//! (see below), or has a fingerprint (`spanward.input_hash` / `spanward.output_hash`, i.e. it
//! carried fields of the role map). Its record:
//!
//! | field | from |
//! |---|---|
//! | `time` | span start, RFC 3339 UTC with nanoseconds (recording time if the span has none) |
//! | `trace_id`, `span_id` | hex |
//! | `service` | resource `service.name` |
//! | `operation` | `gen_ai.operation.name`, else the OpenInference kind mapped to GenAI names (`TOOL` → `execute_tool`, `LLM` → `chat`, `AGENT` → `invoke_agent`, `CHAIN` → `step`, …), else the WayFlow kind (tool → `execute_tool`, LLM → `chat`, agent → `invoke_agent`, flow and step → `step`), else `step` |
//! | `conversation_id` | `gen_ai.conversation.id`, `session.id`, `conversation.id`, `conversation_id`, `thread_id` (span first, then resource) |
//! | `agent` | `gen_ai.agent.name`, `agent.name`; on a WayFlow agent span `conversational_component.name` |
//! | `tool` | `gen_ai.tool.name`, `tool.name` |
//! | `step` | WayFlow step span: `step.name`; WayFlow flow span: `conversational_component.name`; otherwise (or when absent) the span name |
//! | `status` | `ok`, `error` or `unset` |
//! | `duration_ms` | end − start |
//! | `input_hash`, `output_hash`, `hash_key_id` | the fingerprint attributes |
//! | `redaction.types` | the scrubber's per-span summary (`email:2,jwt:1`), empty if none |
//!
//! # GenAI events (log records)
//! A log record whose event name (its `event_name`, or its `event.name` attribute) starts with
//! `gen_ai.`, or that carries a fingerprint, gets a record too, with `event` set to that name
//! (span records have no `event` field): `time` is the record's time (its observed time when it
//! has none), `operation` is `gen_ai.operation.name` or else the event name, `step` the event
//! name, `status` is `error` for severity ERROR and above and `unset` otherwise, `duration_ms`
//! is 0, and the other fields come from the record's attributes as they do from a span's.
//!
//! # WayFlow spans
//! WayFlow (Oracle's `wayflowcore`) sets no GenAI or OpenInference attribute. Its OpenTelemetry
//! export (`wayflowcore/tracing/opentelemetry/span.py`, `convert_wayflow_span_into_otel_span`)
//! drops the span's `span_type` field and names the span after its class unless the caller
//! gave a name: `ToolExecutionSpan`, `AgentExecutionSpan`, `FlowExecutionSpan`,
//! `StepInvocationSpan`, and `LlmGenerationSpan` or, from its LLM clients,
//! `LlmGeneration[<model>]`. Every WayFlow event becomes a span event whose attributes include
//! `event_type`, the event's class name (`wayflowcore/events/event.py`, `Event.to_tracing_info`),
//! and a span records its own start event first, when it opens (`Span.start`). So the kind is
//! the span name when it is one of those, else the first event's `event_type` (or event name):
//! `ToolExecutionStartEvent` (tool), `LlmGenerationRequestEvent` (LLM),
//! `AgentExecutionStartedEvent` (agent), `FlowExecutionStartedEvent` (flow),
//! `StepInvocationStartEvent` (step). Later events are not used: a step span also carries the
//! `ToolExecutionStartEvent` of a client tool it hands back to the caller. The names come from
//! the span attributes WayFlow writes (`tool.name`, `step.name`, `conversational_component.name`
//! in `wayflowcore/tracing/span.py`). WayFlow puts the conversation id (`conversation.id`) only
//! on its `ConversationSpan`, which is not an operation: records of its tool, LLM, agent, flow
//! and step spans have `conversation_id: null` and are joined to the conversation by `trace_id`.
//!
//! Identifier values are taken from the scrubbed span and cut to [`MAX_FIELD_CHARS`], so a
//! misbehaving client cannot turn an id attribute into a payload channel. Absent values are
//! `null`.

use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::logs::v1::LogRecord;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::Span;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Longest identifier value copied into a record; longer ones are cut (on a char boundary).
pub const MAX_FIELD_CHARS: usize = 256;
/// `tracing` target of records sent to the service log.
pub const LOG_TARGET: &str = "spanward::audit";

/// `audit:` section of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditConfig {
    /// Emit audit records. Default `false`. The one switch: with only this set, records go to
    /// the service log at INFO (`log: true`).
    pub enabled: bool,
    /// Also write each record to the service log at INFO, target `spanward::audit`.
    /// Default `true`. Set `false` when only the file is wanted.
    pub log: bool,
    /// JSON-lines file destination. Default: none (service log only).
    pub file: Option<AuditFileConfig>,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            enabled: false,
            log: true,
            file: None,
        }
    }
}

/// `audit.file`: an append-only JSON-lines file, rotated by size.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuditFileConfig {
    /// File to append to; its directory must exist. Default `audit.jsonl` (relative to the
    /// working directory).
    pub path: PathBuf,
    /// Rotate before a record would take the file past this many bytes. Default 64 MiB;
    /// `0` never rotates. A rotated file is renamed once, to `<path>.<RFC 3339 time>`, and
    /// never touched again.
    pub max_bytes: u64,
    /// Rotated files to keep; the oldest beyond this are deleted. Default `10`; `0` keeps all
    /// (disk use then grows without bound).
    pub keep: usize,
    /// `flush()` also fsyncs the file (records survive a power loss once flushed).
    /// Default `false`: flushed records survive a process crash, not a power loss.
    pub fsync: bool,
    /// Hash-chain the records: each line carries `prev_hash`, the SHA-256 of the previous
    /// line (across rotations), so an edited, removed or reordered record breaks the chain and
    /// `spanward audit-verify` names the line. Default `true`; costs one SHA-256 per record.
    pub chain: bool,
}

impl Default for AuditFileConfig {
    fn default() -> Self {
        AuditFileConfig {
            path: PathBuf::from("audit.jsonl"),
            max_bytes: 64 << 20,
            keep: 10,
            fsync: false,
            chain: true,
        }
    }
}

/// Audit I/O failure. Messages name paths, never record contents.
#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    #[error("opening audit file {path}: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("writing audit file {path}: {source}")]
    Write {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("rotating audit file {path}: {source}")]
    Rotate {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("audit file lock poisoned by a panicked writer")]
    Poisoned,
    #[error("encoding audit record: {0}")]
    Encode(#[from] serde_json::Error),
}

/// One audit record (see the module docs for where each field comes from).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRecord<'a> {
    pub time: String,
    pub trace_id: String,
    pub span_id: String,
    pub service: Cow<'a, str>,
    pub operation: Cow<'a, str>,
    pub conversation_id: Option<Cow<'a, str>>,
    pub agent: Option<Cow<'a, str>>,
    pub tool: Option<Cow<'a, str>>,
    pub step: Cow<'a, str>,
    pub status: &'a str,
    pub duration_ms: f64,
    pub input_hash: Option<Cow<'a, str>>,
    pub output_hash: Option<Cow<'a, str>>,
    pub hash_key_id: Option<Cow<'a, str>>,
    #[serde(rename = "redaction.types")]
    pub redaction_types: Cow<'a, str>,
    /// The event name, on records of GenAI events (log records); absent on span records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<Cow<'a, str>>,
}

struct FileSink {
    cfg: AuditFileConfig,
    writer: BufWriter<File>,
    size: u64,
    /// SHA-256 of the last line written (the chain's head), all zero for a fresh chain.
    last_hash: [u8; 32],
}

/// The audit trail. Shared by all workers (`Send + Sync`); records are serialised outside the
/// file lock. File records are buffered: call [`AuditLog::flush`] after each batch.
pub struct AuditLog {
    enabled: bool,
    log: bool,
    file: Option<Mutex<FileSink>>,
}

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("enabled", &self.enabled)
            .field("log", &self.log)
            .field("file", &self.file.is_some())
            .finish()
    }
}

fn open_append(path: &Path) -> Result<(File, u64), AuditError> {
    let err = |source| AuditError::Open {
        path: path.display().to_string(),
        source,
    };
    use std::os::unix::fs::OpenOptionsExt;
    // Owner only, as the log's files: audit records name agents, tools and key ids.
    let mut f = OpenOptions::new()
        .create(true)
        .read(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(err)?;
    let mut size = f.metadata().map_err(err)?.len();
    if size > 0 {
        // A crash mid-write can leave a partial last line; start on a fresh line so the next
        // record stays parseable.
        let mut last = [0u8; 1];
        f.seek(SeekFrom::End(-1)).map_err(err)?;
        f.read_exact(&mut last).map_err(err)?;
        if last[0] != b'\n' {
            f.write_all(b"\n").map_err(err)?;
            size += 1;
        }
    }
    Ok((f, size))
}

impl AuditLog {
    /// Opens the destinations. Disabled config gives an inert log.
    pub fn new(cfg: &AuditConfig) -> Result<AuditLog, AuditError> {
        let file = match (&cfg.file, cfg.enabled) {
            (Some(fc), true) => {
                let (f, size) = open_append(&fc.path)?;
                let last_hash = last_line_hash(&fc.path).map_err(|source| AuditError::Open {
                    path: fc.path.display().to_string(),
                    source,
                })?;
                Some(Mutex::new(FileSink {
                    cfg: fc.clone(),
                    writer: BufWriter::with_capacity(64 << 10, f),
                    size,
                    last_hash,
                }))
            }
            _ => None,
        };
        Ok(AuditLog {
            enabled: cfg.enabled,
            log: cfg.log,
            file,
        })
    }

    /// True when records are emitted at all (lets the caller skip the walk).
    pub fn is_enabled(&self) -> bool {
        self.enabled && (self.log || self.file.is_some())
    }

    /// Records one span if it is an agent operation (else does nothing). Call after scrubbing,
    /// for kept spans only.
    pub fn record(&self, resource: &Resource, span: &Span) -> Result<(), AuditError> {
        if !self.is_enabled() {
            return Ok(());
        }
        match build_record(resource, span) {
            Some(rec) => self.write(&rec),
            None => Ok(()),
        }
    }

    /// Records one log record if it is a GenAI event (see the module docs); call after
    /// scrubbing, for kept records only.
    pub fn record_event(&self, resource: &Resource, record: &LogRecord) -> Result<(), AuditError> {
        if !self.is_enabled() {
            return Ok(());
        }
        match build_event_record(resource, record) {
            Some(rec) => self.write(&rec),
            None => Ok(()),
        }
    }

    fn write(&self, rec: &AuditRecord<'_>) -> Result<(), AuditError> {
        let mut line = serde_json::to_string(rec)?;
        if self.log {
            tracing::info!(target: LOG_TARGET, "{line}");
        }
        if let Some(file) = &self.file {
            let mut f = file.lock().map_err(|_| AuditError::Poisoned)?;
            if f.cfg.chain {
                // `line` is a JSON object: add the link before its closing brace.
                line.pop();
                line.push_str(&format!(
                    ",\"prev_hash\":\"{}\"}}",
                    hex::encode(f.last_hash)
                ));
                f.last_hash = Sha256::digest(line.as_bytes()).into();
            }
            line.push('\n');
            f.append(line.as_bytes())?;
        }
        Ok(())
    }

    /// Records every agent-operation span of a request.
    pub fn record_request(
        &self,
        req: &opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest,
    ) -> Result<(), AuditError> {
        if !self.is_enabled() {
            return Ok(());
        }
        let empty = Resource::default();
        for rs in &req.resource_spans {
            let res = rs.resource.as_ref().unwrap_or(&empty);
            for span in rs.scope_spans.iter().flat_map(|s| &s.spans) {
                self.record(res, span)?;
            }
        }
        Ok(())
    }

    /// The chain head (SHA-256 of the last record written, hex) when the file is hash-chained.
    pub fn chain_head(&self) -> Option<String> {
        let f = self.file.as_ref()?.lock().ok()?;
        (f.cfg.chain && f.last_hash != [0; 32]).then(|| hex::encode(f.last_hash))
    }

    /// Writes buffered records to the file (and fsyncs when configured).
    pub fn flush(&self) -> Result<(), AuditError> {
        if let Some(file) = &self.file {
            let mut f = file.lock().map_err(|_| AuditError::Poisoned)?;
            f.flush()?;
        }
        Ok(())
    }
}

impl Drop for AuditLog {
    fn drop(&mut self) {
        if let Some(file) = &self.file {
            if let Ok(mut f) = file.lock() {
                if let Err(e) = f.flush() {
                    tracing::warn!(error = %e, "flushing audit file at shutdown failed");
                }
            }
        }
    }
}

impl FileSink {
    fn path(&self) -> String {
        self.cfg.path.display().to_string()
    }

    fn append(&mut self, line: &[u8]) -> Result<(), AuditError> {
        let len = line.len() as u64;
        if self.cfg.max_bytes > 0 && self.size > 0 && self.size + len > self.cfg.max_bytes {
            self.rotate()?;
        }
        self.writer
            .write_all(line)
            .map_err(|source| AuditError::Write {
                path: self.path(),
                source,
            })?;
        self.size += len;
        Ok(())
    }

    fn flush(&mut self) -> Result<(), AuditError> {
        let werr = |path: String| move |source| AuditError::Write { path, source };
        self.writer.flush().map_err(werr(self.path()))?;
        if self.cfg.fsync {
            self.writer
                .get_ref()
                .sync_data()
                .map_err(werr(self.path()))?;
        }
        Ok(())
    }

    fn rotate(&mut self) -> Result<(), AuditError> {
        self.flush()?;
        let rerr = |path: String| move |source| AuditError::Rotate { path, source };
        if self.cfg.fsync {
            self.writer
                .get_ref()
                .sync_all()
                .map_err(rerr(self.path()))?;
        }
        let stamp = humantime::format_rfc3339_nanos(SystemTime::now()).to_string();
        let base = self.cfg.path.as_os_str().to_owned();
        let mut target = PathBuf::from(format!("{}.{stamp}", base.to_string_lossy()));
        let mut n = 1;
        while target.exists() {
            target = PathBuf::from(format!("{}.{stamp}-{n}", base.to_string_lossy()));
            n += 1;
        }
        std::fs::rename(&self.cfg.path, &target).map_err(rerr(self.path()))?;
        let (f, size) = open_append(&self.cfg.path)?;
        self.writer = BufWriter::with_capacity(64 << 10, f);
        self.size = size;
        if self.cfg.keep > 0 {
            self.prune().map_err(rerr(self.path()))?;
        }
        Ok(())
    }

    /// Deletes the oldest rotated files beyond `keep`. Rotated names end in a fixed-width
    /// RFC 3339 time, so name order is age order.
    fn prune(&self) -> std::io::Result<()> {
        let dir = match self.cfg.path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let Some(name) = self.cfg.path.file_name().and_then(|n| n.to_str()) else {
            return Ok(());
        };
        let prefix = format!("{name}.");
        let mut rotated: Vec<String> = std::fs::read_dir(&dir)?
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.strip_prefix(&prefix).is_some_and(is_rotation_stamp))
            .collect();
        rotated.sort();
        let excess = rotated.len().saturating_sub(self.cfg.keep);
        for old in &rotated[..excess] {
            std::fs::remove_file(dir.join(old))?;
        }
        Ok(())
    }
}

/// SHA-256 of the last complete line of a file (all zero when there is none), to continue
/// the chain after a restart.
fn last_line_hash(path: &Path) -> std::io::Result<[u8; 32]> {
    let mut f = match File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok([0; 32]),
        Err(e) => return Err(e),
    };
    let len = f.metadata()?.len();
    // Records are far below 64 KiB (fields are cut at MAX_FIELD_CHARS).
    let start = len.saturating_sub(64 << 10);
    f.seek(SeekFrom::Start(start))?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail)?;
    let complete = match tail.iter().rposition(|&b| b == b'\n') {
        Some(i) => &tail[..i],
        None => return Ok([0; 32]),
    };
    let last = match complete.iter().rposition(|&b| b == b'\n') {
        Some(i) => &complete[i + 1..],
        None if start == 0 => complete,
        None => return Ok([0; 32]),
    };
    if last.is_empty() {
        return Ok([0; 32]);
    }
    Ok(Sha256::digest(last).into())
}

/// What [`verify_chain`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ChainReport {
    pub records: u64,
    /// Lines whose `prev_hash` is all zero: where a chain (re)starts (a new file, or a
    /// restart right after a rotation).
    pub chain_starts: u64,
}

/// Checks the hash chain over audit files given oldest first (rotated files, then the current
/// one). Fails naming the file and line where a record was edited, removed or reordered.
pub fn verify_chain(paths: &[PathBuf]) -> Result<ChainReport, String> {
    let zero = hex::encode([0u8; 32]);
    let mut prev: Option<String> = None;
    let mut rep = ChainReport::default();
    for p in paths {
        let text = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.is_empty() {
                continue;
            }
            let at = || format!("{} line {}", p.display(), i + 1);
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|_| format!("{}: not a JSON record", at()))?;
            let link = v
                .get("prev_hash")
                .and_then(|h| h.as_str())
                .ok_or_else(|| format!("{}: no prev_hash (chain: false?)", at()))?;
            if link == zero {
                rep.chain_starts += 1;
            } else if prev.as_deref() != Some(link) {
                return Err(format!(
                    "{}: prev_hash does not match the previous record (edited, removed or reordered)",
                    at()
                ));
            }
            prev = Some(hex::encode(Sha256::digest(line.as_bytes())));
            rep.records += 1;
        }
    }
    Ok(rep)
}

/// Only files this module rotated are ever pruned: `<RFC 3339 time>` or `<time>-<n>`.
fn is_rotation_stamp(suffix: &str) -> bool {
    let stamp = match suffix.rsplit_once('-') {
        Some((s, n)) if s.ends_with('Z') && n.bytes().all(|b| b.is_ascii_digit()) => s,
        _ => suffix,
    };
    humantime::parse_rfc3339(stamp).is_ok()
}

fn str_attr<'a>(attrs: &'a [KeyValue], key: &str) -> Option<Cow<'a, str>> {
    let v = attrs.iter().find(|kv| kv.key == key)?.value.as_ref()?;
    match v.value.as_ref()? {
        Value::StringValue(s) if !s.is_empty() => Some(Cow::Borrowed(cut(s))),
        Value::IntValue(i) => Some(Cow::Owned(i.to_string())),
        _ => None,
    }
}

fn cut(s: &str) -> &str {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn first_attr<'a>(attrs: &'a [KeyValue], keys: &[&str]) -> Option<Cow<'a, str>> {
    keys.iter().find_map(|k| str_attr(attrs, k))
}

/// OpenInference span kinds mapped to GenAI operation names.
fn openinference_operation(kind: &str) -> &'static str {
    match kind.to_ascii_uppercase().as_str() {
        "LLM" => "chat",
        "TOOL" => "execute_tool",
        "AGENT" => "invoke_agent",
        "RETRIEVER" => "retrieval",
        "EMBEDDING" => "embeddings",
        "RERANKER" => "rerank",
        "GUARDRAIL" => "guardrail",
        "EVALUATOR" => "evaluate",
        _ => "step",
    }
}

/// A WayFlow span kind (see the module docs for what identifies each).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wayflow {
    Tool,
    Llm,
    Agent,
    Flow,
    Step,
}

impl Wayflow {
    fn of(span: &Span) -> Option<Wayflow> {
        let by_name = match span.name.as_str() {
            "ToolExecutionSpan" => Some(Wayflow::Tool),
            "LlmGenerationSpan" => Some(Wayflow::Llm),
            n if n.starts_with("LlmGeneration[") => Some(Wayflow::Llm),
            "AgentExecutionSpan" => Some(Wayflow::Agent),
            "FlowExecutionSpan" => Some(Wayflow::Flow),
            "StepInvocationSpan" => Some(Wayflow::Step),
            _ => None,
        };
        by_name.or_else(|| {
            // The span's own start event comes first; a custom span name does not change it.
            let first = span.events.first()?;
            let class = str_attr(&first.attributes, "event_type")
                .unwrap_or(Cow::Borrowed(first.name.as_str()));
            match &*class {
                "ToolExecutionStartEvent" => Some(Wayflow::Tool),
                "LlmGenerationRequestEvent" => Some(Wayflow::Llm),
                "AgentExecutionStartedEvent" => Some(Wayflow::Agent),
                "FlowExecutionStartedEvent" => Some(Wayflow::Flow),
                "StepInvocationStartEvent" => Some(Wayflow::Step),
                _ => None,
            }
        })
    }

    /// GenAI operation names; a flow is audited as a `step`, as an OpenInference `CHAIN` is.
    fn operation(self) -> &'static str {
        match self {
            Wayflow::Tool => "execute_tool",
            Wayflow::Llm => "chat",
            Wayflow::Agent => "invoke_agent",
            Wayflow::Flow | Wayflow::Step => "step",
        }
    }
}

fn rfc3339(unix_nanos: u64) -> String {
    let t = if unix_nanos == 0 {
        SystemTime::now()
    } else {
        UNIX_EPOCH + Duration::from_nanos(unix_nanos)
    };
    humantime::format_rfc3339_nanos(t).to_string()
}

const CONVERSATION_KEYS: &[&str] = &[
    "gen_ai.conversation.id",
    "session.id",
    "conversation.id",
    "conversation_id",
    "thread_id",
];

/// The audit record for a span, or `None` when it is not an agent operation.
pub fn build_record<'a>(resource: &'a Resource, span: &'a Span) -> Option<AuditRecord<'a>> {
    use crate::vocab::attr::{HASH_KEY_ID, INPUT_HASH, OUTPUT_HASH};
    let a = &span.attributes;
    let input_hash = str_attr(a, INPUT_HASH);
    let output_hash = str_attr(a, OUTPUT_HASH);
    // Only looked for when neither GenAI nor OpenInference names the operation.
    let mut wayflow = None;
    let operation = match (
        str_attr(a, "gen_ai.operation.name"),
        str_attr(a, "openinference.span.kind"),
    ) {
        (Some(op), _) => op,
        (None, Some(kind)) => Cow::Borrowed(openinference_operation(&kind)),
        (None, None) => {
            wayflow = Wayflow::of(span);
            match wayflow {
                Some(w) => Cow::Borrowed(w.operation()),
                None if input_hash.is_some() || output_hash.is_some() => Cow::Borrowed("step"),
                None => return None,
            }
        }
    };
    let agent = first_attr(a, &["gen_ai.agent.name", "agent.name"]).or_else(|| match wayflow {
        Some(Wayflow::Agent) => str_attr(a, "conversational_component.name"),
        _ => None,
    });
    let step = match wayflow {
        Some(Wayflow::Step) => str_attr(a, "step.name"),
        Some(Wayflow::Flow) => str_attr(a, "conversational_component.name"),
        _ => None,
    }
    .unwrap_or(Cow::Borrowed(cut(&span.name)));
    let status = match span.status.as_ref().map(|s| s.code) {
        Some(c) if c == StatusCode::Error as i32 => "error",
        Some(c) if c == StatusCode::Ok as i32 => "ok",
        _ => "unset",
    };
    let duration_ns = span
        .end_time_unix_nano
        .saturating_sub(span.start_time_unix_nano);
    Some(AuditRecord {
        time: rfc3339(span.start_time_unix_nano),
        trace_id: hex::encode(&span.trace_id),
        span_id: hex::encode(&span.span_id),
        service: Cow::Borrowed(cut(crate::otlp::service_name(Some(resource)))),
        operation,
        conversation_id: first_attr(a, CONVERSATION_KEYS)
            .or_else(|| first_attr(&resource.attributes, CONVERSATION_KEYS)),
        agent,
        tool: first_attr(a, &["gen_ai.tool.name", "tool.name"]),
        step,
        status,
        duration_ms: duration_ns as f64 / 1e6,
        input_hash,
        output_hash,
        hash_key_id: str_attr(a, HASH_KEY_ID),
        redaction_types: str_attr(a, "redaction.types").unwrap_or(Cow::Borrowed("")),
        event: None,
    })
}

/// The audit record for a log record, or `None` when it is not a GenAI event (see the module
/// docs).
pub fn build_event_record<'a>(
    resource: &'a Resource,
    record: &'a LogRecord,
) -> Option<AuditRecord<'a>> {
    use crate::vocab::attr::{HASH_KEY_ID, INPUT_HASH, OUTPUT_HASH};
    let a = &record.attributes;
    let event = if record.event_name.is_empty() {
        str_attr(a, "event.name").unwrap_or(Cow::Borrowed(""))
    } else {
        Cow::Borrowed(record.event_name.as_str())
    };
    let input_hash = str_attr(a, INPUT_HASH);
    let output_hash = str_attr(a, OUTPUT_HASH);
    if !event.starts_with("gen_ai.") && input_hash.is_none() && output_hash.is_none() {
        return None;
    }
    let event = match event {
        Cow::Borrowed(e) => Cow::Borrowed(cut(e)),
        Cow::Owned(e) => Cow::Owned(cut(&e).to_string()),
    };
    let time = if record.time_unix_nano > 0 {
        record.time_unix_nano
    } else {
        record.observed_time_unix_nano
    };
    Some(AuditRecord {
        time: rfc3339(time),
        trace_id: hex::encode(&record.trace_id),
        span_id: hex::encode(&record.span_id),
        service: Cow::Borrowed(cut(crate::otlp::service_name(Some(resource)))),
        operation: str_attr(a, "gen_ai.operation.name").unwrap_or_else(|| event.clone()),
        conversation_id: first_attr(a, CONVERSATION_KEYS)
            .or_else(|| first_attr(&resource.attributes, CONVERSATION_KEYS)),
        agent: first_attr(a, &["gen_ai.agent.name", "agent.name"]),
        tool: first_attr(a, &["gen_ai.tool.name", "tool.name"]),
        step: event.clone(),
        // SeverityNumber 17 and up: ERROR and FATAL.
        status: if record.severity_number >= 17 {
            "error"
        } else {
            "unset"
        },
        duration_ms: 0.0,
        input_hash,
        output_hash,
        hash_key_id: str_attr(a, HASH_KEY_ID),
        redaction_types: str_attr(a, "redaction.types").unwrap_or(Cow::Borrowed("")),
        event: Some(event),
    })
}

#[cfg(test)]
#[path = "audit_tests.rs"]
mod tests;
