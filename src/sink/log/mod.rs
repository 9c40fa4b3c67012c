//! The tamper-evident, append-only span log (the local `file` exporter).
//!
//! Layout of the directory (`exporters.file.path`):
//! - `{first_seq:020}.seg`: segments of records (see [`record`]); the newest is open for
//!   appends, the others are sealed (fsynced, made read-only) and never written again.
//! - `hashes.dat`: the RFC 9162 Merkle tree's stored nodes (see [`tree`]).
//! - `checkpoints.log`, `checkpoint`, `pubkeys`: signed checkpoints (see [`checkpoint`]).
//! - `pruned`: first sequence number whose payload retention kept (absent = 0).
//!
//! Guarantees: a record is a leaf `SHA-256(0x00 ‖ record)`; with `fsync: batch` (default) an
//! append returns only after an fdatasync covering it, and concurrent appends share one
//! fdatasync (group commit). A signed checkpoint (tree size + root) is written at
//! `checkpoint_interval`, at every segment roll and at shutdown, each only after the data it
//! covers is durable, and each is logged at INFO. Any write or fsync error other than "disk
//! full" makes the sink fail for good (`ready()` false); disk full refuses the write
//! (retryable, nothing half-written stays) and the next write tries again.

pub mod checkpoint;
mod files;
pub mod io;
pub mod record;
mod recover;
pub mod tree;
pub mod verify;
mod walk;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use serde::Deserialize;

use crate::sink::{Delivery, FailureKind, Sink, SinkError};
use checkpoint::{SigningKey, SigningKeySource};
use io::{is_disk_full, Fs, StdFs, WFile};
use record::{segment_file_name, Prepared};
pub use tlog_tiles::Hash;
use tree::{hashes_bytes, Frontier, HashFile};

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

#[derive(Debug, thiserror::Error)]
pub enum LogError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("disk full writing {path}: write refused, retry later")]
    DiskFull { path: String },
    #[error("log sink failed: {0}")]
    Fatal(String),
    #[error("log sink is shut down")]
    Closed,
    #[error("record of {len} bytes exceeds max_record_bytes ({max})")]
    TooLarge { len: u64, max: u64 },
    #[error("corrupt log: {file} at byte offset {offset}: {what} (nothing was changed; see --salvage in docs/log.md, Recovery)")]
    Corrupt {
        file: String,
        offset: u64,
        what: String,
    },
    #[error("log holds {records} records but its last checkpoint covers {checkpoint}: records were removed")]
    ShorterThanCheckpoint { records: u64, checkpoint: u64 },
    #[error(
        "log root at tree size {size} differs from the last checkpoint's root: the log was altered"
    )]
    CheckpointMismatch { size: u64 },
    #[error(transparent)]
    Key(#[from] checkpoint::KeyLoadError),
    #[error("checkpoint: {0}")]
    Checkpoint(#[from] checkpoint::CheckpointError),
    #[error("config: {0}")]
    Config(String),
    /// The path of the LOCK file another process holds.
    #[error(
        "{0} is held by another process: another spanward (or sink) is writing this log directory"
    )]
    Locked(String),
}

impl LogError {
    /// How the pipeline should treat this failure.
    pub fn failure_kind(&self) -> FailureKind {
        match self {
            LogError::DiskFull { .. } => FailureKind::Retryable,
            LogError::TooLarge { .. } => FailureKind::Permanent,
            _ => FailureKind::Fatal,
        }
    }

    fn io(path: &Path, source: std::io::Error) -> LogError {
        LogError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

/// What `append` promises about one record.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AppendReceipt {
    pub seq: u64,
    pub leaf_hash: Hash,
    /// True when the record was fsynced before `append` returned.
    pub durable: bool,
}

/// Counters for the admin endpoint (monotonic unless noted).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogStats {
    pub records: u64,
    pub bytes: u64,
    pub spans: u64,
    /// fdatasync calls on segments (group commits + rolls + `always`).
    pub fsyncs: u64,
    pub disk_full_refusals: u64,
    pub checkpoints: u64,
    /// Gauge: records in the log (tree size).
    pub tree_size: u64,
    /// Gauge: records known durable.
    pub durable_size: u64,
}

