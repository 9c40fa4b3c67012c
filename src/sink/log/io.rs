//! The write-side file-system seam. Every byte the log writes, every fsync and every directory
//! change goes through [`Fs`] / [`WFile`], so tests can inject ENOSPC, EIO and power loss
//! ([`FaultFs`]) without a special file system. Reads (recovery, verify) use `std::fs` directly:
//! they see whatever the writes left on disk.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// File-system operations the writer needs.
pub trait Fs: Send + Sync + 'static {
    fn create_dir_all(&self, p: &Path) -> io::Result<()>;
    /// Opens `p` for positional writes, creating it when `create`; never truncates.
    fn open_write(&self, p: &Path, create: bool) -> io::Result<Arc<dyn WFile>>;
    /// fsync of a directory, so created, renamed and removed entries survive power loss.
    fn sync_dir(&self, p: &Path) -> io::Result<()>;
    fn remove_file(&self, p: &Path) -> io::Result<()>;
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Marks a sealed segment read-only (a guard against accidental edits, not a security
    /// boundary: the Merkle tree is).
    fn set_readonly(&self, p: &Path) -> io::Result<()>;
}

/// One open file, written at explicit offsets so `&self` suffices and the writer owns the
/// position (which is what lets it cut a partial write back after ENOSPC).
pub trait WFile: Send + Sync {
    fn write_all_at(&self, buf: &[u8], off: u64) -> io::Result<()>;
    /// fdatasync.
    fn sync_data(&self) -> io::Result<()>;
    fn set_len(&self, len: u64) -> io::Result<()>;
}

/// True for the errors that mean "no space now, try again later".
pub fn is_disk_full(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// The real file system. Files and directories the log creates get these modes (before the
/// umask): the log holds scrubbed but still sensitive data.
#[derive(Debug, Clone, Copy)]
pub struct StdFs {
    pub file_mode: u32,
    pub dir_mode: u32,
}

/// Mode of the log's files when created (`exporters.file.file_mode`): owner only.
pub const DEFAULT_FILE_MODE: u32 = 0o600;
/// Mode of the log's directories when created (`exporters.file.dir_mode`): owner only.
pub const DEFAULT_DIR_MODE: u32 = 0o700;

impl Default for StdFs {
    fn default() -> Self {
        StdFs {
            file_mode: DEFAULT_FILE_MODE,
            dir_mode: DEFAULT_DIR_MODE,
        }
    }
}

fn create_dirs(p: &Path, mode: u32) -> io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(p)
}

fn open_options(create: bool, mode: u32) -> OpenOptions {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = OpenOptions::new();
    o.write(true).create(create).mode(mode);
    o
}

struct StdFile(File);

impl WFile for StdFile {
    fn write_all_at(&self, buf: &[u8], off: u64) -> io::Result<()> {
        self.0.write_all_at(buf, off)
    }
    fn sync_data(&self) -> io::Result<()> {
        self.0.sync_data()
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.0.set_len(len)
    }
}

impl Fs for StdFs {
    fn create_dir_all(&self, p: &Path) -> io::Result<()> {
        create_dirs(p, self.dir_mode)
    }
    fn open_write(&self, p: &Path, create: bool) -> io::Result<Arc<dyn WFile>> {
        let f = open_options(create, self.file_mode).open(p)?;
        Ok(Arc::new(StdFile(f)))
    }
    fn sync_dir(&self, p: &Path) -> io::Result<()> {
        File::open(p)?.sync_all()
    }
    fn remove_file(&self, p: &Path) -> io::Result<()> {
        std::fs::remove_file(p)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        std::fs::rename(from, to)
    }
    fn set_readonly(&self, p: &Path) -> io::Result<()> {
        let mut perm = std::fs::metadata(p)?.permissions();
        perm.set_readonly(true);
        std::fs::set_permissions(p, perm)
    }
}

/// A fault-injecting wrapper over [`StdFs`] for tests: a byte budget that behaves like a small
/// disk (writes beyond it are cut short and fail with ENOSPC), switchable fsync failure (EIO),
/// and a record of what was fsynced so a test can simulate power loss.
#[derive(Clone, Default)]
pub struct FaultFs {
    inner: Arc<FaultState>,
}

#[derive(Default)]
struct FaultState {
    /// Bytes that may still be written; negative = unlimited.
    budget: AtomicI64,
    budget_set: AtomicBool,
    fail_sync: AtomicBool,
    syncs: AtomicU64,
    /// Per file: (current length as written through us, length at the last fsync).
    lens: Mutex<HashMap<PathBuf, (u64, u64)>>,
}

