//! Assignments in text whose key names a secret (see [`super::keyname`]): `password=…`,
//! `DB_PASS: …`, `"api_key": "…"`, `export X_TOKEN="…"`, `--password …`, `<password>…</…>`,
//! `Authorization: …`. The value is masked to where it really ends, however long it is:
//!
//! - quoted (`"…"`, `'…'`, `` `…` ``): to the closing quote, across lines (a PEM key in a JSON
//!   member), or to the end of the text when there is none;
//! - `key: value` and `key = value` (a space after the operator; YAML, headers, INI): to the
//!   end of the line, or to where a sentence ends (`. ` and a capital) or a string literal does;
//! - `key=value` and `key:value` (no space; env files, command lines): the whole run of
//!   non-blank characters (`PASSWORD=ab;cd,ef&gh`), or to the next `&` in a URL query;
//! - `--flag value`: the next word; `<key>value</key>`: to the next `<`.
//!
//! What is not a value: nothing (`password=`), a placeholder or template (`${DB_PASSWORD}`,
//! `<redacted>`, `****`, `null`), a JSON object or array (its members are keys of their own),
//! and code that names a secret without holding it: an expression (`os.environ["KEY"]`,
//! `getpass.getpass()`, `req.headers.authorization`, `settings.SECRET_KEY`), a variable in a
//! `key = name` assignment, or a type annotation (`password: str`, `token: Optional[str] = None`).
//! Prose is not an assignment (`the password is incorrect`), and neither is a comparison (`==`).
//!
//! Cost: the caller hands over the hits of the secret words' first pieces; each identifier is
//! read once (hits inside an identifier or a value already read are skipped), identifiers are
//! at most [`MAX_IDENT`] bytes and values are read once, so the whole pass is linear.

use super::engine::Match;
use super::keyname::{self, Family, KeyWords};
use super::validate::is_placeholder;

mod shape;
use shape::*;
pub(crate) use shape::{cookie_like, is_expression};

/// Longest identifier read as a key.
pub const MAX_IDENT: usize = 128;

/// The rules assignments are reported as, by family (`None`: that family's rule is disabled).
#[derive(Debug, Clone, Copy, Default)]
pub struct FamilyRules {
    pub password: Option<u32>,
    pub secret: Option<u32>,
}

impl FamilyRules {
    fn of(&self, f: Family) -> Option<u32> {
        match f {
            Family::Password => self.password,
            Family::Secret => self.secret,
        }
    }
}

fn ident_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.')
}

/// How the value follows its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    /// `key: value`, `key = value`, `key => value`: to the end of the line.
    Spaced { code: bool },
    /// `key=value`, `key:value`: a run of non-blank characters (`&` ends it in a URL query, `,`
    /// after a `:`, as in `type:1,other:2`), or the rest of the line when the assignment starts
    /// its line (an environment file).
    Tight {
        query: bool,
        line: bool,
        colon: bool,
    },
    /// `--flag value`: one word.
    Flag,
    /// `<key>value<`.
    Element,
}

