//! The last checkpoint, read first: it decides what recovery may cut.

use std::path::Path;

use super::{corrupt, ioe, CheckpointsCut};
use crate::sink::log::checkpoint::{self, ParsedCheckpoint};
use crate::sink::log::files::known_vkeys;
use crate::sink::log::LogError;

/// The last checkpoint: nothing it covers may be cut.
pub(super) struct LastCheckpoint {
    pub(super) last: Option<ParsedCheckpoint>,
    /// Records signed checkpoints cover.
    pub(super) covered: u64,
    /// Length of `checkpoints.log` once cut.
    pub(super) len: u64,
    pub(super) cut: Option<CheckpointsCut>,
}

impl LastCheckpoint {
    pub(super) fn read(
        dir: &Path,
        origin: &str,
        vkey: &str,
        salvage: bool,
    ) -> Result<LastCheckpoint, LogError> {
        let frames = checkpoint::read_frames(dir).map_err(ioe(dir))?;
        let cpath = checkpoint::checkpoints_path(dir);
        let mut len = frames.file_len;
        let mut cut = None;
        if let Some((offset, torn, what)) = &frames.fault {
            if !torn && !salvage {
                return Err(corrupt(&cpath, *offset, what.clone()));
            }
            len = frames.valid_len;
            cut = Some(if *torn {
                CheckpointsCut::Torn {
                    offset: *offset,
                    valid_len: frames.valid_len,
                }
            } else {
                CheckpointsCut::Salvage {
                    valid_len: frames.valid_len,
                    what: what.clone(),
                }
            });
        }
        // The signer's own key counts as known although `record_pubkey` only adds it to
        // `pubkeys` after recovery (so that a refusal writes nothing).
        let mut known = known_vkeys(dir)?;
        if !known.iter().any(|k| k == vkey) {
            known.push(vkey.to_string());
        }
        let last = match frames.frames.last() {
            None => None,
            Some((off, note)) => {
                let cp = checkpoint::parse_checkpoint(note, Some(&known))
                    .map_err(|e| corrupt(&cpath, *off, format!("last checkpoint: {e}")))?;
                if cp.origin != origin {
                    return Err(LogError::Config(format!(
                        "this log's origin is {:?} but the config says {origin:?}",
                        cp.origin
                    )));
                }
                Some(cp)
            }
        };
        let mut covered = last.as_ref().map_or(0, |c| c.size);
        if matches!(cut, Some(CheckpointsCut::Salvage { .. })) {
            // Damage inside checkpoints.log: the signed checkpoints after it are unreadable
            // there, so what they cover comes from the copy of the latest one; if that cannot
            // be read either, nothing tells which records are signed, and none is cut.
            covered = covered.max(latest_checkpoint_size(dir, origin, &known).ok_or_else(|| {
                corrupt(
                    &cpath,
                    frames.valid_len,
                    "checkpoints.log is damaged and the latest checkpoint file cannot be read, so it is unknown which records are signed; restore checkpoints.log or `checkpoint` from a backup",
                )
            })?);
        }
        Ok(LastCheckpoint {
            last,
            covered,
            len,
            cut,
        })
    }
}

/// Tree size of the copy of the latest checkpoint (`checkpoint`), when it reads, verifies with
/// a known key and names this log's origin.
fn latest_checkpoint_size(dir: &Path, origin: &str, known: &[String]) -> Option<u64> {
    let note = std::fs::read(dir.join(checkpoint::LATEST_CHECKPOINT_FILE)).ok()?;
    let cp = checkpoint::parse_checkpoint(&note, Some(known)).ok()?;
    (cp.origin == origin).then_some(cp.size)
}
