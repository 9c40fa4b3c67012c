//! Keys that name a secret. An attribute, a JSON member, a header or an assignment whose key
//! names a credential (`api_key`, `dbPassword`, `X-Auth-Token`, `user.ssn`) has its whole value
//! masked, whatever the value looks like.
//!
//! A key is read as word pieces: lower-cased and split on anything that is not a letter or a
//! digit (`_ - . : /` …), at camelCase humps (`dbPassword` → `db password`, `HTTPHeader` →
//! `http header`) and between letters and digits. It names a secret when one to three
//! consecutive pieces, joined, are a *secret word* (`password`, `pass`, `api`+`key`,
//! `session`+`id` …), unless a *modifier* says the key is about the secret rather than the
//! secret itself: a piece after the word such as `count`, `url`, `type`, `expires`, `id`
//! (`token_count`, `password_reset_url`, `token_type`, `secret_id`), or a quantity before it
//! (`max_token`). Plural forms are different words (`max_tokens`, `input_tokens`), and so are
//! longer words (`tokenizer`, `passenger`, `bypass`). Upper-case environment names ending in
//! `KEY` (`STRIPE_KEY`, `APP_KEY`) name secrets too, unless a qualifier makes them ordinary
//! keys (`PRIMARY_KEY`, `SORT_KEY`, `PUBLIC_KEY`). `PWD` and `OLDPWD` are the shell's working
//! directories, not passwords.
//!
//! Configurable: the secret words (`redaction.secret_key_words`, or extra ones in
//! `extra_secret_key_words`), keys never blocked by this rule (`redaction.benign_keys`, globs),
//! and regexes for keys to block (`redaction.blocked_key_patterns`).

use super::Glob;
use regex_automata::meta::Regex;
use std::collections::HashMap;

/// Which family a secret word belongs to (it picks the rule a text assignment is reported as).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Passwords and passphrases (`password_assignment`).
    Password,
    /// Every other credential (`secret_assignment`).
    Secret,
}

/// The built-in secret words, written with `_` between their pieces.
pub const DEFAULT_SECRET_WORDS: &[&str] = &[
    // Passwords.
    "password",
    "passwd",
    "pass",
    "pwd",
    "pw",
    "pswd",
    "passphrase",
    "passcode",
    "pin",
    "pin_code",
    // Secrets, tokens, keys.
    "secret",
    "secrets",
    "token",
    "api_key",
    "api_token",
    "api_secret",
    "access_key",
    "access_token",
    "secret_key",
    "private_key",
    "priv_key",
    "client_secret",
    "client_key",
    "app_secret",
    "app_key",
    "auth",
    "auth_key",
    "auth_token",
    "authorization",
    "bearer",
    "credential",
    "credentials",
    "cred",
    "creds",
    "signing_key",
    "encryption_key",
    "master_key",
    "license_key",
    "account_key",
    "shared_key",
    "shared_access_key",
    "storage_key",
    "subscription_key",
    "hmac_key",
    "ssh_key",
    "tls_key",
    "ssl_key",
    "key_data",
    "pfx",
    "p12",
    "pkcs12",
    "keystore",
    "amz_signature",
    "goog_signature",
    "hub_signature",
    "webhook_signature",
    "request_signature",
    "cookie",
    "cookies",
    "session_id",
    "session_token",
    "session_key",
    "session_secret",
    "session_cookie",
    "otp",
    "totp",
    "mfa_code",
    // Passwords in other languages.
    "passwort",
    "kennwort",
    "contraseña",
    "contrasena",
    "senha",
    "mot_de_passe",
    "mdp",
    "wachtwoord",
    "hasło",
    "haslo",
    "parola",
    "şifre",
    "sifre",
    "пароль",
    "密码",
    "口令",
    "パスワード",
    "비밀번호",
    "kata_sandi",
    "mật_khẩu",
    "clave",
    "lösenord",
    "losenord",
    "passord",
    "adgangskode",
    "salasana",
    "jelszó",
    "jelszo",
    "heslo",
    "lozinka",
    "geslo",
    "κωδικός",
    "geheimnis",
    "segredo",
    "токен",
    "秘密鍵",
    "密钥",
    "秘钥",
    "كلمة_المرور",
    "סיסמה",
    // Short forms seen in configs.
    "dbpass",
    "pword",
    "psk",
    "pre_shared_key",
    "preshared_key",
    "security_code",
    // Personal identifiers that are secrets wherever they appear.
    "ssn",
    "social_security_number",
    "cvv",
    "cvv2",
    "cvc",
    "card_security_code",
];