/// Finds assignments of secrets at keyword hits `hits` (start, end; sorted by start).
pub fn find(
    text: &str,
    hits: &[(usize, usize)],
    kw: &KeyWords,
    rules: FamilyRules,
    out: &mut Vec<Match>,
) {
    let b = text.as_bytes();
    // Everything before `done` has been read (an identifier or a value).
    let mut done = 0usize;
    // Bytes the line-value scans may read, in all: a value is read to the end of its line, so
    // a line of many keys whose values are each cut short or refused (`Authorization: Bearer x`
    // repeated) would read the rest of the line once per key. Past the budget a value runs to
    // its line end unread (masked whole: fail closed) and the keys on that stretch are not
    // read again, so the pass stays linear.
    let mut budget = 4 * text.len() + 4096;
    for &(hs, he) in hits {
        if hs < done {
            continue;
        }
        // A key costs a split and a lookup or two; past the CPU budget the string is
        // replaced whole, so what is left need not be read.
        if super::budget::tick(256) {
            return;
        }
        let (ks, ke) = match identifier(b, hs, he) {
            Ok(k) => k,
            Err(run_end) => {
                done = run_end;
                continue;
            }
        };
        done = ke;
        // A secret's name given as the value of a `key`/`name` member, its value beside it
        // (`key="ApiSecret" value="…"`, `{"key":"db.password","value":{"stringValue":"…"}}`).
        if let Some((s, e, family)) = indirect(text, ks, ke, kw) {
            if let Some(rule) = rules.of(family) {
                done = done.max(e);
                out.push(Match {
                    start: s,
                    end: e,
                    rule,
                });
            }
            continue;
        }
        // The key, or a two-word label ending in the word after it (`API key: …`).
        let (key_end, op) = match operator(b, ks, ke) {
            Some(op) => (ke, op),
            None => {
                match second_word(b, ke).and_then(|e2| operator(b, ke + 1, e2).map(|op| (e2, op))) {
                    Some(x) => x,
                    None => continue,
                }
            }
        };
        let (mut style, vs) = op;
        let label_ok = matches!(style, Style::Spaced { code: false });
        let Some(family) = classify(text, ks, ke, key_end, kw, label_ok) else {
            continue;
        };
        // The line checks look back along the line: only for keys that name a secret.
        // In `if x.token: …`, `while pwd:`, the colon ends a statement's condition.
        if colon_of_statement(b, ks, vs) {
            continue;
        }
        if let Style::Tight { line, .. } = &mut style {
            *line = *line && starts_line(b, ks);
        }
        // `pass` alone before `: ` is a test result (`--- PASS: TestLogin`, `pass: 47`), not a
        // password; `pass=…`, `DB_PASS: …` and `pass:x` still are.
        if matches!(style, Style::Spaced { .. })
            && text[ks..key_end].eq_ignore_ascii_case("pass")
            && test_result(&b[vs.min(b.len())..])
        {
            continue;
        }
        let Some(rule) = rules.of(family) else {
            continue;
        };
        let (s, e) = match value(
            text,
            vs,
            style,
            kw,
            Key {
                text: &text[ks..key_end],
                open_quote: open_quote(b, ks, ke),
            },
            &mut budget,
        ) {
            Ok(v) => v,
            Err(end) => {
                done = done.max(end);
                continue;
            }
        };
        done = done.max(e);
        out.push(Match {
            start: s,
            end: e,
            rule,
        });
    }
}

/// The identifier around the keyword hit `hs..he`, at most [`MAX_IDENT`] bytes on each side;
/// trailing `.` and `-` are punctuation, not part of it. A longer run is no key: `Err` gives
/// its end, so the hits inside it are not read again.
fn identifier(b: &[u8], hs: usize, he: usize) -> Result<(usize, usize), usize> {
    let run_end = |from: usize| {
        from + b[from..]
            .iter()
            .position(|&c| !ident_byte(c))
            .unwrap_or(b.len() - from)
    };
    let mut s = hs;
    while s > 0 && ident_byte(b[s - 1]) {
        s -= 1;
        if hs - s > MAX_IDENT {
            return Err(run_end(he));
        }
    }
    let mut e = he;
    while e < b.len() && ident_byte(b[e]) {
        e += 1;
        if e - he > MAX_IDENT {
            return Err(run_end(e));
        }
    }
    while e > he && matches!(b[e - 1], b'.' | b'-') {
        e -= 1;
    }
    Ok((s, e))
}

/// The end of a word right after `ke` and one space (`key` in `API key: …`).
fn second_word(b: &[u8], ke: usize) -> Option<usize> {
    if b.get(ke) != Some(&b' ') || !b.get(ke + 1).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let mut e = ke + 1;
    while e < b.len() && e - ke <= 24 && (b[e].is_ascii_alphanumeric() || b[e] == b'_') {
        e += 1;
    }
    Some(e)
}

fn skip_blanks(b: &[u8], mut i: usize, max: usize) -> usize {
    let from = i;
    while i < b.len() && i - from < max && matches!(b[i], b' ' | b'\t') {
        i += 1;
    }
    i
}

