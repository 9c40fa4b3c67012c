//! The HMAC key shared by redaction pseudonyms (`token` action) and input/output fingerprints.
//!
//! The key never comes from the YAML file: it is read from the environment (`SPANWARD_HMAC_KEY`)
//! or from a key file whose path the config names. Replicas that must agree on pseudonyms and
//! fingerprints share the key and its `key_id`.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use std::path::Path;

/// Environment variable holding the HMAC key (as `spanward keygen` prints it: hex of 32 random
/// bytes; base64 of at least 32 bytes is accepted too).
pub const HMAC_KEY_ENV: &str = "SPANWARD_HMAC_KEY";
/// Environment variable holding the key id (defaults to a digest-derived id).
pub const HMAC_KEY_ID_ENV: &str = "SPANWARD_HMAC_KEY_ID";
/// `1` (or `true`): accept a key that is not hex/base64 of 32 random bytes (a passphrase of at
/// least [`MIN_KEY_BYTES`] bytes), as `keys.allow_weak_key: true` does. Placeholders are refused
/// even then. For the offline tools (`token`, `fingerprint`, `scrub`), which read no config file.
pub const ALLOW_WEAK_KEY_ENV: &str = "SPANWARD_ALLOW_WEAK_KEY";

/// Minimum length of any key, weak keys included: shorter keys make pseudonyms guessable.
pub const MIN_KEY_BYTES: usize = 16;
/// Length of a strong key, decoded: what `spanward keygen` makes.
pub const STRONG_KEY_BYTES: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("reading key file {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("HMAC key from {origin} is {len} bytes; at least {MIN_KEY_BYTES} are required")]
    TooShort { origin: String, len: usize },
    #[error("HMAC key from {origin} is a placeholder ({why}): make a key with `spanward keygen`")]
    Placeholder { origin: String, why: &'static str },
    #[error(
        "HMAC key from {origin} is not hex or base64 of at least {STRONG_KEY_BYTES} bytes (what \
         `spanward keygen` prints): make one with `spanward keygen`, or set \
         `keys.allow_weak_key: true` (or {ALLOW_WEAK_KEY_ENV}=1) to use a passphrase"
    )]
    Weak { origin: String },
}

/// Where the key came from; logged (never the key itself).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File,
    /// No key was configured: a random per-process key. Pseudonyms and fingerprints then
    /// differ across restarts and replicas; a WARN line says so once at start.
    Ephemeral,
}

/// A keyed-hash key plus its public identifier.
#[derive(Clone)]
pub struct HmacKey {
    /// HMAC-SHA-256 already keyed (the key's inner and outer pads absorbed): cloning it costs a
    /// copy of two hash states, keying afresh two SHA-256 compressions per digest.
    keyed: Hmac<Sha256>,
    key_id: String,
    source: KeySource,
}

impl std::fmt::Debug for HmacKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print key material.
        f.debug_struct("HmacKey")
            .field("key_id", &self.key_id)
            .field("source", &self.source)
            .finish()
    }
}

/// A seam over the process environment so tests never mutate it.
pub trait Env {
    fn var(&self, name: &str) -> Option<String>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for std::collections::HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// Words that only a template's stand-in value contains.
const PLACEHOLDER_WORDS: &[&str] = &[
    "replace",
    "changeme",
    "change-me",
    "change_me",
    "placeholder",
    "example",
    "your-",
    "your_",
    "insert",
    "todo",
    "dummy",
    "xxxxxxxx",
    "<",
    ">",
    "${",
];

/// Decodes key text: hex or base64 of at least [`STRONG_KEY_BYTES`] bytes is a strong key;
/// anything else is a passphrase, accepted only with `allow_weak`. Obvious placeholders (the
/// template's `REPLACE-WITH-...`, `changeme`, a run of one character) are refused always.
pub fn parse_key_text(text: &str, origin: &str, allow_weak: bool) -> Result<Vec<u8>, KeyError> {
    use base64::Engine;
    let t = text.trim();
    let lower = t.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(*w)) {
        return Err(KeyError::Placeholder {
            origin: origin.to_string(),
            why: "it contains a template word such as REPLACE, example or changeme",
        });
    }
    // Hex keys decode to bytes (as before: from 16 bytes on); any other text is used verbatim,
    // base64 included, so keys that worked before give the same pseudonyms.
    let hex_bytes = (t.len() >= 2 * MIN_KEY_BYTES && t.len().is_multiple_of(2))
        .then(|| hex::decode(t).ok())
        .flatten();
    let b64_bytes = [
        &base64::engine::general_purpose::STANDARD,
        &base64::engine::general_purpose::STANDARD_NO_PAD,
        &base64::engine::general_purpose::URL_SAFE,
        &base64::engine::general_purpose::URL_SAFE_NO_PAD,
    ]
    .iter()
    .find_map(|e| e.decode(t).ok());
    let random = hex_bytes
        .clone()
        .or(b64_bytes)
        .unwrap_or_else(|| t.as_bytes().to_vec());
    let key = hex_bytes.unwrap_or_else(|| t.as_bytes().to_vec());
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyError::TooShort {
            origin: origin.to_string(),
            len: key.len(),
        });
    }
    // A run of one value (`0000…`, `aaaa…`) or a short repeated pattern: a stand-in, not a key.
    let distinct = {
        let mut seen = [false; 256];
        random.iter().for_each(|b| seen[*b as usize] = true);
        seen.iter().filter(|x| **x).count()
    };
    if distinct < 8 {
        return Err(KeyError::Placeholder {
            origin: origin.to_string(),
            why: "it repeats fewer than 8 distinct byte values",
        });
    }
    if random.len() >= STRONG_KEY_BYTES {
        return Ok(key);
    }
    if !allow_weak {
        return Err(KeyError::Weak {
            origin: origin.to_string(),
        });
    }
    Ok(key)
}