/// Pieces after a secret word that make the key describe the secret instead of holding it.
const AFTER: &[&str] = &[
    "count",
    "counts",
    "limit",
    "limits",
    "max",
    "min",
    "size",
    "length",
    "len",
    "type",
    "types",
    "kind",
    "name",
    "names",
    "url",
    "uri",
    "urls",
    "endpoint",
    "path",
    "file",
    "filename",
    "dir",
    "directory",
    "reset",
    "hint",
    "policy",
    "policies",
    "expiry",
    "expires",
    "expiration",
    "expire",
    "expired",
    "ttl",
    "age",
    "enabled",
    "disabled",
    "enable",
    "required",
    "optional",
    "method",
    "methods",
    "mode",
    "scheme",
    "provider",
    "format",
    "field",
    "fields",
    "version",
    "usage",
    "budget",
    "cost",
    "rate",
    "strength",
    "rotation",
    "rotated",
    "id",
    "ids",
    "status",
    "error",
    "errors",
    "label",
    "description",
    "desc",
    "title",
    "timeout",
    "duration",
    "interval",
    "at",
    "time",
    "timestamp",
    "date",
    "created",
    "updated",
    "changed",
    "last",
    "algorithm",
    "alg",
    "encoding",
    "location",
    "source",
    "ref",
    "reference",
    "arn",
    "store",
    "header",
    "headers",
    "param",
    "parameter",
    "placeholder",
    "prompt",
    "index",
    "idx",
    "total",
    "used",
    "remaining",
    "valid",
    "validation",
    "set",
    "exists",
    "missing",
    "fingerprint",
    "prefix",
    "suffix",
    "masked",
    "redacted",
    "window",
    "estimate",
    "per",
    "fail",
    "failed",
    "failure",
    "through",
    "thru",
    "manager",
    "service",
    "vault",
    "issuer",
    "audience",
    "scope",
    "scopes",
    "kid",
    "generation",
    "lifetime",
    "refreshed",
    // Code that handles the secret (class, function and file names in traces and configs).
    "validator",
    "checker",
    "encoder",
    "decoder",
    "hasher",
    "generator",
    "factory",
    "handler",
    "helper",
    "helpers",
    "util",
    "utils",
    "test",
    "tests",
    "spec",
    "input",
    "form",
    "dialog",
    "screen",
    "page",
    "view",
    "widget",
    "component",
    "module",
    "class",
    "exception",
    "parser",
    "serializer",
    "filter",
    "middleware",
    "controller",
    "repository",
    "repo",
    "client",
    "server",
    "loader",
    "reader",
    "writer",
    "builder",
    "cache",
    "config",
    "settings",
    "options",
    "option",
    "schema",
    "model",
    "mock",
    "fixture",
    "example",
    "java",
    "py",
    "js",
    "ts",
    "go",
    "rs",
    "rb",
    "kt",
    "cs",
    "cpp",
    "php",
    "swift",
    "scala",
    // Parsing and positions (`token_range`, `TOKEN_ENDS`, `_non_token_end_matcher`).
    "end",
    "ends",
    "matcher",
    "range",
    "start",
    "pos",
    "position",
    "offset",
    "list",
    "stream",
    "iter",
    "queue",
    "buffer",
    "info",
    "regex",
    "pattern",
    "char",
    "chars",
    "sep",
    "separator",
    "delim",
    "delimiter",
    "hdr",
    "request",
    "response",
    "command",
    "cmd",
    "message",
    "msg",
    "doc",
    "docs",
    "str",
    "string",
];

/// Pieces before a secret word that make the key a quantity or a flag about it.
const BEFORE: &[&str] = &[
    "max", "min", "num", "total", "count", "has", "is", "use", "enable", "disable", "require",
    "requires", "show", "hide", "allow", "no", "first", "second", "single", "multi", "bypass",
    "non", "have", "struct",
];

