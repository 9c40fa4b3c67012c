//! Signed checkpoints: the C2SP `tlog-checkpoint` body (origin, tree size, base64 root; via
//! `tlog_tiles::Checkpoint`) in a C2SP `signed-note` with an Ed25519 signature (via
//! `signed_note`). Keys use the Go `note` key encodings, so the standard tooling reads them:
//! the signer key `PRIVATE+KEY+<name>+<id>+<base64>` (key file or `SPANWARD_SIGNING_KEY`) and
//! the verifier key `<name>+<id>+<base64>` (what `spanward keygen --signing` prints and what
//! `spanward verify --pubkey` reads).
//!
//! On disk: `checkpoints.log` keeps every checkpoint ever written, each framed as
//! `len u32 | crc32c(note) u32 | note`; `checkpoint` holds the latest note as plain text (replaced
//! atomically) for shipping off-host; `pubkeys` lists the verifier key of every signing key that
//! has written to this directory.

use base64::prelude::*;
use signed_note::{Note, Signer as _, StandardSigner, StandardVerifier, Verifier, VerifierList};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use tlog_tiles::{Checkpoint, Hash};

use crate::keys::Env;

/// Environment variable holding the signer key (the text of a key file).
pub const SIGNING_KEY_ENV: &str = "SPANWARD_SIGNING_KEY";
pub const CHECKPOINTS_FILE: &str = "checkpoints.log";
pub const LATEST_CHECKPOINT_FILE: &str = "checkpoint";
pub const PUBKEYS_FILE: &str = "pubkeys";
/// A frame longer than this is corruption (a note is a few hundred bytes).
const MAX_FRAME: u32 = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum KeyLoadError {
    #[error("reading signing key file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: io::Error,
    },
    #[error(
        "signing key from {origin} is not a note signer key (PRIVATE+KEY+name+id+base64 Ed25519, \
         as `spanward keygen --signing` writes it)"
    )]
    Format { origin: String },
    #[error("invalid verifier key {origin}: expected name+id+base64 Ed25519")]
    Verifier { origin: String },
}

/// Where the signing key came from; logged, never the key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigningKeySource {
    Env,
    File,
    /// Random per process: checkpoints verify only against the `pubkeys` file of the log
    /// directory, not against a key an auditor holds. One WARN line says so at start.
    Ephemeral,
}

/// An Ed25519 note signer plus its public verifier key.
pub struct SigningKey {
    signer: StandardSigner,
    vkey: String,
    source: SigningKeySource,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("vkey", &self.vkey)
            .field("source", &self.source)
            .finish()
    }
}

impl SigningKey {
    /// Parses a signer key (`PRIVATE+KEY+name+id+base64`).
    pub fn from_skey(
        skey: &str,
        source: SigningKeySource,
        origin: &str,
    ) -> Result<SigningKey, KeyLoadError> {
        let skey = skey.trim();
        let bad = || KeyLoadError::Format {
            origin: origin.to_string(),
        };
        let signer = StandardSigner::new(skey).map_err(|_| bad())?;
        // signed_note does not hand back the public key: derive it from the seed.
        // PRIVATE+KEY+name+id+base64; the base64 part may itself contain '+'.
        let b64 = skey.splitn(5, '+').nth(4).unwrap_or("");
        let raw = BASE64_STANDARD.decode(b64).map_err(|_| bad())?;
        let seed: [u8; 32] = raw
            .get(1..33)
            .and_then(|s| s.try_into().ok())
            .ok_or_else(bad)?;
        let sk = ed25519_dalek::SigningKey::from_bytes(&seed);
        let vkey = signed_note::new_ed25519_verifier_key(signer.name(), &sk.verifying_key());
        Ok(SigningKey {
            signer,
            vkey,
            source,
        })
    }

