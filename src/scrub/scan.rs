//! Everything a string holds that must be masked, as ranges of the string itself. The rules run
//! on derived views of the string, and every match maps back to the original bytes it came
//! from (see [`super::mapped`]):
//!
//! 1. the scan view: JSON escapes decoded (JSON nested in JSON strings, up to
//!    `max_escape_depth` levels; a string that still holds escapes after that is masked whole),
//!    then characters normalised ([`super::normalize`]);
//! 2. the same with character escapes decoded (`%40`, `&#64;`, `=40`, `\x40`; see
//!    [`super::decode`]), when there are any;
//! 3. base64 and hex runs whose decoded bytes are text, scanned one layer deeper: a secret in
//!    there masks the whole run;
//! 4. runs of token characters broken by a line break (`\n`, `\r\n`, a wrapped JWT or base64
//!    body), joined and scanned again; a match across a break counts when its rule recognises a
//!    secret by its own shape (a vendor prefix, a key block, a decoded run), not by context;
//! 5. echoes: a value found anywhere in the string, or elsewhere in the same request, is a
//!    secret wherever else it appears (`Authorization: Bearer T … retrying with T`);
//! 6. our own replacement forms stay as they are, but never hide what sits next to them:
//!    a match that covers a marker is cut around it, not dropped.
//!
//! Layers 2 to 4 cost nothing on strings without escapes, encoded runs or wrapped tokens; each
//! deeper layer is bounded ([`MAX_LAYERS`]) and smaller than the one above it.

use super::decode;
use super::engine::{Engine, Match};
use super::json;
use super::mapped::{Builder, Mapped, TextOnly};
use super::normalize;
use super::Scrubber;
use regex_automata::meta::Regex;
use std::sync::OnceLock;

/// Deepest nesting of layers 3 and 4 (a base64 run inside a wrapped block inside …).
pub(crate) const MAX_LAYERS: usize = 3;
/// Rounds of character-escape decoding (`%2540` takes two).
const ESCAPE_ROUNDS: usize = 3;
/// Shortest value that is searched for again as an echo: shorter ones (a 4-digit PIN-like
/// tail) recur by chance in unrelated text.
pub(crate) const ECHO_MIN_BYTES: usize = 8;
/// Shortest run of token characters, joined across line breaks, that is scanned again.
const MIN_JOINED: usize = 16;

/// One thing to mask, in the scanned string's coordinates.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub rule: u32,
    /// What the rule saw (decoded): pseudonyms and echoes are computed from it.
    pub value: String,
    /// A whole encoded run whose decoded text holds a secret (layer 3).
    pub whole_run: bool,
}

/// Why a string cannot be scanned: it is masked whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanError {
    /// JSON escapes nested deeper than `max_escape_depth`.
    TooDeep,
    /// A view's offsets could not be mapped back (cannot happen: the text and its map come
    /// from the same code; should it, the string is masked whole rather than half-masked).
    Unmapped,
    /// The string's CPU budget ran out (see `budget`): it is replaced whole.
    OverBudget,
}

/// Stops a scan whose CPU budget has run out.
fn within_budget() -> Result<(), ScanError> {
    if super::budget::over() {
        Err(ScanError::OverBudget)
    } else {
        Ok(())
    }
}

/// Values already known to be secrets (found elsewhere in the same request), searched for in
/// every string.
#[derive(Debug, Default, Clone)]
pub(crate) struct Known {
    /// In their echo form, echo-worthy, once each.
    pub values: Vec<(String, u32)>,
    set: std::collections::HashSet<String>,
    /// Built once per request, when there are more values than are searched one by one: a
    /// request of thousands of small strings each revealing a few values would otherwise build
    /// an automaton of all of them for every string, its size times their number.
    ac: Option<aho_corasick::AhoCorasick>,
}

