//! The append path, under the writer lock: a record and the tree nodes it adds are written (and
//! cut back when a write fails), group commit makes them durable, and a full segment is sealed
//! and the next one started.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use super::io::{is_disk_full, Fs, WFile};
use super::record::{self, segment_file_name, Prepared};
use super::tree::{self, hashes_bytes};
use super::{lock, Active, FsyncPolicy, Hash, Inner, LogError, SegInfo, State};

impl Inner {
    /// Fails the sink for good (logged once at ERROR): `ready()` turns false and every later
    /// write and waiter gets the first failure.
    pub(super) fn set_fatal(&self, st: &mut State, msg: String) -> LogError {
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

    /// Writes the record and the tree nodes it adds, rolling first when the record would take
    /// the segment past `segment_bytes`. Returns its sequence number and leaf hash.
    pub(super) fn write_record(&self, prep: Prepared) -> Result<(u64, Hash), LogError> {
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
    pub(super) fn wait_synced(&self, target: u64) -> Result<(), LogError> {
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
    pub(super) fn roll(&self, st: &mut State) -> Result<(), LogError> {
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

/// Creates segment `first_seq`: its header written and, with the directory entry, durable. A
/// failure removes the file again.
pub(super) fn create_segment(
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
