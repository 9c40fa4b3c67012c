//! Pattern packs: TOML rule files, compiled into a [`RuleSet`] and self-checked with each
//! rule's inline `tp`/`fp` examples.

use super::analyze;
use super::validate::Validator;
use super::ScrubError;
use regex_automata::meta::Regex;
use regex_automata::{Input, PatternID};
use serde::Deserialize;
use std::ops::Range;
use std::sync::Arc;

/// Longest match whose secret group is looked for (see `Rule::secret_range`).
const MAX_CAPTURE_BYTES: usize = 4096;

/// The default PII pack, compiled into the binary.
pub const DEFAULT_PII: &str = include_str!("../../patterns/pii.toml");
/// The default secrets pack, compiled into the binary.
pub const DEFAULT_SECRETS: &str = include_str!("../../patterns/secrets.toml");

/// What a rule detects; decides the default action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Category {
    /// Credentials and keys: masked by default.
    Secret,
    /// Personal data: pseudonymised (`token`) by default.
    Pii,
}

/// What replaces a match.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// `[REDACTED:<type>]`.
    Mask,
    /// A keyed HMAC pseudonym `<type:hex10>` (see `keys::HmacKey::pseudonym`).
    Token,
    /// Keeps the last 4 alphanumerics: `[REDACTED:<type>:****1234]`.
    Partial,
    /// Removes the whole attribute holding the match (in plain text: like `mask`).
    Drop,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackFile {
    pack: PackHeader,
    #[serde(default)]
    rules: Vec<RuleSpec>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PackHeader {
    name: String,
    #[serde(default)]
    description: String,
    /// Category of rules that do not set their own.
    category: Option<Category>,
}

/// One rule as written in a pack.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    pub id: String,
    #[serde(rename = "type")]
    pub typ: String,
    #[serde(default)]
    pub description: String,
    /// The rule's regex; exactly one of `regex` and `detector` is set.
    #[serde(default)]
    pub regex: Option<String>,
    /// A built-in detector instead of a regex (see [`Detector`]).
    pub detector: Option<String>,
    /// `alnum`: the match must not touch an ASCII letter or digit on either side (`_`, `-` and
    /// `.` may: `user_ghp_…`, `ghp_…_backup.txt`). Checked in code, so the regex carries no `\b`
    /// at its ends.
    pub boundary: Option<String>,
    /// Literals for the prefilter (matched ASCII-case-insensitively); empty = keywordless rule.
    #[serde(default)]
    pub keywords: Vec<String>,
    /// Capture group holding the secret (the rest of the match is context that stays); a list
    /// means the first of those groups that took part in the match (alternative quotings).
    pub secret_group: Option<GroupSpec>,
    /// Comma-separated validators.
    pub validator: Option<String>,
    /// Allowlist regexes: a candidate secret matching any of them is not redacted.
    #[serde(default)]
    pub allow: Vec<String>,
    /// Case-insensitive substrings that mark a candidate as a placeholder.
    #[serde(default)]
    pub stopwords: Vec<String>,
    pub category: Option<Category>,
    pub action: Option<Action>,
    /// Overlap resolution: higher wins, then longer. Default: secrets 100, PII 50.
    pub priority: Option<i32>,
    /// Bytes searched before and after a keyword hit. Default [64, 512].
    pub window: Option<[usize; 2]>,
    #[serde(default)]
    pub tp: Vec<String>,
    #[serde(default)]
    pub fp: Vec<String>,
}

/// `secret_group = 1` or `secret_group = [1, 2, 3]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum GroupSpec {
    One(usize),
    Many(Vec<usize>),
}

impl GroupSpec {
    fn into_vec(self) -> Vec<usize> {
        match self {
            GroupSpec::One(g) => vec![g],
            GroupSpec::Many(v) => v,
        }
    }
}

/// Rules confirmed by code (see `super::code`) rather than by their regex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detector {
    /// `key=value` and its kin where the key names a password (`super::assign`).
    PasswordAssignment,
    /// The same where the key names any other secret.
    SecretAssignment,
    /// A PEM private-key block with its `END` line (`super::blocks`).
    Pem,
    /// A PEM private-key block cut off before its `END` line.
    PemTruncated,
    /// A PuTTY private key.
    Putty,
}

