//! Replacement: turns resolved matches into the rewritten text.

use super::engine::{resolve, Engine, Match};
use super::json::{decoded_text, decoded_view, json_tokens, TokKind};
use super::rules::Action;
use super::{ScrubReport, Scrubber};
use regex_automata::meta::Regex;
use std::sync::OnceLock;

/// Rewritten text plus whether a `drop` action fired (the caller removes the attribute).
pub struct Rewritten {
    pub text: String,
    pub drop: bool,
}

/// Our own replacement forms; matches inside them are ignored so scrubbing is idempotent.
fn own_tokens() -> &'static Option<Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\[REDACTED:[a-z0-9_]+(?::\*{4}[0-9A-Za-z]{0,4})?\]|<[a-z0-9_]+:[0-9a-f]{10}>")
            .ok()
    })
}

/// Passes over one string before it is replaced whole (see [`Scrubber::scrub_text`]).
pub(crate) const MAX_PASSES: usize = 16;

/// Shortest found value whose other occurrences in the same string are redacted too. Shorter
/// values (a 4-digit PIN-like tail) would recur by chance in unrelated text.
const ECHO_MIN_BYTES: usize = 8;

/// A value found once is a secret wherever else it appears in the same string, even where the
/// context that revealed it is missing (`Authorization: Bearer T … retrying with T`). Adds a
/// match, with the same rule, for every other occurrence of each found value. Occurrences may
/// overlap (one of a value partly covered by another's is still found whole, and a periodic
/// value is found at every offset), so each value's search resumes one byte after each hit.
/// A substring search per value: strings carry few found values, and building an automaton
/// for them cost more than the searches.
fn add_echoes(scan: &str, ms: &mut Vec<Match>) {
    let mut vals: Vec<(&str, u32)> = ms
        .iter()
        .filter(|m| m.end - m.start >= ECHO_MIN_BYTES)
        .map(|m| (&scan[m.start..m.end], m.rule))
        .collect();
    if vals.is_empty() {
        return;
    }
    vals.sort_unstable();
    vals.dedup_by(|a, b| a.0 == b.0);
    let hay = scan.as_bytes();
    // Occurrences of UTF-8 text inside UTF-8 text always start and end on char boundaries.
    for (v, rule) in vals {
        let finder = memchr::memmem::Finder::new(v.as_bytes());
        let mut from = 0;
        let mut hits = Vec::new();
        while let Some(k) = finder.find(&hay[from..]) {
            hits.push(from + k);
            from += k + 1;
        }
        // The value's own match is one of the hits: only a second one is an echo.
        if hits.len() > 1 {
            ms.extend(hits.into_iter().map(|start| Match {
                start,
                end: start + v.len(),
                rule,
            }));
        }
    }
}

