//! Encodings that hide a secret from rules written for its plain form, decoded for a second
//! look. Two kinds:
//!
//! - character escapes, decoded in place into a view that maps back to the escapes
//!   ([`decode_escapes`]): `%`-encoding (`%40`, also twice: `%2540`), HTML character references
//!   (`&#64;`, `&#x40;`, `&commat;`), quoted-printable (`=40`, soft line breaks `=\r\n`) and
//!   `\xNN` byte escapes. A match in the view masks the whole escapes it covers.
//! - whole-run encodings ([`runs`]): base64, base64url and hex runs whose decoded bytes are
//!   text. The decoded text is scanned like any other string (one level deeper, bounded), and
//!   when it holds a secret the whole encoded run is masked: an env file or a
//!   `.dockerconfigjson` pasted as base64 is the everyday case.
//!
//!   gzip and zlib streams inside such a run are inflated first (at most 1 MiB of text).
//!
//! What is not decoded: raw deflate without a header, other compressions, encryption,
//! base32/base58, ROT13, and escapes that change nothing a rule could see (`+` for space).

use super::mapped::Sink;
use std::ops::Range;

/// Named HTML character references worth decoding (the ones that can stand in for a character
/// a rule looks at). Matched case-sensitively, with their `;`.
const ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("AMP", '&'),
    ("lt", '<'),
    ("LT", '<'),
    ("gt", '>'),
    ("GT", '>'),
    ("quot", '"'),
    ("QUOT", '"'),
    ("apos", '\''),
    ("nbsp", ' '),
    ("commat", '@'),
    ("period", '.'),
    ("colon", ':'),
    ("semi", ';'),
    ("comma", ','),
    ("excl", '!'),
    ("quest", '?'),
    ("num", '#'),
    ("dollar", '$'),
    ("percnt", '%'),
    ("plus", '+'),
    ("equals", '='),
    ("lowbar", '_'),
    ("UnderBar", '_'),
    ("hyphen", '-'),
    ("dash", '-'),
    ("sol", '/'),
    ("bsol", '\\'),
    ("lsqb", '['),
    ("lbrack", '['),
    ("rsqb", ']'),
    ("rbrack", ']'),
    ("lcub", '{'),
    ("lbrace", '{'),
    ("rcub", '}'),
    ("rbrace", '}'),
    ("lpar", '('),
    ("rpar", ')'),
    ("ast", '*'),
    ("midast", '*'),
    ("verbar", '|'),
    ("vert", '|'),
    ("VerticalLine", '|'),
    ("Hat", '^'),
    ("grave", '`'),
    ("DiacriticalGrave", '`'),
    ("tilde", '~'),
    ("Tab", '\t'),
    ("NewLine", '\n'),
];

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

fn hex_pair(b: &[u8], i: usize) -> Option<u8> {
    Some(hex_val(*b.get(i)?)? << 4 | hex_val(*b.get(i + 1)?)?)
}

/// An escape that stands for one byte: `%XX`, `=XX` (upper-case hex, as RFC 2045 writes it) or
/// `\xNN`. Returns the byte and the escape's length.
fn byte_escape(b: &[u8], i: usize, qp: bool) -> Option<(u8, usize)> {
    match b[i] {
        b'%' => hex_pair(b, i + 1).map(|v| (v, 3)),
        b'=' if qp => {
            let (h, l) = (*b.get(i + 1)?, *b.get(i + 2)?);
            let upper = |c: u8| c.is_ascii_digit() || (b'A'..=b'F').contains(&c);
            (upper(h) && upper(l))
                .then(|| hex_pair(b, i + 1))
                .flatten()
                .map(|v| (v, 3))
        }
        b'\\' if matches!(b.get(i + 1), Some(b'x' | b'X')) => hex_pair(b, i + 2).map(|v| (v, 4)),
        // Octal `\101` (three digits, as printf and C write bytes).
        b'\\' => {
            let d = b.get(i + 1..i + 4)?;
            if !d.iter().all(|c| (b'0'..=b'7').contains(c)) {
                return None;
            }
            let v =
                u32::from(d[0] - b'0') * 64 + u32::from(d[1] - b'0') * 8 + u32::from(d[2] - b'0');
            u8::try_from(v).ok().map(|v| (v, 4))
        }
        _ => None,
    }
}