impl Known {
    /// The values revealed in a request (as `ScrubReport::found` holds them).
    pub(crate) fn new(found: &[(String, u32)]) -> Known {
        let mut vals: Vec<(&str, u32)> = found.iter().map(|(v, r)| (echo_form(v), *r)).collect();
        vals.sort_unstable();
        vals.dedup_by(|a, b| a.0 == b.0);
        let values: Vec<(String, u32)> = vals
            .into_iter()
            .filter(|(v, _)| echo_worthy(v))
            .map(|(v, r)| (v.to_string(), r))
            .collect();
        let set = values.iter().map(|(v, _)| v.clone()).collect();
        let ac = (values.len() > ECHO_PER_VALUE)
            .then(|| aho_corasick::AhoCorasick::new(values.iter().map(|(v, _)| v.as_bytes())).ok())
            .flatten();
        Known { values, set, ac }
    }

    fn contains(&self, v: &str) -> bool {
        self.set.contains(v)
    }

    /// Every occurrence of every value in `t`, overlapping ones included.
    fn hits(&self, t: &str, found: &mut Vec<Hit>) {
        match &self.ac {
            Some(ac) => {
                super::engine::add_work(t.len());
                for m in ac.find_overlapping_iter(t) {
                    if super::budget::tick(32) {
                        return;
                    }
                    found.push(hit(
                        t,
                        m.start()..m.end(),
                        self.values[m.pattern().as_usize()].1,
                    ));
                }
            }
            None => echo_hits(t, &self.values, found),
        }
    }
}

/// Echo values up to this many are searched one by one; more in one automaton pass.
const ECHO_PER_VALUE: usize = 4;

/// Our own replacement forms.
fn own_tokens() -> &'static Option<Regex> {
    static RE: OnceLock<Option<Regex>> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"\[REDACTED:[a-z0-9_]+(?::\*{4}[0-9A-Za-z]{0,4})?\]|<[a-z0-9_]+:[0-9a-f]{10}>")
            .ok()
    })
}

fn token_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'.' | b'~' | b'-')
}

/// Layer 1 in two steps: `raw` with its JSON escapes decoded (up to `max_rounds` levels), and
/// that text normalised. Each is `None` when it changed nothing.
fn view_text(raw: &str, max_rounds: usize) -> Result<(Option<String>, Option<String>), ScanError> {
    let mut cur: Option<String> = None;
    let mut rounds = 0;
    loop {
        let t = cur.as_deref().unwrap_or(raw);
        if !json::has_escape(t) {
            break;
        }
        if rounds == max_rounds {
            return Err(ScanError::TooDeep);
        }
        let mut o = TextOnly::new(t.len());
        json::unescape(t, &mut o);
        cur = Some(o.text);
        rounds += 1;
    }
    let t = cur.as_deref().unwrap_or(raw);
    let norm = normalize::needed(t).then(|| {
        let mut o = TextOnly::new(t.len());
        normalize::normalize(t, &mut o);
        o.text
    });
    Ok((cur, norm))
}

/// The map of the JSON-decoded text over `raw` (built only when something was found).
fn json_mapped(raw: &str, max_rounds: usize) -> Option<Mapped> {
    let mut cur: Option<Mapped> = None;
    for _ in 0..max_rounds {
        let t = cur.as_ref().map_or(raw, |m| m.text.as_str());
        if !json::has_escape(t) {
            break;
        }
        let mut b = Builder::new(t.len());
        json::unescape(t, &mut b);
        cur = compose(cur, b.finish());
    }
    cur
}

/// The map of the normalised text over `t`.
fn norm_mapped(t: &str) -> Option<Mapped> {
    let mut b = Builder::new(t.len());
    normalize::normalize(t, &mut b);
    b.finish()
}

fn compose(outer: Option<Mapped>, inner: Option<Mapped>) -> Option<Mapped> {
    match (outer, inner) {
        (Some(o), Some(i)) => Some(i.over(&o)),
        (o, None) => o,
        (None, i) => i,
    }
}