/// The operator after the key `ks..ke`, if any: the style of the value and where it starts.
fn operator(b: &[u8], ks: usize, ke: usize) -> Option<(Style, usize)> {
    let before = ks.checked_sub(1).map(|i| b[i]);
    let mut p = ke;
    // A quoted key: `"password": …`, `'password' => …`.
    if let (Some(q @ (b'"' | b'\'')), Some(&c)) = (before, b.get(p)) {
        if c == q {
            p += 1;
        }
    }
    if before == Some(b'<') && b.get(p) == Some(&b'>') {
        return Some((Style::Element, p + 1));
    }
    let flag = b[ks] == b'-';
    let q = skip_blanks(b, p, 64);
    let spaced_before = q > p;
    let (op_len, code_op) = match (b.get(q), b.get(q + 1)) {
        (Some(b':'), Some(b'=')) => (2, true),
        (Some(b'='), Some(b'>')) => (2, true),
        (Some(b'='), Some(b'=')) => return None,
        // `x =~ /re/` matches, `X=~value` assigns.
        (Some(b'='), Some(b'~')) if spaced_before => return None,
        (Some(b'='), _) => (1, false),
        (Some(b':'), Some(b':')) => return None,
        (Some(b':'), _) => (1, false),
        _ if flag && spaced_before => return Some((Style::Flag, q)),
        _ => return None,
    };
    let v = q + op_len;
    let w = skip_blanks(b, v, 64);
    let spaced_after = w > v;
    let colon = b[q] == b':' && op_len == 1;
    let style = if spaced_after || (spaced_before && !colon) {
        // `=` and `=>` with spaces are code or INI; `: ` is YAML or a header.
        Style::Spaced {
            code: !colon && (code_op || spaced_before || spaced_after),
        }
    } else {
        Style::Tight {
            query: matches!(before, Some(b'?' | b'&')),
            // Whether the line starts with the key is checked once the key names a secret.
            line: b[q] == b'=',
            colon,
        }
    };
    Some((style, w))
}

/// Names of the member that holds a name when names and values are given as pairs.
const NAME_MEMBERS: &[&str] = &[
    "key",
    "name",
    "param",
    "parameter",
    "field",
    "variable",
    "var",
    "header",
];

/// How far after the name the value of a name/value pair is looked for.
const PAIR_REACH: usize = 320;

