//! Bearer-token authentication for the receivers and the admin endpoint.
//!
//! Tokens are kept only as SHA-256 digests and a presented token is compared against every one
//! of them in constant time (`subtle`), so neither the comparison's timing nor a memory dump of
//! the set reveals a token. Tokens may carry a client name (`name:token`): the identity later
//! limits can be keyed on. Token values never appear in errors, logs or metric labels; errors
//! name the file and line only.

use axum::http::HeaderValue;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use subtle::{ConditionallySelectable, ConstantTimeEq};

/// Shortest accepted token: anything shorter is guessable.
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest client name (names may become metric label values).
pub const MAX_NAME_LEN: usize = 64;

/// `receivers.otlp.auth` and `admin.auth`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// File of accepted tokens, one per line: `token` or `name:token` (the name is the client
    /// identity: letters, digits, `-`, `_`, `.`, at most 64). Blank lines and `#` comments are
    /// skipped. Default: none. Re-read on SIGHUP; a file that fails to load keeps the old set.
    pub tokens_file: Option<PathBuf>,
    /// Name of an environment variable holding tokens in the same syntax, separated by newlines
    /// or commas. Default: none. Its tokens are accepted too. A named but unset variable is an
    /// error at start.
    pub tokens_env: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Names where the bad token is, never what it is.
    #[error("{origin} line {line}: {problem}")]
    Token {
        origin: String,
        line: usize,
        problem: &'static str,
    },
    #[error("{0}")]
    Config(String),
}

/// Why a request was not authenticated. Both answer the same to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No `Authorization: Bearer …` header.
    Missing,
    /// A token that matches none.
    Invalid,
}

/// The `WWW-Authenticate` value for a refused request (the OTLP/HTTP receiver and the admin
/// endpoint answer alike).
pub fn bearer_challenge(denied: Denied) -> HeaderValue {
    HeaderValue::from_static(match denied {
        Denied::Missing => "Bearer realm=\"spanward\"",
        Denied::Invalid => "Bearer realm=\"spanward\", error=\"invalid_token\"",
    })
}

/// Who sent a request: the token's name, if it has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientId(pub Option<Arc<str>>);

struct Entry {
    name: Option<Arc<str>>,
    digest: [u8; 32],
}

/// The accepted tokens, reloadable.
pub struct Authenticator {
    file: Option<PathBuf>,
    from_env: Vec<Arc<Entry>>,
    current: RwLock<Arc<Vec<Arc<Entry>>>>,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("file", &self.file)
            .field("tokens", &self.set().len())
            .finish_non_exhaustive()
    }
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= MAX_NAME_LEN
        && n.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn digest(token: &[u8]) -> [u8; 32] {
    Sha256::digest(token).into()
}

/// Parses token lines. `items` yields (line number, text).
fn parse<'a>(
    origin: &str,
    items: impl Iterator<Item = (usize, &'a str)>,
) -> Result<Vec<Arc<Entry>>, AuthError> {
    let err = |line, problem| AuthError::Token {
        origin: origin.to_string(),
        line,
        problem,
    };
    let mut out = Vec::new();
    for (line, raw) in items {
        let t = raw.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let (name, token) = match t.split_once(':') {
            Some((n, tok)) => {
                let n = n.trim();
                if !valid_name(n) {
                    return Err(err(
                        line,
                        "the client name before `:` must be 1-64 letters, digits, `-`, `_` or `.`",
                    ));
                }
                (Some(Arc::<str>::from(n)), tok.trim())
            }
            None => (None, t),
        };
        if token.len() < MIN_TOKEN_LEN {
            return Err(err(line, "token shorter than 16 characters"));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(err(line, "token must be printable ASCII without spaces"));
        }
        out.push(Arc::new(Entry {
            name,
            digest: digest(token.as_bytes()),
        }));
    }
    Ok(out)
}

fn check_unique(entries: &[Arc<Entry>]) -> Result<(), AuthError> {
    let mut seen = std::collections::HashSet::new();
    for e in entries {
        if !seen.insert(e.digest) {
            return Err(AuthError::Config(
                "the same token is listed twice: a token must name one client".into(),
            ));
        }
    }
    Ok(())
}

impl Authenticator {
    /// Loads the configured tokens; `env` is the seam the environment is read through.
    pub fn load(cfg: &AuthConfig, env: &dyn crate::keys::Env) -> Result<Self, AuthError> {
        let from_env = match &cfg.tokens_env {
            Some(var) => {
                let text = env.var(var).ok_or_else(|| {
                    AuthError::Config(format!("tokens_env names `{var}`, which is not set"))
                })?;
                let origin = format!("environment variable {var}");
                parse(
                    &origin,
                    text.split(['\n', ',']).enumerate().map(|(i, s)| (i + 1, s)),
                )?
            }
            None => Vec::new(),
        };
        let a = Authenticator {
            file: cfg.tokens_file.clone(),
            from_env,
            current: RwLock::new(Arc::new(Vec::new())),
        };
        a.reload()?;
        if a.set().is_empty() {
            return Err(AuthError::Config(
                "auth is configured but lists no token: nothing could send".into(),
            ));
        }
        Ok(a)
    }