#[derive(Default)]
struct Counters {
    records: AtomicU64,
    bytes: AtomicU64,
    spans: AtomicU64,
    fsyncs: AtomicU64,
    disk_full: AtomicU64,
    checkpoints: AtomicU64,
}

struct Active {
    file: Arc<dyn WFile>,
    first_seq: u64,
    path: PathBuf,
    len: u64,
    created: SystemTime,
}

#[derive(Debug, Clone)]
struct SegInfo {
    first_seq: u64,
    path: PathBuf,
    bytes: u64,
    sealed_at: SystemTime,
}

struct State {
    /// Records written (= next sequence number).
    n: u64,
    /// Records covered by a completed fdatasync.
    synced: u64,
    sync_running: bool,
    fatal: Option<String>,
    closed: bool,
    /// Last write failed for lack of space (to log the transitions once).
    disk_full: bool,
    seg: Active,
    sealed: Vec<SegInfo>,
    hashes: Arc<dyn WFile>,
    hash_entries: u64,
    frontier: Frontier,
}

struct CpState {
    last_size: Option<u64>,
    file: Arc<dyn WFile>,
    len: u64,
}

#[derive(Default)]
struct MaintFlags {
    stop: bool,
    checkpoint_requested: bool,
}

struct Inner {
    cfg: LogConfig,
    dir: PathBuf,
    fs: Arc<dyn Fs>,
    key: SigningKey,
    origin: String,
    st: Mutex<State>,
    synced_cv: Condvar,
    cp: Mutex<CpState>,
    maint: Mutex<MaintFlags>,
    maint_cv: Condvar,
    ready: AtomicBool,
    counters: Counters,
    hash_reader: HashFile,
    /// Holds the directory's advisory lock for as long as the sink lives (released by the
    /// kernel on exit, including kill -9).
    _lock: std::fs::File,
}

/// The log sink. Cheap to share: every method takes `&self` and is safe from many threads.
pub struct LogSink {
    inner: Arc<Inner>,
    maint: Mutex<Option<JoinHandle<()>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock cannot leave the state half-updated in a way that matters
    // more than refusing service would; keep going with the data.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn unix_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

impl LogSink {
    /// Opens (creates the directory, recovers a torn tail, checks against the last
    /// checkpoint). `signing_key`: from `SPANWARD_SIGNING_KEY` or `signing_key_file`, else an
    /// ephemeral key with one WARN line. `salvage`: start despite corruption instead of
    /// refusing: damage after the last checkpoint is cut (the cut bytes kept in a
    /// `.salvaged-*` file); damage in records a checkpoint covers is left in place (their leaf
    /// hashes stay in `hashes.dat`, so the tree and proofs are intact). Without it, a refusal
    /// changes nothing on disk.
    pub fn open(
        cfg: &LogConfig,
        env: &dyn crate::keys::Env,
        salvage: bool,
    ) -> Result<LogSink, LogError> {
        let fs = StdFs {
            file_mode: cfg.file_mode,
            dir_mode: cfg.dir_mode,
        };
        Self::open_with_fs(cfg, env, salvage, Arc::new(fs))
    }

