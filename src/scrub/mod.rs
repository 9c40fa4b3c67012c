//! Redaction: compiled PII and secret pattern packs, validators, and structure-aware scrubbing
//! of every string in a span.
//!
//! Layout:
//! - `rules.rs`: TOML packs → compiled [`rules::RuleSet`], tp/fp self-checks.
//! - `engine.rs`: the [`Engine`] trait, the production [`engine::FastEngine`] (keyword
//!   prefilter → windowed regex → validators) and the naive baseline; overlap resolution.
//! - `analyze.rs`, `tail.rs`: static analysis of pack regexes (anchorable at keyword hits,
//!   byte-pair gates, longest match, the class a value ends in) that lets the engine skip work
//!   without changing what rules match.
//! - `code.rs`, `assign.rs`, `blocks.rs`: rules confirmed by code: assignments whose key names
//!   a secret, PEM and PuTTY private-key blocks.
//! - `keyname.rs`: which keys name a secret (attribute keys, JSON members, assignments).
//! - `validate.rs`: Luhn, IBAN mod-97, SSN, IP, JWT, entropy… checks.
//! - `mapped.rs`: derived text that maps back to the bytes it came from; `json.rs` (escapes,
//!   JSON documents), `normalize.rs` (invisible and look-alike characters), `decode.rs`
//!   (`%`/HTML/quoted-printable escapes, base64 and hex runs) derive it.
//! - `scan.rs`: one string's matches over all those views, in the string's coordinates.
//! - `memo.rs`: per-thread memo of short strings known clean and of key-rule decisions.
//! - `replace.rs`: actions (`mask`, `token`, `partial`, `drop`) and the text rewrite.
//! - `span.rs`: the walk over every string of a resource, scope and span.

pub mod analyze;
pub mod assign;
pub mod blocks;
mod budget;
mod code;
pub mod decode;
pub mod engine;
pub mod explain;
pub mod formats;
pub mod json;
pub mod keyname;
mod keywords;
pub mod mapped;
mod memo;
pub mod normalize;
mod overlap;
pub mod phone;
pub mod records;
pub mod replace;
pub mod rules;
pub(crate) mod scan;
pub mod span;
mod tail;
pub mod validate;

pub use engine::{Engine, Match};
pub use rules::{Action, Category};
pub use scan::echo_worthy as looks_like_secret_value;

use crate::keys::HmacKey;
use engine::FastEngine;
use rules::{PackSource, RuleSet};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Errors building a [`Scrubber`]. Messages name the pack and rule, never payload text.
#[derive(Debug, thiserror::Error)]
pub enum ScrubError {
    #[error("pattern pack {pack}: {reason}")]
    Pack { pack: String, reason: String },
    #[error("rule `{rule}`: {reason}")]
    Rule { rule: String, reason: String },
    #[error("reading pattern file {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("redaction config: {0}")]
    Config(String),
    #[error("building the matcher: {0}")]
    Engine(String),
}

/// What to do with `bytes` attribute values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BytesPolicy {
    /// Leave them alone (counted in `ScrubReport::bytes_values_skipped`).
    Keep,
    /// Remove the attribute holding them.
    Drop,
    /// Scan them as text when they are valid UTF-8 (request bodies, tokens); others are kept
    /// and counted. The default.
    #[default]
    Scan,
}