/// Layer 2's text over `t`: character escapes decoded, up to [`ESCAPE_ROUNDS`] rounds.
fn escapes_text(t: &str) -> Option<String> {
    let mut cur: Option<String> = None;
    for _ in 0..ESCAPE_ROUNDS {
        let text = cur.as_deref().unwrap_or(t);
        if !decode::has_escapes(text) {
            break;
        }
        let mut o = TextOnly::new(text.len());
        decode::decode_escapes(text, &mut o);
        match o.finish() {
            Some(next) => cur = Some(next),
            None => break,
        }
    }
    cur
}

/// [`escapes_text`] with its map over `t`.
fn escapes_mapped(t: &str) -> Option<Mapped> {
    let mut cur: Option<Mapped> = None;
    for _ in 0..ESCAPE_ROUNDS {
        let text = cur.as_ref().map_or(t, |m| m.text.as_str());
        if !decode::has_escapes(text) {
            break;
        }
        let mut b = Builder::new(text.len());
        decode::decode_escapes(text, &mut b);
        match b.finish() {
            Some(next) => cur = compose(cur, Some(next)),
            None => break,
        }
    }
    cur
}

/// Whether `run` (at the start of a line, `rest` after it on that line) reads as the next piece
/// of a wrapped token rather than as the next line's first word: it holds a digit, a symbol of
/// token alphabets or a capital after its first letter (or is long), and it is not a key
/// (`Content-Type:`, `region = …`, `USER=bob`).
fn token_material(run: &[u8], rest: &[u8]) -> bool {
    let after = rest.iter().find(|c| !matches!(c, b' ' | b'\t'));
    if matches!(after, Some(b':' | b'=')) {
        return false;
    }
    if let Some(eq) = run.iter().position(|&c| c == b'=') {
        let key = &run[..eq];
        let padding = run[eq..].iter().all(|&c| c == b'=');
        let keyish = !key.is_empty()
            && key.len() <= 32
            && key[0].is_ascii_alphabetic()
            && key
                .iter()
                .all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'-')
            && (key.iter().all(|c| !c.is_ascii_lowercase())
                || key.iter().all(|c| !c.is_ascii_uppercase()));
        if !padding && keyish {
            return false;
        }
    }
    let body = run.strip_suffix(b".").unwrap_or(run);
    body.len() >= 24
        || body.iter().any(u8::is_ascii_digit)
        || body
            .iter()
            .any(|c| matches!(c, b'+' | b'/' | b'=' | b'_' | b'-' | b'~'))
        || body.iter().skip(1).any(u8::is_ascii_uppercase)
}

/// Chains of token-character runs joined by line breaks (layer 4): each chain is the runs'
/// ranges in `t`, at least [`MIN_JOINED`] bytes in all; a run after a break joins only when it
/// reads as token material ([`token_material`]).
fn join_chains(t: &str, out: &mut Vec<Vec<std::ops::Range<usize>>>) {
    let b = t.as_bytes();
    let mut chain: Vec<std::ops::Range<usize>> = Vec::new();
    let flush = |chain: &mut Vec<std::ops::Range<usize>>,
                 out: &mut Vec<Vec<std::ops::Range<usize>>>| {
        if chain.len() >= 2 && chain.iter().map(|r| r.len()).sum::<usize>() >= MIN_JOINED {
            out.push(std::mem::take(chain));
        } else {
            chain.clear();
        }
    };
    for nl in memchr::memchr_iter(b'\n', b) {
        let mut be = if nl > 0 && b[nl - 1] == b'\r' {
            nl - 1
        } else {
            nl
        };
        // A shell line continuation (`\` before the break) is part of the break.
        if be > 0 && b[be - 1] == b'\\' {
            be -= 1;
        }
        let mut bs = be;
        while bs > 0 && token_byte(b[bs - 1]) {
            bs -= 1;
        }
        let mut a = nl + 1;
        while a < b.len() && a - nl <= 16 && matches!(b[a], b' ' | b'\t') {
            a += 1;
        }
        let mut ae = a;
        while ae < b.len() && token_byte(b[ae]) {
            ae += 1;
        }
        let line_end = ae + memchr::memchr(b'\n', &b[ae..]).unwrap_or(b.len() - ae);
        if bs == be || a == ae || !token_material(&b[a..ae], &b[ae..line_end]) {
            flush(&mut chain, out);
            continue;
        }
        match chain.last() {
            Some(last) if last.start == bs && last.end == be => chain.push(a..ae),
            _ => {
                flush(&mut chain, out);
                chain.push(bs..be);
                chain.push(a..ae);
            }
        }
    }
    flush(&mut chain, out);
}