    /// [`LogSink::open`] over another file system (fault injection in tests).
    pub fn open_with_fs(
        cfg: &LogConfig,
        env: &dyn crate::keys::Env,
        salvage: bool,
        fs: Arc<dyn Fs>,
    ) -> Result<LogSink, LogError> {
        cfg.validate()?;
        let dir = cfg.path.clone();
        fs.create_dir_all(&dir).map_err(|e| LogError::io(&dir, e))?;
        let dir_lock = lock_dir(&dir, cfg.file_mode)?;
        let key_name = cfg.origin.as_deref().unwrap_or(DEFAULT_KEY_NAME);
        let key = SigningKey::load(env, cfg.signing_key_file.as_deref(), key_name)?;
        if key.source() == SigningKeySource::Ephemeral {
            tracing::warn!(
                vkey = key.vkey(),
                "no checkpoint signing key configured (signing_key_file or {}): using an ephemeral key; its checkpoints verify only against this directory's pubkeys file",
                checkpoint::SIGNING_KEY_ENV
            );
        }
        let origin = cfg.origin.clone().unwrap_or_else(|| key.name().to_string());
        // Recovery first: when it refuses, nothing in the directory has changed.
        let rec = recover::recover(&*fs, &dir, &origin, key.vkey(), salvage, cfg.startup_check)?;
        files::record_pubkey(&*fs, &dir, key.vkey())?;

        // The open segment: continue the recovered one, or start a new one at `n`.
        let now = SystemTime::now();
        let seg = match rec.active {
            Some(a) => Active {
                file: fs
                    .open_write(&a.path, false)
                    .map_err(|e| LogError::io(&a.path, e))?,
                first_seq: a.first_seq,
                path: a.path,
                len: a.len,
                created: a.created,
            },
            None => create_segment(&*fs, &dir, rec.n, now)?,
        };
        if cfg.fsync != FsyncPolicy::Never {
            // Recovered records may sit in the page cache only (process crash): make them
            // durable before anything builds on them.
            seg.file
                .sync_data()
                .map_err(|e| LogError::io(&seg.path, e))?;
        }
        let cp_path = checkpoint::checkpoints_path(&dir);
        let cp_file = fs
            .open_write(&cp_path, true)
            .map_err(|e| LogError::io(&cp_path, e))?;
        let hash_reader = HashFile::open(&dir).map_err(|e| LogError::io(&dir, e))?;
        let n = rec.n;
        let inner = Arc::new(Inner {
            cfg: cfg.clone(),
            dir: dir.clone(),
            fs,
            key,
            origin,
            st: Mutex::new(State {
                n,
                synced: n,
                sync_running: false,
                fatal: None,
                closed: false,
                disk_full: false,
                seg,
                sealed: rec.sealed,
                hashes: rec.hashes,
                hash_entries: rec.hash_entries,
                frontier: rec.frontier,
            }),
            synced_cv: Condvar::new(),
            cp: Mutex::new(CpState {
                last_size: rec.last_checkpoint.as_ref().map(|c| c.size),
                file: cp_file,
                len: rec.checkpoints_len,
            }),
            maint: Mutex::new(MaintFlags::default()),
            maint_cv: Condvar::new(),
            ready: AtomicBool::new(true),
            counters: Counters::default(),
            hash_reader,
            _lock: dir_lock,
        });
        if rec.last_checkpoint.as_ref().map(|c| c.size) != Some(n) {
            inner.write_checkpoint()?;
        }
        tracing::info!(
            dir = %dir.display(),
            records = n,
            origin = %inner.origin,
            fsync = ?cfg.fsync,
            startup_check = ?cfg.startup_check,
            damage_left_in_place = rec.damage,
            "span log opened"
        );
        let worker = inner.clone();
        let handle = std::thread::Builder::new()
            .name("spanward-log".into())
            .spawn(move || worker.maintenance_loop())
            .map_err(|e| LogError::io(&dir, e))?;
        Ok(LogSink {
            inner,
            maint: Mutex::new(Some(handle)),
        })
    }

    /// Appends one record. Under `fsync: batch` and `always` it returns once the record is
    /// fsynced (`durable: true`).
    pub fn append(&self, payload: &[u8]) -> Result<AppendReceipt, LogError> {
        let max = self.inner.cfg.max_record_bytes;
        if payload.len() as u64 > max {
            return Err(LogError::TooLarge {
                len: payload.len() as u64,
                max,
            });
        }
        // CRC and leaf hash of the payload run here, outside the writer lock.
        let prep = Prepared::new(payload);
        let (seq, leaf) = self.inner.write_record(prep)?;
        let durable = match self.inner.cfg.fsync {
            FsyncPolicy::Batch => {
                self.inner.wait_synced(seq + 1)?;
                true
            }
            FsyncPolicy::Always => true,
            FsyncPolicy::Interval | FsyncPolicy::Never => false,
        };
        Ok(AppendReceipt {
            seq,
            leaf_hash: leaf,
            durable,
        })
    }