/// The per-span audit attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Summary {
    /// No attributes added.
    Silent,
    /// `redaction.count` and `redaction.types` (e.g. `email:2,jwt:1`) on spans with redactions.
    #[default]
    Info,
    /// As `info`, plus `redaction.keys`: the attribute keys where redactions happened.
    Debug,
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// The `redaction:` section of the config.
#[derive(Deserialize, Clone, Debug)]
#[serde(deny_unknown_fields, default)]
pub struct RedactionConfig {
    /// Scrub spans at all. Default `true`; `false` forwards spans unscrubbed (only for trusted,
    /// already-clean sources).
    pub enabled: bool,
    /// Extra TOML pattern packs, loaded after the built-in ones; a rule with the same `id`
    /// replaces the built-in rule. Default none. A pack that fails to load or whose examples
    /// fail stops startup with a message naming the rule.
    pub pattern_files: Vec<PathBuf>,
    /// Rule ids to turn off. Default none. Unknown ids are an error (typos would silently leak).
    pub disable_rules: Vec<String>,
    /// Types (e.g. `ipv4`) to turn off. Default none. Unknown types are an error.
    pub disable_types: Vec<String>,
    /// Action per rule id, type, or category (`secret`, `pii`): `mask` | `token` | `partial` |
    /// `drop`. Precedence: rule id, then type, then category, then the pack's default
    /// (secrets `mask`, PII `token`). Default empty.
    pub actions: BTreeMap<String, Action>,
    /// Attribute keys (globs, `*` and `?`, case-insensitive, matched against the whole key and
    /// its last dot-separated segment) whose value is replaced whole by `[REDACTED:blocked_key]`,
    /// on top of the keys the secret key words name (below). Default none: the key words cover
    /// what the old default listed (`authorization`, `cookie`, `x-api-key`, passwords, secrets)
    /// without catching `password_reset_url` or `secret_santa`.
    pub blocked_keys: Vec<String>,
    /// Regexes (case-insensitive, against the whole key, as the collector's
    /// `blocked_key_patterns`) of keys whose value is masked whole. Default none. A regex that
    /// does not compile stops startup, naming it.
    pub blocked_key_patterns: Vec<String>,
    /// Words that make a key name a secret (see the redaction docs: keys are split into word
    /// pieces, `dbPassword` → `db password`). Setting this replaces the built-in list; an empty
    /// list turns the word rule off. Default: the built-in list (`password`, `pass`, `pwd`,
    /// `secret`, `token`, `api_key`, `access_key`, `private_key`, `client_secret`, `auth`,
    /// `authorization`, `credential(s)`, `cookie`, `session_id`, `ssn`, `cvv` … ).
    pub secret_key_words: Vec<String>,
    /// Words added to `secret_key_words` (keeps the built-in list). Default none.
    pub extra_secret_key_words: Vec<String>,
    /// Keys (globs) the word rule never blocks; their values are still scanned. Default:
    /// `secret_santa`. Setting this replaces the default.
    pub benign_keys: Vec<String>,
    /// Attribute keys (globs) whose values are not scanned. Default none. Use sparingly:
    /// anything under these keys is persisted as sent.
    pub allowed_keys: Vec<String>,
    /// Attribute keys (globs) removed from spans. Default none.
    pub drop_keys: Vec<String>,
    /// `bytes` values: `scan` (default: UTF-8 values are scanned like strings, other bytes are
    /// kept and counted) | `keep` (all kept, counted) | `drop`.
    pub bytes: BytesPolicy,
    /// Per-span audit attributes: `silent` | `info` (default) | `debug`.
    pub summary: Summary,
    /// Path of the HMAC key file for the `token` action (the key itself is never in YAML;
    /// `SPANWARD_HMAC_KEY` wins over it). Default none: a random per-process key and one WARN.
    pub key_file: Option<PathBuf>,
    /// Largest string value scanned, in bytes. Default 4 MiB. A longer value is replaced
    /// whole by `[REDACTED:oversize]` and counted (fail closed: it is never passed unscanned).
    pub max_value_bytes: usize,
    /// Levels of JSON escaping decoded before matching (JSON inside JSON strings). Default 8
    /// (1 to 16). A value that still holds escapes after that many levels is replaced whole by
    /// `[REDACTED:too_deep]` and counted: it is never passed on unscanned.
    pub max_escape_depth: usize,
    /// CPU time a string may cost to scrub, per MiB of its size (plus 2 ms for any string),
    /// measured on the worker thread's CPU clock. Default `200ms` (at least 5 MiB/s whatever
    /// the text holds). Prose and JSON cost 7 to 25 ms per MiB; the slowest benign text
    /// measured, Python source full of escapes, 69 ms per MiB: the default leaves about 3×
    /// headroom over it for slower CPUs. A string that runs over is replaced whole by
    /// `[REDACTED:over_budget]` and counted: text crafted to be slow to scan is never
    /// forwarded unscanned, and never holds a worker for long. Lower it to bound the worst case
    /// more tightly at the risk of masking large benign values; `0s` turns the budget off
    /// (every string is scanned to the end, whatever it costs).
    #[serde(with = "humantime_serde")]
    pub max_scan_cpu_per_mib: std::time::Duration,
}