/// A secret that reaches the end of its line goes on over the following lines that are one
/// piece of token material each (a value wrapped at a fixed width, a folded header): the end
/// of a hit carried over them. `chains` remembers the end every followed position leads to,
/// so each line is read once however many hits come before it.
fn continue_lines(
    b: &[u8],
    start: usize,
    chains: &mut std::collections::HashMap<usize, usize>,
) -> usize {
    let mut visited: Vec<usize> = Vec::new();
    let mut end = start;
    let last = loop {
        if let Some(&known) = chains.get(&end) {
            break known;
        }
        visited.push(end);
        super::budget::tick(16);
        let next = next_line_of_value(b, end);
        if next == end {
            break end;
        }
        end = next;
    };
    for v in visited {
        chains.insert(v, last);
    }
    last
}

/// Where a value ending at `end` ends when the next line continues it (a run of token bytes
/// alone on its line), or `end` when it does not.
fn next_line_of_value(b: &[u8], end: usize) -> usize {
    let mut p = end;
    while p < b.len() && matches!(b[p], b' ' | b'\t') {
        p += 1;
    }
    let nl = match (b.get(p), b.get(p + 1)) {
        (Some(b'\r'), Some(b'\n')) => p + 2,
        (Some(b'\n'), _) => p + 1,
        _ => return end,
    };
    let mut a = nl;
    while a < b.len() && a - nl <= 16 && matches!(b[a], b' ' | b'\t') {
        a += 1;
    }
    let mut ae = a;
    while ae < b.len() && token_byte(b[ae]) {
        ae += 1;
    }
    let whole_line = matches!(b.get(ae), None | Some(b'\r' | b'\n'));
    let run = &b[a..ae];
    if ae - a < 4
        || !whole_line
        || !run.iter().any(u8::is_ascii_alphabetic)
        || !token_material(run, &[])
    {
        return end;
    }
    ae
}