    /// Makes everything appended so far durable (no-op under `fsync: never`).
    pub fn sync(&self) -> Result<(), LogError> {
        if self.inner.cfg.fsync == FsyncPolicy::Never {
            return Ok(());
        }
        let n = lock(&self.inner.st).n;
        self.inner.wait_synced(n)
    }

    /// Writes a checkpoint now if the durable log grew since the last one; returns its size.
    pub fn checkpoint(&self) -> Result<Option<u64>, LogError> {
        self.inner.write_checkpoint()
    }

    /// Stops the background thread, fsyncs and writes a final checkpoint. Later appends
    /// fail with [`LogError::Closed`].
    pub fn close(&self) -> Result<(), LogError> {
        self.stop_maintenance();
        self.sync()?;
        self.inner.write_checkpoint()?;
        lock(&self.inner.st).closed = true;
        self.inner.ready.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// The log's public verifier key (also in the directory's `pubkeys`).
    pub fn verifier_key(&self) -> &str {
        self.inner.key.vkey()
    }

    pub fn origin(&self) -> &str {
        &self.inner.origin
    }

    pub fn stats(&self) -> LogStats {
        let c = &self.inner.counters;
        let (tree_size, durable_size) = {
            let st = lock(&self.inner.st);
            (st.n, st.synced)
        };
        LogStats {
            records: c.records.load(Ordering::Relaxed),
            bytes: c.bytes.load(Ordering::Relaxed),
            spans: c.spans.load(Ordering::Relaxed),
            fsyncs: c.fsyncs.load(Ordering::Relaxed),
            disk_full_refusals: c.disk_full.load(Ordering::Relaxed),
            checkpoints: c.checkpoints.load(Ordering::Relaxed),
            tree_size,
            durable_size,
        }
    }

    fn stop_maintenance(&self) {
        {
            let mut f = lock(&self.inner.maint);
            f.stop = true;
        }
        self.inner.maint_cv.notify_all();
        if let Some(h) = lock(&self.maint).take() {
            let _ = h.join();
        }
    }
}

impl Drop for LogSink {
    /// Stops the background thread without a final checkpoint (like a crash, as far as the
    /// files are concerned; call [`LogSink::close`] for a clean shutdown).
    fn drop(&mut self) {
        self.stop_maintenance();
    }
}

impl Sink for LogSink {
    fn name(&self) -> &'static str {
        "file"
    }

    fn write(&self, encoded: &Bytes, spans: usize) -> Result<Delivery, SinkError> {
        self.write_in_fanout(encoded, spans, &mut crate::sink::Provenance::default())
    }

    fn write_in_fanout(
        &self,
        encoded: &Bytes,
        spans: usize,
        prov: &mut crate::sink::Provenance,
    ) -> Result<Delivery, SinkError> {
        match self.append(encoded) {
            Ok(r) => {
                prov.log = Some(crate::sink::LogPosition {
                    seq: r.seq,
                    leaf_hash: r.leaf_hash.0,
                });
                self.inner
                    .counters
                    .spans
                    .fetch_add(spans as u64, Ordering::Relaxed);
                Ok(if r.durable {
                    Delivery::Durable
                } else {
                    Delivery::Accepted
                })
            }
            Err(e) => Err(SinkError::new("file", e.failure_kind(), e.to_string())),
        }
    }

    fn hold_on_retryable(&self) -> bool {
        true
    }

    fn ready(&self) -> bool {
        self.inner.ready.load(Ordering::SeqCst)
    }