impl Default for RedactionConfig {
    fn default() -> Self {
        RedactionConfig {
            enabled: true,
            pattern_files: Vec::new(),
            disable_rules: Vec::new(),
            disable_types: Vec::new(),
            actions: BTreeMap::new(),
            blocked_keys: Vec::new(),
            blocked_key_patterns: Vec::new(),
            secret_key_words: strings(keyname::DEFAULT_SECRET_WORDS),
            extra_secret_key_words: Vec::new(),
            benign_keys: strings(keyname::DEFAULT_BENIGN_KEYS),
            allowed_keys: Vec::new(),
            drop_keys: Vec::new(),
            bytes: BytesPolicy::Scan,
            summary: Summary::Info,
            key_file: None,
            max_value_bytes: 4 << 20,
            max_escape_depth: 8,
            max_scan_cpu_per_mib: std::time::Duration::from_millis(200),
        }
    }
}

/// Per-call counters, for metrics. Reuse one per worker and [`ScrubReport::clear`] it, or merge.
/// It also carries what one request's walk learns across its strings: the secret values found
/// (so that an echo of one elsewhere in the request is masked too) and those known from an
/// earlier look at the request. Neither is ever logged or exported.
#[derive(Debug, Default, Clone)]
pub struct ScrubReport {
    /// Secret values found, with their rule (at least `scan::ECHO_MIN_BYTES` long), once each.
    pub(crate) found: Vec<(String, u32)>,
    /// The values in `found`, to keep it free of repeats in constant time per value (a
    /// request can reveal tens of thousands; a search of the list per value was quadratic).
    found_seen: std::collections::HashSet<String, foldhash::fast::RandomState>,
    /// Secret values searched for in every string scrubbed with this report.
    pub(crate) known: Option<Arc<scan::Known>>,
    /// Matches per type (`email`, `jwt`, `blocked_key`, `oversize`…).
    pub matches: Vec<(Arc<str>, u64)>,
    /// String bytes scanned.
    pub bytes_scanned: u64,
    /// `bytes` values left alone (policy `keep`, or not UTF-8 under `scan`).
    pub bytes_values_skipped: u64,
    /// String values over `max_value_bytes` (replaced whole).
    pub oversize_values: u64,
    /// Attributes removed (`drop_keys`, `drop` action, `bytes: drop`).
    pub dropped_attributes: u64,
}

impl ScrubReport {
    /// An empty report whose scrubbing also masks `known` values.
    pub(crate) fn with_known(known: Option<Arc<scan::Known>>) -> ScrubReport {
        ScrubReport {
            known,
            ..ScrubReport::default()
        }
    }

    /// Records a revealed secret value (once).
    pub(crate) fn reveal(&mut self, v: &str, rule: u32) {
        if !self.found_seen.contains(v) {
            self.found_seen.insert(v.to_string());
            self.found.push((v.to_string(), rule));
        }
    }

    /// Whether strings scrubbed into this report revealed secret values.
    pub fn found_secrets(&self) -> bool {
        !self.found.is_empty()
    }

    /// Whether a value revealed so far still occurs in `written` (the request as it would go
    /// out): an echo the walk did not know about when it passed that string.
    pub fn echo_remains(&self, written: &[u8]) -> bool {
        // A few values: a vectorised search each. More (a request of 512 spans reveals dozens):
        // one vectorised multi-pattern pass (Teddy), or an automaton where that is not
        // available. The request is as large as the walk that produced the values, so a pass
        // per value would cost more than the walk.
        const PER_VALUE: usize = 4;
        let values = || self.found.iter().map(|(v, _)| v.as_bytes());
        if self.found.len() <= PER_VALUE {
            return values().any(|v| memchr::memmem::find(written, v).is_some());
        }
        if self.found.len() <= 64 {
            let mut packed = aho_corasick::packed::Config::new().builder();
            packed.extend(values());
            if let Some(searcher) = packed.build() {
                return searcher.find(written).is_some();
            }
        }
        aho_corasick::AhoCorasick::new(values())
            .map(|ac| ac.is_match(written))
            // Cannot fail for these short patterns; should it, an echo is assumed to remain
            // (the second walk is the safe side).
            .unwrap_or(true)
    }

    /// The revealed values, as the secrets a second walk looks for in every string.
    pub(crate) fn known_from_found(&self) -> Arc<scan::Known> {
        let mut values = self.found.clone();
        values.sort_unstable();
        values.dedup_by(|a, b| a.0 == b.0);
        Arc::new(scan::Known { values })
    }

    /// Strings scrubbed into this report also mask `known` values.
    pub(crate) fn set_known(&mut self, known: Arc<scan::Known>) {
        self.known = Some(known);
    }