/// Lower-case hex of a digest (at most 32 bytes; longer input falls back to `hex::encode`),
/// without the per-character iterator `hex::encode` collects into a `String`: digests are
/// written for every fingerprinted span and every pseudonym.
pub fn hex_digest(b: &[u8]) -> String {
    let mut buf = [0u8; 64];
    if let Some(out) = buf.get_mut(..2 * b.len()) {
        if hex::encode_to_slice(b, out).is_ok() {
            return String::from_utf8_lossy(out).into_owned();
        }
    }
    hex::encode(b)
}

fn derived_key_id(key: &[u8]) -> String {
    // A public id derived from the key: lets auditors tell keys apart without revealing them.
    let d = Sha256::digest([b"spanward-key-id\0".as_slice(), key].concat());
    hex::encode(&d[..4])
}

impl HmacKey {
    /// Builds a key from raw bytes (tests, and the loaders below).
    pub fn from_bytes(key: Vec<u8>, key_id: Option<String>, source: KeySource) -> Self {
        let key_id = key_id.unwrap_or_else(|| derived_key_id(&key));
        // HMAC accepts keys of any length, so this cannot fail.
        let keyed = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap_or_else(|_| unreachable!());
        HmacKey {
            keyed,
            key_id,
            source,
        }
    }

    /// Loads the key: `SPANWARD_HMAC_KEY` wins, then `key_file`, else an ephemeral random key.
    /// Only strong keys (see [`parse_key_text`]) unless `allow_weak` or `SPANWARD_ALLOW_WEAK_KEY`.
    pub fn load(
        env: &dyn Env,
        key_file: Option<&Path>,
        allow_weak: bool,
    ) -> Result<Self, KeyError> {
        let allow_weak = allow_weak
            || env
                .var(ALLOW_WEAK_KEY_ENV)
                .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
        let id = env.var(HMAC_KEY_ID_ENV).filter(|s| !s.trim().is_empty());
        if let Some(v) = env.var(HMAC_KEY_ENV).filter(|s| !s.trim().is_empty()) {
            let key = parse_key_text(&v, HMAC_KEY_ENV, allow_weak)?;
            return Ok(Self::from_bytes(key, id, KeySource::Env));
        }
        if let Some(p) = key_file {
            let text = std::fs::read_to_string(p).map_err(|source| KeyError::Read {
                path: p.display().to_string(),
                source,
            })?;
            let key = parse_key_text(&text, &format!("key file {}", p.display()), allow_weak)?;
            return Ok(Self::from_bytes(key, id, KeySource::File));
        }
        Ok(Self::ephemeral())
    }

    /// A random per-process key.
    pub fn ephemeral() -> Self {
        use rand::RngCore;
        let mut k = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        Self::from_bytes(k, None, KeySource::Ephemeral)
    }

    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    pub fn source(&self) -> KeySource {
        self.source
    }

    /// A fresh HMAC-SHA-256 instance keyed with this key.
    pub fn mac(&self) -> Hmac<Sha256> {
        self.keyed.clone()
    }

