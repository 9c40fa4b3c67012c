//! Static analysis of pack regexes, so the engine confirms cheaply without changing what a
//! rule matches:
//! - [`starts_with_keyword`]: every match begins with one of the rule's keywords, so a keyword
//!   hit is confirmed by one anchored search at the hit instead of a windowed scan;
//! - [`trigger_bytes`]: a set of bytes such that every match contains one of them (e.g. a digit
//!   for card numbers, `+` for E.164 phones), so a keywordless rule only runs in windows around
//!   those bytes instead of over the whole string;
//! - [`max_len`]: the longest possible match, which bounds those windows;
//! - [`group_split`]: where a rule's secret group sits inside a match is readable off the match
//!   itself (`(?:^|[^0-9])(G)\b`: one boundary character, then the group), so the slow
//!   capture engines are not needed to find it.

use regex_automata::dfa::{dense, Automaton};
use regex_syntax::hir::literal::{ExtractKind, Extractor};
use regex_syntax::hir::{Class, ClassUnicode, Hir, HirKind, Look};

/// A set of bytes (256-bit bitmap).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct ByteSet(pub [u64; 4]);

impl ByteSet {
    pub(crate) fn add(&mut self, b: u8) {
        self.0[usize::from(b >> 6)] |= 1u64 << (b & 63);
    }

    pub(crate) fn add_range(&mut self, lo: u8, hi: u8) {
        for b in lo..=hi {
            self.add(b);
        }
    }