    pub fn add(&mut self, typ: &Arc<str>, n: u64) {
        match self
            .matches
            .iter_mut()
            .find(|(t, _)| Arc::ptr_eq(t, typ) || t == typ)
        {
            Some((_, c)) => *c += n,
            None => self.matches.push((typ.clone(), n)),
        }
    }

    /// Total matches of all types.
    pub fn total(&self) -> u64 {
        self.matches.iter().map(|(_, n)| n).sum()
    }

    /// Count for one type.
    pub fn count(&self, typ: &str) -> u64 {
        self.matches
            .iter()
            .find(|(t, _)| &**t == typ)
            .map_or(0, |(_, n)| *n)
    }

    pub fn merge(&mut self, other: &ScrubReport) {
        for (t, n) in &other.matches {
            self.add(t, *n);
        }
        for (v, rule) in &other.found {
            self.reveal(v, *rule);
        }
        self.bytes_scanned += other.bytes_scanned;
        self.bytes_values_skipped += other.bytes_values_skipped;
        self.oversize_values += other.oversize_values;
        self.dropped_attributes += other.dropped_attributes;
    }

    pub fn clear(&mut self) {
        self.found.clear();
        self.found_seen.clear();
        self.known = None;
        self.matches.clear();
        self.bytes_scanned = 0;
        self.bytes_values_skipped = 0;
        self.oversize_values = 0;
        self.dropped_attributes = 0;
    }
}

/// A case-insensitive glob (`*`, `?`). Keys are checked for every attribute of every span, so
/// the common shapes (`name`, `*part*`, `prefix*`, `*suffix`) skip the general matcher.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    pat: Vec<u8>,
    shape: Shape,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    Exact,
    Contains,
    Prefix,
    Suffix,
    General,
}

impl Glob {
    pub(crate) fn new(p: &str) -> Glob {
        let pat = p.to_ascii_lowercase().into_bytes();
        let inner_wild = |s: &[u8]| s.iter().any(|&c| c == b'*' || c == b'?');
        let n = pat.len();
        let (shape, lit) = if !inner_wild(&pat) {
            (Shape::Exact, pat.clone())
        } else if n >= 2 && pat[0] == b'*' && pat[n - 1] == b'*' && !inner_wild(&pat[1..n - 1]) {
            (Shape::Contains, pat[1..n - 1].to_vec())
        } else if n >= 1 && pat[n - 1] == b'*' && !inner_wild(&pat[..n - 1]) {
            (Shape::Prefix, pat[..n - 1].to_vec())
        } else if n >= 1 && pat[0] == b'*' && !inner_wild(&pat[1..]) {
            (Shape::Suffix, pat[1..].to_vec())
        } else {
            (Shape::General, pat)
        };
        Glob { pat: lit, shape }
    }

    pub(crate) fn matches(&self, s: &str) -> bool {
        let (p, t) = (&self.pat[..], s.as_bytes());
        match self.shape {
            Shape::Exact => t.eq_ignore_ascii_case(p),
            Shape::Prefix => t.len() >= p.len() && t[..p.len()].eq_ignore_ascii_case(p),
            Shape::Suffix => t.len() >= p.len() && t[t.len() - p.len()..].eq_ignore_ascii_case(p),
            Shape::Contains => {
                if p.is_empty() {
                    return true;
                }
                // Candidates only where the first byte matches (either case).
                let (lo, up) = (p[0], p[0].to_ascii_uppercase());
                let mut from = 0;
                while let Some(k) = memchr::memchr2(lo, up, &t[from..]) {
                    let at = from + k;
                    if t.len() - at < p.len() {
                        return false;
                    }
                    if t[at..at + p.len()].eq_ignore_ascii_case(p) {
                        return true;
                    }
                    from = at + 1;
                }
                false
            }
            Shape::General => glob_general(p, t),
        }
    }
}

fn glob_general(p: &[u8], t: &[u8]) -> bool {
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti].to_ascii_lowercase()) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == b'*')
}

#[derive(Debug, Clone, Default)]
pub(crate) struct KeyGlobs(Vec<Glob>);

impl KeyGlobs {
    fn new(list: &[String]) -> KeyGlobs {
        KeyGlobs(list.iter().map(|p| Glob::new(p)).collect())
    }