    /// `SPANWARD_SIGNING_KEY` wins, then `key_file`, else an ephemeral key named `name`.
    pub fn load(
        env: &dyn Env,
        key_file: Option<&Path>,
        name: &str,
    ) -> Result<SigningKey, KeyLoadError> {
        if let Some(v) = env.var(SIGNING_KEY_ENV).filter(|s| !s.trim().is_empty()) {
            return Self::from_skey(&v, SigningKeySource::Env, SIGNING_KEY_ENV);
        }
        if let Some(p) = key_file {
            let text = std::fs::read_to_string(p).map_err(|source| KeyLoadError::Read {
                path: p.display().to_string(),
                source,
            })?;
            return Self::from_skey(
                &text,
                SigningKeySource::File,
                &format!("key file {}", p.display()),
            );
        }
        let (skey, _) = generate_signing_key(name);
        Self::from_skey(&skey, SigningKeySource::Ephemeral, "generated key")
    }

    pub fn name(&self) -> &str {
        self.signer.name()
    }
    /// The public verifier key (`name+id+base64`).
    pub fn vkey(&self) -> &str {
        &self.vkey
    }
    pub fn source(&self) -> SigningKeySource {
        self.source
    }

    /// Signs a checkpoint: returns the complete note text.
    pub fn sign_checkpoint(
        &self,
        origin: &str,
        size: u64,
        root: Hash,
    ) -> Result<Vec<u8>, CheckpointError> {
        let cp = Checkpoint::new(origin, size, root, "")
            .map_err(|_| CheckpointError::Malformed("bad origin".into()))?;
        let mut note = Note::new(&cp.to_bytes(), &[])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        note.add_sigs(&[&self.signer])
            .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
        Ok(note.to_bytes())
    }
}

/// A new `(signer key, verifier key)` pair named `name` (a log name such as
/// `spanward.example.com/audit`: no spaces, no `+`).
pub fn generate_signing_key(name: &str) -> (String, String) {
    signed_note::generate_key(&mut rand::rngs::OsRng, name)
}

/// True when `name` can name a key and a log origin.
pub fn is_valid_name(name: &str) -> bool {
    signed_note::is_key_name_valid(name)
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
    #[error("checkpoint signature does not verify: {0}")]
    Signature(String),
}

/// A checkpoint read back.
#[derive(Debug, Clone)]
pub struct ParsedCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// The complete signed note.
    pub note: Vec<u8>,
}

/// Parses a signed checkpoint; with `vkeys`, also requires a valid signature by one of them.
pub fn parse_checkpoint(
    note_bytes: &[u8],
    vkeys: Option<&[String]>,
) -> Result<ParsedCheckpoint, CheckpointError> {
    let note =
        Note::from_bytes(note_bytes).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    if let Some(vkeys) = vkeys {
        let mut list: Vec<Box<dyn Verifier>> = Vec::new();
        for v in vkeys {
            let ver = StandardVerifier::new(v)
                .map_err(|e| CheckpointError::Signature(format!("bad verifier key: {e}")))?;
            list.push(Box::new(ver));
        }
        note.verify(&VerifierList::new(list))
            .map_err(|e| CheckpointError::Signature(e.to_string()))?;
    }
    let cp = Checkpoint::from_bytes(note.text())
        .map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    Ok(ParsedCheckpoint {
        origin: cp.origin().to_string(),
        size: cp.size(),
        root: *cp.hash(),
        note: note_bytes.to_vec(),
    })
}

/// Checks a verifier key's syntax.
pub fn parse_vkey(text: &str, origin: &str) -> Result<String, KeyLoadError> {
    let t = text.trim();
    StandardVerifier::new(t).map_err(|_| KeyLoadError::Verifier {
        origin: origin.to_string(),
    })?;
    Ok(t.to_string())
}

/// Reads the verifier keys in a file (one per line; blank lines and `#` comments ignored).
pub fn read_vkeys(path: &Path) -> Result<Vec<String>, KeyLoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| KeyLoadError::Read {
        path: path.display().to_string(),
        source,
    })?;
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| parse_vkey(l, &path.display().to_string()))
        .collect()
}

pub fn encode_frame(note: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(note.len() + 8);
    v.extend_from_slice(&(note.len() as u32).to_le_bytes());
    v.extend_from_slice(&crc32c::crc32c(note).to_le_bytes());
    v.extend_from_slice(note);
    v
}