/// `key="ApiSecret" value="…"`, `<entry key="password">…</entry>`, `{"name": "api_key",
/// "value": "…"}`, OTLP/JSON's `{"key": "db.password", "value": {"stringValue": "…"}}`: the
/// identifier `ks..ke` is the whole quoted value of a name member and names a secret; the
/// value member (or the element's text) beside it is masked.
fn indirect(text: &str, ks: usize, ke: usize, kw: &KeyWords) -> Option<(usize, usize, Family)> {
    let b = text.as_bytes();
    let q = *b.get(ks.checked_sub(1)?)?;
    if !matches!(q, b'"' | b'\'') || b.get(ke) != Some(&q) {
        return None;
    }
    // `name` `"`? blanks `=`|`:` blanks before the opening quote.
    let mut p = ks - 1;
    while p > 0 && matches!(b[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    if p == 0 || !matches!(b[p - 1], b'=' | b':') {
        return None;
    }
    p -= 1;
    while p > 0 && matches!(b[p - 1], b' ' | b'\t') {
        p -= 1;
    }
    if p > 0 && matches!(b[p - 1], b'"' | b'\'') {
        p -= 1;
    }
    let ne = p;
    while p > 0 && (b[p - 1].is_ascii_alphanumeric() || b[p - 1] == b'_') {
        p -= 1;
    }
    let name = text[p..ne].to_ascii_lowercase();
    if !NAME_MEMBERS.contains(&name.as_str()) {
        return None;
    }
    let family = kw.classify(&text[ks..ke])?;
    let from = ke + 1;
    let reach = (from + PAIR_REACH).min(b.len());
    let mut i = from;
    while i < reach {
        match b[i] {
            // The element's text: `<entry key="password">hunter2</entry>`.
            b'>' if !b[from..i].contains(&b'<') => {
                let s = i + 1;
                let e = s + memchr::memchr2(b'<', b'\n', &b[s..]).unwrap_or(b.len() - s);
                let v = &text[s..e];
                return (!v.trim().is_empty() && !is_placeholder(v.trim()))
                    .then_some((s, e, family));
            }
            // The end of the pair's object or element: no value beside the name.
            b'}' | b']' | b'<' => return None,
            c if (c == b'v' || c == b'V')
                && b[i..].len() >= 5
                && b[i..i + 5].eq_ignore_ascii_case(b"value")
                && !b[i - 1].is_ascii_alphanumeric()
                && !b.get(i + 5).is_some_and(u8::is_ascii_alphanumeric) =>
            {
                return pair_value(text, i + 5).map(|(s, e)| (s, e, family));
            }
            _ => i += 1,
        }
    }
    None
}

/// The value after a `value` member name at `at`: `="…"`, `: "…"`, `: 42`, or the first
/// string or number inside `: {"stringValue": "…"}`.
fn pair_value(text: &str, at: usize) -> Option<(usize, usize)> {
    let b = text.as_bytes();
    let mut p = at;
    if matches!(b.get(p), Some(b'"' | b'\'')) {
        p += 1;
    }
    p = skip_blanks(b, p, 8);
    if !matches!(b.get(p), Some(b'=' | b':')) {
        return None;
    }
    p = skip_blanks(b, p + 1, 8);
    if b.get(p) == Some(&b'{') {
        // `{"stringValue": "…"}`: past the inner member's name to its value.
        let close = p + b[p..].iter().take(PAIR_REACH).position(|&c| c == b'}')?;
        let colon = p + b[p..close].iter().position(|&c| c == b':')?;
        p = skip_blanks(b, colon + 1, 8);
    }
    match b.get(p)? {
        &q @ (b'"' | b'\'') => {
            let s = p + 1;
            let mut e = s;
            while e < b.len() && b[e] != q {
                e += if b[e] == b'\\' { 2 } else { 1 };
            }
            let e = e.min(b.len());
            let v = &text[s..e];
            (!v.is_empty() && !is_placeholder(v)).then_some((s, e))
        }
        c if c.is_ascii_digit() || *c == b'-' => {
            let e = p + b[p..]
                .iter()
                .position(|c| !(c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'+')))
                .unwrap_or(b.len() - p);
            Some((p, e))
        }
        _ => None,
    }
}

/// How far back from a key the statement and line checks look (they run once per key, so a
/// long line costs them nothing more).
const LOOK_BACK: usize = 256;

/// The bytes of `key`'s line before it, at most [`LOOK_BACK`] of them, and whether that is the
/// whole of the line before it.
fn line_head(b: &[u8], ks: usize) -> (&[u8], bool) {
    let from = ks.saturating_sub(LOOK_BACK);
    match memchr::memrchr(b'\n', &b[from..ks]) {
        Some(i) => (&b[from + i + 1..ks], true),
        None => (&b[from..ks], from == 0),
    }
}

fn trim_blanks(b: &[u8]) -> &[u8] {
    let start = b
        .iter()
        .position(|c| !c.is_ascii_whitespace())
        .unwrap_or(b.len());
    &b[start..]
}

/// Whether the assignment operator just before `vs` is a `:` ending a statement header
/// (`if`, `elif`, `while`, `for`, `with`, `except`, `lambda`, or after a comparison) that holds
/// the key starting at `ks`.
fn colon_of_statement(b: &[u8], ks: usize, vs: usize) -> bool {
    let op = b[ks..vs]
        .iter()
        .rposition(|&c| c == b':' || c == b'=')
        .map(|k| ks + k);
    if op.map(|i| b[i]) != Some(b':') {
        return false;
    }
    let (head, _) = line_head(b, ks);
    let t = trim_blanks(head);
    let has = |k: &[u8]| memchr::memmem::find(head, k).is_some();
    [
        &b"if "[..],
        b"elif ",
        b"while ",
        b"for ",
        b"with ",
        b"except ",
        b"lambda ",
        b"assert ",
        b"return ",
    ]
    .iter()
    .any(|k| t.starts_with(k))
        || [&b"=="[..], b"!=", b" and ", b" or ", b" not ", b" in "]
            .iter()
            .any(|k| has(k))
}

/// Whether only indentation, a YAML list dash or `export`/`set` precede `ks` on its line.
fn starts_line(b: &[u8], ks: usize) -> bool {
    let (head, whole) = line_head(b, ks);
    if !whole {
        return false;
    }
    let mut t = trim_blanks(head);
    if let Some(rest) = t.strip_prefix(b"- ") {
        t = trim_blanks(rest);
    }
    t.is_empty() || t == b"export " || t == b"set " || t == b"ENV " || t == b"env "
}

/// The key's family: the key `ks..key_end` (one word, or a two-word label ending at `ke`'s next
/// word), or, for `key: value` (`label_ok`), the two-word label it ends (`max token: …`) when one
/// word and a space come before it on the same line.
fn classify(
    text: &str,
    ks: usize,
    ke: usize,
    key_end: usize,
    kw: &KeyWords,
    label_ok: bool,
) -> Option<Family> {
    if key_end != ke {
        let label = format!("{}_{}", &text[ks..ke], &text[ke + 1..key_end]);
        return kw.classify(&label);
    }
    let key = &text[ks..ke];
    let b = text.as_bytes();
    // `Max token: 4096` is a label of two words; `… is password=x` is prose and a key.
    if label_ok && ks >= 2 && b[ks - 1] == b' ' && b[ks - 2].is_ascii_alphabetic() {
        let mut ps = ks - 1;
        while ps > 0 && b[ps - 1].is_ascii_alphabetic() && ks - ps < 24 {
            ps -= 1;
        }
        let at_word = ps == 0 || !b[ps - 1].is_ascii_alphanumeric();
        if at_word {
            let label = format!("{}_{key}", &text[ps..ks - 1]);
            return kw.classify(&label);
        }
    }
    kw.classify(key)
}

/// The value starting at `vs`, as a byte range to mask.
/// What the value check needs to know of its key.
#[derive(Clone, Copy)]
struct Key<'a> {
    text: &'a str,
    /// The key starts a quoted string it does not close (`print("Token: " + x)`): that quote
    /// ends the value, and a value starting with it is no value.
    open_quote: Option<u8>,
}