impl Detector {
    fn parse(s: &str) -> Option<Detector> {
        Some(match s {
            "password_assignment" => Detector::PasswordAssignment,
            "secret_assignment" => Detector::SecretAssignment,
            "pem" => Detector::Pem,
            "pem_truncated" => Detector::PemTruncated,
            "putty" => Detector::Putty,
            _ => return None,
        })
    }
}

/// A compiled rule.
#[derive(Debug)]
pub struct Rule {
    pub id: Arc<str>,
    pub typ: Arc<str>,
    /// Index into [`RuleSet::types`].
    pub type_idx: usize,
    pub pack: Arc<str>,
    pub category: Category,
    pub description: String,
    pub source: String,
    pub regex: Regex,
    /// Set for rules confirmed by code; `regex` then never matches.
    pub detector: Option<Detector>,
    /// Matches must not touch an ASCII letter or digit (`boundary = "alnum"`).
    pub alnum_boundary: bool,
    /// The class of the secret's last, unbounded run (`[A-Za-z0-9._~+/-]` in a bearer token):
    /// a match that the search window cut there goes on through this class.
    pub tail: Option<analyze::ByteSet>,
    pub keywords: Vec<String>,
    /// Empty: the whole match is the secret.
    pub secret_group: Vec<usize>,
    /// Set when the secret group can be read off a match without a capture engine.
    pub split: Option<analyze::GroupSplit>,
    /// Otherwise, set when two DFA walks can find it (see [`analyze::DfaSplit`]).
    pub dfa_split: Option<analyze::DfaSplit>,
    pub validators: Vec<Validator>,
    pub allow: Vec<Regex>,
    pub stopwords: Vec<String>,
    pub action: Action,
    pub priority: i32,
    pub before: usize,
    pub after: usize,
    pub tp: Vec<String>,
    pub fp: Vec<String>,
}

/// The regex of detector rules: matches nothing.
const NEVER: &str = r"[^\s\S]";