/// Qualifiers of an upper-case `…_KEY` that make it an ordinary key.
const ORDINARY_KEYS: &[&str] = &[
    "primary",
    "foreign",
    "sort",
    "partition",
    "cache",
    "public",
    "pub",
    "routing",
    "idempotency",
    "dedup",
    "object",
    "s3",
    "bucket",
    "lookup",
    "map",
    "dict",
    "row",
    "hash",
    "range",
    "group",
    "composite",
    "unique",
    "natural",
    "message",
    "record",
    "kafka",
    "config",
    "setting",
    "i18n",
    "translation",
    "hot",
    "shortcut",
    "sign",
    "gpg",
    "pgp",
    "ssh_public",
    "index",
    "field",
    "column",
    "table",
    "metadata",
    "label",
    "tag",
    "event",
    "cursor",
    "page",
    "join",
    "parent",
    "child",
    "entity",
    "resource",
    "registry",
    "deploy",
    "locale",
    "lang",
    "node",
    "shard",
];

/// Secret words also matched at the end of a longer piece.
const SUFFIX_WORDS: &[&str] = &[
    "password",
    "passwd",
    "passphrase",
    "passcode",
    "secret",
    "token",
    "apikey",
    "credential",
    "credentials",
    "passwort",
    "kennwort",
];

/// Shortest secret word matched at the end of a longer piece (`token` in `refreshtoken`; not
/// `pass` in `bypass`).
const MIN_SUFFIX: usize = 5;

/// Keys the word rule never blocks (globs, case-insensitive, against the whole key and its last
/// dot-separated segment); their values are still scanned.
pub const DEFAULT_BENIGN_KEYS: &[&str] = &["secret_santa"];

/// The compiled key rules.
#[derive(Debug, Clone, Default)]
pub struct KeyWords {
    /// Joined secret words → family.
    words: HashMap<Box<str>, Family, foldhash::fast::RandomState>,
    /// Longest secret word, in pieces.
    max_pieces: usize,
    /// First piece of every secret word (what the text detector looks for).
    firsts: Vec<String>,
    benign: Vec<Glob>,
    patterns: Vec<Regex>,
    /// Every secret word, joined: an ASCII key whose letters and digits hold none of them (and
    /// that is no upper-case `…_KEY`) names no secret, decided without splitting it.
    quick: Option<aho_corasick::AhoCorasick>,
}

/// A key split into lower-case word pieces (see the module docs), without allocating for
/// keys of ordinary length: the pieces' letters and digits in one buffer, and where each piece
/// ends. Consecutive pieces are adjacent in the buffer, so a run of them joined is one slice.
pub(crate) struct Split {
    buf: smallvec::SmallVec<[u8; 256]>,
    ends: smallvec::SmallVec<[u32; 32]>,
}

impl Split {
    pub(crate) fn new(key: &str) -> Split {
        let mut s = Split {
            buf: smallvec::SmallVec::new(),
            ends: smallvec::SmallVec::new(),
        };
        let mut prev: Option<char> = None;
        let mut chars = key.chars().peekable();
        while let Some(c) = chars.next() {
            if !c.is_alphanumeric() {
                s.close();
                prev = None;
                continue;
            }
            if let Some(p) = prev {
                let next_lower = chars.peek().is_some_and(|n| n.is_lowercase());
                let hump = (p.is_lowercase() && c.is_uppercase())
                    || (p.is_uppercase() && c.is_uppercase() && next_lower)
                    || (p.is_alphabetic() && c.is_numeric())
                    || (p.is_numeric() && c.is_alphabetic());
                if hump {
                    s.close();
                }
            }
            if c.is_ascii() {
                s.buf.push(c.to_ascii_lowercase() as u8);
            } else {
                let mut tmp = [0u8; 4];
                for l in c.to_lowercase() {
                    s.buf.extend_from_slice(l.encode_utf8(&mut tmp).as_bytes());
                }
            }
            prev = Some(c);
        }
        s.close();
        s
    }