impl Scrubber {
    /// Everything to mask in `raw` (see the module docs), appended to `hits` in `raw`'s
    /// coordinates. `known`: secrets found elsewhere in the request. `depth`: the layer this
    /// string sits in (0 for a field's value).
    pub(crate) fn find_hits(
        &self,
        raw: &str,
        depth: usize,
        known: &Known,
        hits: &mut Vec<Hit>,
    ) -> Result<(), ScanError> {
        let (json_text, norm_text) = view_text(raw, self.max_escape_depth)?;
        let tj: &str = json_text.as_deref().unwrap_or(raw);
        let t0: &str = norm_text.as_deref().unwrap_or(tj);
        // Hits in the view's coordinates.
        let mut found: Vec<Hit> = Vec::new();
        let mut ms: Vec<Match> = Vec::new();
        self.engine.find(t0, &mut ms);
        within_budget()?;
        found.extend(ms.drain(..).map(|m| hit(t0, m.start..m.end, m.rule)));
        // Where normalising changed the text, the rules also see it as it was: a character
        // mapped to ASCII can join a number or a word next to it (`۲` before `415 555 0100`),
        // so normalising never hides what the text showed before it.
        let mut found_j: Vec<Hit> = Vec::new();
        if norm_text.is_some() {
            self.engine.find(tj, &mut ms);
            within_budget()?;
            found_j.extend(ms.drain(..).map(|m| hit(tj, m.start..m.end, m.rule)));
        }
        // Layer 2.
        if let Some(t1) = escapes_text(t0) {
            self.engine.find(&t1, &mut ms);
            within_budget()?;
            if !ms.is_empty() {
                let map = escapes_mapped(t0)
                    .filter(|m| m.text == t1)
                    .ok_or(ScanError::Unmapped)?;
                for m in ms.drain(..) {
                    found.push(Hit {
                        value: t1[m.start..m.end].to_string(),
                        ..hit(t0, map.raw_range(m.start..m.end), m.rule)
                    });
                }
            }
        }
        // Layers 3 and 4, with the values they reveal kept for the echo search.
        let mut inner_values: Vec<(String, u32)> = Vec::new();
        if depth < MAX_LAYERS {
            self.decoded_runs(t0, depth, &mut found, &mut inner_values)?;
            within_budget()?;
            self.joined_lines(t0, depth, &mut found)?;
            within_budget()?;
        }
        // Values wrapped onto the next lines.
        if memchr::memchr(b'\n', t0.as_bytes()).is_some() {
            // Each line is read once, whatever the number of hits before it (a token on every
            // line would otherwise walk all the lines after it, once per hit).
            let mut chains: std::collections::HashMap<usize, usize> = Default::default();
            for h in &mut found {
                h.end = continue_lines(t0.as_bytes(), h.end, &mut chains);
            }
        }
        // Layer 5.
        let echoes = echo_values(&found, &inner_values, known);
        echo_hits(t0, &echoes, &mut found);
        known.hits(t0, &mut found);
        within_budget()?;
        if found.is_empty() && found_j.is_empty() {
            return Ok(());
        }
        // To `raw`'s coordinates: through the normalisation's map, then the escapes' map.
        let json_map = match &json_text {
            Some(t) => Some(
                json_mapped(raw, self.max_escape_depth)
                    .filter(|m| m.text == *t)
                    .ok_or(ScanError::Unmapped)?,
            ),
            None => None,
        };
        let norm_map = match &norm_text {
            Some(t) => Some(
                norm_mapped(tj)
                    .filter(|m| m.text == *t)
                    .ok_or(ScanError::Unmapped)?,
            ),
            None => None,
        };
        let first = hits.len();
        let to_raw = |mut h: Hit, norm: bool| -> Hit {
            let mut r = h.start..h.end;
            if let (true, Some(m)) = (norm, &norm_map) {
                r = m.raw_range(r);
            }
            if let Some(m) = &json_map {
                r = m.raw_range(r);
            }
            h.start = r.start;
            h.end = r.end;
            h
        };
        for h in found
            .into_iter()
            .map(|h| to_raw(h, true))
            .chain(found_j.into_iter().map(|h| to_raw(h, false)))
        {
            if h.end > h.start {
                hits.push(h);
            }
        }
        protect(raw, hits, first);
        Ok(())
    }

    /// Layer 3: base64 and hex runs of `t0` that decode to text holding a secret.
    fn decoded_runs(
        &self,
        t0: &str,
        depth: usize,
        found: &mut Vec<Hit>,
        values: &mut Vec<(String, u32)>,
    ) -> Result<(), ScanError> {
        let mut runs = Vec::new();
        decode::runs(t0, &mut runs);
        for run in runs {
            let mut inner = Vec::new();
            self.find_hits(&run.text, depth + 1, &Known::default(), &mut inner)?;
            let Some(first) = inner.first() else { continue };
            found.push(Hit {
                whole_run: true,
                ..hit(t0, run.range.clone(), first.rule)
            });
            values.extend(inner.into_iter().map(|h| (h.value, h.rule)));
        }
        Ok(())
    }