/// `\b` in packs means an ASCII word boundary: Unicode boundaries would force the slow
/// engines on non-ASCII text, and identifiers/secrets are ASCII anyway.
pub(crate) fn ascii_boundaries(re: &str) -> String {
    let mut out = String::with_capacity(re.len() + 16);
    let mut chars = re.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('b') => out.push_str("(?-u:\\b)"),
                Some('B') => out.push_str("(?-u:\\B)"),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Compiles a pack regex with the engine's settings.
pub fn compile_regex(re: &str) -> Result<Regex, String> {
    Regex::builder()
        .configure(Regex::config().nfa_size_limit(Some(64 << 20)))
        .build(&ascii_boundaries(re))
        .map_err(|e| build_error(&e))
}

fn build_error(e: &regex_automata::meta::BuildError) -> String {
    match e.syntax_error() {
        Some(se) => se.to_string().replace('\n', " "),
        None => e.to_string(),
    }
}

/// Compiles several pack regexes into one multi-pattern regex (leftmost-first).
pub fn compile_many(res: &[&str]) -> Result<Regex, String> {
    compile_many_kind(res, regex_automata::MatchKind::LeftmostFirst)
}

/// As [`compile_many`] with a match kind (`All` answers "which patterns match in here").
pub fn compile_many_kind(res: &[&str], kind: regex_automata::MatchKind) -> Result<Regex, String> {
    let pats: Vec<String> = res.iter().map(|r| ascii_boundaries(r)).collect();
    Regex::builder()
        .configure(
            Regex::config()
                .nfa_size_limit(Some(256 << 20))
                .match_kind(kind),
        )
        .build_many(&pats)
        .map_err(|e| build_error(&e))
}

impl Rule {
    fn compile(
        spec: RuleSpec,
        pack: &Arc<str>,
        pack_cat: Option<Category>,
    ) -> Result<Rule, ScrubError> {
        let rule_err = |reason: String| ScrubError::Rule {
            rule: spec.id.clone(),
            reason,
        };
        if spec.id.trim().is_empty() {
            return Err(ScrubError::Pack {
                pack: pack.to_string(),
                reason: "a rule has an empty id".into(),
            });
        }
        if spec.typ.is_empty()
            || !spec
                .typ
                .bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
        {
            return Err(rule_err("type must be lower-case [a-z0-9_]+".into()));
        }
        let detector = match &spec.detector {
            Some(d) => Some(Detector::parse(d).ok_or_else(|| {
                rule_err(format!(
                    "unknown detector `{d}` (password_assignment, secret_assignment, pem, pem_truncated, putty)"
                ))
            })?),
            None => None,
        };
        let source = match (&spec.regex, detector) {
            (Some(re), None) => re.clone(),
            // Never matches: the detector finds this rule's matches.
            (None, Some(_)) => NEVER.to_string(),
            (Some(_), Some(_)) => {
                return Err(rule_err("set `regex` or `detector`, not both".into()))
            }
            (None, None) => {
                return Err(rule_err(
                    "needs a `regex` (or a built-in `detector`)".into(),
                ))
            }
        };
        let alnum_boundary = match spec.boundary.as_deref() {
            None => false,
            Some("alnum") => true,
            Some(other) => return Err(rule_err(format!("unknown boundary `{other}` (alnum)"))),
        };
        let regex =
            compile_regex(&source).map_err(|e| rule_err(format!("regex does not compile: {e}")))?;
        let secret_group = spec
            .secret_group
            .clone()
            .map(GroupSpec::into_vec)
            .unwrap_or_default();
        for &g in &secret_group {
            if g == 0 || g >= regex.group_info().group_len(PatternID::ZERO) {
                return Err(rule_err(format!(
                    "secret_group {g} does not exist in the regex"
                )));
            }
        }
        let mut validators = Vec::new();
        for v in spec
            .validator
            .iter()
            .flat_map(|v| v.split(','))
            .filter(|v| !v.trim().is_empty())
        {
            validators.push(
                Validator::parse(v)
                    .ok_or_else(|| rule_err(format!("unknown validator `{}`", v.trim())))?,
            );
        }
        let allow = spec
            .allow
            .iter()
            .map(|a| compile_regex(a))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| rule_err(format!("allow regex does not compile: {e}")))?;
        if spec.keywords.iter().any(|k| k.is_empty()) {
            return Err(rule_err("empty keyword".into()));
        }
        let hir = analyze::parse(&ascii_boundaries(&source));
        let split = hir
            .as_ref()
            .and_then(|h| analyze::group_split(h, &secret_group));
        let dfa_split = match (&split, &hir) {
            (None, Some(h)) => analyze::dfa_split(h, &secret_group),
            _ => None,
        };
        let tail = hir
            .as_ref()
            .and_then(|h| super::tail::tail_class(h, &secret_group));
        let category = spec.category.or(pack_cat).unwrap_or(Category::Secret);
        let [before, after] = spec.window.unwrap_or([64, 512]);
        Ok(Rule {
            id: spec.id.as_str().into(),
            typ: spec.typ.as_str().into(),
            type_idx: 0,
            pack: pack.clone(),
            category,
            description: spec.description,
            source,
            regex,
            detector,
            alnum_boundary,
            tail,
            keywords: spec.keywords,
            secret_group,
            split,
            dfa_split,
            validators,
            allow,
            stopwords: spec
                .stopwords
                .iter()
                .map(|s| s.to_ascii_lowercase())
                .collect(),
            action: spec.action.unwrap_or(match category {
                Category::Secret => Action::Mask,
                Category::Pii => Action::Token,
            }),
            priority: spec.priority.unwrap_or(match category {
                Category::Secret => 100,
                Category::Pii => 50,
            }),
            before,
            after,
            tp: spec.tp,
            fp: spec.fp,
        })
    }

    /// Runs the rule's regex over `span` of `text`, applying group selection, allowlist,
    /// stopwords and validators; pushes each accepted range.
    pub fn confirm(&self, text: &str, span: Range<usize>, out: &mut Vec<Range<usize>>) {
        super::engine::add_work(span.len());
        let mut input = Input::new(text).span(span.clone());
        let mut pos = span.start;
        while pos <= span.end {
            input.set_start(pos);
            // The DFAs find the match; captures (slow engines) run only on the match itself.
            let Some(m) = self.regex.search(&input) else {
                break;
            };
            if super::budget::tick(64) {
                return;
            }
            let (ms, me) = (m.start(), m.end());
            // Advance past this match (at least one char so empty matches cannot loop).
            pos = if me > ms {
                me
            } else {
                text[ms..]
                    .chars()
                    .next()
                    .map_or(text.len() + 1, |c| ms + c.len_utf8())
            };
            if !self.bounded(text, m.range()) {
                // A rejected match does not swallow the matches that start inside it.
                pos = text[ms..]
                    .chars()
                    .next()
                    .map_or(text.len() + 1, |c| ms + c.len_utf8());
                continue;
            }
            let r = self.secret_range(text, m);
            if r.is_empty() {
                continue;
            }
            if let Some(r) = self.accept(text, r) {
                out.push(r);
            }
        }
    }

    /// One anchored search at `start` (the match must begin there), bounded by `end`; pushes
    /// the accepted range. Returns the match end when the regex matched (accepted or not).
    pub fn confirm_at(
        &self,
        text: &str,
        start: usize,
        end: usize,
        out: &mut Vec<Range<usize>>,
    ) -> Option<usize> {
        super::engine::add_work(end.saturating_sub(start));
        let input = Input::new(text)
            .span(start..end)
            .anchored(regex_automata::Anchored::Yes);
        let m = self.regex.search(&input)?;
        if !self.bounded(text, m.range()) {
            return Some(m.end());
        }
        let r = self.secret_range(text, m);
        if !r.is_empty() {
            if let Some(r) = self.accept(text, r) {
                out.push(r);
            }
        }
        Some(m.end())
    }

    /// Group selection, allowlist, stopwords and validators for `range`, already known to be
    /// exactly a leftmost-first match of this rule's regex (e.g. reported by a multi-pattern
    /// regex built from it); pushes the accepted range.
    pub fn confirm_match(&self, text: &str, range: Range<usize>, out: &mut Vec<Range<usize>>) {
        if !self.bounded(text, range.clone()) {
            return;
        }
        let m = regex_automata::Match::must(0, range);
        let r = self.secret_range(text, m);
        if !r.is_empty() {
            if let Some(r) = self.accept(text, r) {
                out.push(r);
            }
        }
    }

    /// The `boundary = "alnum"` check: no ASCII letter or digit right before or after `m`.
    pub fn bounded(&self, text: &str, m: Range<usize>) -> bool {
        if !self.alnum_boundary {
            return true;
        }
        let b = text.as_bytes();
        let before = m.start.checked_sub(1).map(|i| b[i]);
        !before.is_some_and(|c| c.is_ascii_alphanumeric())
            && !b.get(m.end).is_some_and(|c| c.is_ascii_alphanumeric())
    }

    /// The secret group of match `m` where it can be had without the capture engine.
    pub fn derived_group(&self, text: &str, m: Range<usize>) -> Option<Range<usize>> {
        match (&self.split, &self.dfa_split) {
            (Some(s), _) => s.apply(text, m),
            (None, Some(d)) => d.apply(text, m),
            (None, None) => None,
        }
    }

    /// The part of match `m` to redact: the first participating secret group, or all of it
    /// (also when the match is longer than [`MAX_CAPTURE_BYTES`]).
    fn secret_range(&self, text: &str, m: regex_automata::Match) -> Range<usize> {
        // A match longer than a few KiB (a rule whose match may run on, such as a URL's
        // userinfo up to its last `@`, over text made of nothing else) is masked whole: the
        // capture engines are the slow ones, and narrowing it is not worth a slow pass.
        if self.secret_group.is_empty() || m.len() > MAX_CAPTURE_BYTES {
            return m.range();
        }
        if let Some(r) = self.derived_group(text, m.range()) {
            return r;
        }
        // Slots on the stack: this runs once per match, an allocation each time shows.
        let info = self.regex.group_info();
        let need = info.slot_len();
        let mut stack = [None; 32];
        let mut heap = Vec::new();
        let slots = if need <= stack.len() {
            &mut stack[..need]
        } else {
            heap.resize(need, None);
            &mut heap[..]
        };
        let input = Input::new(text)
            .span(m.range())
            .anchored(regex_automata::Anchored::Pattern(m.pattern()));
        let at = |slots: &[Option<regex_automata::util::primitives::NonMaxUsize>],
                  g: usize|
         -> Option<Range<usize>> {
            let (a, b) = info.slots(m.pattern(), g)?;
            Some(slots.get(a)?.as_ref()?.get()..slots.get(b)?.as_ref()?.get())
        };
        if self.regex.search_slots(&input, slots).is_some() && at(slots, 0) == Some(m.range()) {
            self.secret_group
                .iter()
                .find_map(|&g| at(slots, g))
                .unwrap_or(m.start()..m.start())
        } else {
            // Cannot happen (same regex, same span); fail closed by redacting the whole match.
            m.range()
        }
    }

    /// Allowlist, stopwords and validators for one candidate.
    pub fn accept(&self, text: &str, r: Range<usize>) -> Option<Range<usize>> {
        self.verdict(text, r).ok()
    }

    /// [`Rule::accept`] with the reason a candidate is rejected (for `scrub --explain`).
    pub fn verdict(&self, text: &str, mut r: Range<usize>) -> Verdict {
        let s = text.get(r.clone()).ok_or(Rejection::NotText)?;
        if !self.stopwords.is_empty() {
            let lower = s.to_ascii_lowercase();
            if let Some(i) = self
                .stopwords
                .iter()
                .position(|w| lower.contains(w.as_str()))
            {
                return Err(Rejection::Stopword(i));
            }
        }
        if let Some(i) = self.allow.iter().position(|a| a.is_match(s)) {
            return Err(Rejection::Allowlisted(i));
        }
        for (i, v) in self.validators.iter().enumerate() {
            r = v.check(text, r).ok_or(Rejection::Validator(i))?;
        }
        Ok(r)
    }

    /// Words a rejection of this rule's candidate.
    pub fn describe(&self, why: Rejection) -> String {
        match why {
            Rejection::NoBoundary => "no word boundary around it".into(),
            Rejection::Stopword(i) => match self.stopwords.get(i) {
                Some(w) => format!("holds the stopword `{w}`"),
                None => "holds a stopword".into(),
            },
            Rejection::Allowlisted(i) => format!("matches allowlist pattern #{}", i + 1),
            Rejection::Validator(i) => match self.validators.get(i) {
                Some(v) => format!("fails the {v:?} validator"),
                None => "fails a validator".into(),
            },
            Rejection::NotText => "not on character boundaries".into(),
        }
    }

    /// Every candidate this rule's regex finds in `text` (leftmost-first, as the engines see
    /// them) with its verdict: what `scrub --explain` reports as matches and near misses.
    pub fn candidates(&self, text: &str) -> Vec<(Range<usize>, Verdict)> {
        let mut out = Vec::new();
        if self.detector.is_some() {
            return out;
        }
        let mut input = Input::new(text);
        let mut pos = 0;
        while pos <= text.len() && out.len() < 10_000 {
            input.set_start(pos);
            let Some(m) = self.regex.search(&input) else {
                break;
            };
            let next = text[m.start()..]
                .chars()
                .next()
                .map_or(text.len() + 1, |c| m.start() + c.len_utf8());
            pos = if m.end() > m.start() { m.end() } else { next };
            if !self.bounded(text, m.range()) {
                out.push((m.range(), Err(Rejection::NoBoundary)));
                pos = next;
                continue;
            }
            let r = self.secret_range(text, m);
            if r.is_empty() {
                continue;
            }
            out.push((m.range(), self.verdict(text, r)));
        }
        out
    }

    /// All accepted ranges of this rule in `text`, with the keyword gate the engine applies.
    pub fn find_all(&self, text: &str) -> Vec<Range<usize>> {
        if let Some(d) = self.detector {
            return super::code::find_one(d, text);
        }
        let mut out = Vec::new();
        if !self.keywords.is_empty() {
            let lower = text.to_ascii_lowercase();
            if !self
                .keywords
                .iter()
                .any(|k| lower.contains(&k.to_ascii_lowercase()))
            {
                return out;
            }
        }
        self.confirm(text, 0..text.len(), &mut out);
        out
    }

    /// Checks the inline examples: every `tp` must match, no `fp` may.
    pub fn self_test(&self) -> Result<(), ScrubError> {
        for (i, tp) in self.tp.iter().enumerate() {
            if self.find_all(tp).is_empty() {
                return Err(ScrubError::Rule {
                    rule: self.id.to_string(),
                    reason: format!("tp example #{} is not matched", i + 1),
                });
            }
        }
        for (i, fp) in self.fp.iter().enumerate() {
            if !self.find_all(fp).is_empty() {
                return Err(ScrubError::Rule {
                    rule: self.id.to_string(),
                    reason: format!("fp example #{} is matched", i + 1),
                });
            }
        }
        Ok(())
    }
}