fn protect(text: &str, ms: &mut Vec<Match>) {
    if ms.is_empty() || !(text.contains("[REDACTED:") || text.contains('>')) {
        return;
    }
    let Some(re) = own_tokens() else { return };
    let prot: Vec<(usize, usize)> = re.find_iter(text).map(|m| (m.start(), m.end())).collect();
    if prot.is_empty() {
        return;
    }
    ms.retain(|m| !prot.iter().any(|&(s, e)| m.start < e && s < m.end));
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
    /// `unstable`: fail closed, and each pass is a full scan, so the cost stays bounded.
    pub(crate) fn scrub_text(
        &self,
        text: &str,
        scratch: &mut Vec<Match>,
        rep: &mut ScrubReport,
    ) -> Option<Rewritten> {
        rep.bytes_scanned += text.len() as u64;
        if text.len() > self.max_value_bytes {
            rep.oversize_values += 1;
            rep.add(&self.t_oversize, 1);
            return Some(Rewritten {
                text: "[REDACTED:oversize]".to_string(),
                drop: false,
            });
        }
        if super::memo::is_clean(self.memo_id, text) {
            return None;
        }
        let Some(mut cur) = self.scrub_pass(text, scratch, rep) else {
            super::memo::note_clean(self.memo_id, text);
            return None;
        };
        for _ in 1..MAX_PASSES {
            match self.scrub_pass(&cur.text, scratch, rep) {
                Some(next) => {
                    cur = Rewritten {
                        text: next.text,
                        drop: cur.drop || next.drop,
                    }
                }
                None => return Some(cur),
            }
        }
        rep.add(&self.t_unstable, 1);
        // A JSON document stays valid JSON: the replacement becomes a JSON string.
        let json = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
        Some(Rewritten {
            text: if json {
                "\"[REDACTED:unstable]\"".to_string()
            } else {
                "[REDACTED:unstable]".to_string()
            },
            drop: cur.drop,
        })
    }

    fn scrub_pass(
        &self,
        text: &str,
        scratch: &mut Vec<Match>,
        rep: &mut ScrubReport,
    ) -> Option<Rewritten> {
        // Detection runs on the decoded text; the offset map back to raw escapes is only built
        // when something matched (most strings match nothing).
        let decoded = if memchr::memchr(b'\\', text.as_bytes()).is_some() {
            decoded_text(text, self.max_escape_depth)
        } else {
            None
        };
        let scan: &str = decoded.as_deref().unwrap_or(text);
        scratch.clear();
        self.engine.find(scan, scratch);
        protect(scan, scratch);
        if scratch.is_empty() {
            return None;
        }
        let view = match decoded {
            Some(d) => match decoded_view(text, self.max_escape_depth) {
                Some(v) if v.text == d => Some(v),
                // Both decoders share one implementation, so this cannot happen; if it did,
                // offsets would not map back: fail closed by masking the whole value.
                _ => {
                    let mut out = String::new();
                    self.replacement(scratch[0].rule as usize, "", &mut out);
                    rep.add(&self.set.rules[scratch[0].rule as usize].typ, 1);
                    return Some(Rewritten {
                        text: out,
                        drop: false,
                    });
                }
            },
            None => None,
        };
        let scan: &str = view.as_ref().map_or(text, |v| v.text.as_str());
        // Echoes come from every match the engine reported, before overlaps merge: a value
        // inside a longer match (`token=ghp_…`) recurs on its own elsewhere.
        let found = scratch.len();
        add_echoes(scan, scratch);
        if scratch.len() > found {
            // Echoes inside our own replacement forms stay untouched (idempotence); the rest
            // merge with the matches they repeat.
            protect(scan, scratch);
        }
        resolve(&self.set, scratch);
        // In a JSON document a replacement must stay inside a string literal (or replace a
        // whole number literal by a string), whatever a regex spanned.
        let toks = json_tokens(text);
        // (raw start, raw end, match index, quote): edits in raw coordinates, in order.
        let mut edits: Vec<(usize, usize, usize, bool)> = Vec::with_capacity(scratch.len());
        for (mi, m) in scratch.iter().enumerate() {
            let raw = match &view {
                Some(v) => v.raw_range(m.start..m.end),
                None => m.start..m.end,
            };
            match &toks {
                None => edits.push((raw.start, raw.end, mi, false)),
                Some(toks) => {
                    for &(ts, te, kind) in toks
                        .iter()
                        .filter(|&&(ts, te, _)| ts < raw.end && raw.start < te)
                    {
                        match kind {
                            TokKind::Str => {
                                edits.push((raw.start.max(ts), raw.end.min(te), mi, false))
                            }
                            TokKind::Num => edits.push((ts, te, mi, true)),
                        }
                    }
                }
            }
        }
        let mut out = String::with_capacity(text.len() + 16);
        let mut last = 0;
        let mut drop = false;
        let mut any = false;
        for &(s, e, mi, quote) in &edits {
            if s < last || e > text.len() || s >= e {
                continue;
            }
            out.push_str(&text[last..s]);
            if quote {
                out.push('"');
            }
            // The value is what the rule saw (decoded), so `token` agrees with `spanward token`.
            let m = scratch[mi];
            let rule = m.rule as usize;
            self.replacement(rule, &scan[m.start..m.end], &mut out);
            if quote {
                out.push('"');
            }
            drop |= self.actions[rule] == Action::Drop;
            last = e;
            any = true;
            rep.add(&self.set.rules[rule].typ, 1);
        }
        if !any {
            return None;
        }
        out.push_str(&text[last..]);
        Some(Rewritten { text: out, drop })
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
