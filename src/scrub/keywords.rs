//! The keyword prefilter: every (overlapping) occurrence of every keyword, ASCII
//! case-insensitive.
//!
//! Why not `AhoCorasick::find_overlapping_iter`: our keywords are English words (`key`,
//! `token`, `pass`, `auth`…), so no SIMD prefilter can skip ahead and the scan is one
//! dependent table lookup per byte. On the 2-vCPU machines we target that chain runs at
//! ~330 MiB/s whatever the automaton (docs/bench/history.md has the figures), because each step
//! waits for the previous load. Splitting a long string into four chunks and walking them
//! with four independent states in one loop lets the CPU overlap the four loads: same DFA,
//! same hits, ~1.4× the throughput.
//!
//! Correctness of the split: an Aho-Corasick state stands for the longest suffix of the input
//! read so far that is a prefix of some keyword, so it never depends on more than the last
//! `max_pattern_len` bytes. A stream that starts `max_pattern_len` bytes before its chunk is
//! therefore in the exact state a full scan would be in when it reaches the chunk; it reports
//! only the hits that end inside its own chunk, so each hit is reported exactly once. The
//! warm-up bytes are walked inside the same interleaved loop (the chunks overlap by
//! `max_pattern_len`), so it also pays off on strings of a few hundred bytes.
//! `tests` compares every hit against `find_overlapping_iter`.
//!
//! Table: the Aho-Corasick DFA is built by the `aho-corasick` crate, then copied into a compact
//! table of our own. That crate's byte classes are ranges, so with case-insensitive keywords
//! `a` and `A` stay two classes and the 213 default keywords made a 508 KiB table, which lives
//! in L2 and makes each step an L2 load. Here bytes whose transitions are the same from every
//! state share one class (`a`/`A`, and every byte no keyword contains), and entries are 16-bit
//! when they fit: the same automaton in 88 KiB for the default packs (still above this VM's
//! 48 KiB L1, but 1.2–1.4× the old walk on 1.5 KB strings measured alone). Match states are
//! numbered first, so "is this a match" is one comparison.

use aho_corasick::automaton::{Automaton, StateID};
use aho_corasick::dfa::DFA;
use aho_corasick::{Anchored, MatchKind};
use std::collections::HashMap;

/// Below this many reported bytes per stream the warm-up would cost more than the overlap
/// saves (measured: 16–64 are alike within the noise on corpus strings).
const MIN_CHUNK: usize = 32;

/// Transition entries: the next state's row offset (state index × class count).
trait Entry: Copy {
    fn at(self) -> usize;
}
impl Entry for u16 {
    #[inline(always)]
    fn at(self) -> usize {
        usize::from(self)
    }
}
impl Entry for u32 {
    #[inline(always)]
    fn at(self) -> usize {
        self as usize
    }
}

enum Table {
    U16(Box<[u16]>),
    U32(Box<[u32]>),
}

/// `L` interleaved streams of `len` steps each, unrolled; stream j starts `w` bytes before
/// the end of stream j-1 and reports only hits ending after those `w` warm-up bytes. The
/// caller checks that `len >= w + MIN_CHUNK`.
macro_rules! streams {
    ($k:expr, $t:expr, $text:expr, $hit:expr, $l:literal, [$($j:literal),*]) => {{
        let (k, t, text) = ($k, $t, $text);
        let w = k.max_len;
        let len = (text.len() + ($l - 1) * w) / $l;
        let step = len - w;
        let c = &k.class;
        let m = k.match_below;
        // Each stream's bytes as a slice of exactly `len`: no bounds checks in the loop.
        let ts: [&[u8]; $l] = [$(&text[$j * step..$j * step + len]),*];
        let mut s = [k.start; $l];
        // Match states of the later streams, kept until the earlier ones are done so that
        // hits are reported in text order (callers sort them; sorted input sorts in one pass).
        let mut later: Vec<(u32, usize, usize)> = Vec::new();
        for i in 0..len {
            // Rows are built from valid states and classes, so the table index is in range.
            $( s[$j] = t[s[$j] + usize::from(c[usize::from(ts[$j][i])])].at(); )*
            // Non-short-circuit `|`: one branch in the common case.
            if false $(| (s[$j] < m))* {
                for (j, &sj) in s.iter().enumerate() {
                    let end = j * step + i + 1;
                    if j == 0 {
                        k.report(sj, end, $hit);
                    } else if sj < m && end > j * step + w {
                        later.push((j as u32, sj, end));
                    }
                }
            }
        }
        // Stable: each stream's states stay in the order they were reached.
        later.sort_by_key(|&(j, _, _)| j);
        for &(_, sj, end) in &later {
            k.report(sj, end, $hit);
        }
        // The bytes that did not divide by `L` continue the last stream.
        let done = ($l - 1) * step + len;
        k.scan(t, s[$l - 1], &text[done..], done, $hit);
    }};
}

pub struct Keywords {
    table: Table,
    /// Byte → class.
    class: [u8; 256],
    /// Row offset of the start state.
    start: usize,
    /// Row offsets below this are match states.
    match_below: usize,
    /// Per match state (by index): its hits `(pattern, length)` are
    /// `hits[hit_at[i]..hit_at[i + 1]]`.
    hit_at: Vec<u32>,
    hits: Vec<(u32, u32)>,
    classes: usize,
    max_len: usize,
}