    /// Layer 4: token runs wrapped across lines, joined; matches across a break by rules that
    /// recognise a secret by its own shape.
    fn joined_lines(&self, t0: &str, depth: usize, found: &mut Vec<Hit>) -> Result<(), ScanError> {
        if memchr::memchr(b'\n', t0.as_bytes()).is_none() {
            return Ok(());
        }
        let mut chains = Vec::new();
        join_chains(t0, &mut chains);
        for chain in chains {
            let mut b = Builder::new(chain.iter().map(|r| r.len()).sum());
            for (i, r) in chain.iter().enumerate() {
                if i > 0 {
                    b.drop_unit();
                }
                b.copy(&t0[r.clone()], r.start);
            }
            let Some(joined) = b.finish() else { continue };
            let mut inner = Vec::new();
            self.find_hits(&joined.text, depth + 1, &Known::default(), &mut inner)?;
            for h in inner {
                super::budget::tick(16);
                let r = joined.raw_range(h.start..h.end);
                // The chain's pieces are in text order: the first one ending after the match
                // starts, and whether the next one also begins before it ends (a search, not a
                // walk of the chain per match: a chain of every line of the text, with a match
                // on each, was quadratic).
                let i = chain.partition_point(|c| c.end <= r.start);
                let crosses = chain.get(i).is_some_and(|c| c.start < r.end)
                    && chain.get(i + 1).is_some_and(|c| c.start < r.end);
                if crosses && (h.whole_run || self.engine.prefix_anchored(h.rule)) {
                    found.push(Hit {
                        start: r.start,
                        end: r.end,
                        ..h
                    });
                }
            }
        }
        Ok(())
    }
}

fn hit(t: &str, r: std::ops::Range<usize>, rule: u32) -> Hit {
    Hit {
        value: t.get(r.clone()).unwrap_or("").to_string(),
        start: r.start,
        end: r.end,
        rule,
        whole_run: false,
    }
}

/// A found value as it is searched for again: without the sentence punctuation a rule may have
/// taken with it (`hunter2!?,` in prose).
pub(crate) fn echo_form(v: &str) -> &str {
    v.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}'])
}

/// Whether a found value is worth searching for elsewhere: one that looks like a secret of its
/// own (two kinds of character among lower case, upper case, digits and symbols, or long), so
/// that a word a rule took by mistake (`@property`) is not then masked all over the request.
pub fn echo_worthy(v: &str) -> bool {
    let core = v.trim_matches(|c: char| !c.is_alphanumeric());
    if core.len() < ECHO_MIN_BYTES || v.contains('\n') || super::assign::is_expression(core) {
        return false;
    }
    let b = core.as_bytes();
    let kinds = [
        b.iter().any(u8::is_ascii_lowercase),
        b.iter().any(u8::is_ascii_uppercase),
        b.iter().any(u8::is_ascii_digit),
        b.iter().any(|c| !c.is_ascii_alphanumeric()),
    ]
    .iter()
    .filter(|&&k| k)
    .count();
    kinds >= 2 || core.len() >= 24
}

/// The values to look for again that this string found (and found inside decoded runs), at
/// least [`ECHO_MIN_BYTES`] long, once each; those `known` from the rest of the request are
/// searched with its own automaton ([`Known::hits`]).
fn echo_values(found: &[Hit], inner: &[(String, u32)], known: &Known) -> Vec<(String, u32)> {
    let mut vals: Vec<(&str, u32)> = found
        .iter()
        .map(|h| (echo_form(&h.value), h.rule))
        .chain(inner.iter().map(|(v, r)| (echo_form(v), *r)))
        .filter(|(v, _)| !known.contains(v))
        .collect();
    // Once each (a text full of one token holds thousands of the same value), then judged.
    vals.sort_unstable();
    vals.dedup_by(|a, b| a.0 == b.0);
    vals.into_iter()
        .filter(|(v, _)| echo_worthy(v))
        .map(|(v, r)| (v.to_string(), r))
        .collect()
}