    /// Ends the current piece, if it has any letters.
    fn close(&mut self) {
        let start = self.ends.last().map_or(0, |&e| e as usize);
        if self.buf.len() > start {
            self.ends.push(self.buf.len() as u32);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Pieces `i..i + n`, joined.
    pub(crate) fn joined(&self, i: usize, n: usize) -> &str {
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        let end = self.ends[i + n - 1] as usize;
        // Whole characters were pushed between piece ends, so this cannot fail.
        std::str::from_utf8(&self.buf[start..end]).unwrap_or_default()
    }

    pub(crate) fn piece(&self, i: usize) -> &str {
        self.joined(i, 1)
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = &str> {
        (0..self.len()).map(|i| self.piece(i))
    }
}

/// Splits `key` into lower-case word pieces (see the module docs).
pub fn pieces(key: &str) -> Vec<String> {
    Split::new(key).iter().map(str::to_string).collect()
}

/// A fixed list as a set, for the lookups done per key.
fn set(list: &'static [&'static str]) -> std::collections::HashSet<&'static str> {
    list.iter().copied().collect()
}

static AFTER_SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| set(AFTER));
static BEFORE_SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| set(BEFORE));
static SUFFIX_SET: std::sync::LazyLock<std::collections::HashSet<&'static str>> =
    std::sync::LazyLock::new(|| set(SUFFIX_WORDS));

impl KeyWords {
    /// Builds the rules from secret words (each a key whose pieces are the word's pieces),
    /// benign key globs and regexes of keys to block. Errors name the pattern.
    pub fn new(
        secret: &[String],
        benign: &[String],
        patterns: &[String],
    ) -> Result<KeyWords, String> {
        let mut kw = KeyWords::default();
        for w in secret {
            let p = pieces(w);
            if p.is_empty() {
                return Err(format!("secret key word `{w}` has no letters or digits"));
            }
            let family = if p.iter().any(|x| {
                matches!(
                    x.as_str(),
                    "password"
                        | "passwd"
                        | "pass"
                        | "pwd"
                        | "pw"
                        | "pswd"
                        | "passphrase"
                        | "passcode"
                        | "pin"
                        | "dbpass"
                        | "pword"
                )
            }) {
                Family::Password
            } else {
                Family::Secret
            };
            kw.max_pieces = kw.max_pieces.max(p.len());
            // What the text detector looks for: the first piece (`api` of `api_key`, which every
            // spelling of the key holds), or the whole word when that piece is a single
            // character (it would fire everywhere). The keyword search ignores ASCII case only,
            // so other scripts get their capitalised and upper-case forms too.
            let first = if p[0].chars().count() < 2 {
                p.concat()
            } else {
                p[0].clone()
            };
            let mut forms = vec![first.clone()];
            if !first.is_ascii() {
                let mut cap = String::new();
                let mut chars = first.chars();
                if let Some(c) = chars.next() {
                    cap.extend(c.to_uppercase());
                    cap.push_str(chars.as_str());
                }
                forms.push(cap);
                forms.push(first.to_uppercase());
            }
            for f in forms {
                if !kw.firsts.contains(&f) {
                    kw.firsts.push(f);
                }
            }
            kw.words.insert(p.concat().into(), family);
        }
        let joined: Vec<&str> = kw
            .words
            .keys()
            .map(|k| &**k)
            .filter(|k| k.is_ascii())
            .collect();
        kw.quick = aho_corasick::AhoCorasick::new(&joined).ok();
        kw.benign = benign.iter().map(|g| Glob::new(g)).collect();
        for p in patterns {
            let re = regex_automata::meta::Regex::builder()
                .syntax(regex_automata::util::syntax::Config::new().case_insensitive(true))
                .build(p)
                .map_err(|e| format!("blocked_key_patterns: `{p}` does not compile: {e}"))?;
            kw.patterns.push(re);
        }
        Ok(kw)
    }

    /// The built-in rules.
    pub fn defaults() -> KeyWords {
        let words: Vec<String> = DEFAULT_SECRET_WORDS.iter().map(|s| s.to_string()).collect();
        let benign: Vec<String> = DEFAULT_BENIGN_KEYS.iter().map(|s| s.to_string()).collect();
        // The built-in lists are valid by construction (tested below).
        KeyWords::new(&words, &benign, &[]).unwrap_or_default()
    }