impl Keywords {
    /// Builds the automaton. Keywords must be non-empty (the rule loader rejects empty ones;
    /// an empty keyword would match at every position).
    pub fn new<S: AsRef<[u8]>>(keywords: &[S]) -> Result<Keywords, String> {
        if keywords.iter().any(|k| k.as_ref().is_empty()) {
            return Err("empty keyword".into());
        }
        let dfa = DFA::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            // Prefilters only help when keywords have rare leading bytes; ours do not, and
            // the scan below walks the states directly.
            .prefilter(false)
            .build(keywords)
            .map_err(|e| e.to_string())?;
        let start = dfa.start_state(Anchored::No).map_err(|e| e.to_string())?;
        // Every state reachable from the start, breadth first.
        let mut ids: Vec<StateID> = vec![start];
        let mut index: HashMap<StateID, usize> = HashMap::from([(start, 0)]);
        let mut i = 0;
        while i < ids.len() {
            for b in 0..=255u8 {
                let t = dfa.next_state(Anchored::No, ids[i], b);
                if let std::collections::hash_map::Entry::Vacant(v) = index.entry(t) {
                    v.insert(ids.len());
                    ids.push(t);
                }
            }
            i += 1;
        }
        // Match states first (stable, so the start state stays first among non-matches).
        ids.sort_by_key(|&s| !dfa.is_match(s));
        let pos: HashMap<StateID, usize> = ids.iter().enumerate().map(|(i, &s)| (s, i)).collect();
        let nmatch = ids.iter().take_while(|&&s| dfa.is_match(s)).count();
        // Byte classes: bytes with the same transition from every state.
        let cols: Vec<Vec<usize>> = (0..=255u8)
            .map(|b| {
                ids.iter()
                    .map(|&s| pos[&dfa.next_state(Anchored::No, s, b)])
                    .collect()
            })
            .collect();
        let mut class = [0u8; 256];
        let mut reps: Vec<usize> = Vec::new();
        let mut seen: HashMap<&[usize], u8> = HashMap::new();
        for (b, col) in cols.iter().enumerate() {
            // At most 256 classes (one per byte), so the id fits a u8.
            class[b] = *seen.entry(col.as_slice()).or_insert_with(|| {
                reps.push(b);
                (reps.len() - 1) as u8
            });
        }
        let classes = reps.len();
        let rows: Vec<usize> = (0..ids.len())
            .flat_map(|s| reps.iter().map(move |&b| (s, b)))
            .map(|(s, b)| cols[b][s] * classes)
            .collect();
        let table = if ids.len() * classes <= usize::from(u16::MAX) + 1 {
            Table::U16(rows.iter().map(|&r| r as u16).collect())
        } else if ids.len() * classes <= u32::MAX as usize {
            Table::U32(rows.iter().map(|&r| r as u32).collect())
        } else {
            return Err("keyword automaton too large".into());
        };
        let mut hit_at = vec![0u32];
        let mut hits = Vec::new();
        for &s in &ids[..nmatch] {
            for k in 0..dfa.match_len(s) {
                let p = dfa.match_pattern(s, k);
                hits.push((p.as_u32(), dfa.pattern_len(p) as u32));
            }
            hit_at.push(hits.len() as u32);
        }
        Ok(Keywords {
            table,
            class,
            start: pos[&start] * classes,
            match_below: nmatch * classes,
            hit_at,
            hits,
            classes,
            max_len: dfa.max_pattern_len(),
        })
    }

    /// Bytes of the transition table (for tests and diagnostics).
    pub fn table_bytes(&self) -> usize {
        match &self.table {
            Table::U16(t) => t.len() * 2,
            Table::U32(t) => t.len() * 4,
        }
    }

    /// Calls `hit(pattern, start, end)` for every occurrence of every keyword in `text`
    /// (overlapping), in order of `end` (hits with the same end in an unspecified order).
    pub fn for_each(&self, text: &[u8], mut hit: impl FnMut(usize, usize, usize)) {
        match &self.table {
            Table::U16(t) => self.walk(t, text, &mut hit),
            Table::U32(t) => self.walk(t, text, &mut hit),
        }
    }

    #[inline(always)]
    fn walk<E: Entry>(&self, t: &[E], text: &[u8], hit: &mut impl FnMut(usize, usize, usize)) {
        let w = self.max_len;
        // Four streams: eight measured slower (the states no longer fit in registers).
        if text.len() + 3 * w >= 4 * (w + MIN_CHUNK) {
            streams!(self, t, text, hit, 4, [0, 1, 2, 3]);
        } else {
            self.scan(t, self.start, text, 0, hit);
        }
    }

    /// Single-stream scan of `text` (which sits at `offset` in the whole string) from row `s`.
    fn scan<E: Entry>(
        &self,
        t: &[E],
        mut s: usize,
        text: &[u8],
        offset: usize,
        hit: &mut impl FnMut(usize, usize, usize),
    ) {
        for (i, &b) in text.iter().enumerate() {
            s = t[s + usize::from(self.class[usize::from(b)])].at();
            if s < self.match_below {
                self.report(s, offset + i + 1, hit);
            }
        }
    }

