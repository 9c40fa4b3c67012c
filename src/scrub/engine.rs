//! Detection engines behind one small trait, so the production engine, a naive
//! one-regex-per-rule baseline and peers run in the same benchmark.
//!
//! The production engine:
//! 1. one Aho-Corasick DFA over every rule's keywords (ASCII case-insensitive, overlapping,
//!    walked as four interleaved streams on long strings, see `keywords`), each hit carrying
//!    the rules it gates;
//! 2. confirmation at the hit: a rule whose every match starts with a keyword (vendor prefixes,
//!    `bearer`, `\bkey…`) runs one anchored search at the hit (none when the rule opens with
//!    `\b` and the hit has no word boundary, as `tel` in `hotel`); a rule of the form `C*K…`
//!    (`[A-Za-z0-9_.-]*(?:secret|token…)…`) runs one anchored search where the run of `C`
//!    before the hit starts; only the rest scan a window around the hit (see
//!    [`super::analyze`]; the contract is that every match contains one of the rule's keywords);
//! 3. keywordless rules (cards, phones, IBANs, IPs…) share one multi-pattern pass, gated by a
//!    byte pair every match must contain (a digit then `.` for IPv4, `+` then a digit for E.164,
//!    …) and bounded by the longest possible match, so text without such a pair is skipped;
//! 4. capture groups (the slow regex engines) run only on an already-found match; then
//!    validators; then overlap resolution in [`resolve`].
//!
//! `tests/scrub_engine_diff.rs` checks that this redacts exactly what the naive engine does.

use super::analyze;
use super::code::{self, Code};
use super::keyname::KeyWords;
use super::keywords::Keywords;
pub use super::overlap::{resolve, Spanned};
use super::rules::{ascii_boundaries, compile_many, compile_many_kind, RuleSet};
use regex_automata::meta::Regex;
use regex_automata::{Input, PatternID, PatternSet};
use std::ops::Range;
use std::sync::Arc;

thread_local! {
    /// Bytes handed to the engine's passes and regex searches on this thread (see
    /// [`work_meter`]).
    static WORK: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// Counts `n` bytes of scanning work on this thread.
pub(crate) fn add_work(n: usize) {
    WORK.with(|w| w.set(w.get().wrapping_add(n as u64)));
    // `n` is an upper bound (a window the DFA may leave early), so the budget is told of a
    // call's fixed cost and a fraction of its bytes: it only sets how often the clock is read.
    super::budget::tick(32 + n / 32);
}

/// The bytes this thread's engine passes and regex searches have been handed so far: every
/// keyword pass over a string, every window or anchored span a rule's regex searches, every
/// keywordless pass. A deterministic measure of how the scrubber's work grows with its input
/// (an upper bound of what the automata read), for tests that pin the worst inputs' growth
/// and for benches.
pub fn work_meter() -> u64 {
    WORK.with(|w| w.get())
}

/// One detected secret: a byte range of the scanned text and the rule (index into the rule set).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Match {
    pub start: usize,
    pub end: usize,
    pub rule: u32,
}

/// A detection engine: appends every validated match in `text` to `out` (may overlap).
pub trait Engine: Send + Sync {
    fn find(&self, text: &str, out: &mut Vec<Match>);
}