    /// HMAC-SHA-256 of `parts`, concatenated.
    pub fn digest(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = self.mac();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// Canonical form of a value before pseudonymisation, so `spanward token` and the redaction
/// engine agree however the value was written (case of an email, separators in a card number).
pub fn normalize_for_token(typ: &str, value: &str) -> String {
    match typ {
        "email" => value.trim().to_lowercase(),
        "phone" | "credit_card" | "iban" | "us_ssn" | "mac_address" => value
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '+')
            .map(|c| c.to_ascii_uppercase())
            .collect(),
        _ => value.trim().to_string(),
    }
}

impl HmacKey {
    /// The pseudonym the `token` redaction action writes for `value` of `typ`, e.g.
    /// `<email:9f2c41d07a>`: stable for a key, unreadable without it.
    pub fn pseudonym(&self, typ: &str, value: &str) -> String {
        let norm = normalize_for_token(typ, value);
        let d = self.digest(&[b"spanward-token\0", typ.as_bytes(), b"\0", norm.as_bytes()]);
        format!("<{typ}:{}>", hex_digest(&d[..5]))
    }
}

/// A new random key as hex, for `spanward keygen`.
pub fn generate_hex_key() -> String {
    use rand::RngCore;
    let mut k = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut k);
    hex::encode(k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn hex_digest_is_hex_encode() {
        for n in [0usize, 1, 5, 31, 32, 33, 64] {
            let b: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            assert_eq!(hex_digest(&b), hex::encode(&b), "{n} bytes");
        }
    }

    #[test]
    fn env_key_wins_and_id_is_stable() {
        let mut env = HashMap::new();
        env.insert(
            HMAC_KEY_ENV.to_string(),
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f".to_string(),
        );
        let a = HmacKey::load(&env, None, false).unwrap();
        let b = HmacKey::load(&env, None, false).unwrap();
        assert_eq!(a.source(), KeySource::Env);
        assert_eq!(a.key_id(), b.key_id());
        assert_eq!(a.digest(&[b"x"]), b.digest(&[b"x"]));
    }

    #[test]
    fn short_key_rejected() {
        let mut env = HashMap::new();
        env.insert(HMAC_KEY_ENV.to_string(), "short".to_string());
        assert!(matches!(
            HmacKey::load(&env, None, true),
            Err(KeyError::TooShort { .. })
        ));
    }

    /// What `spanward keygen` prints passes; placeholders never do; passphrases only when
    /// allowed.
    #[test]
    fn only_random_keys_unless_weak_keys_are_allowed() {
        use base64::Engine;
        let random: Vec<u8> = (0..32u8)
            .map(|i| i.wrapping_mul(73).wrapping_add(5))
            .collect();
        let hex_key = hex::encode(&random);
        let b64_key = base64::engine::general_purpose::STANDARD.encode(&random);
        assert_eq!(parse_key_text(&hex_key, "t", false).unwrap(), random);
        // Base64 keys are used as their text (as before), so existing pseudonyms stay.
        assert_eq!(
            parse_key_text(&format!("{b64_key}\n"), "t", false).unwrap(),
            b64_key.as_bytes()
        );
        for placeholder in [
            "REPLACE-WITH-OUTPUT-OF-spanward-keygen",
            "changeme-changeme-changeme",
            "your-hmac-key-goes-here-please",
            &"0".repeat(64),
            &"ab".repeat(32),
            "${SPANWARD_HMAC_KEY_FROM_VAULT}",
        ] {
            assert!(
                matches!(
                    parse_key_text(placeholder, "t", true),
                    Err(KeyError::Placeholder { .. })
                ),
                "{placeholder}"
            );
        }
        // 16 random bytes in hex, or a passphrase: weak.
        for weak in [
            "00112233445566778899aabbccddeeff",
            "correct horse battery staple",
        ] {
            assert!(matches!(
                parse_key_text(weak, "t", false),
                Err(KeyError::Weak { .. })
            ));
            assert!(parse_key_text(weak, "t", true).is_ok());
        }
        let mut env = HashMap::new();
        env.insert(
            HMAC_KEY_ENV.to_string(),
            "correct horse battery staple".into(),
        );
        assert!(HmacKey::load(&env, None, false).is_err());
        env.insert(ALLOW_WEAK_KEY_ENV.to_string(), "1".into());
        assert!(HmacKey::load(&env, None, false).is_ok());
    }

    #[test]
    fn ephemeral_keys_differ() {
        let env: HashMap<String, String> = HashMap::new();
        let a = HmacKey::load(&env, None, false).unwrap();
        let b = HmacKey::load(&env, None, false).unwrap();
        assert_eq!(a.source(), KeySource::Ephemeral);
        assert_ne!(a.digest(&[b"x"]), b.digest(&[b"x"]));
    }

    #[test]
    fn pseudonym_is_normalised_and_keyed() {
        let k = HmacKey::from_bytes(vec![7u8; 32], None, KeySource::File);
        let a = k.pseudonym("email", "Alice@Example.com");
        assert_eq!(a, k.pseudonym("email", "alice@example.com"));
        assert!(a.starts_with("<email:") && a.len() == "<email:>".len() + 10);
        let other = HmacKey::from_bytes(vec![8u8; 32], None, KeySource::File);
        assert_ne!(a, other.pseudonym("email", "alice@example.com"));
        assert_eq!(
            k.pseudonym("credit_card", "4111 1111-1111 1111"),
            k.pseudonym("credit_card", "4111111111111111")
        );
    }

    /// RFC 4231 test case 2, twice: the pre-keyed state is copied per digest, never consumed.
    #[test]
    fn digest_is_rfc4231_hmac_sha256_every_time() {
        let k = HmacKey::from_bytes(b"Jefe".to_vec(), None, KeySource::File);
        let want = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        for _ in 0..2 {
            assert_eq!(
                hex::encode(k.digest(&[b"what do ya want ", b"for nothing?"])),
                want
            );
        }
        let mut m = k.mac();
        m.update(b"what do ya want for nothing?");
        assert_eq!(hex::encode(m.finalize().into_bytes()), want);
    }

    #[test]
    fn debug_never_prints_key() {
        let k = HmacKey::from_bytes(b"supersecretkeymaterial!!".to_vec(), None, KeySource::File);
        assert!(!format!("{k:?}").contains("supersecret"));
    }
}
