//! Static analysis of pack regexes, so the engine confirms cheaply without changing what a
//! rule matches:
//! - [`starts_with_keyword`]: every match begins with one of the rule's keywords, so a keyword
//!   hit is confirmed by one anchored search at the hit instead of a windowed scan;
//! - [`trigger_bytes`]: a set of bytes such that every match contains one of them (e.g. a digit
//!   for card numbers, `+` for E.164 phones), so a keywordless rule only runs in windows around
//!   those bytes instead of over the whole string;
//! - [`max_len`]: the longest possible match, which bounds those windows.

use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, Hir, HirKind};

/// A set of bytes (256-bit bitmap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ByteSet(pub [u64; 4]);

impl ByteSet {
    fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1u64 << (b & 63);
    }

    fn add_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.add(b);
        }
    }

    fn union(&mut self, o: &ByteSet) {
        for i in 0..4 {
            self.0[i] |= o.0[i];
        }
    }

    pub fn contains(&self, b: u8) -> bool {
        self.0[usize::from(b >> 6)] & (1u64 << (b & 63)) != 0
    }

    /// Rough cost of scanning for this set in agent payloads (prose, JSON, logs): how often its
    /// bytes occur. Lower is better.
    fn cost(&self) -> u32 {
        (0..=255u8)
            .filter(|&b| self.contains(b))
            .map(byte_weight)
            .sum()
    }
}

/// Relative frequency of a byte in typical payload text (a heuristic, only used to pick the
/// cheapest of several correct trigger sets).
fn byte_weight(b: u8) -> u32 {
    match b {
        b' ' => 40,
        b'e' | b't' | b'a' | b'o' | b'i' | b'n' | b's' | b'r' => 20,
        b'a'..=b'z' => 8,
        b'"' | b',' | b':' => 6,
        b'0'..=b'9' => 4,
        b'A'..=b'Z' => 3,
        b'.' | b'-' | b'_' | b'/' | b'\n' | b'{' | b'}' => 3,
        0x80..=0xFF => 2,
        _ => 1,
    }
}

/// Parses a pack regex the way the engine compiles it (after `\b` → ASCII rewriting).
pub fn parse(src: &str) -> Option<Hir> {
    regex_syntax::ParserBuilder::new()
        .utf8(false)
        .build()
        .parse(src)
        .ok()
}

/// Bytes of which every match contains at least one; `None` when no useful set exists.
pub fn trigger_bytes(h: &Hir) -> Option<ByteSet> {
    let set = required(h)?;
    // A set that covers most text is no gate at all.
    (set.cost() < 200).then_some(set)
}

fn required(h: &Hir) -> Option<ByteSet> {
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => None,
        HirKind::Literal(lit) => lit
            .0
            .iter()
            .map(|&b| {
                let mut s = ByteSet::default();
                s.add(b);
                s
            })
            .min_by_key(ByteSet::cost),
        HirKind::Class(Class::Bytes(c)) => class_bytes(&Class::Bytes(c.clone())),
        HirKind::Class(Class::Unicode(c)) => {
            let mut s = ByteSet::default();
            for r in c.iter() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                if lo < 0x80 {
                    s.add_range(lo as u8, hi.min(0x7F) as u8);
                }
                if hi >= 0x80 {
                    // Any non-ASCII char contains a UTF-8 lead byte.
                    s.add_range(0xC2, 0xF4);
                }
            }
            Some(s)
        }
        HirKind::Repetition(r) => {
            if r.min == 0 {
                None
            } else {
                required(&r.sub)
            }
        }
        HirKind::Capture(c) => required(&c.sub),
        HirKind::Concat(xs) => xs.iter().filter_map(required).min_by_key(ByteSet::cost),
        HirKind::Alternation(xs) => {
            let mut s = ByteSet::default();
            for x in xs {
                s.union(&required(x)?);
            }
            Some(s)
        }
    }
}

/// A gate for a keywordless rule: every match holds two adjacent bytes `a b` with `a` in
/// `first` and `b` in `second` (`second` is all bytes when only a single required byte is known).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Trigger {
    pub first: ByteSet,
    pub second: ByteSet,
}

const ALL: ByteSet = ByteSet([u64::MAX; 4]);

fn pair_cost(a: &ByteSet, b: &ByteSet) -> u64 {
    let (ca, cb) = (u64::from(a.cost()), u64::from(b.cost()));
    // In prose a word is often followed by punctuation (`end.`), rarely preceded by it.
    let punct_after_word = ca > 100
        && [b'.', b',', b':', b';', b'!', b'?', b')']
            .iter()
            .any(|&c| b.contains(c));
    ca * cb * if punct_after_word { 4 } else { 1 }
}

/// The cheapest gate for a keywordless rule: a required adjacent byte pair, or else a single
/// required byte. `None` when no gate is selective enough.
pub fn trigger(h: &Hir) -> Option<Trigger> {
    let single = required(h).map(|s| Trigger {
        first: s,
        second: ALL,
    });
    let pair = required_pair(h).map(|(a, b)| Trigger {
        first: a,
        second: b,
    });
    let best = [single, pair]
        .into_iter()
        .flatten()
        .min_by_key(|t| pair_cost(&t.first, &t.second))?;
    // A gate that passes most text is no gate at all.
    (pair_cost(&best.first, &best.second) < 200 * u64::from(ALL.cost())).then_some(best)
}

