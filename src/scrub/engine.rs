//! Detection engines behind one small trait, so the production engine, a naive
//! one-regex-per-rule baseline and peers run in the same benchmark.
//!
//! The production engine: an Aho-Corasick keyword prefilter over each string; the regex of a
//! rule runs only in windows around its keyword hits; rules without keywords (numbers: cards,
//! phones, IBANs, IPs…) share one multi-pattern regex pass; then validators; then overlap
//! resolution in [`resolve`].

use super::rules::{compile_many, RuleSet};
use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex_automata::meta::Regex;
use std::ops::Range;
use std::sync::Arc;

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

/// Resolves overlaps in place: overlapping matches merge into their union (so no partial
/// leftover survives), labelled with the winner (highest priority, then longest, then first
/// rule). The result is sorted and disjoint, whatever order the rules are listed in.
pub fn resolve(set: &RuleSet, ms: &mut Vec<Match>) {
    if ms.len() < 2 {
        return;
    }
    ms.sort_unstable_by(|a, b| {
        a.start
            .cmp(&b.start)
            .then(b.end.cmp(&a.end))
            .then(a.rule.cmp(&b.rule))
    });
    let key = |m: &Match| {
        let r = &set.rules[m.rule as usize];
        (r.priority, m.end - m.start, std::cmp::Reverse(m.rule))
    };
    let mut out: Vec<Match> = Vec::with_capacity(ms.len());
    let mut win: Option<Match> = None;
    for m in ms.drain(..) {
        match out.last_mut() {
            Some(last) if m.start < last.end => {
                let w = win.get_or_insert(*last);
                if key(&m) > key(w) {
                    *w = m;
                }
                last.end = last.end.max(m.end);
                last.rule = w.rule;
            }
            _ => {
                out.push(m);
                win = Some(m);
            }
        }
    }
    *ms = out;
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

/// The production engine.
pub struct FastEngine {
    set: Arc<RuleSet>,
    /// Keyword automaton (ASCII case-insensitive, overlapping hits).
    ac: Option<AhoCorasick>,
    /// For each keyword pattern: the rules it gates.
    kw_rules: Vec<Vec<u32>>,
    /// Keywordless rules, in the order of `free_re`'s patterns.
    free: Vec<u32>,
    free_re: Option<Regex>,
}

impl FastEngine {
    pub fn new(set: Arc<RuleSet>) -> Result<FastEngine, String> {
        let mut kws: Vec<String> = Vec::new();
        let mut kw_rules: Vec<Vec<u32>> = Vec::new();
        let mut free = Vec::new();
        for (i, r) in set.rules.iter().enumerate() {
            if r.keywords.is_empty() {
                free.push(i as u32);
                continue;
            }
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
        let ac = if kws.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .match_kind(MatchKind::Standard)
                    .build(&kws)
                    .map_err(|e| e.to_string())?,
            )
        };
        // Highest priority first, so the leftmost-first pass prefers them.
        free.sort_by_key(|&i| std::cmp::Reverse(set.rules[i as usize].priority));
        let free_re = if free.is_empty() {
            None
        } else {
            let srcs: Vec<&str> = free
                .iter()
                .map(|&i| set.rules[i as usize].source.as_str())
                .collect();
            Some(compile_many(&srcs)?)
        };
        Ok(FastEngine {
            set,
            ac,
            kw_rules,
            free,
            free_re,
        })
    }

    pub fn rules(&self) -> &Arc<RuleSet> {
        &self.set
    }

    fn push(&self, rule: u32, found: &[Range<usize>], out: &mut Vec<Match>) {
        out.extend(found.iter().map(|r| Match {
            start: r.start,
            end: r.end,
            rule,
        }));
    }
}

impl Engine for FastEngine {
    fn find(&self, text: &str, out: &mut Vec<Match>) {
        let mut found: Vec<Range<usize>> = Vec::new();
        if let Some(ac) = &self.ac {
            // (rule, window) pairs; merged per rule so a rule never rescans the same bytes.
            let mut windows: Vec<(u32, usize, usize)> = Vec::new();
            for hit in ac.find_overlapping_iter(text) {
                for &ri in &self.kw_rules[hit.pattern().as_usize()] {
                    let r = &self.set.rules[ri as usize];
                    let s = hit.start().saturating_sub(r.before);
                    let e = hit.end().saturating_add(r.after).min(text.len());
                    windows.push((ri, s, e));
                }
            }
            if !windows.is_empty() {
                windows.sort_unstable();
                let mut i = 0;
                while i < windows.len() {
                    let (ri, s, mut e) = windows[i];
                    let mut j = i + 1;
                    while j < windows.len() && windows[j].0 == ri && windows[j].1 <= e {
                        e = e.max(windows[j].2);
                        j += 1;
                    }
                    let s = floor_boundary(text, s);
                    let e = ceil_boundary(text, e);
                    found.clear();
                    self.set.rules[ri as usize].confirm(text, s..e, &mut found);
                    self.push(ri, &found, out);
                    i = j;
                }
            }
        }
        if let Some(re) = &self.free_re {
            for m in re.find_iter(text) {
                let ri = self.free[m.pattern().as_usize()];
                let rule = &self.set.rules[ri as usize];
                found.clear();
                rule.confirm(text, m.range(), &mut found);
                if found.is_empty() {
                    // The candidate failed its rule's checks: another keywordless rule may
                    // still match here (the multi-pattern pass reports one pattern per spot).
                    let e = ceil_boundary(text, m.end().saturating_add(32));
                    for &oi in &self.free {
                        if oi != ri {
                            self.set.rules[oi as usize].confirm(text, m.start()..e, &mut found);
                            self.push(oi, &found, out);
                            found.clear();
                        }
                    }
                } else {
                    self.push(ri, &found, out);
                }
            }
        }
    }
}

/// The baseline: each rule's regex over the whole text, one after another (what a collector
/// redaction processor does), with the same validators.
pub struct NaiveEngine {
    set: Arc<RuleSet>,
}

impl NaiveEngine {
    pub fn new(set: Arc<RuleSet>) -> NaiveEngine {
        NaiveEngine { set }
    }
}

impl Engine for NaiveEngine {
    fn find(&self, text: &str, out: &mut Vec<Match>) {
        let mut found = Vec::new();
        for (i, r) in self.set.rules.iter().enumerate() {
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