    fn shutdown(&self) -> Result<(), SinkError> {
        self.close()
            .map_err(|e| SinkError::new("file", e.failure_kind(), e.to_string()))
    }
}

/// Takes an exclusive advisory lock on `dir/LOCK`, so two processes (or two sinks) never
/// append to one log.
fn lock_dir(dir: &Path, mode: u32) -> Result<std::fs::File, LogError> {
    use std::os::unix::fs::OpenOptionsExt;
    let p = dir.join("LOCK");
    let f = std::fs::OpenOptions::new()
        .mode(mode)
        .create(true)
        .truncate(false)
        .write(true)
        .open(&p)
        .map_err(|e| LogError::io(&p, e))?;
    // std's flock-based lock: released when the file (the sink) is dropped or the process dies.
    match f.try_lock() {
        Ok(()) => Ok(f),
        Err(std::fs::TryLockError::WouldBlock) => Err(LogError::Locked(p.display().to_string())),
        Err(std::fs::TryLockError::Error(e)) => Err(LogError::io(&p, e)),
    }
}

fn create_segment(
    fs: &dyn Fs,
    dir: &Path,
    first_seq: u64,
    now: SystemTime,
) -> Result<Active, LogError> {
    let path = dir.join(segment_file_name(first_seq));
    let file = fs
        .open_write(&path, true)
        .map_err(|e| LogError::io(&path, e))?;
    let header = record::encode_segment_header(first_seq, unix_ms(now));
    let r = file
        .write_all_at(&header, 0)
        .and_then(|_| file.set_len(header.len() as u64))
        .and_then(|_| file.sync_data())
        .and_then(|_| fs.sync_dir(dir));
    if let Err(e) = r {
        let _ = fs.remove_file(&path);
        return Err(if is_disk_full(&e) {
            LogError::DiskFull {
                path: path.display().to_string(),
            }
        } else {
            LogError::io(&path, e)
        });
    }
    Ok(Active {
        file,
        first_seq,
        path,
        len: header.len() as u64,
        created: now,
    })
}

impl Inner {
    fn set_fatal(&self, st: &mut State, msg: String) -> LogError {
        if st.fatal.is_none() {
            tracing::error!(error = %msg, "span log failed; refusing all further writes");
            st.fatal = Some(msg.clone());
        }
        self.ready.store(false, Ordering::SeqCst);
        self.synced_cv.notify_all();
        LogError::Fatal(st.fatal.clone().unwrap_or(msg))
    }

    fn check_usable(&self, st: &State) -> Result<(), LogError> {
        if let Some(m) = &st.fatal {
            return Err(LogError::Fatal(m.clone()));
        }
        if st.closed {
            return Err(LogError::Closed);
        }
        Ok(())
    }

    /// A write failed: cut back what it may have left (`undo`), then classify.
    fn write_failed(
        &self,
        st: &mut State,
        what: &Path,
        e: std::io::Error,
        undo: &[(&Arc<dyn WFile>, u64)],
    ) -> LogError {
        for (f, len) in undo {
            if let Err(e2) = f.set_len(*len) {
                return self.set_fatal(st, format!("cutting back a failed write: {e2}"));
            }
        }
        if is_disk_full(&e) {
            self.counters.disk_full.fetch_add(1, Ordering::Relaxed);
            if !st.disk_full {
                st.disk_full = true;
                tracing::warn!(path = %what.display(), "disk full: span log refuses writes until space returns");
            }
            LogError::DiskFull {
                path: what.display().to_string(),
            }
        } else {
            self.set_fatal(st, format!("writing {}: {e}", what.display()))
        }
    }