/// A candidate's verdict: the range to redact, or why it is not a secret.
pub type Verdict = Result<Range<usize>, Rejection>;

/// Why a rule's candidate was not taken for a secret (indices into the rule's lists, so that
/// the hot path allocates nothing; [`Rule::describe`] words it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// The candidate touches a letter or digit where the rule needs a boundary.
    NoBoundary,
    /// It holds one of the rule's stopwords (by index).
    Stopword(usize),
    /// It matches the rule's allowlist pattern (by index).
    Allowlisted(usize),
    /// A validator said no (by index).
    Validator(usize),
    /// Its range is not on character boundaries (cannot happen).
    NotText,
}

/// All compiled rules plus the interned type names.
#[derive(Debug, Default)]
pub struct RuleSet {
    pub rules: Vec<Rule>,
    /// Distinct `type` labels, indexed by `Rule::type_idx`.
    pub types: Vec<Arc<str>>,
}

/// Result of checking one rule of a pack.
#[derive(Debug)]
pub struct RuleCheck {
    pub id: String,
    pub tp: usize,
    pub fp: usize,
    pub error: Option<ScrubError>,
}

/// A pack's text plus where it came from (for error messages).
pub struct PackSource<'a> {
    pub origin: String,
    pub text: &'a str,
}

/// Parses a pack's rules without compiling them.
fn parse_pack(src: &PackSource<'_>) -> Result<(PackHeader, Vec<RuleSpec>), ScrubError> {
    let pf: PackFile = toml::from_str(src.text).map_err(|e| ScrubError::Pack {
        pack: src.origin.clone(),
        reason: e.to_string(),
    })?;
    Ok((pf.pack, pf.rules))
}