/// Every occurrence of every echo value in `t`, overlapping ones included (a masked union must
/// leave no piece of any of them). A few values are searched one by one; more in one pass of
/// an automaton, because a text holding thousands of distinct found values (`token=…` lines)
/// searched once per value cost its length times their number.
fn echo_hits(t: &str, echoes: &[(String, u32)], found: &mut Vec<Hit>) {
    if echoes.len() <= ECHO_PER_VALUE {
        for (v, rule) in echoes {
            super::engine::add_work(t.len());
            let finder = memchr::memmem::Finder::new(v.as_bytes());
            let mut from = 0;
            while let Some(k) = finder.find(&t.as_bytes()[from..]) {
                if super::budget::tick(32 + k) {
                    return;
                }
                found.push(hit(t, from + k..from + k + v.len(), *rule));
                from += k + 1;
            }
        }
        return;
    }
    // Building the automaton costs a few hundred ns per pattern byte, before any search.
    let pattern_bytes: usize = echoes.iter().map(|(v, _)| v.len()).sum();
    super::engine::add_work(8 * pattern_bytes + t.len());
    if super::budget::tick(8 * pattern_bytes) {
        return;
    }
    match aho_corasick::AhoCorasick::new(echoes.iter().map(|(v, _)| v.as_bytes())) {
        Ok(ac) => {
            for m in ac.find_overlapping_iter(t) {
                if super::budget::tick(32) {
                    return;
                }
                found.push(hit(t, m.start()..m.end(), echoes[m.pattern().as_usize()].1));
            }
        }
        // Building cannot fail for these few short patterns (each at most a string's
        // length); should it, one search per value is the same answer, only slower.
        Err(_) => {
            for (v, rule) in echoes {
                for (k, _) in t.match_indices(v.as_str()) {
                    found.push(hit(t, k..k + v.len(), *rule));
                }
            }
        }
    }
}

/// Our own replacement forms in `text` are never rewritten (scrubbing is idempotent), but a
/// match that covers one is cut around it rather than dropped: a marker next to a secret does
/// not hide the secret. Applies to `hits[first..]`.
fn protect(text: &str, hits: &mut Vec<Hit>, first: usize) {
    if hits.len() == first || !(text.contains("[REDACTED:") || text.contains('>')) {
        return;
    }
    let Some(re) = own_tokens() else { return };
    let prot: Vec<(usize, usize)> = re.find_iter(text).map(|m| (m.start(), m.end())).collect();
    if prot.is_empty() {
        return;
    }
    let mut out: Vec<Hit> = Vec::new();
    // Markers come sorted and disjoint; with the hits sorted too, a marker that ends before a
    // hit starts ends before every later hit: one cursor, and each hit is cut only by the
    // markers inside it (a text of markers and keys cut every hit by every marker: quadratic
    // in time and memory).
    hits[first..].sort_by_key(|h| h.start);
    let mut cursor = 0;
    for h in hits.drain(first..) {
        super::budget::tick(16);
        while prot.get(cursor).is_some_and(|&(_, pe)| pe <= h.start) {
            cursor += 1;
        }
        let mut pieces = Vec::new();
        let mut s = h.start;
        for &(ps, pe) in prot[cursor..].iter().take_while(|&&(ps, _)| ps < h.end) {
            if s < ps {
                pieces.push((s, ps));
            }
            s = s.max(pe);
        }
        if s < h.end {
            pieces.push((s, h.end));
        }
        let whole = pieces.len() == 1 && pieces[0] == (h.start, h.end);
        for (s, e) in pieces {
            // A leftover of separators only (the `/` between a secret and a marker) is no secret.
            if text[s..e].bytes().any(|c| c.is_ascii_alphanumeric()) || !text[s..e].is_ascii() {
                // A piece is valued as itself: a copy of the whole value per piece grew with
                // the square of a text of markers and keys.
                let value = if whole {
                    h.value.clone()
                } else {
                    text[s..e].to_string()
                };
                out.push(Hit {
                    start: s,
                    end: e,
                    value,
                    ..h
                });
            }
        }
    }
    hits.extend(out);
}

#[cfg(test)]
#[path = "scan_tests.rs"]
mod tests;