    fn write_record(&self, prep: Prepared) -> Result<(u64, Hash), LogError> {
        let mut st = lock(&self.st);
        self.check_usable(&st)?;
        let rec_len = prep.record_len() as u64;
        if st.n > st.seg.first_seq && st.seg.len + rec_len > self.cfg.segment_bytes {
            self.roll(&mut st)?;
        }
        let seq = st.n;
        let (rec, leaf) = prep.finish(seq, unix_nanos());
        let off = st.seg.len;
        let seg_file = st.seg.file.clone();
        if let Err(e) = seg_file.write_all_at(&rec, off) {
            let path = st.seg.path.clone();
            return Err(self.write_failed(&mut st, &path, e, &[(&seg_file, off)]));
        }
        let hs = st.frontier.next_hashes(leaf);
        let hoff = st.hash_entries * tree::HASH_LEN;
        let hfile = st.hashes.clone();
        if let Err(e) = hfile.write_all_at(&hashes_bytes(&hs), hoff) {
            let path = self.dir.join(tree::HASHES_FILE);
            return Err(self.write_failed(&mut st, &path, e, &[(&seg_file, off), (&hfile, hoff)]));
        }
        st.frontier.push(&hs);
        st.hash_entries += hs.len() as u64;
        st.seg.len += rec_len;
        st.n += 1;
        if st.disk_full {
            st.disk_full = false;
            tracing::info!("disk space available again: span log accepts writes");
        }
        if self.cfg.fsync == FsyncPolicy::Always {
            if let Err(e) = seg_file.sync_data() {
                return Err(self.set_fatal(&mut st, format!("fsync: {e}")));
            }
            self.counters.fsyncs.fetch_add(1, Ordering::Relaxed);
            st.synced = st.n;
        }
        self.counters.records.fetch_add(1, Ordering::Relaxed);
        self.counters.bytes.fetch_add(rec_len, Ordering::Relaxed);
        Ok((seq, leaf))
    }