/// The quote before the key `ks..ke` when the key does not close it.
fn open_quote(b: &[u8], ks: usize, ke: usize) -> Option<u8> {
    let q = *b.get(ks.checked_sub(1)?)?;
    (matches!(q, b'"' | b'\'') && b.get(ke) != Some(&q)).then_some(q)
}

/// The value at `vs` as a byte range to mask; `Err(end)` when there is none, `end` being where
/// the rejected candidate ends (hits before it are not read again: a long line of keys whose
/// values are code costs one pass, not one pass per key).
fn value(
    text: &str,
    vs: usize,
    style: Style,
    kw: &KeyWords,
    key: Key<'_>,
    budget: &mut usize,
) -> Result<(usize, usize), usize> {
    let b = text.as_bytes();
    if *budget == 0
        && matches!(
            style,
            Style::Spaced { .. } | Style::Tight { line: true, .. }
        )
    {
        let end = memchr::memchr2(b'\n', b'\r', &b[vs.min(b.len())..]).map_or(b.len(), |k| vs + k);
        return if end > vs { Ok((vs, end)) } else { Err(end) };
    }
    if key.open_quote.is_some() && b.get(vs).copied() == key.open_quote {
        return Err(vs);
    }
    // A marker already in place is the value; what is glued to it is still a value
    // (`pass=<…>x`), what follows after a blank is not (`Authorization: [REDACTED] under …`).
    let mut vs = vs;
    while let Some(n) = marker_len(&b[vs..]) {
        vs += n;
        if b.get(vs).is_none_or(|c| c.is_ascii_whitespace()) {
            // Unless the next word is a secret of its own after an upstream marker
            // (`password: [REDACTED] Xk9#pL2v…`): a marker never hides what sits next to it.
            // Our own markers were put there by an earlier pass, which already read the line.
            let m = &b[vs - n..vs];
            if m.starts_with(b"[REDACTED:") || m.starts_with(b"<") {
                return Err(vs);
            }
            let ws = skip_blanks(b, vs, 2);
            let we = ws
                + b[ws.min(b.len())..]
                    .iter()
                    .position(u8::is_ascii_whitespace)
                    .unwrap_or(b.len() - ws.min(b.len()));
            return match text.get(ws..we) {
                Some(w)
                    if we > ws
                        && !w.contains('/')
                        && w.bytes().any(|c| c.is_ascii_digit())
                        && w.bytes().any(|c| c.is_ascii_alphabetic())
                        && super::scan::echo_worthy(w)
                        && !is_expression(w) =>
                {
                    Ok((ws, we))
                }
                _ => Err(vs),
            };
        }
    }
    let Some(&c) = b.get(vs) else {
        return Err(vs);
    };
    // Command substitution reads the secret from elsewhere (`PASSWORD=$(cat /run/secrets/db)`).
    if b[vs..].starts_with(b"$(") {
        return Err(vs);
    }
    // String prefixes of Python and friends: `f"…"`, `r'…'`, `b"…"`.
    let q = match (c, b.get(vs + 1)) {
        (b'f' | b'r' | b'b' | b'u' | b'F' | b'R' | b'B' | b'U', Some(&q @ (b'"' | b'\''))) => {
            Some((vs + 1, q))
        }
        (b'"' | b'\'' | b'`', _) if style != Style::Element => Some((vs, c)),
        _ => None,
    };
    if let Some((at, q)) = q {
        let s = at + 1;
        let mut e = s;
        while e < b.len() && b[e] != q {
            e += if b[e] == b'\\' { 2 } else { 1 };
        }
        // No closing quote: the value is the first word (a stray quote does not swallow the
        // rest of the text).
        let e = if e >= b.len() {
            s + b[s..]
                .iter()
                .position(|&c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'`'))
                .unwrap_or(b.len() - s)
        } else {
            e
        };
        // A literal that is an operand (`", ".join(x)`, `"Basic " + token`, `"%s" % x`): code.
        let after = b.get(skip_blanks(b, (e + 1).min(b.len()), 4)).copied();
        if matches!(after, Some(b'.' | b'%' | b'+' | b'[' | b'*')) {
            return Err(vs);
        }
        let v = &text[s..e];
        let name = v
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
            && !v.bytes().any(|c| c.is_ascii_digit())
            && kw.classify(v).is_some();
        let ok = !v.trim().is_empty()
            && !is_placeholder(v)
            && !templated(v)
            && !name
            && !small_number(v);
        return if ok { Ok((s, e)) } else { Err(e) };
    }
    if structure(&b[vs..]) || matches!(c, b'\n' | b'\r') {
        return Err(vs);
    }
    if style == Style::Flag && c == b'-' {
        return Err(vs);
    }
    let e = match style {
        Style::Element => vs + memchr::memchr2(b'<', b'\n', &b[vs..]).unwrap_or(b.len() - vs),
        Style::Flag => {
            vs + b[vs..]
                .iter()
                .position(|c| c.is_ascii_whitespace())
                .unwrap_or(b.len() - vs)
        }
        // An environment line (`KEY=value`, `- KEY=value`, `export KEY=value`): to its end,
        // unless a command follows the value (`PASSWORD=x ./migrate.sh --env staging`).
        Style::Tight { line: true, .. } => {
            let end = spaced_end(b, vs, budget);
            let word_end = vs
                + b[vs..end]
                    .iter()
                    .position(u8::is_ascii_whitespace)
                    .unwrap_or(end - vs);
            if command_follows(&b[word_end..end]) {
                word_end
            } else {
                // `pass=… user=bob`: the next assignment on the line is not part of the value.
                (vs..end)
                    .find(|&k| matches!(b[k], b' ' | b'&' | b';') && assignment_at(b, k + 1))
                    .unwrap_or(end)
            }
        }
        Style::Tight { query, colon, .. } => {
            let stop = |k: usize| {
                let c = b[k];
                c.is_ascii_whitespace()
                    || matches!(c, b'"' | b'\'' | b'`' | b'<' | b'>')
                    || (query && matches!(c, b'&' | b'#'))
                    || (colon && c == b',')
                    // `api_key=…&user=bob`, `password=…;timeout=30`: a parameter list goes on.
                    || (matches!(c, b'&' | b';') && assignment_at(b, k + 1))
            };
            (vs..b.len()).find(|&k| stop(k)).unwrap_or(b.len())
        }
        Style::Spaced { code } => {
            let end = spaced_end(b, vs, budget);
            // `; ` ends a header value embedded in prose (`Authorization: Bearer …; ticket 42`),
            // except in a cookie, whose pairs it separates.
            let cookie = keyname::Split::new(key.text)
                .iter()
                .any(|p| p.starts_with("cookie"));
            let end = if cookie {
                end
            } else {
                memchr::memmem::find(&b[vs..end], b"; ").map_or(end, |k| vs + k)
            };
            // `Authorization: Bearer <token>` holds one credential after its scheme; what follows
            // on the line (`… under api_key_rotation_policy.`) is not part of it.
            let end = scheme_credential_end(&b[vs..end]).map_or(end, |k| vs + k);
            if code {
                comment_start(&b[vs..end]).map_or(end, |k| vs + k)
            } else {
                end
            }
        }
    };
    let e = trim_end(b, vs, e);
    let s = vs;
    if e <= s {
        return Err(e);
    }
    let v = &text[s..e];
    if is_placeholder(v) || templated(v) || small_number(v) || is_prose(v) {
        return Err(e);
    }
    // The same name again: a variable passed on (`pwd=pwd`, `self.credentials = credentials`).
    let last = key.text.rsplit('.').next().unwrap_or(key.text);
    if v.eq_ignore_ascii_case(key.text) || v.eq_ignore_ascii_case(last) {
        return Err(e);
    }
    let code = matches!(style, Style::Spaced { code: true });
    if code && is_compound(v) {
        return Err(e);
    }
    // A cookie is `name=value` pairs; in examples and docs (`Cookie: chips=ahoy`) the values
    // are words, a session cookie's value holds a digit or a long random run.
    if keyname::Split::new(key.text)
        .iter()
        .any(|p| p.starts_with("cookie"))
        && !cookie_like(v)
    {
        return Err(e);
    }
    // Chained assignments and comparisons in code (`userid = passwd = acct = ''`).
    if code && v.contains(" = ") {
        return Err(e);
    }
    // A comment where a value would be (`if t == token.SEMI: # *sigh*`).
    if v.starts_with("# ") || v.starts_with("//") {
        return Err(e);
    }
    // A name that itself names a secret is the variable holding it (`api_key=api_key`,
    // `password=DB_PASSWORD`, `token=authToken`), not the secret.
    // Not a random string that happens to hold a secret word's letters (`ZqN1aE6PwZPf1Qh6`
    // has a `Pw` hump, `aB3dEf9hPassXy7z` a `Pass`): those are the secret.
    let names_secret = looks_like_name(v) && !random_like(v) && kw.classify(v).is_some();
    if names_secret || is_expression(v) || (code && is_variable(v)) || type_annotation(v) {
        return Err(e);
    }
    Ok((s, e))
}

/// Every occurrence of the secret words' first pieces (ASCII case-insensitive), for callers
/// without the engine's keyword pass (the naive engine, pack self-tests).
pub fn keyword_hits(text: &str, kw: &KeyWords) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut hits = Vec::new();
    for w in kw.first_pieces() {
        let f = memchr::memmem::Finder::new(w.as_bytes());
        hits.extend(f.find_iter(lower.as_bytes()).map(|s| (s, s + w.len())));
    }
    hits.sort_unstable();
    hits.dedup();
    hits
}

#[cfg(test)]
#[path = "assign_tests.rs"]
mod tests;
