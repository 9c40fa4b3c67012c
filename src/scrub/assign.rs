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
    let names_secret = looks_like_name(v) && kw.classify(v).is_some();
    if names_secret || is_expression(v) || (code && is_variable(v)) || type_annotation(v) {
        return Err(e);
    }
    Ok((s, e))
}

/// The length of one of our replacement forms at the start of `b` (`[REDACTED:…]`,
/// `<type:0123456789>`), or of an upstream `[REDACTED]`.
fn marker_len(b: &[u8]) -> Option<usize> {
    if b.starts_with(b"[REDACTED") {
        let e = b.iter().take(64).position(|&c| c == b']')?;
        return Some(e + 1);
    }
    if b.first() == Some(&b'<') {
        let e = b.iter().take(48).position(|&c| c == b'>')?;
        let inner = &b[1..e];
        let colon = inner.iter().position(|&c| c == b':')?;
        let (typ, hex) = (&inner[..colon], &inner[colon + 1..]);
        let ok = !typ.is_empty()
            && typ
                .iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
            && hex.len() == 10
            && hex.iter().all(|c| c.is_ascii_hexdigit());
        return ok.then_some(e + 1);
    }
    None
}

/// A JSON object or array starts here (its members are keys of their own), as opposed to a
/// value that merely begins with a bracket (`[REDACTED]x`).
/// Whether `b[i..]` starts an assignment of a parameter list: a name of 1 to 32 identifier
/// characters, then `=` and something other than `=` (`user=bob`, not `==` or a lone `x`).
fn assignment_at(b: &[u8], i: usize) -> bool {
    let n = b[i.min(b.len())..]
        .iter()
        .take(33)
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    (1..=32).contains(&n)
        && b.get(i + n) == Some(&b'=')
        && b.get(i + n + 1).is_some_and(|&c| c != b'=')
}

/// What follows `PASS: ` in a test runner's output: a test name or a count (`TestLogin (0.00s)`,
/// `47, fail: 2`, `renders login form`), unquoted, letters, digits and `_ . / :` only.
fn test_result(rest: &[u8]) -> bool {
    let word = rest
        .iter()
        .position(|c| c.is_ascii_whitespace() || *c == b',')
        .map_or(rest, |k| &rest[..k]);
    !word.is_empty()
        && word
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b':'))
        && (word.iter().all(u8::is_ascii_digit)
            || !(word.iter().any(u8::is_ascii_digit) && word.iter().any(u8::is_ascii_alphabetic))
            || word[0].is_ascii_uppercase() && word[1..].iter().any(u8::is_ascii_uppercase))
}

fn structure(b: &[u8]) -> bool {
    match b.first() {
        // An object opens with a member, a template with a name or a space; a password that
        // happens to start with a brace (`{Ww8oES9MV3qc#%}`) does neither.
        Some(b'{') => {
            matches!(
                b.get(1),
                None | Some(
                    b'"' | b'\'' | b'{' | b'}' | b' ' | b'\n' | b'\r' | b'\t' | b'%' | b'$'
                )
            ) || b[1..]
                .iter()
                .take_while(|&&c| c != b'}' && c != b'\n')
                .all(|&c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b' ' | b':')
                })
        }
        Some(b'[') => matches!(
            b.get(1),
            None | Some(
                b'"' | b'\'' | b'{' | b'[' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b'-' | b'0'
                    ..=b'9'
            )
        ),
        _ => false,
    }
}

