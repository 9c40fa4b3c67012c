//! What the scrubber did to one string, and what it almost did: for pattern authors and
//! auditors (`spanward scrub --explain`).
//!
//! Matches come from the production scan itself (every layer: escapes, normalisation, decoded
//! runs, joined lines, echoes), resolved as the rewrite resolves them, so what is shown is what
//! is masked. Near misses come from each pattern rule's regex run over the whole string, as
//! the naive engine runs it: candidates its boundary check, stopwords, allowlist or validators
//! rejected, and keyword hits no candidate of the rule covers. Nothing here runs on the
//! service's hot path.

use super::engine::resolve;
use super::rules::Action;
use super::scan::Known;
use super::Scrubber;
use serde::Serialize;
use std::ops::Range;

/// A masked range of the string.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Masked {
    pub start: usize,
    pub end: usize,
    pub rule: String,
    #[serde(rename = "type")]
    pub typ: String,
    pub action: &'static str,
    /// The validators the candidate passed (empty: the rule has none, or a detector or key
    /// rule found it).
    pub validators: Vec<String>,
}

/// A candidate or a keyword hit that was not masked, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NearMiss {
    pub start: usize,
    pub end: usize,
    pub rule: String,
    pub reason: String,
}

/// The explanation of one string.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Explained {
    pub masked: Vec<Masked>,
    pub near_misses: Vec<NearMiss>,
    /// Set when the string could not be scanned and is replaced whole (`too_deep`,
    /// `over_budget`, `oversize`).
    pub replaced_whole: Option<String>,
}

fn action_name(a: Action) -> &'static str {
    match a {
        Action::Mask => "mask",
        Action::Token => "token",
        Action::Partial => "partial",
        Action::Drop => "drop",
    }
}

/// Most near misses reported per string: a pattern author reads them, a flood helps nobody.
const MAX_NEAR_MISSES: usize = 200;

impl Scrubber {
    /// Explains what scrubbing `text` masks and what it nearly masked (see the module docs).
    pub fn explain(&self, text: &str) -> Explained {
        let mut out = Explained::default();
        if text.len() > self.max_value_bytes {
            out.replaced_whole = Some(self.t_oversize.to_string());
            return out;
        }
        let _budget = super::budget::arm(text.len(), self.max_scan_cpu_per_mib);
        let mut hits = Vec::new();
        if self
            .find_hits(text, 0, &Known::default(), &mut hits)
            .is_err()
        {
            out.replaced_whole = Some(if super::budget::over() {
                self.t_over_budget.to_string()
            } else {
                self.t_too_deep.to_string()
            });
            return out;
        }
        resolve(&self.set, &mut hits);
        for h in &hits {
            let rule = &self.set.rules[h.rule as usize];
            out.masked.push(Masked {
                start: h.start,
                end: h.end,
                rule: rule.id.to_string(),
                typ: rule.typ.to_string(),
                action: action_name(self.actions[h.rule as usize]),
                validators: rule.validators.iter().map(|v| format!("{v:?}")).collect(),
            });
        }
        let covered = |r: &Range<usize>| hits.iter().any(|h| h.start <= r.start && r.end <= h.end);
        for rule in &self.set.rules {
            let mut rule_ranges: Vec<Range<usize>> = Vec::new();
            for (m, verdict) in rule.candidates(text) {
                rule_ranges.push(m.clone());
                if let Err(why) = verdict {
                    if !covered(&m) {
                        out.near_misses.push(NearMiss {
                            start: m.start,
                            end: m.end,
                            rule: rule.id.to_string(),
                            reason: format!("candidate rejected: {}", rule.describe(why)),
                        });
                    }
                }
            }
            if rule.detector.is_some() {
                continue;
            }
            let lower = text.to_ascii_lowercase();
            for k in &rule.keywords {
                let k = k.to_ascii_lowercase();
                for (at, _) in lower.match_indices(k.as_str()) {
                    let r = at..at + k.len();
                    let inside = |m: &Range<usize>| m.start <= r.start && r.end <= m.end;
                    if !covered(&r) && !rule_ranges.iter().any(inside) {
                        out.near_misses.push(NearMiss {
                            start: r.start,
                            end: r.end,
                            rule: rule.id.to_string(),
                            reason: format!("keyword `{k}` with no match of the rule around it"),
                        });
                    }
                }
            }
        }
        out.near_misses
            .sort_by(|a, b| (a.start, a.end, &a.rule).cmp(&(b.start, b.end, &b.rule)));
        out.near_misses.dedup();
        out.near_misses.truncate(MAX_NEAR_MISSES);
        out
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
            HmacKey::from_bytes(vec![1; 32], None, KeySource::File),
        )
        .unwrap()
    }

    #[test]
    fn masks_are_what_the_scrub_masks_and_rejections_say_why() {
        let sc = scrubber();
        let text = "mail bob@example.com, card 4111 1111 1111 1111, not a card 4111 1111 1111 1112";
        let e = sc.explain(text);
        let masked: Vec<&str> = e.masked.iter().map(|m| &text[m.start..m.end]).collect();
        assert!(masked.contains(&"bob@example.com"), "{masked:?}");
        assert!(masked.contains(&"4111 1111 1111 1111"), "{masked:?}");
        let card = e
            .masked
            .iter()
            .find(|m| &text[m.start..m.end] == "4111 1111 1111 1111")
            .unwrap();
        assert!(card.validators.iter().any(|v| v == "Luhn"), "{card:?}");
        // The same ranges as the rewrite masks.
        let scrubbed = sc.scrub_str(text);
        for m in &masked {
            assert!(!scrubbed.contains(m), "{m} is masked");
        }
        let miss = e
            .near_misses
            .iter()
            .find(|n| text[n.start..n.end].contains("1112"))
            .expect("the failed Luhn check is a near miss");
        assert!(miss.reason.contains("Luhn"), "{miss:?}");
    }

    #[test]
    fn benign_text_has_nothing_masked() {
        let e = scrubber().explain("the build finished in 42 seconds");
        assert!(e.masked.is_empty() && e.replaced_whole.is_none(), "{e:?}");
    }
}