    /// Matches the whole key or its last dot-separated segment.
    pub(crate) fn matches(&self, key: &str) -> bool {
        if self.0.is_empty() {
            return false;
        }
        let last = key.rsplit('.').next().unwrap_or(key);
        self.0.iter().any(|g| {
            // A segment holding the part means the key holds it too.
            g.matches(key)
                || (g.shape != Shape::Contains && last.len() != key.len() && g.matches(last))
        })
    }
}

/// The scrubber: built once, shared by workers (`Arc<Scrubber>`); `Send + Sync`.
pub struct Scrubber {
    pub(crate) enabled: bool,
    pub(crate) set: Arc<RuleSet>,
    pub(crate) engine: FastEngine,
    /// Effective action per rule.
    pub(crate) actions: Vec<Action>,
    pub(crate) key: HmacKey,
    pub(crate) blocked: KeyGlobs,
    /// Keys that name a secret (words, benign keys, patterns).
    pub(crate) key_words: keyname::KeyWords,
    pub(crate) allowed: KeyGlobs,
    pub(crate) dropped: KeyGlobs,
    pub(crate) bytes: BytesPolicy,
    pub(crate) summary: Summary,
    pub(crate) max_value_bytes: usize,
    pub(crate) max_escape_depth: usize,
    pub(crate) max_scan_cpu_per_mib: std::time::Duration,
    pub(crate) t_blocked: Arc<str>,
    pub(crate) t_oversize: Arc<str>,
    pub(crate) t_too_deep: Arc<str>,
    pub(crate) t_unstable: Arc<str>,
    pub(crate) t_over_budget: Arc<str>,
    /// This scrubber's id in the per-thread memo of clean strings ([`memo`]).
    pub(crate) memo_id: u64,
    /// The rule echoes of values masked by key rules are reported as (`secret_assignment`, or
    /// the first secret rule when that one is disabled).
    pub(crate) echo_rule: Option<u32>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrubber")
            .field("rules", &self.set.rules.len())
            .finish()
    }
}

/// Reads the configured pack files.
pub fn read_pattern_files(paths: &[PathBuf]) -> Result<Vec<(String, String)>, ScrubError> {
    paths
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|source| ScrubError::Io {
                    path: p.display().to_string(),
                    source,
                })
        })
        .collect()
}

impl Scrubber {
    /// Builds the scrubber from the default packs plus `cfg.pattern_files`; every rule's tp/fp
    /// examples are checked (a failing rule is named in the error).
    pub fn new(cfg: &RedactionConfig, key: HmacKey) -> Result<Scrubber, ScrubError> {
        let files = read_pattern_files(&cfg.pattern_files)?;
        let mut sources = RuleSet::default_sources();
        for (origin, text) in &files {
            sources.push(PackSource {
                origin: origin.clone(),
                text,
            });
        }
        let all = RuleSet::from_packs(&sources, &[], &[], true)?;
        for id in &cfg.disable_rules {
            if !all.rules.iter().any(|r| *r.id == **id) {
                return Err(ScrubError::Config(format!("disable_rules: no rule `{id}`")));
            }
        }
        for t in &cfg.disable_types {
            if !all.types.iter().any(|x| **x == **t) {
                return Err(ScrubError::Config(format!("disable_types: no type `{t}`")));
            }
        }
        for k in cfg.actions.keys() {
            let known = k == "secret"
                || k == "pii"
                || all.rules.iter().any(|r| *r.id == **k || *r.typ == **k);
            if !known {
                return Err(ScrubError::Config(format!(
                    "actions: `{k}` is no rule id, type or category"
                )));
            }
        }
        drop(all);
        // Compile again without the disabled rules (examples were checked above).
        let set = RuleSet::from_packs(&sources, &cfg.disable_rules, &cfg.disable_types, false)?;
        Self::from_rules(cfg, Arc::new(set), key)
    }