/// A value made only of template expressions and auth-scheme words (`Bearer {token}`,
/// `Token ${API_TOKEN}`, `%s`): it names where the secret comes from.
fn templated(v: &str) -> bool {
    let mut rest = String::with_capacity(v.len());
    let b = v.as_bytes();
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        let close = match (b[i], b.get(i + 1)) {
            (b'$', Some(b'{')) => Some(b'}'),
            (b'{', _) => Some(b'}'),
            (b'%', Some(b'(')) => Some(b')'),
            (b'<', _) => Some(b'>'),
            _ => None,
        };
        if let Some(c) = close {
            let found = b[i + 1..].iter().position(|&x| x == c);
            // `{name}` and `<name>` are templates; a random run in braces is a value.
            let named = |k: usize| {
                let inner = &v[i + 1..i + 1 + k];
                let inner = inner.trim_start_matches(['{', '$', '%', '(']);
                let inner = inner.trim_end_matches(['}', ')']);
                super::validate::placeholder_name(inner) || inner.trim().starts_with('.')
            };
            if let Some(k) = found.filter(|&k| c == b')' || named(k)) {
                i += k + 2;
                // `%(name)s`
                if c == b')' && b.get(i) == Some(&b's') {
                    i += 1;
                }
                any = true;
                continue;
            }
        }
        // A shell variable (`$TOKEN`, `$API_KEY`): the name in capitals.
        if b[i] == b'$'
            && b.get(i + 1)
                .is_some_and(|c| c.is_ascii_uppercase() || *c == b'_')
        {
            let mut j = i + 1;
            while j < b.len()
                && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'_')
            {
                j += 1;
            }
            if b.get(j).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                i = j;
                any = true;
                continue;
            }
        }
        // printf-style specifiers: `%s`, `%r`, `%d`, `%-10s`, `%.2f`.
        if b[i] == b'%' {
            let mut j = i + 1;
            while j < b.len()
                && (b[j].is_ascii_digit() || matches!(b[j], b'-' | b'+' | b' ' | b'#' | b'.'))
            {
                j += 1;
            }
            if j < b.len()
                && matches!(
                    b[j],
                    b's' | b'r'
                        | b'd'
                        | b'i'
                        | b'f'
                        | b'x'
                        | b'X'
                        | b'c'
                        | b'u'
                        | b'o'
                        | b'e'
                        | b'g'
                        | b'a'
                )
            {
                i = j + 1;
                any = true;
                continue;
            }
        }
        rest.push(char::from(b[i]));
        i += 1;
    }
    if !any {
        return false;
    }
    let words = ["bearer", "basic", "token", "digest", "bot", "apikey", "key"];
    if !rest.bytes().any(|c| c.is_ascii_alphanumeric()) {
        return true;
    }
    rest.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .all(|w| words.contains(&w.to_ascii_lowercase().as_str()))
}

/// End of a `key: value` value: the end of the line, a string literal's closing quote, or a
/// sentence end (`. ` followed by a capital). Inside brackets a quote opens a string of the
/// expression (`os.environ["KEY"]`), not the end of the value.
fn spaced_end(b: &[u8], vs: usize, budget: &mut usize) -> usize {
    let end = spaced_end_unmetered(b, vs, budget);
    // Counted as engine work, so the growth tests see a value read once per key.
    super::engine::add_work(end.saturating_sub(vs));
    end
}