    #[inline(always)]
    fn report(&self, s: usize, end: usize, hit: &mut impl FnMut(usize, usize, usize)) {
        if s >= self.match_below {
            return;
        }
        let i = s / self.classes;
        let (a, b) = (self.hit_at[i] as usize, self.hit_at[i + 1] as usize);
        for &(p, len) in &self.hits[a..b] {
            hit(p as usize, end - len as usize, end);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aho_corasick::AhoCorasick;
    use proptest::prelude::*;

    fn reference(kws: &[&str], text: &str) -> Vec<(usize, usize, usize)> {
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(kws)
            .unwrap();
        let mut v: Vec<_> = ac
            .find_overlapping_iter(text)
            .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
            .collect();
        v.sort_unstable();
        v
    }

    fn ours(kws: &[&str], text: &str) -> Vec<(usize, usize, usize)> {
        let k = Keywords::new(kws).unwrap();
        let mut v = Vec::new();
        k.for_each(text.as_bytes(), |p, s, e| v.push((p, s, e)));
        v.sort_unstable();
        v
    }

    const KWS: &[&str] = &[
        "key",
        "api_key",
        "token",
        "pass",
        "password",
        "sk-",
        "akia",
        "a",
        "aa",
        "-----begin",
        "é",
    ];

    #[test]
    fn case_and_absent_bytes_share_classes() {
        // States: start, k, ke, key; classes: k/K, e/E, y/Y and every other byte; 16-bit.
        let k = Keywords::new(&["key"]).unwrap();
        assert_eq!(k.classes, 4);
        assert_eq!(k.table_bytes(), 4 * 4 * 2);
        assert_eq!(
            ours(&["key"], "KeY keyKEY"),
            vec![(0, 0, 3), (0, 4, 7), (0, 7, 10)]
        );
    }

    #[test]
    fn wide_tables_take_32_bit_entries() {
        // 5,000 distinct 3-letter keywords: about 5,200 states × 27 classes, more than 65,536
        // table entries.
        let kws: Vec<String> = (0..5000)
            .map(|i| {
                let b = |d: usize| char::from(b'a' + (d % 26) as u8);
                format!("{}{}{}", b(i / 676), b(i / 26), b(i))
            })
            .collect();
        let k = Keywords::new(&kws).unwrap();
        assert!(matches!(k.table, Table::U32(_)));
        let kr: Vec<&str> = kws.iter().map(String::as_str).collect();
        let text = "the quick brown fox jumps over the lazy dog, ABC xyz ".repeat(20);
        assert_eq!(ours(&kr, &text), reference(&kr, &text));
    }

    #[test]
    fn rejects_empty_keywords() {
        assert!(Keywords::new(&["x", ""]).is_err());
    }

    #[test]
    fn a_keyword_at_every_position() {
        // Slides a keyword (with keywords inside it) across every position of strings around
        // the single/multi-stream threshold and longer: whichever stream, warm-up or tail a
        // position falls in, each hit is reported exactly once.
        let k = Keywords::new(KWS).unwrap();
        let ac = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .match_kind(MatchKind::Standard)
            .build(KWS)
            .unwrap();
        let mut checked = 0;
        for n in [0usize, 1, 100, 137, 138, 139, 141, 200, 256, 401, 1027] {
            for pos in 0..n.max(1) {
                let mut t = vec![b'.'; n];
                for (i, &b) in b"PassWord+api_key".iter().enumerate() {
                    if pos + i < n {
                        t[pos + i] = b;
                    }
                }
                let text = String::from_utf8(t).unwrap();
                let mut want: Vec<_> = ac
                    .find_overlapping_iter(&text)
                    .map(|m| (m.pattern().as_usize(), m.start(), m.end()))
                    .collect();
                want.sort_unstable();
                let mut got = Vec::new();
                k.for_each(text.as_bytes(), |p, s, e| got.push((p, s, e)));
                assert!(
                    got.windows(2).all(|w| w[0].2 <= w[1].2),
                    "hits in text order, length {n}, keyword at {pos}"
                );
                got.sort_unstable();
                assert_eq!(got, want, "length {n}, keyword at {pos}");
                checked += want.len();
            }
        }
        assert!(checked > 10_000, "{checked} hits checked");
    }

    proptest! {
        #[test]
        fn same_hits_as_aho_corasick(
            parts in proptest::collection::vec(
                prop_oneof![
                    Just("key".to_string()), Just("API_KEY".to_string()), Just("tok".to_string()),
                    Just("en".to_string()), Just("PASSword".to_string()), Just("a".to_string()),
                    Just("é".to_string()), Just("-----BEGIN".to_string()),
                    "[ -~]{0,40}", "\\PC{0,8}",
                ],
                0..120,
            )
        ) {
            let text: String = parts.concat();
            prop_assert_eq!(ours(KWS, &text), reference(KWS, &text));
        }
    }
}