    /// Re-reads the tokens file. On error the previous set stays.
    pub fn reload(&self) -> Result<(), AuthError> {
        let mut all = self.from_env.clone();
        if let Some(p) = &self.file {
            let text = std::fs::read_to_string(p).map_err(|source| AuthError::Read {
                path: p.display().to_string(),
                source,
            })?;
            let origin = p.display().to_string();
            all.extend(parse(
                &origin,
                text.lines().enumerate().map(|(i, s)| (i + 1, s)),
            )?);
        }
        check_unique(&all)?;
        if all.is_empty() {
            return Err(AuthError::Config("no token left after reload".into()));
        }
        match self.current.write() {
            Ok(mut g) => *g = Arc::new(all),
            Err(p) => *p.into_inner() = Arc::new(all),
        }
        Ok(())
    }

    fn set(&self) -> Arc<Vec<Arc<Entry>>> {
        match self.current.read() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// Checks an `Authorization` header value.
    pub fn check(&self, authorization: Option<&[u8]>) -> Result<ClientId, Denied> {
        let h = authorization.ok_or(Denied::Missing)?;
        // RFC 6750: `Bearer <token>`, scheme case-insensitive.
        let token = match h.get(..7) {
            Some(s) if s.eq_ignore_ascii_case(b"bearer ") => h[7..].trim_ascii(),
            _ => return Err(Denied::Missing),
        };
        let d = digest(token);
        let set = self.set();
        // Every entry is compared, whatever matches, and the index is picked without a branch.
        let mut found = subtle::Choice::from(0);
        let mut index = u32::MAX;
        for (i, e) in set.iter().enumerate() {
            let eq = e.digest.ct_eq(&d);
            index.conditional_assign(&(i as u32), eq);
            found |= eq;
        }
        if bool::from(found) {
            let name = set.get(index as usize).and_then(|e| e.name.clone());
            Ok(ClientId(name))
        } else {
            Err(Denied::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const A: &str = "tok-aaaaaaaaaaaaaaaaaaaa";
    const B: &str = "tok-bbbbbbbbbbbbbbbbbbbb";

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn bearer(t: &str) -> Vec<u8> {
        format!("Bearer {t}").into_bytes()
    }

    #[test]
    fn file_and_env_tokens_with_names() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tokens");
        std::fs::write(&f, format!("# agents\n\nfleet-a:{A}\n")).unwrap();
        let cfg = AuthConfig {
            tokens_file: Some(f.clone()),
            tokens_env: Some("TOK".into()),
        };
        let a = Authenticator::load(&cfg, &env(&[("TOK", B)])).unwrap();
        assert_eq!(
            a.check(Some(&bearer(A))).unwrap(),
            ClientId(Some("fleet-a".into()))
        );
        assert_eq!(a.check(Some(&bearer(B))).unwrap(), ClientId(None));
        assert_eq!(
            a.check(Some(format!("bearer  {A} ").as_bytes())).unwrap(),
            ClientId(Some("fleet-a".into()))
        );
        assert_eq!(a.check(None), Err(Denied::Missing));
        assert_eq!(a.check(Some(A.as_bytes())), Err(Denied::Missing));
        assert_eq!(
            a.check(Some(format!("Basic {A}").as_bytes())),
            Err(Denied::Missing)
        );
        assert_eq!(
            a.check(Some(&bearer(&A[..A.len() - 1]))),
            Err(Denied::Invalid)
        );
        assert_eq!(a.check(Some(&bearer(""))), Err(Denied::Invalid));
        // The debug form never shows a token.
        let dbg = format!("{a:?}");
        assert!(!dbg.contains(A) && !dbg.contains(B), "{dbg}");

        // Reload: a new file replaces the file's tokens; env tokens stay.
        std::fs::write(&f, format!("fleet-c:{A}x\n")).unwrap();
        a.reload().unwrap();
        assert_eq!(a.check(Some(&bearer(A))), Err(Denied::Invalid));
        assert_eq!(
            a.check(Some(&bearer(&format!("{A}x")))).unwrap(),
            ClientId(Some("fleet-c".into()))
        );
        assert!(a.check(Some(&bearer(B))).is_ok());
        // A broken file keeps the previous set.
        std::fs::write(&f, "short\n").unwrap();
        assert!(a.reload().is_err());
        assert!(a.check(Some(&bearer(&format!("{A}x")))).is_ok());
    }

    #[test]
    fn bad_token_files_are_refused_without_echoing_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("tokens");
        let load = |text: &str| {
            std::fs::write(&f, text).unwrap();
            Authenticator::load(
                &AuthConfig {
                    tokens_file: Some(f.clone()),
                    tokens_env: None,
                },
                &env(&[]),
            )
        };
        for (text, line) in [
            ("shortsecret\n", 1),
            (&format!("{A}\nbad name:{B}\n") as &str, 2),
            (&format!("# x\n{A} with space\n"), 2),
        ] {
            let e = load(text).unwrap_err().to_string();
            assert!(e.contains(&format!("line {line}")), "{e}");
            assert!(
                !e.contains("shortsecret") && !e.contains(A) && !e.contains(B),
                "{e}"
            );
        }
        assert!(load("# nothing\n").is_err());
        assert!(load(&format!("a:{A}\nb:{A}\n")).is_err());
        let e = Authenticator::load(
            &AuthConfig {
                tokens_file: None,
                tokens_env: Some("NOPE".into()),
            },
            &env(&[]),
        )
        .unwrap_err();
        assert!(e.to_string().contains("NOPE"));
        let e = Authenticator::load(
            &AuthConfig {
                tokens_file: None,
                tokens_env: Some("T".into()),
            },
            &env(&[("T", &format!("{A},tiny"))]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("line 2") && !e.contains("tiny"), "{e}");
    }
}