fn spaced_end_unmetered(b: &[u8], vs: usize, budget: &mut usize) -> usize {
    let mut i = vs;
    let mut depth = 0usize;
    while i < b.len() {
        if *budget == 0 {
            // Out of budget (see `find`): the rest of the line, unread.
            return memchr::memchr2(b'\n', b'\r', &b[i..]).map_or(b.len(), |k| i + k);
        }
        *budget -= 1;
        match b[i] {
            b'\n' | b'\r' => return i,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'' | b'`') if depth > 0 => {
                // Skip the quoted string inside the expression.
                match b[i + 1..].iter().position(|&c| c == q || c == b'\n') {
                    Some(k) if b[i + 1 + k] == q => i += k + 1,
                    _ => return i,
                }
            }
            b'"' | b'`' => return i,
            b'\'' if i > vs && !b[i - 1].is_ascii_alphabetic() => return i,
            b'\'' if !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => return i,
            b'.' | b'!' | b'?'
                if b.get(i + 1) == Some(&b' ')
                    && b.get(i + 2).is_some_and(u8::is_ascii_uppercase) =>
            {
                return i
            }
            // The next clause of an SQL statement (`SET password = 0x… WHERE id = 42`).
            b' ' if depth == 0 && sql_clause(&b[i + 1..]) => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Whether `rest` (after an environment assignment's first word) is a command: its first word
/// is a path (`./run.sh`, `/usr/bin/x`) or another word is a flag (`--env`, `-v`).
fn command_follows(rest: &[u8]) -> bool {
    let mut words = rest
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return false;
    };
    first.contains(&b'/')
        || words.any(|w| {
            w.len() >= 2 && w[0] == b'-' && w[1].is_ascii_alphabetic() || w.starts_with(b"--")
        })
}

/// An upper-case SQL keyword that starts a clause, then a blank.
fn sql_clause(b: &[u8]) -> bool {
    const CLAUSES: &[&[u8]] = &[
        b"WHERE",
        b"AND",
        b"OR",
        b"FROM",
        b"LIMIT",
        b"ORDER",
        b"GROUP",
        b"RETURNING",
        b"VALUES",
        b"HAVING",
        b"ON",
        b"USING",
        b"WITH",
    ];
    CLAUSES
        .iter()
        .any(|k| b.starts_with(k) && matches!(b.get(k.len()), Some(b' ' | b'\n' | b'\t')))
}

/// Where a trailing comment starts in a code value (`4   # auth messages`, `x // note`).
fn comment_start(v: &[u8]) -> Option<usize> {
    let hash = v.windows(2).position(|w| w == b" #");
    let slashes = v.windows(3).position(|w| w == b" //");
    match (hash, slashes) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Drops trailing blanks, trailing sentence punctuation and closing brackets the value did not
/// open (`f(password=pw)`, `pw.`).
fn trim_end(b: &[u8], s: usize, mut e: usize) -> usize {
    loop {
        if e <= s {
            return e;
        }
        let c = b[e - 1];
        let unopened = |open: u8, close: u8| {
            c == close && {
                let v = &b[s..e];
                v.iter().filter(|&&x| x == open).count() < v.iter().filter(|&&x| x == close).count()
            }
        };
        if c.is_ascii_whitespace()
            || matches!(c, b',' | b';' | b'.' | b'!' | b'?' | b':')
            || unopened(b'(', b')')
            || unopened(b'[', b']')
            || unopened(b'{', b'}')
        {
            e -= 1;
        } else {
            return e;
        }
    }
}

fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

/// Code that reads a secret from somewhere: a chain of names, calls and indexes with at least
/// one `.`, `::`, `->`, call or index (`os.environ["KEY"]`, `getpass.getpass()`,
/// `req.headers.authorization`, `process.current_process().authkey`, `$(cat f)`), also when the
/// line cuts it off inside a call (`re.compile(r"…".format(`); or a language literal.
pub(crate) fn is_expression(v: &str) -> bool {
    // A line continued after it (`x.decode(a).\`) is cut, not ended.
    let v = v.trim().trim_end_matches([';', ',', '\\', '.', ' ']);
    if matches!(
        v,
        "None"
            | "null"
            | "nil"
            | "NULL"
            | "Nil"
            | "true"
            | "false"
            | "True"
            | "False"
            | "undefined"
    ) {
        return true;
    }
    if v.starts_with("$(") && v.ends_with(')') {
        return true;
    }
    let b = v.as_bytes();
    if b.is_empty() || !ident_start(b[0]) {
        return false;
    }
    let mut i = 0;
    let mut structured = false;
    loop {
        // A name (one that reads like a random token, `eyJhbGciOiJIUzI1NiJ9`, is not code).
        if i >= b.len() || !ident_start(b[i]) {
            return false;
        }
        let name_start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
            i += 1;
        }
        if random_name(&b[name_start..i]) {
            return false;
        }
        // Calls and indexes after it.
        while i < b.len() && matches!(b[i], b'(' | b'[') {
            let (open, close) = if b[i] == b'(' {
                (b'(', b')')
            } else {
                (b'[', b']')
            };
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                if b[j] == open {
                    depth += 1;
                } else if b[j] == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            structured = true;
            if j >= b.len() {
                // Cut off by the line inside the call: code all the same.
                return true;
            }
            i = j + 1;
        }
        if i >= b.len() {
            return structured;
        }
        // `.`, `::` or `->` and the next name.
        let step = if b[i] == b'.' {
            1
        } else if b[i..].starts_with(b"::") || b[i..].starts_with(b"->") {
            2
        } else {
            return false;
        };
        i += step;
        structured = true;
    }
}

/// A name of 12 or more characters that mixes capitals, small letters and digits, as base64
/// does and code identifiers do not.
fn random_name(n: &[u8]) -> bool {
    n.len() >= 12
        && n.iter().any(u8::is_ascii_uppercase)
        && n.iter().any(u8::is_ascii_lowercase)
        && n.iter().any(u8::is_ascii_digit)
}

/// An expression of several operands (`TSPECIALS | WSP`, `a + b`, `[CFWS] 1*ttext [CFWS]`,
/// `x if y else z`): blanks and an operator or bracket between names, and no quotes. A
/// password with symbols has no blanks between its parts.
fn is_compound(v: &str) -> bool {
    let b = v.as_bytes();
    b.contains(&b' ')
        && !b.iter().any(|&c| matches!(c, b'"' | b'\'' | b'`'))
        && (b.iter().any(|&c| {
            matches!(
                c,
                b'|' | b'+' | b'*' | b'(' | b'[' | b'<' | b'>' | b'&' | b'%'
            )
        }) || v.split(' ').any(|w| {
            matches!(
                w,
                "if" | "else" | "and" | "or" | "not" | "in" | "is" | "for"
            )
        }))
}

/// Common words of English prose: a value holding two of them is a sentence, not a passphrase
/// (`- password:  The password for the authentication.`).
const STOPWORDS: &[&str] = &[
    "the", "a", "an", "of", "for", "to", "is", "are", "was", "be", "in", "on", "with", "by",
    "this", "that", "it", "and", "or", "not", "from", "as", "at", "if", "your", "you", "will",
    "can", "must", "should", "when", "which", "used", "use",
];

fn is_prose(v: &str) -> bool {
    let mut n = 0;
    // Whole blank-separated words only: the letters between a random value's digits
    // (`a24f1325404a`) are not words.
    for w in v.split_ascii_whitespace() {
        let w =
            w.trim_matches(|c: char| matches!(c, ',' | '.' | ';' | ':' | '(' | ')' | '"' | '\''));
        if w.len() <= 6 && STOPWORDS.iter().any(|s| s.eq_ignore_ascii_case(w)) {
            n += 1;
            if n >= 2 {
                return true;
            }
        }
    }
    false
}

/// Auth schemes whose credential is one word after them (RFC 7235 `token68` schemes).
const SCHEMES: &[&str] = &[
    "bearer",
    "basic",
    "token",
    "bot",
    "apikey",
    "api-key",
    "sso-key",
    "otoken",
    "negotiate",
    "ntlm",
    "key",
];

/// For a value `<scheme> <credential> …`, where the credential ends.
fn scheme_credential_end(v: &[u8]) -> Option<usize> {
    let first_end = v.iter().position(|&c| c == b' ' || c == b'\t')?;
    let scheme = std::str::from_utf8(&v[..first_end])
        .ok()?
        .to_ascii_lowercase();
    if !SCHEMES.contains(&scheme.as_str()) {
        return None;
    }
    // The credential: the next word that is not a marker left by an earlier redaction.
    let mut at = first_end;
    loop {
        let cred = at + v[at..].iter().position(|&c| c != b' ' && c != b'\t')?;
        let end = cred
            + v[cred..]
                .iter()
                .position(|&c| c == b' ' || c == b'\t')
                .unwrap_or(v.len() - cred);
        if marker_len(&v[cred..end]).is_some_and(|n| n == end - cred) && end < v.len() {
            at = end;
            continue;
        }
        return Some(end);
    }
}

/// Whether a cookie header value carries something secret-looking: a `name=value` pair whose
/// value holds a digit or a run of 16 or more token characters.
pub(crate) fn cookie_like(v: &str) -> bool {
    v.split(';').any(|pair| {
        let Some((_, val)) = pair.split_once('=') else {
            return false;
        };
        val.bytes().any(|c| c.is_ascii_digit())
            || val
                .split(|c: char| {
                    !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '%' | '+' | '/'))
                })
                .any(|w| w.len() >= 16)
    })
}