fn never_empty(h: &Hir) -> bool {
    h.properties().minimum_len().is_some_and(|n| n > 0)
}

/// Bytes that can start (`first = true`) or end every match of `h`; `None` if unknown.
fn edge(h: &Hir, first: bool) -> Option<ByteSet> {
    if !never_empty(h) {
        return None;
    }
    match h.kind() {
        HirKind::Literal(lit) => {
            let b = if first { lit.0.first() } else { lit.0.last() }?;
            let mut s = ByteSet::default();
            s.add(*b);
            Some(s)
        }
        HirKind::Class(c) => class_bytes(c),
        HirKind::Repetition(r) => edge(&r.sub, first),
        HirKind::Capture(c) => edge(&c.sub, first),
        HirKind::Concat(xs) => {
            let mut it: Box<dyn Iterator<Item = &Hir>> = if first {
                Box::new(xs.iter())
            } else {
                Box::new(xs.iter().rev())
            };
            let x = it.find(|x| !matches!(x.kind(), HirKind::Look(_)))?;
            edge(x, first)
        }
        HirKind::Alternation(xs) => {
            let mut s = ByteSet::default();
            for x in xs {
                s.union(&edge(x, first)?);
            }
            Some(s)
        }
        HirKind::Empty | HirKind::Look(_) => None,
    }
}

/// A pair of adjacent byte sets that every match of `h` contains (the cheapest found).
fn required_pair(h: &Hir) -> Option<(ByteSet, ByteSet)> {
    let best = |v: Vec<(ByteSet, ByteSet)>| v.into_iter().min_by_key(|(a, b)| pair_cost(a, b));
    match h.kind() {
        HirKind::Literal(lit) => best(
            lit.0
                .windows(2)
                .map(|w| {
                    let (mut a, mut b) = (ByteSet::default(), ByteSet::default());
                    a.add(w[0]);
                    b.add(w[1]);
                    (a, b)
                })
                .collect(),
        ),
        HirKind::Capture(c) => required_pair(&c.sub),
        HirKind::Repetition(r) if r.min >= 1 => {
            let mut v: Vec<(ByteSet, ByteSet)> = required_pair(&r.sub).into_iter().collect();
            if r.min >= 2 {
                if let (Some(e), Some(s)) = (edge(&r.sub, false), edge(&r.sub, true)) {
                    v.push((e, s));
                }
            }
            best(v)
        }
        HirKind::Concat(xs) => {
            let items: Vec<&Hir> = xs
                .iter()
                .filter(|x| !matches!(x.kind(), HirKind::Look(_)))
                .collect();
            let mut v: Vec<(ByteSet, ByteSet)> =
                items.iter().filter_map(|x| required_pair(x)).collect();
            for w in items.windows(2) {
                if let (Some(e), Some(s)) = (edge(w[0], false), edge(w[1], true)) {
                    v.push((e, s));
                }
            }
            best(v)
        }
        HirKind::Alternation(xs) => {
            let (mut a, mut b) = (ByteSet::default(), ByteSet::default());
            for x in xs {
                let (xa, xb) = required_pair(x)?;
                a.union(&xa);
                b.union(&xb);
            }
            Some((a, b))
        }
        _ => None,
    }
}

/// The longest match in bytes, when bounded.
pub fn max_len(h: &Hir) -> Option<usize> {
    h.properties().maximum_len()
}

/// True when every match of `h` that the keyword automaton can see starts at a keyword hit:
/// each prefix literal starts with a keyword, or is a cut-off prefix of one, or holds a
/// non-ASCII byte within a keyword's length (Unicode case-folding variants such as the Kelvin
/// sign, which an ASCII case-insensitive keyword never hits anyway).
pub fn starts_with_keyword(h: &Hir, keywords: &[String]) -> bool {
    if keywords.is_empty() {
        return false;
    }
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix).limit_total(4096);
    let seq = ex.extract(h);
    let Some(lits) = seq.literals() else {
        return false;
    };
    !lits.is_empty()
        && lits.iter().all(|l| {
            let b = l.as_bytes();
            keywords.iter().any(|k| {
                let k = k.as_bytes();
                let n = b.len().min(k.len());
                let head = &b[..n];
                (b.len() >= k.len() && head.eq_ignore_ascii_case(k))
                    || (!l.is_exact() && !b.is_empty() && k[..n].eq_ignore_ascii_case(head))
                    || head.iter().any(|c| !c.is_ascii())
            })
        })
}

