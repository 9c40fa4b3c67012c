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
//!
//! Code: this file has [`LogSink`], its errors and the state its parts share; `config` the
//! configuration, `writer` the append path (records, group commit, rolls), `maintenance` the
//! checkpoints and the background thread (interval fsync, rolls by age, retention), `recover`
//! the start-up checks and repairs, [`verify`] the offline reads; both read segments through
//! `walk`.

pub mod checkpoint;
mod config;
mod files;
pub mod io;
pub mod kind;
mod maintenance;
pub mod record;
mod recover;
pub mod tree;
pub mod verify;
mod walk;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::SystemTime;

use bytes::Bytes;

use crate::sink::{Delivery, FailureKind, Sink, SinkError};
use crate::vocab::Signal;
use checkpoint::{SigningKey, SigningKeySource};
pub use config::{
    FsyncPolicy, LogConfig, StartupCheck, DEFAULT_KEY_NAME, DEFAULT_RUN_RETENTION_BYTES,
};
use io::{Fs, StdFs, WFile};
use record::Prepared;
pub use tlog_tiles::Hash;
use tree::{Frontier, HashFile};
use writer::create_segment;

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
    /// Items written, per signal: spans, log records, metric data points.
    pub spans: u64,
    pub log_records: u64,
    pub metric_points: u64,
    /// fdatasync calls on segments (group commits + rolls + `always`).
    pub fsyncs: u64,
    pub disk_full_refusals: u64,
    pub checkpoints: u64,
    /// Gauge: records in the log (tree size).
    pub tree_size: u64,
    /// Gauge: records known durable.
    pub durable_size: u64,
}

// The state `writer` and `maintenance` share.

fn signal_index(s: Signal) -> usize {
    match s {
        Signal::Traces => 0,
        Signal::Logs => 1,
        Signal::Metrics => 2,
    }
}

#[derive(Default)]
struct Counters {
    records: AtomicU64,
    bytes: AtomicU64,
    /// Items written, indexed by [`signal_index`].
    items: [AtomicU64; 3],
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

/// The checkpoint signer (`SPANWARD_SIGNING_KEY`, else `signing_key_file`, else an ephemeral
/// key with one WARN line) and the log's origin (the configured one, else the key's name).
fn load_signing_key(
    cfg: &LogConfig,
    env: &dyn crate::keys::Env,
) -> Result<(SigningKey, String), LogError> {
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
    Ok((key, origin))
}

/// The open segment after recovery: the recovered one continued, or a new one at record `n`.
fn open_segment(
    fs: &dyn Fs,
    dir: &Path,
    fsync: FsyncPolicy,
    recovered: Option<recover::ActiveSeg>,
    n: u64,
) -> Result<Active, LogError> {
    let seg = match recovered {
        Some(a) => Active {
            file: fs
                .open_write(&a.path, false)
                .map_err(|e| LogError::io(&a.path, e))?,
            first_seq: a.first_seq,
            path: a.path,
            len: a.len,
            created: a.created,
        },
        None => create_segment(fs, dir, n, SystemTime::now())?,
    };
    if fsync != FsyncPolicy::Never {
        // Recovered records may sit in the page cache only (process crash): make them
        // durable before anything builds on them.
        seg.file
            .sync_data()
            .map_err(|e| LogError::io(&seg.path, e))?;
    }
    Ok(seg)
}

impl Inner {
    /// The sink's state over the recovered log: its open segment, `checkpoints.log` to append
    /// to and `hashes.dat` to read tree heads from.
    fn new(
        cfg: &LogConfig,
        fs: Arc<dyn Fs>,
        key: SigningKey,
        origin: String,
        rec: recover::Recovered,
        dir_lock: std::fs::File,
    ) -> Result<Inner, LogError> {
        let dir = cfg.path.clone();
        let seg = open_segment(&*fs, &dir, cfg.fsync, rec.active, rec.n)?;
        let cp_path = checkpoint::checkpoints_path(&dir);
        let cp_file = fs
            .open_write(&cp_path, true)
            .map_err(|e| LogError::io(&cp_path, e))?;
        let hash_reader = HashFile::open(&dir).map_err(|e| LogError::io(&dir, e))?;
        Ok(Inner {
            cfg: cfg.clone(),
            dir,
            fs,
            key,
            origin,
            st: Mutex::new(State {
                n: rec.n,
                synced: rec.n,
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
        })
    }
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
        let (key, origin) = load_signing_key(cfg, env)?;
        // Recovery first: when it refuses, nothing in the directory has changed.
        let rec = recover::recover(&*fs, &dir, &origin, key.vkey(), salvage, cfg.startup_check)?;
        files::record_pubkey(&*fs, &dir, key.vkey())?;
        let (n, damage) = (rec.n, rec.damage);
        let checkpointed = rec.last_checkpoint.as_ref().map(|c| c.size);
        let inner = Arc::new(Inner::new(cfg, fs, key, origin, rec, dir_lock)?);
        if checkpointed != Some(n) {
            inner.write_checkpoint()?;
        }
        tracing::info!(
            dir = %dir.display(),
            records = n,
            origin = %inner.origin,
            fsync = ?cfg.fsync,
            startup_check = ?cfg.startup_check,
            damage_left_in_place = damage,
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

    /// Appends one record whose payload is `payload` exactly (a bare payload reads as a trace
    /// request: see [`kind`]). Under `fsync: batch` and `always` it returns once the record is
    /// fsynced (`durable: true`).
    pub fn append(&self, payload: &[u8]) -> Result<AppendReceipt, LogError> {
        self.append_parts(&[], payload)
    }

    /// Appends one `signal` export request as a record of its kind (see [`kind`]): trace
    /// requests bare, as the log always stored them; logs and metrics after a kind header.
    pub fn append_request(
        &self,
        signal: Signal,
        encoded: &[u8],
    ) -> Result<AppendReceipt, LogError> {
        match kind::header(signal, encoded) {
            Some(h) => self.append_parts(&h, encoded),
            None => self.append_parts(&[], encoded),
        }
    }

    fn append_parts(&self, header: &[u8], body: &[u8]) -> Result<AppendReceipt, LogError> {
        let max = self.inner.cfg.max_record_bytes;
        let len = (header.len() + body.len()) as u64;
        if len > max {
            return Err(LogError::TooLarge { len, max });
        }
        // CRC and leaf hash of the payload run here, outside the writer lock.
        let prep = Prepared::with_header(header, body);
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
            spans: c.items[signal_index(Signal::Traces)].load(Ordering::Relaxed),
            log_records: c.items[signal_index(Signal::Logs)].load(Ordering::Relaxed),
            metric_points: c.items[signal_index(Signal::Metrics)].load(Ordering::Relaxed),
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

    fn write(&self, signal: Signal, encoded: &Bytes, spans: usize) -> Result<Delivery, SinkError> {
        self.write_in_fanout(
            signal,
            encoded,
            spans,
            &mut crate::sink::Provenance::default(),
        )
    }

    fn write_in_fanout(
        &self,
        signal: Signal,
        encoded: &Bytes,
        spans: usize,
        prov: &mut crate::sink::Provenance,
    ) -> Result<Delivery, SinkError> {
        match self.append_request(signal, encoded) {
            Ok(r) => {
                prov.log = Some(crate::sink::LogPosition {
                    seq: r.seq,
                    leaf_hash: r.leaf_hash.0,
                });
                self.inner.counters.items[signal_index(signal)]
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