/// A small integer (a flag, a count, a port) rather than a PIN or a secret: fewer than four
/// digits.
fn small_number(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v);
    !d.is_empty() && d.len() < 4 && d.bytes().all(|c| c.is_ascii_digit())
}

/// A plain variable name on the right of `key = …` in code (`api_key = key`,
/// `password = user_password`, `token = v`, `SECRET = DJANGO_SECRET`): an identifier without
/// digits (one with digits, `hunter2`, is taken as the value itself).
fn is_variable(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && ident_start(b[0]) && b.iter().all(|&c| c.is_ascii_alphabetic() || c == b'_')
}

/// An identifier written as a name: with `_`, a camelCase hump, or in capitals.
fn looks_like_name(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && ident_start(b[0])
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        && (b.contains(&b'_')
            || b.windows(2)
                .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
            || (b.iter().all(|c| !c.is_ascii_lowercase()) && b.iter().any(u8::is_ascii_uppercase)))
}

/// Built-in type names of common languages.
const TYPES: &[&str] = &[
    "str",
    "string",
    "String",
    "int",
    "bytes",
    "bool",
    "boolean",
    "float",
    "double",
    "dict",
    "list",
    "object",
    "Any",
    "any",
    "Optional",
    "Union",
    "SecretStr",
    "SecretBytes",
    "Secret",
    "char",
    "number",
    "unknown",
    "never",
    "void",
    "Vec",
    "Option",
    "u8",
    "i64",
    "u64",
    "i32",
    "usize",
    "Password",
    "Token",
    "Credentials",
];