/// For a regex `C*R` (a greedy unbounded run of byte class `C`, then `R` whose every match
/// starts with a keyword): the class `C`. A leftmost match containing a keyword hit then starts
/// where the run of `C` bytes before the hit starts.
pub fn leading_run(h: &Hir, keywords: &[String]) -> Option<ByteSet> {
    let HirKind::Concat(xs) = h.kind() else {
        return None;
    };
    let HirKind::Repetition(rep) = xs.first()?.kind() else {
        return None;
    };
    if rep.min != 0 || rep.max.is_some() || !rep.greedy {
        return None;
    }
    // Only the ASCII part of the class is backed over: a Unicode case-fold variant (the Kelvin
    // sign in `(?i)[a-z]`) in an identifier is vanishingly rare and would only shift the start.
    let class = match rep.sub.kind() {
        HirKind::Class(Class::Unicode(c)) => {
            let mut s = ByteSet::default();
            for r in c.iter().filter(|r| u32::from(r.start()) < 0x80) {
                s.add_range(r.start() as u8, (u32::from(r.end()).min(0x7F)) as u8);
            }
            s
        }
        HirKind::Class(c) => class_bytes(c)?,
        _ => return None,
    };
    let rest = Hir::concat(xs[1..].to_vec());
    let mut ex = Extractor::new();
    ex.kind(ExtractKind::Prefix).limit_total(16384);
    let seq = ex.extract(&rest);
    let lits = seq.literals()?;
    // Each way a match can begin: class-`C` bytes, then a keyword (or a literal cut off while
    // still inside the run, where the keyword follows after more run bytes).
    let ok = !lits.is_empty()
        && lits.iter().all(|l| {
            let b = l.as_bytes();
            (0..=b.len()).any(|split| {
                let (p, q) = b.split_at(split);
                p.iter().all(|&c| class.contains(c))
                    && (q.is_empty() && !l.is_exact()
                        || q.iter().any(|c| !c.is_ascii())
                        || keywords.iter().any(|k| {
                            let k = k.as_bytes();
                            let n = q.len().min(k.len());
                            n > 0
                                && k[..n].eq_ignore_ascii_case(&q[..n])
                                && (q.len() >= k.len() || !l.is_exact())
                        }))
            })
        });
    ok.then_some(class)
}

fn class_bytes(c: &Class) -> Option<ByteSet> {
    let mut s = ByteSet::default();
    match c {
        Class::Bytes(c) => {
            for r in c.iter() {
                s.add_range(r.start(), r.end());
            }
        }
        Class::Unicode(c) => {
            for r in c.iter() {
                if u32::from(r.end()) >= 0x80 {
                    return None;
                }
                s.add_range(r.start() as u8, r.end() as u8);
            }
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        let h = parse(r"(?-u:\b)ghp_[A-Za-z0-9]{30,40}(?-u:\b)").unwrap();
        assert!(starts_with_keyword(&h, &["ghp_".into()]));
        assert!(!starts_with_keyword(&h, &["gho_".into()]));
        let h = parse(r"(?i)[a-z]*secret=").unwrap();
        assert!(!starts_with_keyword(&h, &["secret".into()]));
        let h = parse(r"(?i)bearer\s+x").unwrap();
        assert!(starts_with_keyword(&h, &["bearer".into()]));
        let h = parse(r"(?i)[a-z0-9_]*(?:secret|token)\s*=").unwrap();
        let c = leading_run(&h, &["secret".into(), "token".into()]).unwrap();
        assert!(c.contains(b'_') && c.contains(b'Q') && !c.contains(b'='));
        let h = parse(r"A{22}[a-z]+").unwrap();
        assert!(starts_with_keyword(&h, &["AAAAAAAAAAAAAAAAAAAAA".into()]));
    }

    #[test]
    fn triggers() {
        let h = parse(r"(?:^|[^0-9A-Za-z+])(\+[1-9][0-9]{0,3})").unwrap();
        let t = trigger_bytes(&h).unwrap();
        assert!(t.contains(b'+'));
        assert!(!t.contains(b'1'));
        let h = parse(r"[0-9]{4}(?: [0-9]{4}){2}").unwrap();
        let t = trigger_bytes(&h).unwrap();
        assert!(t.contains(b'7') && !t.contains(b' '));
        assert!(trigger_bytes(&parse(r"[a-z ]+").unwrap()).is_none());
        // Pairs: a digit then a dot for IPv4-like patterns; `+` then a digit for E.164.
        let t = trigger(&parse(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}").unwrap()).unwrap();
        assert!(t.first.contains(b'7') && t.second.contains(b'.') && !t.second.contains(b'7'));
        let t = trigger(&parse(r"(?:^|[^0-9])(\+[1-9][0-9]{3,})").unwrap()).unwrap();
        assert!(t.first.contains(b'+') && !t.first.contains(b'5') && t.second.contains(b'5'));
        let t = trigger(
            &parse(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}|[0-9a-f]{2}(?:-[0-9a-f]{2}){5}").unwrap(),
        )
        .unwrap();
        let seps = |b: &ByteSet| b.contains(b':') && b.contains(b'-') && !b.contains(b'x');
        assert!(seps(&t.first) || seps(&t.second));
        assert!(trigger_bytes(&parse(r"x?").unwrap()).is_none());
        assert_eq!(max_len(&parse(r"ab{1,3}").unwrap()), Some(4));
        assert_eq!(max_len(&parse(r"ab+").unwrap()), None);
    }
}