/// `%uXXXX` (the non-standard escape some servers still write): the character and its length.
fn percent_u(b: &[u8], i: usize) -> Option<(char, usize)> {
    if b[i] != b'%' || !matches!(b.get(i + 1), Some(b'u' | b'U')) {
        return None;
    }
    let h = b.get(i + 2..i + 6)?;
    let v = h
        .iter()
        .try_fold(0u32, |a, &c| hex_val(c).map(|d| a * 16 + u32::from(d)))?;
    char::from_u32(v).filter(|_| v != 0).map(|c| (c, 6))
}

/// A quoted-printable soft line break at `i` (`=\r\n` or `=\n`): its length.
fn soft_break(b: &[u8], i: usize) -> Option<usize> {
    if b[i] != b'=' {
        return None;
    }
    match (b.get(i + 1), b.get(i + 2)) {
        (Some(b'\r'), Some(b'\n')) => Some(3),
        (Some(b'\n'), _) => Some(2),
        _ => None,
    }
}

/// An HTML character reference at `i` (`&#64;`, `&#x40;`, `&commat;`): the character and the
/// reference's length. Numeric references without their `;` are accepted, as browsers do.
fn entity(b: &[u8], i: usize) -> Option<(char, usize)> {
    if b.get(i + 1) == Some(&b'#') {
        let hex = matches!(b.get(i + 2), Some(b'x' | b'X'));
        let from = i + 2 + usize::from(hex);
        let mut j = from;
        let mut v: u32 = 0;
        while j < b.len() && j - from < 8 {
            let d = if hex {
                hex_val(b[j]).map(u32::from)
            } else {
                b[j].is_ascii_digit().then(|| u32::from(b[j] - b'0'))
            };
            let Some(d) = d else { break };
            v = v * if hex { 16 } else { 10 } + d;
            j += 1;
        }
        if j == from || v == 0 {
            return None;
        }
        let end = if b.get(j) == Some(&b';') { j + 1 } else { j };
        return char::from_u32(v).map(|c| (c, end - i));
    }
    let name_end = (i + 1..b.len().min(i + 16)).find(|&j| !b[j].is_ascii_alphabetic())?;
    if b.get(name_end) != Some(&b';') || name_end == i + 1 {
        return None;
    }
    let name = &b[i + 1..name_end];
    ENTITIES
        .iter()
        .find(|(n, _)| n.as_bytes() == name)
        .map(|&(_, c)| (c, name_end + 1 - i))
}

/// Whether quoted-printable escapes are decoded in `text`: it says so (`quoted-printable`, an
/// RFC 2047 `=?charset?Q?` word), holds an escaped `=` or blank (`=3D`, `=20`, `=09`), or has
/// more than one soft line break. A lone `=40` in `timeout=40`, or the `=` padding that ends a
/// base64 line, is not quoted-printable.
fn looks_quoted_printable(b: &[u8]) -> bool {
    let mut soft = 0;
    let mut from = 0;
    while let Some(k) = memchr::memchr(b'=', &b[from..]) {
        let i = from + k;
        if let Some(b"3D" | b"3d" | b"20" | b"09") = b.get(i + 1..i + 3) {
            return true;
        }
        if b.get(i + 1) == Some(&b'?') && encoded_word(b, i).is_some() {
            return true;
        }
        if soft_break(b, i).is_some() && i > 0 && b[i - 1] != b'=' {
            soft += 1;
            if soft >= 2 {
                return true;
            }
        }
        from = i + 1;
    }
    contains_ci(b, b"quoted-printable")
}

fn contains_ci(hay: &[u8], needle: &[u8]) -> bool {
    // Only positions that start with the needle's first letter are compared (linear in
    // practice; a text of that letter alone costs one short compare per byte).
    let Some(&first) = needle.first() else {
        return true;
    };
    memchr::memchr2_iter(first.to_ascii_lowercase(), first.to_ascii_uppercase(), hay).any(|i| {
        hay.get(i..i + needle.len())
            .is_some_and(|w| w.eq_ignore_ascii_case(needle))
    })
}

/// An RFC 2047 `Q` encoded word starting at `i` (`=?utf-8?Q?…?=`): where its text starts and
/// where the word ends.
fn encoded_word(b: &[u8], i: usize) -> Option<(usize, usize)> {
    if b.get(i..i + 2) != Some(b"=?") {
        return None;
    }
    let cs_end = i + 2 + b[i + 2..].iter().take(40).position(|&c| c == b'?')?;
    if !matches!(b.get(cs_end + 1), Some(b'Q' | b'q')) || b.get(cs_end + 2) != Some(&b'?') {
        return None;
    }
    let text = cs_end + 3;
    let end = text + memchr::memmem::find(&b[text..], b"?=")?;
    Some((text, end + 2))
}