/// A type annotation rather than a value: `str`, `Optional[str] = None`, `SecretStr | None`,
/// `string;`, `Field(...)`.
fn type_annotation(v: &str) -> bool {
    let v = v.trim();
    let head_end = v
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(v.len());
    let head = &v[..head_end];
    let rest = v[head_end..].trim_start();
    let head_last = head.rsplit('.').next().unwrap_or(head);
    if head.is_empty() {
        return false;
    }
    let known = TYPES.contains(&head_last) || head.starts_with("typing.");
    let bracketed = rest.starts_with('[')
        && rest.find(']').is_some_and(|k| {
            rest[1..k].bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b',' | b' ' | b'[' | b'|')
            })
        });
    let typeish_rest = rest.is_empty()
        || bracketed
        || rest.starts_with('|')
        || (rest.starts_with('=') && !rest.starts_with("=="))
        || rest.starts_with(',')
        || rest.starts_with(')')
        || rest.starts_with('<')
        || rest.starts_with(';');
    // A CamelCase name (letters only, a lower-case letter after the capital) followed by type
    // syntax: `Optional[str]`, `SecretStr | None`, `Field(...)` is left to `is_expression`.
    let camel = head_last
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && head_last.bytes().all(|c| c.is_ascii_alphabetic())
        && head_last.bytes().any(|c| c.is_ascii_lowercase());
    (known && typeish_rest) || (camel && !rest.is_empty() && typeish_rest)
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
mod tests {
    use super::*;

    fn found(text: &str) -> Vec<&str> {
        let kw = KeyWords::defaults();
        let hits = keyword_hits(text, &kw);
        let mut out = Vec::new();
        find(
            text,
            &hits,
            &kw,
            FamilyRules {
                password: Some(0),
                secret: Some(1),
            },
            &mut out,
        );
        out.iter().map(|m| &text[m.start..m.end]).collect()
    }

