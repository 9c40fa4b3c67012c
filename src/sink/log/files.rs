//! The small files of a log directory next to segments, `hashes.dat` and `checkpoints.log`:
//! the `pruned` marker retention writes, the `pubkeys` recovery records and `verify` reads,
//! and the atomic replacement the marker and the latest-checkpoint copy are written with.

use std::path::Path;

use super::checkpoint;
use super::io::Fs;
use super::LogError;

/// First sequence number whose payload retention kept (absent = 0).
pub(super) const PRUNED_FILE: &str = "pruned";

/// First sequence number whose payload is kept (0 when retention never ran).
pub(super) fn read_pruned(dir: &Path) -> Result<u64, LogError> {
    let p = dir.join(PRUNED_FILE);
    match std::fs::read_to_string(&p) {
        Ok(s) => s.trim().parse().map_err(|_| LogError::Corrupt {
            file: p.display().to_string(),
            offset: 0,
            what: "pruned marker is not a number".into(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(LogError::io(&p, e)),
    }
}

/// Replaces `dir/name` with `data` atomically (temp file, fsync, rename, directory fsync).
pub(super) fn write_atomic(
    fs: &dyn Fs,
    dir: &Path,
    name: &str,
    data: &[u8],
    durable: bool,
) -> std::io::Result<()> {
    let tmp = dir.join(format!("{name}.tmp"));
    let f = fs.open_write(&tmp, true)?;
    f.set_len(0)?;
    f.write_all_at(data, 0)?;
    if durable {
        f.sync_data()?;
    }
    fs.rename(&tmp, &dir.join(name))?;
    if durable {
        fs.sync_dir(dir)?;
    }
    Ok(())
}

/// Adds `vkey` to the directory's `pubkeys` if it is not there yet.
pub(super) fn record_pubkey(fs: &dyn Fs, dir: &Path, vkey: &str) -> Result<(), LogError> {
    let p = dir.join(checkpoint::PUBKEYS_FILE);
    let existing = match std::fs::read_to_string(&p) {
        Ok(s) => s,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(LogError::io(&p, e)),
    };
    if existing.lines().any(|l| l.trim() == vkey) {
        return Ok(());
    }
    let f = fs.open_write(&p, true).map_err(|e| LogError::io(&p, e))?;
    let mut line = String::new();
    if !existing.is_empty() && !existing.ends_with('\n') {
        line.push('\n');
    }
    line.push_str(vkey);
    line.push('\n');
    f.write_all_at(line.as_bytes(), existing.len() as u64)
        .and_then(|_| f.sync_data())
        .and_then(|_| fs.sync_dir(dir))
        .map_err(|e| LogError::io(&p, e))
}

/// Verifier keys recorded in the directory.
pub(super) fn known_vkeys(dir: &Path) -> Result<Vec<String>, LogError> {
    let p = dir.join(checkpoint::PUBKEYS_FILE);
    if !p.exists() {
        return Ok(Vec::new());
    }
    Ok(checkpoint::read_vkeys(&p)?)
}