    /// Builds from an already-compiled rule set (tests, `spanward scrub` with extra packs).
    pub fn from_rules(
        cfg: &RedactionConfig,
        set: Arc<RuleSet>,
        key: HmacKey,
    ) -> Result<Scrubber, ScrubError> {
        let mut words = cfg.secret_key_words.clone();
        words.extend(cfg.extra_secret_key_words.iter().cloned());
        let key_words = keyname::KeyWords::new(&words, &cfg.benign_keys, &cfg.blocked_key_patterns)
            .map_err(ScrubError::Config)?;
        let engine = FastEngine::with_key_words(set.clone(), key_words.clone())
            .map_err(ScrubError::Engine)?;
        let actions = set
            .rules
            .iter()
            .map(|r| {
                let cat = match r.category {
                    Category::Secret => "secret",
                    Category::Pii => "pii",
                };
                cfg.actions
                    .get(&*r.id)
                    .or_else(|| cfg.actions.get(&*r.typ))
                    .or_else(|| cfg.actions.get(cat))
                    .copied()
                    .unwrap_or(r.action)
            })
            .collect();
        let echo_rule = set
            .rules
            .iter()
            .position(|r| &*r.id == "secret_assignment")
            .or_else(|| {
                set.rules
                    .iter()
                    .position(|r| r.category == Category::Secret)
            })
            .map(|i| i as u32);
        Ok(Scrubber {
            enabled: cfg.enabled,
            set,
            engine,
            actions,
            key,
            blocked: KeyGlobs::new(&cfg.blocked_keys),
            key_words,
            allowed: KeyGlobs::new(&cfg.allowed_keys),
            dropped: KeyGlobs::new(&cfg.drop_keys),
            bytes: cfg.bytes,
            summary: cfg.summary,
            max_value_bytes: cfg.max_value_bytes.max(1),
            max_escape_depth: cfg.max_escape_depth.clamp(1, 16),
            max_scan_cpu_per_mib: cfg.max_scan_cpu_per_mib,
            t_blocked: "blocked_key".into(),
            t_oversize: "oversize".into(),
            t_too_deep: "too_deep".into(),
            t_unstable: "unstable".into(),
            t_over_budget: "over_budget".into(),
            memo_id: memo::next_id(),
            echo_rule,
        })
    }

    /// The compiled rules.
    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    /// The production engine (for benches and the CLI).
    pub fn engine(&self) -> &FastEngine {
        &self.engine
    }

    /// Scrubs plain text (escape/JSON-aware). Unchanged text comes back borrowed.
    pub fn scrub_str<'a>(&self, text: &'a str) -> std::borrow::Cow<'a, str> {
        let mut rep = ScrubReport::default();
        self.scrub_str_report(text, &mut rep)
    }

    /// As [`Scrubber::scrub_str`], counting into `rep`.
    pub fn scrub_str_report<'a>(
        &self,
        text: &'a str,
        rep: &mut ScrubReport,
    ) -> std::borrow::Cow<'a, str> {
        match self.scrub_text(text, rep) {
            Some(out) => std::borrow::Cow::Owned(out.text),
            None => std::borrow::Cow::Borrowed(text),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn echo_remains_sees_any_revealed_value_whatever_their_number() {
        // Each search strategy (one search per value, one vectorised pass, an automaton).
        for n in [1usize, 3, 5, 40, 64, 65, 200] {
            let rep = ScrubReport {
                found: (0..n).map(|i| (format!("Zq8vR2kL{i:04}x"), 0)).collect(),
                ..Default::default()
            };
            let mut written = b"...{\"k\":\"nothing here\"}...".to_vec();
            assert!(!rep.echo_remains(&written), "{n}");
            for i in [0, n / 2, n - 1] {
                let mut w = written.clone();
                w.extend_from_slice(format!("retrying with Zq8vR2kL{i:04}x").as_bytes());
                assert!(rep.echo_remains(&w), "{n} {i}");
            }
            written.clear();
            assert!(!rep.echo_remains(&written));
        }
    }

    #[test]
    fn globs() {
        let g = KeyGlobs::new(&strings(&[
            "authorization",
            "set-cookie",
            "*password*",
            "*secret*",
        ]));
        assert!(g.matches("http.request.header.authorization"));
        assert!(g.matches("db.PASSWORD"));
        assert!(g.matches("client_secret"));
        assert!(g.matches("Set-Cookie"));
        assert!(!g.matches("gen_ai.usage.input_tokens"));
        assert!(!g.matches("authorization.mode.count"));
        assert!(Glob::new("a*b?c").matches("aXXbYc"));
        assert!(!Glob::new("a*b?c").matches("aXXbc"));
        assert!(Glob::new("x-*").matches("X-Api-Key"));
        assert!(!Glob::new("x-*").matches("ax-b"));
        assert!(Glob::new("*_token").matches("GITHUB_TOKEN"));
        assert!(!Glob::new("*_token").matches("token_count"));
        assert!(Glob::new("*").matches(""));
        assert!(Glob::new("**").matches("abc"));
        assert!(Glob::new("").matches(""));
        assert!(!Glob::new("").matches("a"));
    }
}