    #[test]
    fn test_results_templates_and_bracketed_passwords() {
        // Test-runner output is not a password; `pass=` and `DB_PASS:` are.
        for t in [
            "--- PASS: TestLogin (0.00s)",
            "Tests: pass: 47, fail: 2, skip: 1",
            "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com",
            "password: {{ .Values.db.password }}",
            "api_key = \"{api_key}\"",
            "Authorization: [REDACTED] under review",
            "PASSWORD=[REDACTED:password_assignment] ./run-migrations.sh --env staging",
            "pass: 3/3",
        ] {
            assert!(found(t).is_empty(), "{t}: {:?}", found(t));
        }
        let cases = [
            ("pass=Hunter2x99", "Hunter2x99"),
            ("DB_PASS: Hunter2x99", "Hunter2x99"),
            ("password={Ww8oES9MV3qc#%}", "{Ww8oES9MV3qc#%}"),
            ("password: <Y0KNK#p2J5iQFM>", "<Y0KNK#p2J5iQFM>"),
            ("password = {ETNKlyCe7%IIvh", "{ETNKlyCe7%IIvh"),
            ("password: [REDACTED] Heron-Thistle-92", "Heron-Thistle-92"),
            ("api_key=5wBIj0fecRPdnT&user=bob", "5wBIj0fecRPdnT"),
            ("x password=as3#*pvz7bWPq*;timeout=30", "as3#*pvz7bWPq*"),
            ("pass=P21S3cn91wwSOe user=bob", "P21S3cn91wwSOe"),
            ("{\"user\": \"ops\", \"pass\": \"pelican\"}", "pelican"),
            ("[REDACTED:password] pass: g1fd!xIiCu+k", "g1fd!xIiCu+k"),
        ];
        for (t, v) in cases {
            assert_eq!(found(t), vec![v], "{t}");
        }
    }

    #[test]
    fn a_line_of_many_refused_values_is_read_once() {
        // Each `Authorization:` value is cut after its one-word credential; reading every one
        // to the line end was quadratic. Past the scan budget the rest of the line is masked.
        let work = |n: usize| {
            let line = "Authorization: Bearer x ".repeat(n);
            let before = crate::scrub::engine::work_meter();
            assert!(!found(&line).is_empty());
            crate::scrub::engine::work_meter() - before
        };
        let (small, large) = (work(2_000), work(8_000));
        assert!(
            large <= 6 * small,
            "work {small} -> {large} for 4x the input"
        );
    }