/// Whether [`decode_escapes`] would change `text`.
pub fn has_escapes(text: &str) -> bool {
    let b = text.as_bytes();
    let qp = looks_quoted_printable(b);
    let mut from = 0;
    while let Some(k) = memchr::memchr3(b'%', b'&', b'\\', &b[from..]) {
        let i = from + k;
        let hit = match b[i] {
            b'&' => entity(b, i).is_some(),
            _ => byte_escape(b, i, false).is_some() || percent_u(b, i).is_some(),
        };
        if hit {
            return true;
        }
        from = i + 1;
    }
    qp
}

/// Decodes one level of character escapes into `out`. Runs of byte escapes decode together, so
/// the `%C3%A9` of one `é` becomes one character mapped to all six bytes; bytes that do not
/// form UTF-8 stay as they were written.
pub fn decode_escapes<S: Sink>(text: &str, out: &mut S) {
    let b = text.as_bytes();
    let qp = looks_quoted_printable(b);
    let mut i = 0;
    let mut lit = 0;
    let mut bytes: Vec<u8> = Vec::new();
    let mut ends: Vec<usize> = Vec::new();
    while i < b.len() {
        let c = b[i];
        if !matches!(c, b'%' | b'&' | b'\\' | b'=') {
            i += 1;
            continue;
        }
        if qp {
            if let Some(n) = soft_break(b, i) {
                out.copy(&text[lit..i], lit);
                out.drop_unit();
                i += n;
                lit = i;
                continue;
            }
        }
        if qp && c == b'=' {
            // An RFC 2047 word's `_` stands for a space.
            if let Some((ts, we)) = encoded_word(b, i) {
                out.copy(&text[lit..i], lit);
                out.drop_unit();
                decode_q(text, ts, we - 2, out);
                out.drop_unit();
                i = we;
                lit = i;
                continue;
            }
        }
        if let Some((ch, n)) = percent_u(b, i) {
            out.copy(&text[lit..i], lit);
            out.push(ch, i..i + n);
            i += n;
            lit = i;
            continue;
        }
        if c == b'&' {
            if let Some((ch, n)) = entity(b, i) {
                out.copy(&text[lit..i], lit);
                out.push(ch, i..i + n);
                i += n;
                lit = i;
                continue;
            }
            i += 1;
            continue;
        }
        // A run of byte escapes.
        bytes.clear();
        ends.clear();
        let mut j = i;
        while j < b.len() {
            match byte_escape(b, j, qp) {
                Some((v, n)) => {
                    bytes.push(v);
                    j += n;
                    ends.push(j);
                }
                None => break,
            }
        }
        if bytes.is_empty() {
            i += 1;
            continue;
        }
        out.copy(&text[lit..i], lit);
        push_bytes(text, i, &bytes, &ends, out);
        i = j;
        lit = i;
    }
    if lit < b.len() {
        out.copy(&text[lit..], lit);
    }
}

/// The text of an RFC 2047 `Q` word (`text[s..e]`): `=XX` escapes and `_` for a space.
fn decode_q<S: Sink>(text: &str, s: usize, e: usize, out: &mut S) {
    let b = text.as_bytes();
    let mut i = s;
    let mut lit = s;
    while i < e {
        if b[i] == b'_' {
            out.copy(&text[lit..i], lit);
            out.push(' ', i..i + 1);
            i += 1;
            lit = i;
            continue;
        }
        if b[i] == b'=' {
            let mut bytes = Vec::new();
            let mut ends = Vec::new();
            let mut j = i;
            while j + 3 <= e {
                match byte_escape(b, j, true) {
                    Some((v, n)) => {
                        bytes.push(v);
                        j += n;
                        ends.push(j);
                    }
                    None => break,
                }
            }
            if !bytes.is_empty() {
                out.copy(&text[lit..i], lit);
                push_bytes(text, i, &bytes, &ends, out);
                i = j;
                lit = i;
                continue;
            }
        }
        i += 1;
    }
    out.copy(&text[lit..e], lit);
}