impl FaultFs {
    pub fn new() -> Self {
        Self::default()
    }
    /// Allows `bytes` more bytes of writes, then ENOSPC. `None` lifts the limit ("space returns").
    pub fn set_space(&self, bytes: Option<u64>) {
        match bytes {
            Some(b) => {
                self.inner
                    .budget
                    .store(i64::try_from(b).unwrap_or(i64::MAX), Ordering::SeqCst);
                self.inner.budget_set.store(true, Ordering::SeqCst);
            }
            None => self.inner.budget_set.store(false, Ordering::SeqCst),
        }
    }
    /// Makes every later fsync fail with EIO.
    pub fn set_fail_sync(&self, on: bool) {
        self.inner.fail_sync.store(on, Ordering::SeqCst);
    }
    /// Number of successful file fsyncs so far.
    pub fn sync_count(&self) -> u64 {
        self.inner.syncs.load(Ordering::SeqCst)
    }
    /// Simulates power loss: every file written through this fs loses an arbitrary part of
    /// what was written after its last fsync (`pick(synced, len)` chooses the surviving length).
    pub fn power_loss(&self, mut pick: impl FnMut(u64, u64) -> u64) -> io::Result<()> {
        let mut lens = self.inner.lens.lock().unwrap_or_else(|e| e.into_inner());
        for (path, (len, synced)) in lens.iter_mut() {
            if *len > *synced && path.exists() {
                let keep = pick(*synced, *len).clamp(*synced, *len);
                let f = OpenOptions::new().write(true).open(path)?;
                f.set_len(keep)?;
                *len = keep;
            }
        }
        Ok(())
    }
}

struct FaultFile {
    path: PathBuf,
    file: File,
    st: Arc<FaultState>,
}

impl FaultFile {
    fn note_len(&self, end: u64, synced: bool) {
        let mut lens = self.st.lens.lock().unwrap_or_else(|e| e.into_inner());
        let e = lens.entry(self.path.clone()).or_insert((0, 0));
        if synced {
            e.1 = e.0;
        } else {
            e.0 = e.0.max(end);
        }
    }
}

impl WFile for FaultFile {
    fn write_all_at(&self, buf: &[u8], off: u64) -> io::Result<()> {
        if self.st.budget_set.load(Ordering::SeqCst) {
            let want = i64::try_from(buf.len()).unwrap_or(i64::MAX);
            let before = self.st.budget.fetch_sub(want, Ordering::SeqCst);
            if before < want {
                // A real small disk accepts what fits, then fails: write the part that fits.
                let fits = usize::try_from(before.max(0)).unwrap_or(0).min(buf.len());
                self.st.budget.store(0, Ordering::SeqCst);
                if fits > 0 {
                    self.file.write_all_at(&buf[..fits], off)?;
                    self.note_len(off + fits as u64, false);
                }
                return Err(io::Error::from(io::ErrorKind::StorageFull));
            }
        }
        self.file.write_all_at(buf, off)?;
        self.note_len(off + buf.len() as u64, false);
        Ok(())
    }
    fn sync_data(&self) -> io::Result<()> {
        if self.st.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected EIO on fsync"));
        }
        self.file.sync_data()?;
        self.st.syncs.fetch_add(1, Ordering::SeqCst);
        self.note_len(0, true);
        Ok(())
    }
    fn set_len(&self, len: u64) -> io::Result<()> {
        self.file.set_len(len)?;
        let mut lens = self.st.lens.lock().unwrap_or_else(|e| e.into_inner());
        let e = lens.entry(self.path.clone()).or_insert((0, 0));
        e.0 = len;
        e.1 = e.1.min(len);
        Ok(())
    }
}

impl Fs for FaultFs {
    fn create_dir_all(&self, p: &Path) -> io::Result<()> {
        create_dirs(p, DEFAULT_DIR_MODE)
    }
    fn open_write(&self, p: &Path, create: bool) -> io::Result<Arc<dyn WFile>> {
        let file = open_options(create, DEFAULT_FILE_MODE).open(p)?;
        let len = file.metadata()?.len();
        {
            let mut lens = self.inner.lens.lock().unwrap_or_else(|e| e.into_inner());
            // What is on disk when we open it counts as durable (it survived a "reboot").
            lens.insert(p.to_path_buf(), (len, len));
        }
        Ok(Arc::new(FaultFile {
            path: p.to_path_buf(),
            file,
            st: self.inner.clone(),
        }))
    }
    fn sync_dir(&self, p: &Path) -> io::Result<()> {
        if self.inner.fail_sync.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected EIO on directory fsync"));
        }
        StdFs::default().sync_dir(p)
    }
    fn remove_file(&self, p: &Path) -> io::Result<()> {
        self.inner
            .lens
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(p);
        std::fs::remove_file(p)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        let mut lens = self.inner.lens.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(v) = lens.remove(from) {
            lens.insert(to.to_path_buf(), v);
        }
        std::fs::rename(from, to)
    }
    fn set_readonly(&self, p: &Path) -> io::Result<()> {
        StdFs::default().set_readonly(p)
    }
}