    #[test]
    fn random_values_are_not_read_as_prose() {
        // Letters between digits are not words: every random hex or alphanumeric value is a
        // value, whatever letters it happens to hold.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for len in [8, 12, 20, 40, 64, 97] {
            for _ in 0..50 {
                let v: String = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        b"0123456789abcdef"[(x % 16) as usize] as char
                    })
                    .collect();
                let text = format!("SECRET_KEY_BASE={v}\nRAILS_ENV=production");
                assert_eq!(found(&text), vec![v.as_str()], "{text}");
            }
        }
        assert!(is_prose("The password for the database."));
        assert!(!is_prose("a24f1325404a"));
    }

    #[test]
    fn values_are_masked_to_their_real_end() {
        let long = "A".repeat(3000);
        let cases: Vec<(String, &str)> = vec![
            (
                "passphrase: correct horse battery staple".into(),
                "correct horse battery staple",
            ),
            ("run PASSWORD=ab;cd,ef&gh next".into(), "ab;cd,ef&gh"),
            ("PASSWORD=ab;cd,ef&gh next".into(), "ab;cd,ef&gh next"),
            (
                "PASSWORD=fk;sj,ip&X!64 ./run-migrations.sh --env staging".into(),
                "fk;sj,ip&X!64",
            ),
            (
                "  - ADMIN_PASSWORD=beacon hazel 811\nnext: 1".into(),
                "beacon hazel 811",
            ),
            (
                "pass=<password:f4905dcf68>G9x-SjF#ye=8_".into(),
                "G9x-SjF#ye=8_",
            ),
            (
                "DB_PASSWORD=[REDACTED]JnoHEo-v+aO3LB".into(),
                "JnoHEo-v+aO3LB",
            ),
            (
                "{\"secret\": \"[REDACTED:generic_secret]tMlKpD\"}".into(),
                "[REDACTED:generic_secret]tMlKpD",
            ),
            (
                "Authorization: Bearer [REDACTED:x] tbddbXwF".into(),
                "Bearer [REDACTED:x] tbddbXwF",
            ),
            ("export X_PASS=\"s3 cr3t\"".into(), "s3 cr3t"),
            ("{\"api_key\": \"abc def\", \"n\": 1}".into(), "abc def"),
            (
                "https://h/login?user=bob&password=hunter2&next=/home".into(),
                "hunter2",
            ),
            ("mysql --password hunter2 -h db".into(), "hunter2"),
            ("<password>hunter2</password>".into(), "hunter2"),
            (
                "Authorization: Bearer abc.def.ghi".into(),
                "Bearer abc.def.ghi",
            ),
            (
                "details are Authorization: Bearer abc.def; ticket 42".into(),
                "Bearer abc.def",
            ),
            (
                "Stored Authorization: Bearer abc.def.ghi under policy_x.".into(),
                "Bearer abc.def.ghi",
            ),
            (
                "The contact on file is password=AkdFMvUvzwseVM.".into(),
                "AkdFMvUvzwseVM",
            ),
            (
                "Cookie: a=1; sid=8f2k1LmQz0x".into(),
                "a=1; sid=8f2k1LmQz0x",
            ),
            ("db_pwd=Zx81kkq;".into(), "Zx81kkq"),
            ("f(password=pw1)".into(), "pw1"),
            (format!("token={long}"), long.as_str()),
            ("'token': 'x\ny'".into(), "x\ny"),
            ("password=`abc def".into(), "abc"),
            ("API key: 8f3k2j9s".into(), "8f3k2j9s"),
            ("password: hunter2. Please rotate it.".into(), "hunter2"),
            (
                "SECRET_KEY = \"django-insecure-x\"".into(),
                "django-insecure-x",
            ),
            (
                "client-key-data: LS0tLS1CRUdJTg==".into(),
                "LS0tLS1CRUdJTg==",
            ),
            ("pin: 1234".into(), "1234"),
            (
                "UPDATE users SET password_plain = 0x384e63 WHERE id = 42".into(),
                "0x384e63",
            ),
            (
                "<add key=\"ApiSecret\" value=\"EaMxTe2I8KCr\" />".into(),
                "EaMxTe2I8KCr",
            ),
            (
                "{\"key\":\"db.password\",\"value\":{\"stringValue\":\"hunter2x\"}}".into(),
                "hunter2x",
            ),
            (
                "<entry key=\"password\">hunter2x</entry>".into(),
                "hunter2x",
            ),
            (
                "[{\"name\": \"X-Api-Key\", \"value\": \"k3y-v4lue\"}]".into(),
                "k3y-v4lue",
            ),
        ];
        for (text, want) in &cases {
            assert_eq!(found(text), vec![*want], "{text}");
        }
    }

    #[test]
    fn code_prose_and_placeholders_are_not_values() {
        for text in [
            "api_key = os.environ[\"OPENAI_API_KEY\"]",
            "password = getpass.getpass()",
            "token = req.headers.authorization",
            "return settings.SECRET_KEY",
            "client = OpenAI(api_key=api_key)",
            "connect(password=DB_PASSWORD)",
            "password = user_password",
            "def login(password: str, token: Optional[str] = None):",
            "password: SecretStr | None = None",
            "Login failed: the password is incorrect.",
            "Your password was reset.",
            "if password == expected:",
            "password: ${DB_PASSWORD}",
            "password=\"\"",
            "password: null",
            "token_count: 512",
            "max token: 4096",
            "\"credentials\": {\"user\": \"bob\"}",
            "password: [REDACTED:password_assignment]",
            "Password::new(x)",
            "passwords: 3",
            "PWD=/home/user/project",
            "password-reset link sent",
            "PASSWORD=$(cat /run/secrets/db)",
            "the primary key is order_line_id",
            "const token: string = getToken();",
            "headers = {\"Authorization\": f\"Bearer {token}\"}",
            "auth = `Token ${API_TOKEN}`",
            "gpg --export-secret-keys --armor",
            "token = req.headers.authorization",
            "(PasswordValidator.java:42)",
            "{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"12\"}}",
            "{\"key\":\"password\"}, {\"value\": \"unrelated\"}",
            "private_key:1,blocked_key:1",
        ] {
            assert_eq!(found(text), Vec::<&str>::new(), "{text}");
        }
    }

    #[test]
    fn dense_keywords_stay_linear() {
        // Every hit is inside one identifier or value already read: each byte is looked at a
        // bounded number of times.
        let text = "password".repeat(50_000);
        assert!(found(&text).is_empty());
        let text = "token=".repeat(50_000);
        assert_eq!(found(&text).len(), 1);
    }
}
