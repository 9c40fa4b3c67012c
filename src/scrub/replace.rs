//! Replacement: turns what [`super::scan`] found into the rewritten text.

use super::engine::{resolve, Spanned};
use super::json::{json_tokens, TokKind};
use super::rules::Action;
use super::scan::{Hit, Known, ScanError};
use super::{ScrubReport, Scrubber};

/// Rewritten text plus whether a `drop` action fired (the caller removes the attribute).
pub struct Rewritten {
    pub text: String,
    pub drop: bool,
}

/// Passes over one string before it is replaced whole (see [`Scrubber::scrub_text`]).
pub(crate) const MAX_PASSES: usize = 16;

impl Spanned for Hit {
    fn start(&self) -> usize {
        self.start
    }
    fn end(&self) -> usize {
        self.end
    }
    fn rule(&self) -> u32 {
        self.rule
    }
    fn set_end(&mut self, end: usize) {
        self.end = end;
    }
    fn label_as(&mut self, winner: &Self) {
        self.rule = winner.rule;
        self.value.clone_from(&winner.value);
        self.whole_run = winner.whole_run;
    }
}

/// One edit of the rewrite, in the raw string's coordinates.
struct Edit {
    start: usize,
    end: usize,
    /// Index of the hit it replaces.
    hit: usize,
    /// A JSON number literal replaced by a string: the replacement is quoted.
    quote: bool,
}

impl Scrubber {
    /// The replacement for `value` found by rule `rule`.
    pub(crate) fn replacement(&self, rule: usize, value: &str, out: &mut String) {
        let r = &self.set.rules[rule];
        match self.actions[rule] {
            Action::Mask | Action::Drop => {
                out.push_str("[REDACTED:");
                out.push_str(&r.typ);
                out.push(']');
            }
            Action::Token => out.push_str(&self.key.pseudonym(&r.typ, value)),
            Action::Partial => {
                let tail: Vec<char> = value.chars().filter(char::is_ascii_alphanumeric).collect();
                // Keep at most 4, and never more than a quarter of the value.
                let keep = (tail.len() / 4).min(4);
                out.push_str("[REDACTED:");
                out.push_str(&r.typ);
                out.push_str(":****");
                out.extend(&tail[tail.len() - keep..]);
                out.push(']');
            }
        }
    }