/// Frames of `checkpoints.log`, with the byte offset of each.
#[derive(Debug, Default)]
pub struct Frames {
    pub frames: Vec<(u64, Vec<u8>)>,
    /// Length of the valid prefix.
    pub valid_len: u64,
    pub file_len: u64,
    /// Why reading stopped early: (offset, torn?, what).
    pub fault: Option<(u64, bool, String)>,
}

pub fn checkpoints_path(dir: &Path) -> PathBuf {
    dir.join(CHECKPOINTS_FILE)
}

/// Reads `checkpoints.log`. A partial last frame is torn (a crash while appending); a frame
/// with a bad CRC is torn only when it is the last thing in the file.
pub fn read_frames(dir: &Path) -> io::Result<Frames> {
    let path = checkpoints_path(dir);
    let mut data = Vec::new();
    match std::fs::File::open(&path) {
        Ok(mut f) => {
            f.read_to_end(&mut data)?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Frames::default()),
        Err(e) => return Err(e),
    }
    let mut out = Frames {
        file_len: data.len() as u64,
        ..Frames::default()
    };
    let mut off = 0usize;
    while off < data.len() {
        let rest = &data[off..];
        if rest.len() < 8 {
            out.fault = Some((off as u64, true, "partial checkpoint frame".into()));
            break;
        }
        let len = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let crc = u32::from_le_bytes([rest[4], rest[5], rest[6], rest[7]]);
        if len > MAX_FRAME {
            let zero = rest.iter().all(|b| *b == 0);
            out.fault = Some((
                off as u64,
                zero,
                "checkpoint frame length out of range".into(),
            ));
            break;
        }
        let end = 8 + len as usize;
        if rest.len() < end {
            out.fault = Some((off as u64, true, "partial checkpoint frame".into()));
            break;
        }
        let note = &rest[8..end];
        if crc32c::crc32c(note) != crc {
            let last = off + end == data.len();
            out.fault = Some((off as u64, last, "checkpoint frame CRC mismatch".into()));
            break;
        }
        out.frames.push((off as u64, note.to_vec()));
        off += end;
        out.valid_len = off as u64;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn sign_and_verify_roundtrip_and_foreign_key_fails() {
        let env: HashMap<String, String> = HashMap::new();
        let k = SigningKey::load(&env, None, "example.com/log").unwrap();
        assert_eq!(k.source(), SigningKeySource::Ephemeral);
        let root = tlog_tiles::record_hash(b"x");
        let note = k.sign_checkpoint("example.com/log", 5, root).unwrap();
        let text = String::from_utf8(note.clone()).unwrap();
        assert!(text.starts_with("example.com/log\n5\n"));
        assert!(text.contains("\n\n\u{2014} example.com/log "));
        let p = parse_checkpoint(&note, Some(&[k.vkey().to_string()])).unwrap();
        assert_eq!((p.size, p.root), (5, root));
        let other = SigningKey::load(&env, None, "example.com/log").unwrap();
        assert!(parse_checkpoint(&note, Some(&[other.vkey().to_string()])).is_err());
    }

    #[test]
    fn env_key_wins_and_derived_vkey_matches_generated() {
        let (skey, vkey) = generate_signing_key("spanward-test");
        let mut env = HashMap::new();
        env.insert(SIGNING_KEY_ENV.to_string(), skey);
        let k = SigningKey::load(&env, None, "ignored").unwrap();
        assert_eq!(k.source(), SigningKeySource::Env);
        assert_eq!(k.vkey(), vkey);
        assert!(!format!("{k:?}").contains("PRIVATE"));
    }

    #[test]
    fn garbage_key_is_rejected_without_echoing_it() {
        let mut env = HashMap::new();
        env.insert(SIGNING_KEY_ENV.to_string(), "PRIVATE+KEY+oops".to_string());
        let e = SigningKey::load(&env, None, "x").unwrap_err().to_string();
        assert!(!e.contains("oops"));
    }
}