/// Writes decoded `bytes` (escape `k` ends at raw `ends[k]`, the run starts at `at`): each
/// UTF-8 character maps to its escapes; invalid bytes keep their escapes as written.
fn push_bytes<S: Sink>(text: &str, at: usize, bytes: &[u8], ends: &[usize], out: &mut S) {
    let mut k = 0;
    let mut raw = at;
    while k < bytes.len() {
        let n = utf8_len(bytes[k]);
        let ch = (n > 0 && k + n <= bytes.len())
            .then(|| std::str::from_utf8(&bytes[k..k + n]).ok())
            .flatten()
            .and_then(|s| s.chars().next());
        match ch {
            Some(c) => {
                out.push(c, raw..ends[k + n - 1]);
                raw = ends[k + n - 1];
                k += n;
            }
            None => {
                out.copy(&text[raw..ends[k]], raw);
                raw = ends[k];
                k += 1;
            }
        }
    }
}

fn utf8_len(first: u8) -> usize {
    match first {
        0x00..=0x7F => 1,
        0xC2..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => 0,
    }
}

/// Shortest base64 run decoded (18 bytes of text): shorter runs are identifiers and hashes.
pub const MIN_B64: usize = 24;
/// Shortest hex run decoded (16 bytes of text).
pub const MIN_HEX: usize = 32;

/// Base64 alphabet (both variants) and padding, as a table: the run finder reads every byte of
/// every string.
static B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_' | b'=');
        c += 1;
    }
    t
};

fn b64_byte(c: u8) -> bool {
    B64[usize::from(c)]
}

/// An encoded run of `text` and what it decodes to.
pub struct Run {
    pub range: Range<usize>,
    pub text: String,
}

/// Base64, base64url and hex runs of `text` whose decoded bytes are text, decoded. A run of
/// base64 characters is cut at `=` padding; runs shorter than [`MIN_B64`] / [`MIN_HEX`] are
/// skipped; so are runs whose first decoded bytes already are not text (images, hashes, random
/// ids: decided on a short prefix, so binary runs cost little).
pub fn runs(text: &str, out: &mut Vec<Run>) {
    const MIN_RUN: usize = if MIN_B64 < MIN_HEX { MIN_B64 } else { MIN_HEX };
    let b = text.as_bytes();
    let body_byte = |c: u8| b64_byte(c) && c != b'=';
    let mut i = 0;
    while i < b.len() {
        // A run long enough to decode that starts at or after `i` covers all of
        // `i..i + MIN_RUN` or starts after the last byte there outside the alphabet: reading
        // that window from its end finds that byte after a few bytes of prose, and the search
        // jumps past it (a word at a time, Horspool-like, instead of a byte at a time).
        if i + MIN_RUN > b.len() {
            break;
        }
        if let Some(k) = (i..i + MIN_RUN).rev().find(|&k| !body_byte(b[k])) {
            i = k + 1;
            continue;
        }
        // Back to where the run containing `i` starts (runs before `i` were read already, so
        // this only walks back over bytes of this run).
        let mut s = i;
        while s > 0 && body_byte(b[s - 1]) {
            s -= 1;
        }
        while i < b.len() && body_byte(b[i]) {
            i += 1;
        }
        let mut e = i;
        while e < b.len() && e - i < 2 && b[e] == b'=' {
            e += 1;
        }
        if i - s < MIN_RUN {
            i = e.max(i + 1);
            continue;
        }
        let body = &text[s..i];
        if let Some(decoded) = decode_run(body) {
            out.push(Run {
                range: s..e,
                text: decoded,
            });
        }
        i = e.max(i + 1);
    }
}

fn decode_run(body: &str) -> Option<String> {
    // `0x…`: hex after its prefix.
    let body = match body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        Some(rest) if rest.bytes().all(|c| c.is_ascii_hexdigit()) => rest,
        _ => body,
    };
    let b = body.as_bytes();
    let hex = b.iter().all(u8::is_ascii_hexdigit);
    if hex {
        if b.len() < MIN_HEX || b.len() % 2 != 0 {
            return None;
        }
        // Mixed case is not how hex is written; a hex-looking word run is something else.
        let upper = b.iter().any(u8::is_ascii_uppercase);
        let lower = b.iter().any(u8::is_ascii_lowercase);
        if upper && lower {
            return None;
        }
        let probe: Vec<u8> = (0..16.min(b.len() / 2))
            .filter_map(|k| hex_pair(b, 2 * k))
            .collect();
        if !texty(&probe) {
            return None;
        }
        let bytes: Vec<u8> = (0..b.len() / 2)
            .filter_map(|k| hex_pair(b, 2 * k))
            .collect();
        return as_text(bytes);
    }
    if b.len() < MIN_B64 {
        return None;
    }
    let url = b.iter().any(|&c| c == b'-' || c == b'_');
    let std = b.iter().any(|&c| c == b'+' || c == b'/');
    if url && std {
        return None;
    }
    use base64::Engine as _;
    let engine = if url {
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
    } else {
        &base64::engine::general_purpose::STANDARD_NO_PAD
    };
    // Decode a prefix first: a run that starts as binary is not decoded whole.
    let head = &body[..b.len().min(32) / 4 * 4];
    let probe = engine.decode(head).ok()?;
    let packed = compressed(&probe);
    if !packed && !texty(&probe) {
        return None;
    }
    // A trailing partial quantum (a run cut short) is dropped rather than refused.
    let whole = &body[..body.len() - body.len() % 4];
    let cut = if body.len() % 4 == 1 { whole } else { body };
    let bytes = engine.decode(cut).or_else(|_| engine.decode(whole)).ok()?;
    if packed {
        return as_text(inflate(&bytes)?);
    }
    as_text(bytes)
}