    pub(crate) fn union(&mut self, o: &ByteSet) {
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
    // The first byte of a gate is what whole blocks of text are skipped on: a space there
    // (`[ \t][0-9]` of digits written one space apart) stops prose from being skipped at all,
    // while the same pair read the other way (`[0-9][ \t]`) skips every block without a digit.
    let blank_first = a.contains(b' ') || a.contains(b'\n');
    ca * cb * if punct_after_word { 4 } else { 1 } * if blank_first { 8 } else { 1 }
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

/// True when every match of `h` starts at an ASCII word boundary (`h` opens with `(?-u:\b)`,
/// which is what the packs' `\b` becomes), so a start where the bytes on both sides are alike
/// (both word bytes, or neither) cannot begin a match.
pub fn starts_at_word_boundary(h: &Hir) -> bool {
    let first = match h.kind() {
        HirKind::Concat(xs) => xs.first(),
        _ => Some(h),
    };
    matches!(first.map(Hir::kind), Some(HirKind::Look(Look::WordAscii)))
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
    // ASCII classes only: a gate or an edge must name the exact bytes.
    if let Class::Unicode(u) = c {
        if u.iter().any(|r| u32::from(r.end()) >= 0x80) {
            return None;
        }
    }
    Some(class_set(c))
}

/// The bytes a character of `c` can be made of: its ASCII members, and for any non-ASCII
/// member every UTF-8 lead and continuation byte (an over-approximation, for run tails).
pub(crate) fn class_set(c: &Class) -> ByteSet {
    let mut s = ByteSet::default();
    match c {
        Class::Bytes(c) => {
            for r in c.iter() {
                s.add_range(r.start(), r.end());
            }
        }
        Class::Unicode(c) => {
            for r in c.iter() {
                let (lo, hi) = (u32::from(r.start()), u32::from(r.end()));
                if lo < 0x80 {
                    s.add_range(lo as u8, hi.min(0x7F) as u8);
                }
                if hi >= 0x80 {
                    s.add_range(0x80, 0xF4);
                }
            }
        }
    }
    s
}

/// What stands between a match edge and the secret group, for a regex of the shape
/// `L (G) T`: `L`/`T` zero-width assertions, or one character of a class optionally
/// alternated with the text start (`(?:^|[^0-9])`) or end (`(?:[^0-9]|$)`).
#[derive(Clone, Debug)]
pub enum Edge {
    /// Only zero-width assertions: the group reaches the match edge.
    Flush,
    /// One character of this class (or, at the very text edge only, possibly nothing).
    Char(ClassUnicode),
}

/// How to read capture group `group` off a match of a `L (G) T` regex (see [`Edge`]).
#[derive(Clone, Debug)]
pub struct GroupSplit {
    pub group: usize,
    pub lead: Edge,
    pub trail: Edge,
}

impl GroupSplit {
    /// The group's range inside the match `m` of `text`, or `None` where the shape leaves it
    /// ambiguous (a class edge at the text edge, where `^`/`$` may have matched instead) so the
    /// caller runs the capture engine.
    pub fn apply(&self, text: &str, m: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
        let s = match &self.lead {
            Edge::Flush => m.start,
            Edge::Char(c) => {
                // `^` only matches at 0 (the engine never enables multi-line mode): elsewhere
                // the match starts with exactly one character of the class.
                if m.start == 0 {
                    return None;
                }
                let ch = text.get(m.clone())?.chars().next()?;
                if !class_has(c, ch) {
                    return None;
                }
                m.start + ch.len_utf8()
            }
        };
        let e = match &self.trail {
            Edge::Flush => m.end,
            Edge::Char(c) => {
                if m.end == text.len() {
                    return None;
                }
                let ch = text.get(m.clone())?.chars().next_back()?;
                if !class_has(c, ch) {
                    return None;
                }
                m.end - ch.len_utf8()
            }
        };
        (s <= e).then_some(s..e)
    }
}

fn class_has(c: &ClassUnicode, ch: char) -> bool {
    let rs = c.ranges();
    let i = rs.partition_point(|r| r.end() < ch);
    rs.get(i).is_some_and(|r| r.start() <= ch)
}

/// A class character, optionally alternated with `edge` (text start or end); `None` for any
/// other shape. A multi-line `^`/`$` (`StartLF`…) is not accepted: it also matches inside text.
fn edge_class(h: &Hir, edge: Look) -> Option<ClassUnicode> {
    match h.kind() {
        HirKind::Class(Class::Unicode(c)) => Some(c.clone()),
        HirKind::Alternation(xs) if xs.len() == 2 => {
            let mut class = None;
            let mut look = false;
            for x in xs {
                match x.kind() {
                    HirKind::Class(Class::Unicode(c)) if class.is_none() => class = Some(c.clone()),
                    HirKind::Look(l) if *l == edge && !look => look = true,
                    _ => return None,
                }
            }
            class
        }
        _ => None,
    }
}

/// For a regex `L (G) T` whose secret group is that top-level capture group (see [`Edge`]):
/// how to find the group in a match without a capture engine. Leading and trailing
/// zero-width assertions around `L`, `T` are allowed; anything else gives `None`.
pub fn group_split(h: &Hir, secret_group: &[usize]) -> Option<GroupSplit> {
    let [g] = secret_group else {
        return None;
    };
    let HirKind::Concat(xs) = h.kind() else {
        return None;
    };
    let is_look = |x: &&Hir| matches!(x.kind(), HirKind::Look(_));
    let gi = xs
        .iter()
        .position(|x| matches!(x.kind(), HirKind::Capture(c) if c.index as usize == *g))?;
    // Assertions are zero-width wherever they sit; what matters is that each side consumes
    // nothing or exactly one class character.
    let side = |part: &[Hir], edge: Look| -> Option<Edge> {
        let mut rest = part.iter().filter(|x| !is_look(x));
        match (rest.next(), rest.next()) {
            (None, _) => Some(Edge::Flush),
            (Some(x), None) => edge_class(x, edge).map(Edge::Char),
            _ => None,
        }
    };
    let lead = side(&xs[..gi], Look::Start)?;
    let trail = side(&xs[gi + 1..], Look::End)?;
    Some(GroupSplit {
        group: *g,
        lead,
        trail,
    })
}

/// For a regex `P (G) T` whose `T` is zero-width: one DFA for where `P` can end (walked
/// forward from the match start) and one for where `(G) T` can start (walked backward from the
/// match end). A position that is both is a way to split the match; where there is exactly one,
/// it is the one the capture engine picks, so the group is read off two DFA walks (a few ns a
/// byte) instead of a backtracking search. More than one: the caller runs the capture engine.
///
/// The tail may also be an alternation of groups between fixed literals,
/// `(?:"(G1)"|'(G2)'|(G3))`: after the split, the first branch whose own DFA matches the rest
/// exactly is the one taken (an earlier branch matching there would be a complete path of
/// higher priority), and its group sits between its literals.
#[derive(Clone, Debug)]
pub struct DfaSplit {
    fwd: dense::DFA<Vec<u32>>,
    rev: dense::DFA<Vec<u32>>,
    /// One entry for a lone group; one per alternative otherwise, in priority order.
    branches: Vec<Branch>,
}

#[derive(Clone, Debug)]
struct Branch {
    /// Whether this alternative matches all of the rest (with the trailing assertions);
    /// `None` for a lone group, which always does.
    dfa: Option<dense::DFA<Vec<u32>>>,
    /// Bytes of the literals before and after the group.
    open: usize,
    close: usize,
}

/// Whether `dfa` (anchored, all matches) matches exactly `text[s..e]`.
fn matches_exactly(dfa: &dense::DFA<Vec<u32>>, text: &str, s: usize, e: usize) -> bool {
    use regex_automata::{Anchored, Input};
    let b = text.as_bytes();
    let Ok(mut sid) = dfa.start_state_forward(&Input::new(text).span(s..e).anchored(Anchored::Yes))
    else {
        return false;
    };
    for &c in &b[s..e] {
        sid = dfa.next_state(sid, c);
        if dfa.is_dead_state(sid) || dfa.is_quit_state(sid) {
            return false;
        }
    }
    // The match ending at `e` shows after feeding the byte at `e` (or the end of input).
    sid = match b.get(e) {
        Some(&c) => dfa.next_state(sid, c),
        None => dfa.next_eoi_state(sid),
    };
    dfa.is_match_state(sid)
}

/// Longest match the DFA split handles (a bitmap of split points on the stack); longer ones
/// go to the capture engine.
const DFA_SPLIT_MAX: usize = 511;

impl DfaSplit {
    /// The group's range in match `m`, or `None` (ambiguous, too long, or no split found,
    /// which cannot happen for a real match) so the caller runs the capture engine.
    pub fn apply(&self, text: &str, m: std::ops::Range<usize>) -> Option<std::ops::Range<usize>> {
        use regex_automata::{Anchored, Input};
        let b = text.as_bytes();
        let (a, e) = (m.start, m.end);
        if e < a || e - a > DFA_SPLIT_MAX || e > b.len() {
            return None;
        }
        let input = Input::new(text).span(a..e).anchored(Anchored::Yes);
        // Where `(G) T` can start. Matches show one byte late: after feeding the byte at `j`
        // (walking backward), a match state means a match starting at `j + 1`.
        let mut starts = [0u64; (DFA_SPLIT_MAX + 64) / 64];
        let mut mark = |i: usize| starts[(i - a) / 64] |= 1 << ((i - a) % 64);
        let rev = &self.rev;
        let mut sid = rev.start_state_reverse(&input).ok()?;
        let mut alive = true;
        for j in (a..e).rev() {
            sid = rev.next_state(sid, b[j]);
            if rev.is_match_state(sid) {
                mark(j + 1);
            }
            if rev.is_dead_state(sid) || rev.is_quit_state(sid) {
                alive = false;
                break;
            }
        }
        if alive {
            sid = match a.checked_sub(1) {
                Some(j) => rev.next_state(sid, b[j]),
                None => rev.next_eoi_state(sid),
            };
            if rev.is_match_state(sid) {
                mark(a);
            }
        }
        let marked = |i: usize| starts[(i - a) / 64] & (1 << ((i - a) % 64)) != 0;
        // Where `P` can end, the same way forward; keep the one position that is both.
        let fwd = &self.fwd;
        let mut sid = fwd.start_state_forward(&input).ok()?;
        let mut split = None;
        for i in a..=e {
            sid = match b.get(i) {
                Some(&c) => fwd.next_state(sid, c),
                None => fwd.next_eoi_state(sid),
            };
            if fwd.is_match_state(sid) && marked(i) {
                if split.is_some() {
                    return None;
                }
                split = Some(i);
            }
            if fwd.is_dead_state(sid) || fwd.is_quit_state(sid) {
                break;
            }
        }
        let s = split?;
        for br in &self.branches {
            if br
                .dfa
                .as_ref()
                .is_none_or(|d| matches_exactly(d, text, s, e))
            {
                let (gs, ge) = (s.checked_add(br.open)?, e.checked_sub(br.close)?);
                return (gs <= ge).then_some(gs..ge);
            }
        }
        None
    }
}

/// Builds the [`DfaSplit`] of a `P (G) T` regex whose secret group is the top-level capture
/// group `G` and whose `T` holds only assertions; `None` for any other shape, or when a DFA
/// would be large (size limits) or cannot be built (a Unicode word boundary).
pub fn dfa_split(h: &Hir, secret_group: &[usize]) -> Option<DfaSplit> {
    use regex_automata::nfa::thompson;
    if secret_group.is_empty() {
        return None;
    }
    let HirKind::Concat(xs) = h.kind() else {
        return None;
    };
    let is_look = |x: &Hir| matches!(x.kind(), HirKind::Look(_));
    // The tail: the last part that is not an assertion; only assertions may follow it.
    let ti = xs.iter().rposition(|x| !is_look(x))?;
    let looks = &xs[ti + 1..];
    let lit_len = |x: &Hir| match x.kind() {
        HirKind::Literal(l) => Some(l.0.len()),
        _ => None,
    };
    // (group, open, close, the alternative's HIR) for each alternative of the tail.
    let group_of = |x: &Hir| -> Option<(usize, usize, usize)> {
        match x.kind() {
            HirKind::Capture(c) => Some((c.index as usize, 0, 0)),
            HirKind::Concat(ys) => {
                let ci = ys
                    .iter()
                    .position(|y| matches!(y.kind(), HirKind::Capture(_)))?;
                let HirKind::Capture(c) = ys[ci].kind() else {
                    return None;
                };
                let side = |zs: &[Hir]| match zs {
                    [] => Some(0),
                    [z] => lit_len(z),
                    _ => None,
                };
                Some((c.index as usize, side(&ys[..ci])?, side(&ys[ci + 1..])?))
            }
            _ => None,
        }
    };
    let alts: Vec<(usize, usize, usize, &Hir)> = match xs[ti].kind() {
        HirKind::Capture(_) => vec![(group_of(&xs[ti])?, &xs[ti])],
        HirKind::Alternation(ys) => ys
            .iter()
            .map(|y| Some((group_of(y)?, y)))
            .collect::<Option<Vec<_>>>()?,
        _ => return None,
    }
    .into_iter()
    .map(|((g, o, c), y)| (g, o, c, y))
    .collect();
    // Exactly the secret groups, one per alternative: the one group taking part is the secret.
    let mut gs: Vec<usize> = alts.iter().map(|a| a.0).collect();
    let mut want = secret_group.to_vec();
    gs.sort_unstable();
    want.sort_unstable();
    if gs != want {
        return None;
    }
    let build = |h: Hir, reverse: bool| -> Option<dense::DFA<Vec<u32>>> {
        let nfa = thompson::Compiler::new()
            .configure(
                thompson::Config::new()
                    .reverse(reverse)
                    .which_captures(thompson::WhichCaptures::None)
                    .nfa_size_limit(Some(1 << 20)),
            )
            .build_from_hir(&h)
            .ok()?;
        dense::Builder::new()
            .configure(
                dense::Config::new()
                    .match_kind(regex_automata::MatchKind::All)
                    .start_kind(regex_automata::dfa::StartKind::Anchored)
                    .dfa_size_limit(Some(2 << 20))
                    .determinize_size_limit(Some(4 << 20)),
            )
            .build_from_nfa(&nfa)
            .ok()
    };
    let branches = if alts.len() == 1 {
        vec![Branch {
            dfa: None,
            open: alts[0].1,
            close: alts[0].2,
        }]
    } else {
        alts.iter()
            .map(|&(_, open, close, y)| {
                let mut parts = vec![y.clone()];
                parts.extend(looks.iter().cloned());
                Some(Branch {
                    dfa: Some(build(Hir::concat(parts), false)?),
                    open,
                    close,
                })
            })
            .collect::<Option<Vec<_>>>()?
    };
    Some(DfaSplit {
        fwd: build(Hir::concat(xs[..ti].to_vec()), false)?,
        rev: build(Hir::concat(xs[ti..].to_vec()), true)?,
        branches,
    })
}

#[cfg(test)]
#[path = "analyze_tests.rs"]
mod tests;