    /// Group commit: returns once records `[0, target)` are durable. The first waiter that
    /// finds no fdatasync running becomes the leader and syncs everything written so far; the
    /// others wait for it and usually find themselves covered.
    fn wait_synced(&self, target: u64) -> Result<(), LogError> {
        let mut st = lock(&self.st);
        loop {
            if st.synced >= target {
                return Ok(());
            }
            if let Some(m) = &st.fatal {
                return Err(LogError::Fatal(m.clone()));
            }
            if st.sync_running {
                st = self.synced_cv.wait(st).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            st.sync_running = true;
            let upto = st.n;
            let file = st.seg.file.clone();
            drop(st);
            let r = file.sync_data();
            st = lock(&self.st);
            st.sync_running = false;
            match r {
                Ok(()) => {
                    self.counters.fsyncs.fetch_add(1, Ordering::Relaxed);
                    st.synced = st.synced.max(upto);
                    self.synced_cv.notify_all();
                }
                Err(e) => {
                    // Never retried: after a failed fsync the kernel may have dropped the
                    // dirty pages, so a later "successful" fsync would prove nothing.
                    return Err(self.set_fatal(&mut st, format!("fsync: {e}")));
                }
            }
        }
    }

    /// Seals the open segment and starts a new one at `st.n` (lock held).
    fn roll(&self, st: &mut State) -> Result<(), LogError> {
        // The old segment is made durable before the new one exists, so recovery may take
        // every segment but the last as complete.
        if self.cfg.fsync != FsyncPolicy::Never {
            if let Err(e) = st.seg.file.sync_data() {
                return Err(self.set_fatal(st, format!("fsync at seal: {e}")));
            }
            self.counters.fsyncs.fetch_add(1, Ordering::Relaxed);
            st.synced = st.n;
            self.synced_cv.notify_all();
        }
        let now = SystemTime::now();
        let new = match create_segment(&*self.fs, &self.dir, st.n, now) {
            Ok(a) => a,
            Err(LogError::DiskFull { path }) => {
                self.counters.disk_full.fetch_add(1, Ordering::Relaxed);
                return Err(LogError::DiskFull { path });
            }
            Err(e) => return Err(self.set_fatal(st, e.to_string())),
        };
        if let Err(e) = self.fs.set_readonly(&st.seg.path) {
            tracing::warn!(error = %e, "could not mark a sealed segment read-only");
        }
        if let Err(e) = self.fs.sync_dir(&self.dir) {
            return Err(self.set_fatal(st, format!("fsync of log directory: {e}")));
        }
        let old = std::mem::replace(&mut st.seg, new);
        tracing::info!(segment = %old.path.display(), records = st.n - old.first_seq, bytes = old.len, "log segment sealed");
        st.sealed.push(SegInfo {
            first_seq: old.first_seq,
            path: old.path,
            bytes: old.len,
            sealed_at: now,
        });
        lock(&self.maint).checkpoint_requested = true;
        self.maint_cv.notify_all();
        Ok(())
    }

    /// Writes a signed checkpoint covering the durable prefix, if it grew.
    fn write_checkpoint(&self) -> Result<Option<u64>, LogError> {
        let mut cp = lock(&self.cp);
        let (size, hashes) = {
            let st = lock(&self.st);
            if let Some(m) = &st.fatal {
                return Err(LogError::Fatal(m.clone()));
            }
            let size = if self.cfg.fsync == FsyncPolicy::Never {
                st.n
            } else {
                st.synced
            };
            (size, st.hashes.clone())
        };
        if cp.last_size == Some(size) {
            return Ok(None);
        }
        let never = self.cfg.fsync == FsyncPolicy::Never;
        // Retention deletes payloads only below a checkpoint: the hashes below it must be
        // durable first.
        if !never {
            if let Err(e) = hashes.sync_data() {
                let mut st = lock(&self.st);
                return Err(self.set_fatal(&mut st, format!("fsync of hashes.dat: {e}")));
            }
        }
        let root = if size == 0 {
            tree::EMPTY_HASH
        } else {
            tlog_tiles::tree_hash(size, &self.hash_reader)
                .map_err(|e| LogError::Fatal(format!("tree head: {e}")))?
        };
        let note = self.key.sign_checkpoint(&self.origin, size, root)?;
        let frame = checkpoint::encode_frame(&note);
        let cp_path = checkpoint::checkpoints_path(&self.dir);
        if let Err(e) = cp.file.write_all_at(&frame, cp.len) {
            let _ = cp.file.set_len(cp.len);
            if is_disk_full(&e) {
                self.counters.disk_full.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("disk full: checkpoint postponed");
                return Err(LogError::DiskFull {
                    path: cp_path.display().to_string(),
                });
            }
            let mut st = lock(&self.st);
            return Err(self.set_fatal(&mut st, format!("writing checkpoint: {e}")));
        }
        if !never {
            if let Err(e) = cp.file.sync_data() {
                let mut st = lock(&self.st);
                return Err(self.set_fatal(&mut st, format!("fsync of checkpoints: {e}")));
            }
        }
        cp.len += frame.len() as u64;
        cp.last_size = Some(size);
        self.counters.checkpoints.fetch_add(1, Ordering::Relaxed);
        if let Err(e) = files::write_atomic(
            &*self.fs,
            &self.dir,
            checkpoint::LATEST_CHECKPOINT_FILE,
            &note,
            !never,
        ) {
            tracing::warn!(error = %e, "could not update the latest-checkpoint file (checkpoints.log has it)");
        }
        let text = String::from_utf8_lossy(&note).replace('\n', "\\n");
        tracing::info!(origin = %self.origin, size, root = %root, checkpoint = %text, "log checkpoint");
        Ok(Some(size))
    }

    fn maintenance_loop(self: Arc<Self>) {
        let mut tick = self.cfg.checkpoint_interval.min(Duration::from_secs(1));
        if self.cfg.fsync == FsyncPolicy::Interval {
            tick = tick.min(self.cfg.fsync_interval);
        }
        let mut last_sync = Instant::now();
        let mut last_cp = Instant::now();
        let mut last_retention = Instant::now() - Duration::from_secs(3600);
        loop {
            let requested = {
                let mut f = lock(&self.maint);
                if !f.stop && !f.checkpoint_requested {
                    f = self
                        .maint_cv
                        .wait_timeout(f, tick)
                        .map(|(g, _)| g)
                        .unwrap_or_else(|e| e.into_inner().0);
                }
                if f.stop {
                    return;
                }
                std::mem::take(&mut f.checkpoint_requested)
            };
            if self.cfg.fsync == FsyncPolicy::Interval
                && last_sync.elapsed() >= self.cfg.fsync_interval
            {
                let n = lock(&self.st).n;
                let _ = self.wait_synced(n);
                last_sync = Instant::now();
            }
            if requested || last_cp.elapsed() >= self.cfg.checkpoint_interval {
                if let Err(e) = self.write_checkpoint() {
                    tracing::warn!(error = %e, "checkpoint failed");
                }
                last_cp = Instant::now();
            }
            {
                let mut st = lock(&self.st);
                let old = st
                    .seg
                    .created
                    .elapsed()
                    .map(|a| a >= self.cfg.segment_age)
                    .unwrap_or(false);
                if old && st.n > st.seg.first_seq && st.fatal.is_none() && !st.closed {
                    if let Err(e) = self.roll(&mut st) {
                        tracing::warn!(error = %e, "segment roll by age failed");
                    }
                }
            }
            let has_retention =
                self.cfg.retention_max_age.is_some() || self.cfg.retention_max_bytes.is_some();
            if has_retention && last_retention.elapsed() >= tick {
                if let Err(e) = self.apply_retention() {
                    tracing::warn!(error = %e, "retention failed");
                }
                last_retention = Instant::now();
            }
        }
    }

    /// Deletes the payloads (segment files) of the oldest sealed segments that are past the
    /// age or size limit and fully covered by a checkpoint. Their leaf hashes stay in
    /// `hashes.dat`, so later proofs and `verify` still work.
    fn apply_retention(&self) -> Result<(), LogError> {
        let covered = match lock(&self.cp).last_size {
            Some(s) => s,
            None => return Ok(()),
        };
        let victims: Vec<(SegInfo, u64)> = {
            let st = lock(&self.st);
            let mut total: u64 = st.sealed.iter().map(|s| s.bytes).sum::<u64>() + st.seg.len;
            let mut v = Vec::new();
            for (i, s) in st.sealed.iter().enumerate() {
                let end = st
                    .sealed
                    .get(i + 1)
                    .map(|x| x.first_seq)
                    .unwrap_or(st.seg.first_seq);
                let too_old = self
                    .cfg
                    .retention_max_age
                    .map(|a| s.sealed_at.elapsed().map(|e| e >= a).unwrap_or(false))
                    .unwrap_or(false);
                let too_big = self
                    .cfg
                    .retention_max_bytes
                    .map(|m| total > m)
                    .unwrap_or(false);
                if end > covered || !(too_old || too_big) {
                    break;
                }
                total -= s.bytes;
                v.push((s.clone(), end));
            }
            v
        };
        let Some((_, new_pruned)) = victims.last() else {
            return Ok(());
        };
        let durable = self.cfg.fsync != FsyncPolicy::Never;
        files::write_atomic(
            &*self.fs,
            &self.dir,
            files::PRUNED_FILE,
            format!("{new_pruned}\n").as_bytes(),
            durable,
        )
        .map_err(|e| LogError::io(&self.dir.join(files::PRUNED_FILE), e))?;
        let mut bytes = 0;
        for (s, _) in &victims {
            self.fs
                .remove_file(&s.path)
                .map_err(|e| LogError::io(&s.path, e))?;
            bytes += s.bytes;
        }
        if durable {
            self.fs
                .sync_dir(&self.dir)
                .map_err(|e| LogError::io(&self.dir, e))?;
        }
        lock(&self.st).sealed.drain(..victims.len());
        tracing::info!(
            segments = victims.len(),
            bytes,
            first_kept_seq = new_pruned,
            "retention deleted sealed segment payloads; their leaf hashes are kept"
        );
        Ok(())
    }
}