/// Sorts confirmation requests by rule, then start, then limit. The keyword pass reports hits
/// in text order, so each rule's requests arrive nearly sorted: they are grouped by rule in one
/// counting pass, and each group is sorted by an adaptive sort, linear on sorted input. One
/// plain sort of the interleaved requests (a keyword repeated over a long string gives
/// hundreds of thousands) cost more than the confirmations themselves.
fn sort_by_rule(todo: &mut Vec<(u32, usize, usize)>, rules: usize) {
    if todo.len() < 512 {
        todo.sort_unstable();
        return;
    }
    let mut at = vec![0usize; rules + 1];
    for t in todo.iter() {
        at[t.0 as usize + 1] += 1;
    }
    for r in 0..rules {
        at[r + 1] += at[r];
    }
    let starts = at.clone();
    let mut out = vec![(0u32, 0usize, 0usize); todo.len()];
    for &t in todo.iter() {
        let slot = &mut at[t.0 as usize];
        out[*slot] = t;
        *slot += 1;
    }
    for r in 0..rules {
        out[starts[r]..starts[r + 1]].sort();
    }
    *todo = out;
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    if i >= s.len() {
        return s.len();
    }
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Whether `(?-u:\b)` holds at `i`: an ASCII word byte on exactly one side (bytes of 0x80 and
/// above are not word bytes in ASCII mode).
fn word_boundary(b: &[u8], i: usize) -> bool {
    let word = |c: &u8| c.is_ascii_alphanumeric() || *c == b'_';
    let before = i.checked_sub(1).and_then(|j| b.get(j)).is_some_and(word);
    before != b.get(i).is_some_and(word)
}

/// Bytes of text tested together before the gate search looks at single positions.
const GATE_BLOCK: usize = 16;

/// How a keyword hit of a rule is confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// Every match starts with a keyword: one anchored search at the hit.
    AtHit,
    /// The regex is `C*R` with `R` starting at a keyword: one anchored search where the run of
    /// class `C` before the hit starts.
    AtRun(analyze::ByteSet),
    /// The keyword sits inside the match: the regex runs in a window around the hit.
    Window,
    /// A detector (see [`super::code`]) confirms the rule.
    Code,
}

/// A match `r` of a rule with value class `tail` that the search window cut at `lim` goes on
/// through that class (see [`super::tail`]).
fn extend_tail(text: &str, r: &mut Range<usize>, lim: usize, tail: Option<&analyze::ByteSet>) {
    let Some(tail) = tail else { return };
    if r.end != lim || lim >= text.len() {
        return;
    }
    let b = text.as_bytes();
    let mut e = r.end;
    while e < b.len() && tail.contains(b[e]) {
        e += 1;
    }
    r.end = ceil_boundary(text, e);
}

/// Whether the byte before `i` is an ASCII letter or digit.
fn alnum_before(b: &[u8], i: usize) -> bool {
    i.checked_sub(1)
        .is_some_and(|j| b[j].is_ascii_alphanumeric())
}

/// The production engine.
pub struct FastEngine {
    set: Arc<RuleSet>,
    /// Keyword automaton (DFA, ASCII case-insensitive, overlapping hits) of the ASCII keywords.
    ac: Option<Keywords>,
    /// The keywords with other characters (`пароль`, `密码`), in an automaton of their own that
    /// only runs on strings that are not ASCII: their bytes would widen every row of the main
    /// table, which every byte of every string walks. Its pattern `i` is keyword
    /// `intl_base + i`.
    ac_intl: Option<Keywords>,
    intl_base: usize,
    /// For each keyword pattern: the rules it gates.
    kw_rules: Vec<Vec<u32>>,
    /// For each keyword pattern: the detector it triggers, if any.
    kw_code: Vec<Option<code::Group>>,
    /// The rules confirmed by code.
    code: Code,
    /// Per rule: how keyword hits are confirmed.
    plans: Vec<Plan>,
    /// Per rule: every match starts at an ASCII word boundary, so an anchored start without one
    /// is skipped before the regex runs (`hotel` hitting the keyword `tel`).
    word_start: Vec<bool>,
    /// Gated keywordless rules, highest priority first, in the order of `free_re`'s patterns.
    free_gated: Vec<u32>,
    free_re: Option<Regex>,
    /// The same patterns with `MatchKind::All`: which of them match in a span, in one pass.
    free_all: Option<Regex>,
    /// Gates of the gated keywordless rules (bit i = `free_gated[i]`): a rule may match only
    /// around a byte `a` followed by a byte `b` with `first[a] & second[b]` holding its bit.
    first: Box<[u64; 256]>,
    /// 1 where `first` is non-zero: a byte that can start some gate (a byte-sized table, so
    /// blocks of text are tested without a branch per byte).
    may_start: [u8; 256],
    second: Box<[u64; 256]>,
    /// Rules whose gate is a single byte (they also trigger on a string's last byte).
    single: u64,
    /// Rule of each gate bit.
    gate_rules: Vec<u32>,
    /// Longest match of any gated keywordless rule.
    free_radius: usize,
    /// Keywordless rules without a usable gate: scanned over whole strings.
    free_whole: Vec<u32>,
}

impl FastEngine {
    /// The engine with the built-in key words (see [`super::keyname`]).
    pub fn new(set: Arc<RuleSet>) -> Result<FastEngine, String> {
        Self::with_key_words(set, KeyWords::defaults())
    }

    pub fn with_key_words(set: Arc<RuleSet>, key_words: KeyWords) -> Result<FastEngine, String> {
        let code = Code::new(&set, key_words);
        let mut kws: Vec<String> = Vec::new();
        let mut kw_rules: Vec<Vec<u32>> = Vec::new();
        let mut free_gated = Vec::new();
        let mut free_whole = Vec::new();
        let mut free_radius = 0;
        let mut plans = Vec::with_capacity(set.rules.len());
        let mut word_start = Vec::with_capacity(set.rules.len());
        let mut first = Box::new([0u64; 256]);
        let mut second = Box::new([0u64; 256]);
        let mut single = 0u64;
        for (i, r) in set.rules.iter().enumerate() {
            let hir = analyze::parse(&ascii_boundaries(&r.source));
            word_start.push(hir.as_ref().is_some_and(analyze::starts_at_word_boundary));
            if r.detector.is_some() {
                // Triggered through `code`'s keywords below.
                plans.push(Plan::Code);
                continue;
            }
            if r.keywords.is_empty() {
                plans.push(Plan::Window);
                let radius = hir.as_ref().and_then(analyze::max_len);
                let gate = hir.as_ref().and_then(analyze::trigger);
                match (radius, gate) {
                    (Some(radius), Some(gate)) if free_gated.len() < 64 => {
                        let bit = 1u64 << free_gated.len();
                        for b in 0..=255u8 {
                            if gate.first.contains(b) {
                                first[usize::from(b)] |= bit;
                            }
                            if gate.second.contains(b) {
                                second[usize::from(b)] |= bit;
                            }
                        }
                        if (0..=255u8).all(|b| gate.second.contains(b)) {
                            single |= bit;
                        }
                        free_radius = free_radius.max(radius);
                        free_gated.push(i as u32);
                    }
                    _ => free_whole.push(i as u32),
                }
                continue;
            }
            let plan = match &hir {
                Some(h) if analyze::starts_with_keyword(h, &r.keywords) => Plan::AtHit,
                Some(h) => analyze::leading_run(h, &r.keywords).map_or(Plan::Window, Plan::AtRun),
                None => Plan::Window,
            };
            plans.push(plan);
            for k in &r.keywords {
                let k = k.to_ascii_lowercase();
                match kws.iter().position(|x| *x == k) {
                    Some(p) => kw_rules[p].push(i as u32),
                    None => {
                        kws.push(k);
                        kw_rules.push(vec![i as u32]);
                    }
                }
            }
        }
        let mut kw_code: Vec<Option<code::Group>> = vec![None; kws.len()];
        for (k, g) in code.keywords() {
            match kws.iter().position(|x| *x == k) {
                Some(p) => kw_code[p] = Some(g),
                None => {
                    kws.push(k);
                    kw_rules.push(Vec::new());
                    kw_code.push(Some(g));
                }
            }
        }
        let may_start: [u8; 256] = std::array::from_fn(|b| u8::from(first[b] != 0));
        let gate_rules = free_gated.clone();
        // Highest priority first, so the leftmost-first pass prefers them (the gate bits were
        // assigned above; they are only used together, so the order change does not matter).
        free_gated.sort_by_key(|&i| std::cmp::Reverse(set.rules[i as usize].priority));
        // One list of sources for both the leftmost-first pass and the all-matches pass.
        let free_srcs: Vec<&str> = free_gated
            .iter()
            .map(|&i| set.rules[i as usize].source.as_str())
            .collect();
        let (free_re, free_all) = if free_srcs.is_empty() {
            (None, None)
        } else {
            (
                Some(compile_many(&free_srcs)?),
                Some(compile_many_kind(
                    &free_srcs,
                    regex_automata::MatchKind::All,
                )?),
            )
        };
        // ASCII keywords first, then the others (the per-keyword tables follow the same order).
        let mut order: Vec<usize> = (0..kws.len()).collect();
        order.sort_by_key(|&i| !kws[i].is_ascii());
        let kws: Vec<String> = order.iter().map(|&i| kws[i].clone()).collect();
        let kw_rules: Vec<Vec<u32>> = order.iter().map(|&i| kw_rules[i].clone()).collect();
        let kw_code: Vec<Option<code::Group>> = order.iter().map(|&i| kw_code[i]).collect();
        let intl_base = kws.iter().position(|k| !k.is_ascii()).unwrap_or(kws.len());
        let ac = if intl_base == 0 {
            None
        } else {
            Some(Keywords::new(&kws[..intl_base])?)
        };
        let ac_intl = if intl_base == kws.len() {
            None
        } else {
            Some(Keywords::new(&kws[intl_base..])?)
        };
        Ok(FastEngine {
            set,
            ac,
            ac_intl,
            intl_base,
            kw_rules,
            kw_code,
            code,
            plans,
            word_start,
            free_gated,
            free_re,
            free_all,
            first,
            may_start,
            second,
            single,
            gate_rules,
            free_radius,
            free_whole,
        })
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    /// Bytes of the (ASCII) keyword automaton's transition table (0 without keywords).
    pub fn keyword_table_bytes(&self) -> usize {
        self.ac.as_ref().map_or(0, Keywords::table_bytes)
    }

    /// Whether every match of `rule` starts with one of its keywords (vendor prefixes, `eyJ`)
    /// or is a private-key block: such a match is still recognisable when a line break was
    /// inserted into it, while a match that needs context around it is not.
    pub fn prefix_anchored(&self, rule: u32) -> bool {
        let r = &self.set.rules[rule as usize];
        match self.plans.get(rule as usize) {
            Some(Plan::AtHit) => true,
            Some(Plan::Code) => matches!(
                r.detector,
                Some(
                    super::rules::Detector::Pem
                        | super::rules::Detector::PemTruncated
                        | super::rules::Detector::Putty
                )
            ),
            _ => false,
        }
    }

    /// The gate bit of a gated keywordless rule.
    fn gate_bit(&self, rule: u32) -> Option<u64> {
        let bit = self.gate_rules.iter().position(|&r| r == rule)?;
        Some(1u64 << bit)
    }

    /// How each rule is matched (rule id, strategy), for diagnostics and tests.
    pub fn strategies(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = Vec::new();
        for (i, r) in self.set.rules.iter().enumerate() {
            let i32_ = i as u32;
            let how = if let Some(bit) = self.gate_bit(i32_) {
                let show = |t: &[u64; 256]| -> String {
                    let n = (0..256).filter(|&b| t[b] & bit != 0).count();
                    if n == 256 {
                        return "any".into();
                    }
                    (0..=255u8)
                        .filter(|&b| t[usize::from(b)] & bit != 0)
                        .map(|b| {
                            if b.is_ascii_graphic() {
                                char::from(b)
                            } else {
                                '~'
                            }
                        })
                        .collect()
                };
                format!(
                    "keywordless, shared pass gated by byte pair [{}][{}]",
                    show(&self.first),
                    show(&self.second)
                )
            } else if self.free_whole.contains(&i32_) {
                "keywordless, whole-string scan".to_string()
            } else {
                match self.plans[i] {
                    Plan::AtHit => "anchored at keyword".to_string(),
                    Plan::Code => "built-in detector at keyword".to_string(),
                    Plan::AtRun(_) => "anchored at the identifier run before keyword".to_string(),
                    Plan::Window => format!("window [-{}, +{}]", r.before, r.after),
                }
            };
            v.push((r.id.to_string(), how));
        }
        v
    }

    fn push(&self, rule: u32, found: &[Range<usize>], out: &mut Vec<Match>) {
        out.extend(found.iter().map(|r| Match {
            start: r.start,
            end: r.end,
            rule,
        }));
    }

    /// Keyword stage: anchored confirmation at hits, windowed confirmation around them.
    fn find_keyword_rules(&self, text: &str, out: &mut Vec<Match>) {
        // (rule, start, end): anchored starts with their limit, or windows; grouped per rule.
        let mut todo: Vec<(u32, usize, usize)> = Vec::new();
        let mut code_hits = code::Hits::default();
        let b = text.as_bytes();
        // A request that repeats one of the last few of the same rule (a window overlapping
        // it, a run start already asked for) joins it: text made of one keyword repeated asks
        // for one long window or one anchored search, not one per hit.
        let push = |todo: &mut Vec<(u32, usize, usize)>, plan: Plan, t: (u32, usize, usize)| {
            let n = todo.len();
            for prev in todo[n.saturating_sub(4)..].iter_mut().rev() {
                if prev.0 != t.0 {
                    continue;
                }
                match plan {
                    // Overlapping windows: one window over both.
                    Plan::Window if t.1 <= prev.2 && t.1 >= prev.1 => {
                        prev.2 = prev.2.max(t.2);
                        return;
                    }
                    // The same run start: one anchored search, bounded by the first hit's
                    // limit (as the sorted list, which keeps the first, always did).
                    Plan::AtRun(_) if t.1 == prev.1 => return,
                    _ => {}
                }
                break;
            }
            todo.push(t);
        };
        let mut on_hit = |pattern: usize, start: usize, end: usize| {
            if super::budget::tick(4) {
                return;
            }
            if let Some(g) = self.kw_code[pattern] {
                code_hits.push(g, start, end);
            }
            for &ri in &self.kw_rules[pattern] {
                let r = &self.set.rules[ri as usize];
                let lim = end.saturating_add(r.after).min(b.len());
                match self.plans[ri as usize] {
                    Plan::AtHit => {
                        let bounded = if r.alnum_boundary {
                            !alnum_before(b, start)
                        } else {
                            !self.word_start[ri as usize] || word_boundary(b, start)
                        };
                        if bounded {
                            todo.push((ri, start, lim));
                        }
                    }
                    Plan::AtRun(class) => {
                        let mut s = start;
                        while s > 0 && class.contains(b[s - 1]) {
                            s -= 1;
                        }
                        push(&mut todo, Plan::AtRun(class), (ri, s, lim));
                    }
                    Plan::Window => push(
                        &mut todo,
                        Plan::Window,
                        (ri, start.saturating_sub(r.before), lim),
                    ),
                    Plan::Code => {}
                }
            }
        };
        if let Some(ac) = &self.ac {
            ac.for_each(b, &mut on_hit);
        }
        if let Some(intl) = &self.ac_intl {
            if !text.is_ascii() {
                intl.for_each(b, |p, s, e| on_hit(self.intl_base + p, s, e));
            }
        }
        if !code_hits.is_empty() {
            self.code.run(text, &mut code_hits, out);
        }
        if todo.is_empty() {
            return;
        }
        sort_by_rule(&mut todo, self.set.rules.len());
        let mut found: Vec<Range<usize>> = Vec::new();
        let mut i = 0;
        while i < todo.len() {
            // Past the CPU budget the string is replaced whole: the rest need not be confirmed.
            if super::budget::tick(16) {
                return;
            }
            let (ri, s, mut e) = todo[i];
            let r = &self.set.rules[ri as usize];
            let mut j = i + 1;
            found.clear();
            if self.plans[ri as usize] != Plan::Window {
                // Like a leftmost-first scan: a start inside this rule's previous match is
                // part of that match, not a new one.
                let mut last_end = 0;
                let mut k = i;
                while k < todo.len() && todo[k].0 == ri {
                    let st = todo[k].1;
                    if st >= last_end && (k == i || st != todo[k - 1].1) {
                        let lim = ceil_boundary(text, todo[k].2);
                        let before = found.len();
                        if let Some(me) = r.confirm_at(text, st, lim, &mut found) {
                            last_end = me.max(st + 1);
                        }
                        for f in &mut found[before..] {
                            extend_tail(text, f, lim, r.tail.as_ref());
                            last_end = last_end.max(f.end);
                        }
                    }
                    k += 1;
                }
                j = k;
            } else {
                while j < todo.len() && todo[j].0 == ri && todo[j].1 <= e {
                    e = e.max(todo[j].2);
                    j += 1;
                }
                let s = floor_boundary(text, s);
                let e = ceil_boundary(text, e);
                r.confirm(text, s..e, &mut found);
                for f in &mut found {
                    extend_tail(text, f, e, r.tail.as_ref());
                }
            }
            self.push(ri, &found, out);
            i = j;
        }
    }

    /// One leftmost-first multi-pattern pass over `text[s..e]` (look-around sees the whole text).
    fn free_window(
        &self,
        re: &Regex,
        text: &str,
        s: usize,
        e: usize,
        found: &mut Vec<Range<usize>>,
        out: &mut Vec<Match>,
    ) {
        let s = floor_boundary(text, s);
        let e = ceil_boundary(text, e);
        add_work(e - s);
        // The multi-pattern pass reports one rule per spot, so another keywordless rule may
        // match there too: where the candidate failed its rule's checks, and where it passed but
        // a longer match overlaps it (a 19-digit card whose first 16 digits pass Luhn;
        // overlapping matches merge, so the rest of the number goes too). Matches within
        // `free_radius` of each other form a cluster; one pass over each cluster says which
        // rules match in it at all, and only those are confirmed over it. A text dense with
        // values (a list of addresses) is one cluster: each rule runs over it once, rather than
        // once per value.
        let mut which = PatternSet::new(self.free_gated.len());
        let mut cluster: Option<(usize, usize)> = None;
        for m in re.find_iter(Input::new(text).span(s..e)) {
            let ri = self.free_gated[m.pattern().as_usize()];
            let rule = &self.set.rules[ri as usize];
            found.clear();
            // The multi-pattern match of this pattern is the rule's own leftmost-first match.
            rule.confirm_match(text, m.range(), found);
            self.push(ri, found, out);
            found.clear();
            let reach = ceil_boundary(
                text,
                m.start().saturating_add(self.free_radius).max(m.end()),
            );
            cluster = match cluster {
                Some((cs, ce)) if m.start() <= ce => Some((cs, ce.max(reach))),
                Some(c) => {
                    self.confirm_cluster(text, c, &mut which, found, out);
                    Some((m.start(), reach))
                }
                None => Some((m.start(), reach)),
            };
        }
        if let Some(c) = cluster {
            self.confirm_cluster(text, c, &mut which, found, out);
        }
    }

    /// Confirms, over a cluster of keywordless matches, every keywordless rule that matches in
    /// it (see [`FastEngine::free_window`]).
    fn confirm_cluster(
        &self,
        text: &str,
        (cs, ce): (usize, usize),
        which: &mut PatternSet,
        found: &mut Vec<Range<usize>>,
        out: &mut Vec<Match>,
    ) {
        add_work(ce - cs);
        let span = Input::new(text).span(cs..ce);
        which.clear();
        match &self.free_all {
            Some(all) => all.which_overlapping_matches(&span, which),
            None => (0..self.free_gated.len()).for_each(|p| {
                let _ = which.try_insert(PatternID::new_unchecked(p));
            }),
        }
        for p in which.iter() {
            let oi = self.free_gated[p.as_usize()];
            found.clear();
            self.set.rules[oi as usize].confirm(text, cs..ce, found);
            self.push(oi, found, out);
        }
        found.clear();
    }

    /// Whether some gated keywordless rule's gate holds at `b[p]` (and `b[p + 1]`).
    fn gate_hit(&self, b: &[u8], p: usize) -> bool {
        let m1 = self.first[usize::from(b[p])];
        m1 != 0
            && m1
                & match b.get(p + 1) {
                    Some(&c) => self.second[usize::from(c)],
                    None => self.single,
                }
                != 0
    }

    /// Whether some byte of `block` can start a gate: one table load per byte and no branch,
    /// so prose (where most blocks hold no digit or separator) is skipped quickly.
    fn may_start_in(&self, block: &[u8]) -> bool {
        block
            .iter()
            .fold(0, |a, &x| a | self.may_start[usize::from(x)])
            != 0
    }

    /// The first position of `b` where `hit` holds, searching only blocks of [`GATE_BLOCK`]
    /// bytes where a gate can start.
    fn first_gate(&self, b: &[u8], hit: impl Fn(usize) -> bool) -> Option<usize> {
        let mut p = 0;
        while p < b.len() {
            let e = (p + GATE_BLOCK).min(b.len());
            if self.may_start_in(&b[p..e]) {
                if let Some(q) = (p..e).find(|&q| hit(q)) {
                    return Some(q);
                }
            }
            p = e;
        }
        None
    }

    /// The last position in `lo..b.len()` where `hit` holds, blocks taken from the end.
    fn last_gate(&self, b: &[u8], lo: usize, hit: impl Fn(usize) -> bool) -> Option<usize> {
        let mut e = b.len();
        while e > lo {
            let p = e.saturating_sub(GATE_BLOCK).max(lo);
            if self.may_start_in(&b[p..e]) {
                if let Some(q) = (p..e).rev().find(|&q| hit(q)) {
                    return Some(q);
                }
            }
            e = p;
        }
        None
    }

    /// Keywordless stage. Every match of a gated rule contains its gate (an adjacent byte pair,
    /// or a byte) and is at most `free_radius` long, so a multi-pattern pass from the first to
    /// the last gate hit, widened by that radius, sees every match; text without gate hits is
    /// skipped. Rules without a gate scan the whole string.
    fn find_free_rules(&self, text: &str, out: &mut Vec<Match>) {
        let b = text.as_bytes();
        let mut found: Vec<Range<usize>> = Vec::new();
        if let Some(re) = &self.free_re {
            // One pass from the first to the last gate hit, widened by the radius (several
            // small passes cost more to start than they save on agent payloads, where numbers
            // are spread throughout).
            let hit = |p: usize| self.gate_hit(b, p);
            if let Some(lo) = self.first_gate(b, hit) {
                let hi = self.last_gate(b, lo, hit).unwrap_or(lo);
                let s = lo.saturating_sub(self.free_radius);
                let e = (hi + self.free_radius + 2).min(b.len());
                self.free_window(re, text, s, e, &mut found, out);
            }
        }
        for &ri in &self.free_whole {
            found.clear();
            self.set.rules[ri as usize].confirm(text, 0..text.len(), &mut found);
            self.push(ri, &found, out);
        }
    }
}

impl Engine for FastEngine {
    fn find(&self, text: &str, out: &mut Vec<Match>) {
        add_work(text.len());
        if self.ac.is_some() || self.ac_intl.is_some() {
            self.find_keyword_rules(text, out);
        }
        if self.free_re.is_some() || !self.free_whole.is_empty() {
            self.find_free_rules(text, out);
        }
    }
}

/// The baseline: each rule's regex over the whole text, one after another (what a collector
/// redaction processor does), with the same validators.
pub struct NaiveEngine {
    set: Arc<RuleSet>,
    code: Code,
}

impl NaiveEngine {
    pub fn new(set: Arc<RuleSet>) -> NaiveEngine {
        Self::with_key_words(set, KeyWords::defaults())
    }

    pub fn with_key_words(set: Arc<RuleSet>, key_words: KeyWords) -> NaiveEngine {
        let code = Code::new(&set, key_words);
        NaiveEngine { set, code }
    }
}

impl Engine for NaiveEngine {
    fn find(&self, text: &str, out: &mut Vec<Match>) {
        self.code.run_naive(text, out);
        let mut found = Vec::new();
        for (i, r) in self.set.rules.iter().enumerate() {
            if r.detector.is_some() {
                continue;
            }
            found.clear();
            r.confirm(text, 0..text.len(), &mut found);
            out.extend(found.iter().map(|x| Match {
                start: x.start,
                end: x.end,
                rule: i as u32,
            }));
        }
    }
}

#[cfg(test)]
#[path = "engine_tests.rs"]
mod tests;