    /// Scans and rewrites one string. `None`: nothing matched (the text stays byte-identical).
    /// A replacement can change the context of its neighbours (a phone glued to an email is
    /// only recognisable once the email is gone; in `+44 20 7946 1000+44 20 7946 1001…` each
    /// number is only a phone once the one before it is a token), so the result is rescanned
    /// until it is stable: scrubbing is idempotent and nothing hides behind a neighbour. A
    /// string still changing after [`MAX_PASSES`] passes (a chain of that many glued values:
    /// found by fuzzing, not seen in real payloads) is replaced whole and counted as
    /// `unstable`: fail closed, and each pass is a full scan, so the cost stays bounded. A
    /// string that cannot be scanned (JSON nested deeper than `max_escape_depth`) is replaced
    /// whole and counted as `too_deep`; one that runs over its CPU budget (see `budget`) as
    /// `over_budget`. `known`: secrets found elsewhere in the same request.
    pub(crate) fn scrub_text(&self, text: &str, rep: &mut ScrubReport) -> Option<Rewritten> {
        let known_arc = rep.known.clone();
        let empty = Known::default();
        let known = known_arc.as_deref().unwrap_or(&empty);
        rep.bytes_scanned += text.len() as u64;
        if text.len() > self.max_value_bytes {
            rep.oversize_values += 1;
            rep.add(&self.t_oversize, 1);
            return Some(Rewritten {
                text: "[REDACTED:oversize]".to_string(),
                drop: false,
            });
        }
        // A string the memo knows clean is what a scan would say, unless the request revealed
        // secrets it might echo.
        let seen = match known.values.is_empty() {
            true => match super::memo::seen(self.memo_id, text, self.memo_long_strings) {
                super::memo::Seen::Clean => return None,
                new => Some(new),
            },
            false => None,
        };
        // Every pass below shares one CPU budget (see `budget`); the outermost scrub arms it.
        let _budget = super::budget::arm(text.len(), self.max_scan_cpu_per_mib);
        let whole = |typ: &std::sync::Arc<str>, rep: &mut ScrubReport, drop: bool| {
            rep.add(typ, 1);
            // A JSON document stays valid JSON: the replacement becomes a JSON string.
            let json = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
            let mark = format!("[REDACTED:{typ}]");
            Some(Rewritten {
                text: if json { format!("\"{mark}\"") } else { mark },
                drop,
            })
        };
        let mut cur = match self.scrub_pass(text, known, rep) {
            _ if super::budget::over() => return whole(&self.t_over_budget, rep, false),
            Ok(Some(r)) => r,
            Ok(None) => {
                if let Some(seen) = seen {
                    super::memo::note_clean_seen(self.memo_id, text, seen, self.memo_long_strings);
                }
                return None;
            }
            Err(_) => return whole(&self.t_too_deep, rep, false),
        };
        for _ in 1..MAX_PASSES {
            match self.scrub_pass(&cur.text, known, rep) {
                _ if super::budget::over() => return whole(&self.t_over_budget, rep, cur.drop),
                Ok(Some(next)) => {
                    cur = Rewritten {
                        text: next.text,
                        drop: cur.drop || next.drop,
                    }
                }
                Ok(None) => return Some(cur),
                Err(_) => return whole(&self.t_too_deep, rep, cur.drop),
            }
        }
        whole(&self.t_unstable, rep, cur.drop)
    }

    fn scrub_pass(
        &self,
        text: &str,
        known: &Known,
        rep: &mut ScrubReport,
    ) -> Result<Option<Rewritten>, ScanError> {
        let mut hits: Vec<Hit> = Vec::new();
        self.find_hits(text, 0, known, &mut hits)?;
        if hits.is_empty() {
            return Ok(None);
        }
        // What this string revealed by its context (an assignment, a key, a keyword nearby) is
        // searched for in the rest of the request. A value that starts with its rule's keyword
        // (a vendor prefix: `ghp_…`, `AKIA…`) is recognised by its own shape wherever it recurs.
        for h in &hits {
            let v = super::scan::echo_form(&h.value);
            let rule = &self.set.rules[h.rule as usize];
            let secret = rule.category == super::Category::Secret;
            let own_shape = rule.keywords.iter().any(|k| {
                v.len() > k.len() && v.get(..k.len()).is_some_and(|p| p.eq_ignore_ascii_case(k))
            });
            if secret && !own_shape && super::scan::echo_worthy(v) && !h.whole_run {
                rep.reveal(v, h.rule);
            }
        }
        resolve(&self.set, &mut hits);
        // In a JSON document a replacement must stay inside a string literal (or replace a
        // whole number literal by a string), whatever a rule spanned.
        let toks = json_tokens(text);
        let mut edits: Vec<Edit> = Vec::with_capacity(hits.len());
        // Hits are sorted and disjoint, tokens sorted: the tokens before a hit are behind every
        // later hit too, so one cursor walks both lists once.
        let mut first_tok = 0;
        for (hi, h) in hits.iter().enumerate() {
            if super::budget::tick(64) {
                return Err(ScanError::OverBudget);
            }
            match &toks {
                None => edits.push(Edit {
                    start: h.start,
                    end: h.end,
                    hit: hi,
                    quote: false,
                }),
                Some(toks) => {
                    while toks.get(first_tok).is_some_and(|&(_, te, _)| te <= h.start) {
                        first_tok += 1;
                    }
                    for &(ts, te, kind) in toks[first_tok..]
                        .iter()
                        .take_while(|&&(ts, _, _)| ts < h.end)
                        .filter(|&&(_, te, _)| h.start < te)
                    {
                        edits.push(match kind {
                            TokKind::Str => Edit {
                                start: h.start.max(ts),
                                end: h.end.min(te),
                                hit: hi,
                                quote: false,
                            },
                            TokKind::Num => Edit {
                                start: ts,
                                end: te,
                                hit: hi,
                                quote: true,
                            },
                        });
                    }
                }
            }
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut last = 0;
        let mut drop = false;
        let mut any = false;
        for e in &edits {
            if e.start < last || e.end > text.len() || e.start >= e.end {
                continue;
            }
            if super::budget::tick(64) {
                return Err(ScanError::OverBudget);
            }
            out.push_str(&text[last..e.start]);
            if e.quote {
                out.push('"');
            }
            // The value is what the rule saw (decoded), so `token` agrees with `spanward token`.
            let h = &hits[e.hit];
            let rule = h.rule as usize;
            self.replacement(rule, &h.value, &mut out);
            if e.quote {
                out.push('"');
            }
            drop |= self.actions[rule] == Action::Drop;
            last = e.end;
            any = true;
            rep.add(&self.set.rules[rule].typ, 1);
        }
        if !any {
            return Ok(None);
        }
        out.push_str(&text[last..]);
        Ok(Some(Rewritten { text: out, drop }))
    }
}

#[cfg(test)]
mod tests {
    use super::super::RedactionConfig;
    use super::*;
    use crate::keys::{HmacKey, KeySource};