/// Largest text inflated from one compressed run (a decompression bomb stops here; what was
/// inflated so far is scanned).
const MAX_INFLATED: u64 = 1 << 20;

/// gzip (`1f 8b`) or zlib (`78 01|5e|9c|da`) data.
fn compressed(b: &[u8]) -> bool {
    matches!(b, [0x1f, 0x8b, ..]) || matches!(b, [0x78, 0x01 | 0x5e | 0x9c | 0xda, ..])
}

/// Inflates gzip or zlib data, at most [`MAX_INFLATED`] bytes and 64 times its size.
fn inflate(b: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let cap = MAX_INFLATED.min(64 * b.len() as u64);
    let mut out = Vec::new();
    let r: Box<dyn Read> = if b.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::read::GzDecoder::new(b))
    } else {
        Box::new(flate2::read::ZlibDecoder::new(b))
    };
    // A stream cut short still gives what was inflated before the cut.
    let _ = r.take(cap).read_to_end(&mut out);
    (!out.is_empty()).then_some(out)
}

/// Mostly printable: at least 90 % of the bytes are printable ASCII, whitespace or UTF-8.
fn texty(bytes: &[u8]) -> bool {
    if bytes.is_empty() {
        return false;
    }
    let good = bytes
        .iter()
        .filter(|&&c| {
            c == b'\n' || c == b'\r' || c == b'\t' || (0x20..0x7F).contains(&c) || c >= 0x80
        })
        .count();
    let high = bytes.iter().filter(|&&c| c >= 0x80).count();
    good * 10 >= bytes.len() * 9 && high * 4 <= bytes.len()
}

fn as_text(bytes: Vec<u8>) -> Option<String> {
    let s = String::from_utf8(bytes).ok()?;
    let printable = s
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\r' | '\t'))
        .count();
    (printable * 10 >= s.chars().count() * 9).then_some(s)
}

#[cfg(test)]
mod tests {
    use super::super::mapped::{Builder, TextOnly};
    use super::*;

    fn dec(s: &str) -> Option<String> {
        let mut t = TextOnly::new(s.len());
        decode_escapes(s, &mut t);
        t.finish()
    }

    #[test]
    fn character_escapes_decode() {
        let cases = [
            ("bob%40example.com", "bob@example.com"),
            ("bob%2540example.com", "bob%40example.com"),
            ("bob&#64;example.com", "bob@example.com"),
            ("bob&#x40;example.com", "bob@example.com"),
            ("bob&commat;example.com", "bob@example.com"),
            ("&quot;pw&quot;", "\"pw\""),
            ("caf%C3%A9", "café"),
            ("\\x41\\x4b\\x49\\x41", "AKIA"),
            ("a=3Db soft=\r\nbreak =40x", "a=b softbreak @x"),
            (
                "Reply-To: =?utf-8?Q?s=2Ewagner=40example=2Ede?=",
                "Reply-To: s.wagner@example.de",
            ),
            ("mail=%u0064.kim%u0040example.kr", "mail=d.kim@example.kr"),
            ("printf '\\101\\113\\111\\101'", "printf 'AKIA'"),
            ("bad %zz and %4", ""),
        ];
        for (input, want) in cases {
            let got = dec(input);
            if want.is_empty() {
                assert_eq!(got, None, "{input:?}");
            } else {
                assert_eq!(got.as_deref(), Some(want), "{input:?}");
                assert!(has_escapes(input), "{input:?}");
            }
        }
        // `=40` alone is an assignment, not quoted-printable; nor is base64 padding at a line end.
        assert_eq!(dec("timeout=40"), None);
        assert!(!has_escapes("timeout=40 & more"));
        assert_eq!(dec("auth: Basic c3ZjOnB3=\nnext: line"), None);
    }