impl RuleSet {
    /// Compiles packs in order; a later rule with the same id replaces an earlier one.
    /// `check_examples` runs every rule's tp/fp self-test.
    pub fn from_packs(
        packs: &[PackSource<'_>],
        disable_rules: &[String],
        disable_types: &[String],
        check_examples: bool,
    ) -> Result<RuleSet, ScrubError> {
        let mut rules: Vec<Rule> = Vec::new();
        for src in packs {
            let (header, specs) = parse_pack(src)?;
            let _ = &header.description;
            let pack: Arc<str> = header.name.as_str().into();
            let mut seen = std::collections::HashSet::new();
            for spec in specs {
                if !seen.insert(spec.id.clone()) {
                    return Err(ScrubError::Rule {
                        rule: spec.id,
                        reason: format!("duplicate id in pack {}", src.origin),
                    });
                }
                let rule = Rule::compile(spec, &pack, header.category)?;
                if check_examples {
                    rule.self_test()?;
                }
                if let Some(slot) = rules.iter_mut().find(|r| r.id == rule.id) {
                    *slot = rule;
                } else {
                    rules.push(rule);
                }
            }
        }
        rules.retain(|r| {
            !disable_rules.iter().any(|d| **d == *r.id)
                && !disable_types.iter().any(|d| **d == *r.typ)
        });
        let mut types: Vec<Arc<str>> = Vec::new();
        for r in &mut rules {
            r.type_idx = match types.iter().position(|t| *t == r.typ) {
                Some(i) => i,
                None => {
                    types.push(r.typ.clone());
                    types.len() - 1
                }
            };
        }
        Ok(RuleSet { rules, types })
    }

    /// Checks one pack rule by rule (compile + tp/fp), collecting every failure instead of
    /// stopping at the first: `(rule id, tp count, fp count, error)` per rule.
    pub fn check_pack(src: &PackSource<'_>) -> Result<Vec<RuleCheck>, ScrubError> {
        let (header, specs) = parse_pack(src)?;
        let pack: Arc<str> = header.name.as_str().into();
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for spec in specs {
            let id = spec.id.clone();
            let (tp, fp) = (spec.tp.len(), spec.fp.len());
            let error = if !seen.insert(id.clone()) {
                Some(ScrubError::Rule {
                    rule: id.clone(),
                    reason: "duplicate id".into(),
                })
            } else {
                Rule::compile(spec, &pack, header.category)
                    .and_then(|r| r.self_test())
                    .err()
            };
            out.push(RuleCheck { id, tp, fp, error });
        }
        Ok(out)
    }

    /// The embedded default packs.
    pub fn default_sources() -> Vec<PackSource<'static>> {
        vec![
            PackSource {
                origin: "builtin:pii".into(),
                text: DEFAULT_PII,
            },
            PackSource {
                origin: "builtin:secrets".into(),
                text: DEFAULT_SECRETS,
            },
        ]
    }
}