    fn scrubber() -> Scrubber {
        Scrubber::new(
            &RedactionConfig::default(),
            HmacKey::from_bytes(vec![3; 32], None, KeySource::File),
        )
        .unwrap()
    }

    /// `n` distinct E.164 numbers glued together: only the first has a boundary before it, each
    /// next one only once the previous one is a token, so every number costs one pass.
    fn glued(n: usize) -> String {
        (0..n)
            .map(|i| format!("+44 20 7946 {}", 1000 + i))
            .collect()
    }

    #[test]
    fn glued_chains_are_scrubbed_pass_by_pass_up_to_the_limit() {
        let sc = scrubber();
        let text = glued(MAX_PASSES - 1);
        let mut rep = ScrubReport::default();
        let out = sc.scrub_str_report(&text, &mut rep).into_owned();
        assert_eq!(rep.count("unstable"), 0, "{out}");
        assert!(rep.total() >= (MAX_PASSES - 1) as u64, "{out}");
        assert!(!out.contains("7946"), "{out}");
        let mut rep2 = ScrubReport::default();
        assert_eq!(sc.scrub_str_report(&out, &mut rep2), out);
        assert_eq!(rep2.total(), 0);
    }

    /// Found by the `scrub` fuzz target: a chain longer than the pass limit came out with its
    /// last numbers in clear (a second scrub found more). It is now replaced whole.
    #[test]
    fn a_chain_longer_than_the_pass_limit_is_replaced_whole() {
        let sc = scrubber();
        for text in [glued(MAX_PASSES + 4), format!("note {}", glued(40))] {
            let mut rep = ScrubReport::default();
            let out = sc.scrub_str_report(&text, &mut rep).into_owned();
            assert_eq!(out, "[REDACTED:unstable]");
            assert_eq!(rep.count("unstable"), 1);
            let mut rep2 = ScrubReport::default();
            assert_eq!(sc.scrub_str_report(&out, &mut rep2), out);
            assert_eq!(rep2.total(), 0);
        }
        // Inside a JSON document the replacement is a JSON string, so the JSON stays valid.
        let doc = serde_json::json!({ "note": glued(MAX_PASSES + 4) }).to_string();
        let out = sc.scrub_str(&doc).into_owned();
        assert_eq!(out, "\"[REDACTED:unstable]\"");
        assert!(serde_json::from_str::<serde_json::Value>(&out).is_ok());
    }
}