    #[test]
    fn escapes_map_back_whole() {
        let src = "to: bob%40ex.com caf%C3%A9";
        let mut b = Builder::new(src.len());
        decode_escapes(src, &mut b);
        let m = b.finish().unwrap();
        assert_eq!(m.text, "to: bob@ex.com café");
        let s = m.text.find("bob").unwrap();
        assert_eq!(&src[m.raw_range(s..s + 10)], "bob%40ex.com");
        let s = m.text.find("é").unwrap();
        assert_eq!(&src[m.raw_range(s..s + 2)], "%C3%A9");
        // Invalid UTF-8 bytes stay as written.
        let mut b = Builder::new(8);
        decode_escapes("x%FFy%41", &mut b);
        assert_eq!(b.finish().unwrap().text, "x%FFyA");
    }

    #[test]
    fn runs_are_found_at_every_offset_and_length() {
        // The finder skips ahead over prose; a run must be found whatever sits before it and
        // however long it is (the skip lands inside runs and backs up to their start).
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD_NO_PAD;
        for n in 18..=33 {
            let env = e.encode(&"password=Zq8vR2kLm0xQ7wp3abcdefgh"[..n]);
            for pre in 0..40 {
                let text = format!("{} {env} tail", &"ab cd-ef/".repeat(8)[..pre]);
                let mut out = Vec::new();
                runs(&text, &mut out);
                let want = env.len() >= MIN_B64;
                assert_eq!(
                    out.iter().any(|r| text[r.range.clone()] == env),
                    want,
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn text_runs_decode_binary_runs_do_not() {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let env = e.encode("DB_PASSWORD=Zq8vR2kLm0x\nAPI_URL=https://x\n");
        let text = format!("blob {env} and a sha 9bbc37778d621e50813957530e8836c825f7e4a0");
        let mut out = Vec::new();
        runs(&text, &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].text.contains("DB_PASSWORD=Zq8vR2kLm0x"));
        assert_eq!(&text[out[0].range.clone()], env);
        // gzip, then base64.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, b"api_key=Zt5mQ8rW2xY7nB4vC1kL9pS3 and more text")
            .unwrap();
        let packed = e.encode(gz.finish().unwrap());
        let mut out = Vec::new();
        runs(&format!("H4sI payload: {packed}"), &mut out);
        assert!(out
            .iter()
            .any(|r| r.text.contains("Zt5mQ8rW2xY7nB4vC1kL9pS3")));
        // A bomb inflates to at most the cap.
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        std::io::Write::write_all(&mut gz, &vec![b'a'; 8 << 20]).unwrap();
        let bomb = e.encode(gz.finish().unwrap());
        let mut out = Vec::new();
        runs(&bomb, &mut out);
        assert!(out.iter().all(|r| r.text.len() as u64 <= MAX_INFLATED));
        // Hex of text, also with `0x`.
        let hx = format!("0x{}", hex::encode("token=hunter2hunter2hunter2"));
        let mut out = Vec::new();
        runs(&format!("x {hx} y"), &mut out);
        assert_eq!(out[0].text, "token=hunter2hunter2hunter2");
        let hx = hex::encode("password=hunter2hunter2");
        let mut out = Vec::new();
        runs(&format!("x {hx} y"), &mut out);
        assert_eq!(out[0].text, "password=hunter2hunter2");
        // Binary (an image header), a UUID, an identifier: nothing.
        let png = e.encode([
            0x89u8, b'P', b'N', b'G', 13, 10, 26, 10, 0, 0, 0, 13, 0xff, 0xfe, 1, 2, 3, 4, 5, 6, 7,
            8, 9, 0, 0xaa,
        ]);
        for s in [
            format!("data:image/png;base64,{png}"),
            "id 3fa85f64-5717-4562-b3fc-2c963f66afa6".to_string(),
            "AbstractSingletonProxyFactoryBeanFactory".to_string(),
        ] {
            let mut out = Vec::new();
            runs(&s, &mut out);
            assert!(
                out.is_empty(),
                "{s}: {:?}",
                out.iter().map(|r| &r.text).collect::<Vec<_>>()
            );
        }
    }
}