    /// First pieces of the secret words: every key naming a secret contains one of them.
    pub fn first_pieces(&self) -> &[String] {
        &self.firsts
    }

    /// Whether the key holds a secret word that a modifier or the benign list turns into a
    /// description of the secret (`token_type`, `password_reset_url`, `secret_santa`): a value
    /// under such a key is not taken for a secret by rules that look at keys.
    pub fn describes_secret(&self, key: &str) -> bool {
        if self.classify(key).is_some() {
            return false;
        }
        if self.is_benign(key) {
            return true;
        }
        let p = Split::new(key);
        (0..p.len()).any(|i| {
            (1..=self.max_pieces.min(p.len() - i)).any(|n| self.words.contains_key(p.joined(i, n)))
        })
    }

    /// Whether the key names a secret, and which family of secret.
    pub fn classify(&self, key: &str) -> Option<Family> {
        if key.is_empty() || key.len() > 256 {
            return None;
        }
        if self.patterns.iter().any(|p| p.is_match(key)) {
            return Some(Family::Secret);
        }
        if self.words.is_empty() || self.is_benign(key) {
            return None;
        }
        if key == "PWD" || key == "OLDPWD" {
            return None;
        }
        if key.is_ascii() && !self.may_name_secret(key) {
            return None;
        }
        let p = Split::new(key);
        for i in 0..p.len() {
            for n in 1..=self.max_pieces.min(p.len() - i) {
                let joined = p.joined(i, n);
                let family = match self.words.get(joined) {
                    Some(&f) => f,
                    // A lower-case compound ending in a long secret word (`refreshtoken`,
                    // `pgpassword`, `identitytoken`): one piece, the word at its end.
                    None if n == 1 => match self.suffix_word(joined) {
                        Some(f) => f,
                        None => continue,
                    },
                    None => continue,
                };
                let after = (i + n..p.len()).any(|j| AFTER_SET.contains(p.piece(j)));
                let before = i > 0 && BEFORE_SET.contains(p.piece(i - 1));
                if !after && !before {
                    return Some(family);
                }
            }
        }
        if upper_env_key(key, &p) {
            return Some(Family::Secret);
        }
        None
    }

    /// The quick test (see `quick`): false when the key certainly names no secret.
    fn may_name_secret(&self, key: &str) -> bool {
        let Some(quick) = &self.quick else {
            return true;
        };
        let mut buf = [0u8; 256];
        let mut n = 0;
        for c in key.bytes().filter(u8::is_ascii_alphanumeric) {
            buf[n] = c.to_ascii_lowercase();
            n += 1;
        }
        let upper_key = key.len() > 3 && key.ends_with("KEY");
        upper_key || quick.is_match(&buf[..n])
    }

    /// The family of a secret word of at least [`MIN_SUFFIX`] characters that `piece` ends with
    /// (and is longer than).
    fn suffix_word(&self, piece: &str) -> Option<Family> {
        if piece.len() <= MIN_SUFFIX {
            return None;
        }
        (1..=piece.len() - MIN_SUFFIX)
            .filter(|&k| piece.is_char_boundary(k) && SUFFIX_SET.contains(&piece[k..]))
            .find_map(|k| self.words.get(&piece[k..]).copied())
    }

    fn is_benign(&self, key: &str) -> bool {
        if self.benign.is_empty() {
            return false;
        }
        let last = key.rsplit('.').next().unwrap_or(key);
        self.benign
            .iter()
            .any(|g| g.matches(key) || (last.len() != key.len() && g.matches(last)))
    }
}

/// `FOO_KEY` in upper case (an environment variable) with a qualifier that is not an ordinary
/// key's.
fn upper_env_key(key: &str, p: &Split) -> bool {
    let upper = key
        .bytes()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_');
    let n = p.len();
    if !upper || n < 2 || p.piece(n - 1) != "key" {
        return false;
    }
    let q = p.piece(n - 2);
    let ordinary_pair =
        n >= 3 && ORDINARY_KEYS.contains(&format!("{}_{q}", p.piece(n - 3)).as_str());
    !(ORDINARY_KEYS.contains(&q) || AFTER_SET.contains(q) || ordinary_pair)
}

#[cfg(test)]
#[path = "keyname_tests.rs"]
mod tests;
