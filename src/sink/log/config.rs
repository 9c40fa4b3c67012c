//! `exporters.file`: the log's configuration, its defaults, and the limits [`LogConfig::validate`]
//! checks.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::{checkpoint, io, record, LogError};

/// When appends reach stable storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum FsyncPolicy {
    /// Group commit: every append waits for an fdatasync that covers it; appends from several
    /// threads that arrive while one fdatasync runs share the next one. Writes are `Durable`.
    #[default]
    Batch,
    /// fdatasync every `fsync_interval` in the background; appends return at once
    /// (`Accepted`). Loss window on power failure: up to one interval of records.
    Interval,
    /// One fdatasync per append, serialised: the slowest, for comparison. `Durable`.
    Always,
    /// Never fsync (tests and benchmarks only): a power failure can lose anything not yet
    /// written back by the kernel, and checkpoints may then be ahead of the data.
    Never,
}

/// How much of the log is read at start, before the sink accepts writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum StartupCheck {
    /// Every record of every segment: CRC, framing and sequence numbers, and that each sealed
    /// segment ends where the next begins (no SHA-256: edits with fixed-up CRCs are what
    /// `spanward verify` is for). Costs one read of the log (figures in docs/log.md, Recovery).
    #[default]
    Full,
    /// Only the open segment's records, and the headers of sealed ones: start-up time is
    /// bounded by one segment however large the log, and damage in sealed segments is left
    /// for `spanward verify` to find.
    OpenSegment,
}

/// `exporters.file`: the local tamper-evident log.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// Log directory; created (with parents) if missing. Default `./spanward-data`.
    pub path: PathBuf,
    /// `batch` (default) | `interval` | `always` | `never`; see [`FsyncPolicy`].
    pub fsync: FsyncPolicy,
    /// Period of the background fdatasync under `fsync: interval` (the loss window). Default
    /// `100ms`; at least 1ms. Ignored by the other policies.
    #[serde(with = "humantime_serde")]
    pub fsync_interval: Duration,
    /// A segment is sealed and a new one started once the next record would take it past this
    /// size. Default 128 MiB; 64 KiB to 16 GiB. A single record larger than this still goes
    /// into one (fresh) segment.
    pub segment_bytes: u64,
    /// A segment that holds records is sealed once it is this old, so retention can act on
    /// quiet logs. Default `1h`; at least 1s.
    #[serde(with = "humantime_serde")]
    pub segment_age: Duration,
    /// How often a signed checkpoint is written when the log grew. Default `10s`; at least
    /// 100ms. Checkpoints are also written at every roll and at shutdown.
    #[serde(with = "humantime_serde")]
    pub checkpoint_interval: Duration,
    /// Delete payloads of sealed segments older than this (leaf hashes are kept, so proofs and
    /// `verify` still work for later records). Default: none (keep forever).
    #[serde(with = "humantime_serde")]
    pub retention_max_age: Option<Duration>,
    /// Delete payloads of the oldest sealed segments while the segments take more than this
    /// many bytes. The open segment is never deleted, so the log can exceed it by up to one
    /// segment. Default: none.
    pub retention_max_bytes: Option<u64>,
    /// File holding the Ed25519 checkpoint signer key (`spanward keygen --signing`). The env
    /// var `SPANWARD_SIGNING_KEY` wins over it. With neither, a random per-process key signs
    /// (one WARN line at start): checkpoints then only verify against the directory's own
    /// `pubkeys`. Never put the key itself in the YAML. Default: none.
    pub signing_key_file: Option<PathBuf>,
    /// Origin line of checkpoints (the log's name: no spaces, no `+`). Default: the signing
    /// key's name. Must not change over the life of a directory (open fails if it does).
    pub origin: Option<String>,
    /// Largest record (one processed batch, encoded) accepted; larger writes fail with a
    /// permanent error. Default 64 MiB; at most 256 MiB.
    pub max_record_bytes: u64,
    /// `full` (default) | `open_segment`; see [`StartupCheck`]. Damage found refuses to start
    /// (unless `--salvage`), naming file and offset.
    pub startup_check: StartupCheck,
    /// Permission bits of the files the log creates, as an octal string. Default `"0600"`
    /// (owner only: the log holds scrubbed but still sensitive data). Applied at creation and
    /// masked by the process umask; existing files keep theirs. Only `0` to `0777`: set-id and
    /// sticky bits are refused, and an owner who cannot read and write its own log too.
    #[serde(deserialize_with = "octal_mode")]
    pub file_mode: u32,
    /// Permission bits of the directories the log creates (the log directory and missing
    /// parents), as an octal string. Default `"0700"`. Same rules as `file_mode`; the owner
    /// needs read, write and search (`0700` at least).
    #[serde(deserialize_with = "octal_mode")]
    pub dir_mode: u32,
}

