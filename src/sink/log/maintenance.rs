//! Signed checkpoints and the log's background thread: the fdatasync of `fsync: interval`,
//! checkpoints at `checkpoint_interval` (and when a roll asks), rolls by `segment_age`, and
//! retention.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::io::{is_disk_full, WFile};
use super::{checkpoint, files, lock, tree, CpState, FsyncPolicy, Hash, Inner, LogError, SegInfo};

impl Inner {
    /// Writes a signed checkpoint covering the durable prefix, if it grew.
    pub(super) fn write_checkpoint(&self) -> Result<Option<u64>, LogError> {
        let mut cp = lock(&self.cp);
        let (size, hashes) = self.durable_size()?;
        if cp.last_size == Some(size) {
            return Ok(None);
        }
        let never = self.cfg.fsync == FsyncPolicy::Never;
        let root = self.tree_head(size, &*hashes)?;
        let note = self.key.sign_checkpoint(&self.origin, size, root)?;
        self.append_checkpoint(&mut cp, &note)?;
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

    /// The records a checkpoint may cover now (the durable ones; all of them under
    /// `fsync: never`), and `hashes.dat`.
    fn durable_size(&self) -> Result<(u64, Arc<dyn WFile>), LogError> {
        let st = lock(&self.st);
        if let Some(m) = &st.fatal {
            return Err(LogError::Fatal(m.clone()));
        }
        let size = if self.cfg.fsync == FsyncPolicy::Never {
            st.n
        } else {
            st.synced
        };
        Ok((size, st.hashes.clone()))
    }

    /// The root of the first `size` records, once the stored nodes below it are durable.
    fn tree_head(&self, size: u64, hashes: &dyn WFile) -> Result<Hash, LogError> {
        // Retention deletes payloads only below a checkpoint: the hashes below it must be
        // durable first.
        if self.cfg.fsync != FsyncPolicy::Never {
            if let Err(e) = hashes.sync_data() {
                return Err(self.fail(format!("fsync of hashes.dat: {e}")));
            }
        }
        if size == 0 {
            return Ok(tree::EMPTY_HASH);
        }
        tlog_tiles::tree_hash(size, &self.hash_reader)
            .map_err(|e| LogError::Fatal(format!("tree head: {e}")))
    }

    /// Appends a signed note to `checkpoints.log` (fsynced unless `fsync: never`). Disk full
    /// postpones the checkpoint, leaving nothing half-written; any other failure is fatal.
    fn append_checkpoint(&self, cp: &mut CpState, note: &[u8]) -> Result<(), LogError> {
        let frame = checkpoint::encode_frame(note);
        if let Err(e) = cp.file.write_all_at(&frame, cp.len) {
            let _ = cp.file.set_len(cp.len);
            if is_disk_full(&e) {
                self.counters.disk_full.fetch_add(1, Ordering::Relaxed);
                tracing::warn!("disk full: checkpoint postponed");
                return Err(LogError::DiskFull {
                    path: checkpoint::checkpoints_path(&self.dir)
                        .display()
                        .to_string(),
                });
            }
            return Err(self.fail(format!("writing checkpoint: {e}")));
        }
        if self.cfg.fsync != FsyncPolicy::Never {
            if let Err(e) = cp.file.sync_data() {
                return Err(self.fail(format!("fsync of checkpoints: {e}")));
            }
        }
        cp.len += frame.len() as u64;
        Ok(())
    }

    /// [`Inner::set_fatal`] from outside the writer lock.
    fn fail(&self, msg: String) -> LogError {
        let mut st = lock(&self.st);
        self.set_fatal(&mut st, msg)
    }

    pub(super) fn maintenance_loop(self: Arc<Self>) {
        let mut tick = self.cfg.checkpoint_interval.min(Duration::from_secs(1));
        if self.cfg.fsync == FsyncPolicy::Interval {
            tick = tick.min(self.cfg.fsync_interval);
        }
        let mut last_sync = Instant::now();
        let mut last_cp = Instant::now();
        let mut last_retention = Instant::now() - Duration::from_secs(3600);
        while let Some(requested) = self.next_tick(tick) {
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
            self.roll_if_old();
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

    /// Waits up to `tick` for a checkpoint request or a stop. `None`: stop; else whether a
    /// checkpoint was requested.
    fn next_tick(&self, tick: Duration) -> Option<bool> {
        let mut f = lock(&self.maint);
        if !f.stop && !f.checkpoint_requested {
            f = self
                .maint_cv
                .wait_timeout(f, tick)
                .map(|(g, _)| g)
                .unwrap_or_else(|e| e.into_inner().0);
        }
        if f.stop {
            return None;
        }
        Some(std::mem::take(&mut f.checkpoint_requested))
    }

    /// Seals the open segment once it holds records and is `segment_age` old.
    fn roll_if_old(&self) {
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

    /// Deletes the payloads (segment files) of the oldest sealed segments that are past the
    /// age or size limit and fully covered by a checkpoint. Their leaf hashes stay in
    /// `hashes.dat`, so later proofs and `verify` still work.
    fn apply_retention(&self) -> Result<(), LogError> {
        let covered = match lock(&self.cp).last_size {
            Some(s) => s,
            None => return Ok(()),
        };
        let victims = self.retention_victims(covered);
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

    /// The oldest sealed segments retention removes, each with the record after it: while
    /// past the age or size limit, and only below the last checkpoint (`covered`).
    fn retention_victims(&self, covered: u64) -> Vec<(SegInfo, u64)> {
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
    }
}