/// An octal mode written as a string (`"0640"`, `"640"`, `"0o640"`): a bare YAML number would
/// be read as decimal by some tools and octal by others.
fn octal_mode<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let s = String::deserialize(d)?;
    let t = s.trim();
    let digits = t.strip_prefix("0o").unwrap_or(t);
    u32::from_str_radix(digits, 8).map_err(|_| {
        serde::de::Error::custom(format!("`{s}` is not an octal mode such as \"0600\""))
    })
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            path: PathBuf::from("./spanward-data"),
            fsync: FsyncPolicy::Batch,
            fsync_interval: Duration::from_millis(100),
            segment_bytes: 128 << 20,
            segment_age: Duration::from_secs(3600),
            checkpoint_interval: Duration::from_secs(10),
            retention_max_age: None,
            retention_max_bytes: None,
            signing_key_file: None,
            origin: None,
            max_record_bytes: 64 << 20,
            startup_check: StartupCheck::Full,
            file_mode: io::DEFAULT_FILE_MODE,
            dir_mode: io::DEFAULT_DIR_MODE,
        }
    }
}

/// `retention_max_bytes` of the file sink that is on because no `exporters` section chose
/// otherwise (`spanward run` with no config): 1 GiB of segments, so a laptop running the default
/// service under `spanward load` (tens of MB/s) never fills its disk. An explicit
/// `exporters.file` keeps everything unless it sets retention itself.
pub const DEFAULT_RUN_RETENTION_BYTES: u64 = 1 << 30;

/// Default key name (and so origin) of a generated key.
pub const DEFAULT_KEY_NAME: &str = "spanward";

impl LogConfig {
    /// Checks the limits documented on each field.
    pub fn validate(&self) -> Result<(), LogError> {
        let bad = |m: String| Err(LogError::Config(m));
        if !(64 << 10..=16 << 30).contains(&self.segment_bytes) {
            return bad("segment_bytes must be between 64 KiB and 16 GiB".into());
        }
        if self.fsync_interval < Duration::from_millis(1) {
            return bad("fsync_interval must be at least 1ms".into());
        }
        if self.segment_age < Duration::from_secs(1) {
            return bad("segment_age must be at least 1s".into());
        }
        if self.checkpoint_interval < Duration::from_millis(100) {
            return bad("checkpoint_interval must be at least 100ms".into());
        }
        if self.max_record_bytes == 0 || self.max_record_bytes > record::MAX_PAYLOAD as u64 {
            return bad(format!(
                "max_record_bytes must be between 1 and {}",
                record::MAX_PAYLOAD
            ));
        }
        if self.file_mode > 0o777 || self.file_mode & 0o600 != 0o600 {
            return bad(format!(
                "file_mode {:#o} must be at most 0777 and give the owner read and write (0600)",
                self.file_mode
            ));
        }
        if self.dir_mode > 0o777 || self.dir_mode & 0o700 != 0o700 {
            return bad(format!(
                "dir_mode {:#o} must be at most 0777 and give the owner read, write and search (0700)",
                self.dir_mode
            ));
        }
        if let Some(o) = &self.origin {
            if !checkpoint::is_valid_name(o) {
                return bad("origin must be non-empty without spaces or '+'".into());
            }
        }
        Ok(())
    }
}
