//! Escape-aware views of a string: JSON documents (and JSON fragments, truncated JSON, JSON
//! nested inside JSON strings) carry their text escaped (`\n`, `\"`, `\u0040`, `\\`).
//! Detection runs on the decoded text; every decoded character maps back to the raw escape it
//! came from (see [`super::mapped`]), so a match replaces whole escape sequences and the JSON
//! stays valid.

use super::mapped::Sink;

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let s = std::str::from_utf8(&b[..4]).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// Whether [`unescape`] would change `raw`: it holds a backslash that starts a JSON escape.
pub fn has_escape(raw: &str) -> bool {
    let b = raw.as_bytes();
    let mut from = 0;
    while let Some(k) = memchr::memchr(b'\\', &b[from..]) {
        let i = from + k;
        match b.get(i + 1) {
            Some(b'n' | b't' | b'r' | b'"' | b'\\' | b'/' | b'b' | b'f') => return true,
            Some(b'u') if escaped_char(b, i).is_some() => return true,
            _ => from = i + 1,
        }
    }
    false
}

/// The character of a `\uXXXX` escape (or surrogate pair) at `i`, and its raw length.
fn escaped_char(b: &[u8], i: usize) -> Option<(char, usize)> {
    let hi = hex4(b.get(i + 2..)?)?;
    if (0xD800..0xDC00).contains(&hi) && b.get(i + 6) == Some(&b'\\') && b.get(i + 7) == Some(&b'u')
    {
        if let Some(lo) = b.get(i + 8..).and_then(hex4) {
            if (0xDC00..0xE000).contains(&lo) {
                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                if let Some(c) = char::from_u32(cp) {
                    return Some((c, 12));
                }
            }
        }
    }
    char::from_u32(hi).map(|c| (c, 6))
}

/// Decodes JSON string escapes once, leniently: unknown or broken escapes stay literal. Every
/// decoded character maps to its whole escape.
pub fn unescape<S: Sink>(raw: &str, out: &mut S) {
    let b = raw.as_bytes();
    let mut i = 0;
    while i < b.len() {
        // Copy the literal run up to the next backslash in one go (backslash is ASCII, so the
        // run ends on a char boundary).
        let next = memchr::memchr(b'\\', &b[i..]).map_or(b.len(), |k| i + k);
        if next > i {
            out.copy(&raw[i..next], i);
            i = next;
            continue;
        }
        let simple = match b.get(i + 1) {
            Some(b'n') => Some('\n'),
            Some(b't') => Some('\t'),
            Some(b'r') => Some('\r'),
            Some(b'"') => Some('"'),
            Some(b'\\') => Some('\\'),
            Some(b'/') => Some('/'),
            Some(b'b') => Some('\u{8}'),
            Some(b'f') => Some('\u{c}'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c, i..i + 2);
            i += 2;
            continue;
        }
        if b.get(i + 1) == Some(&b'u') {
            if let Some((c, n)) = escaped_char(b, i) {
                out.push(c, i..i + n);
                i += n;
                continue;
            }
        }
        // A backslash that starts no escape stays literal.
        out.copy("\\", i);
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::mapped::{Builder, TextOnly};
    use super::*;

    fn view(raw: &str, depth: usize) -> Option<super::super::mapped::Mapped> {
        let mut cur: Option<super::super::mapped::Mapped> = None;
        for _ in 0..depth {
            let text = cur.as_ref().map_or(raw, |m| m.text.as_str());
            if !has_escape(text) {
                break;
            }
            let mut b = Builder::new(text.len());
            unescape(text, &mut b);
            let next = b.finish()?;
            cur = Some(match cur {
                Some(outer) => next.over(&outer),
                None => next,
            });
        }
        cur
    }

    #[test]
    fn maps_escapes_back() {
        let raw = r#"{"to":"alice\u0040example.com","k":"a\nb"}"#;
        let v = view(raw, 3).unwrap();
        assert!(v.text.contains("alice@example.com"));
        let s = v.text.find("alice@").unwrap();
        let r = v.raw_range(s..s + "alice@example.com".len());
        assert_eq!(&raw[r], r"alice\u0040example.com");
    }

    #[test]
    fn nested_json_string() {
        let raw = r#"{"args":"{\"password\":\"hunter2\\\"x\"}"}"#;
        let v = view(raw, 3).unwrap();
        assert!(v.text.contains(r#""password":"hunter2"x""#), "{}", v.text);
        let s = v.text.find("hunter2").unwrap();
        let r = v.raw_range(s..s + 7);
        assert_eq!(&raw[r], "hunter2");
    }

    #[test]
    fn text_only_decoding_agrees() {
        for raw in [
            r#"{"to":"alice\u0040example.com","k":"a\nb"}"#,
            r#"{"args":"{\"password\":\"hunter2\\\"x\"}"}"#,
            "tail backslash \\",
            "bad \\q escape \\u12 and \\uD83D\\uDE00 é",
        ] {
            let mut t = TextOnly::new(raw.len());
            unescape(raw, &mut t);
            let mut b = Builder::new(raw.len());
            unescape(raw, &mut b);
            assert_eq!(t.finish(), b.finish().map(|m| m.text), "{raw}");
        }
    }

    #[test]
    fn no_escapes_no_view() {
        assert!(!has_escape("plain text"));
        assert!(!has_escape("C:\\dir é\\x"));
        assert!(view("C:\\dir é\\x", 3).is_none());
        assert!(has_escape("a\\nb"));
        assert!(has_escape("\\u0041"));
    }
}

/// What a raw byte range of a JSON document is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokKind {
    /// The content of a string literal (between its quotes).
    Str,
    /// A number literal.
    Num,
}

/// String-content and number ranges of `raw`, in order, when `raw` is one valid JSON document
/// that is an object or array. `None` otherwise (then no structure needs protecting).
pub fn json_tokens(raw: &str) -> Option<Vec<(usize, usize, TokKind)>> {
    let t = raw.trim_start();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(raw).ok()?;
    let b = raw.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                out.push((start, j.min(b.len()), TokKind::Str));
                i = j + 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i < b.len() && matches!(b[i], b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9')
                {
                    i += 1;
                }
                out.push((start, i, TokKind::Num));
            }
            _ => i += 1,
        }
    }
    Some(out)
}

#[cfg(test)]
mod tok_tests {
    use super::*;

    #[test]
    fn tokens_of_a_document() {
        let raw = r#"{"a\"b":[12,-3.5e2,"x"],"n":null}"#;
        let toks = json_tokens(raw).unwrap();
        let texts: Vec<&str> = toks.iter().map(|&(s, e, _)| &raw[s..e]).collect();
        assert_eq!(texts, vec![r#"a\"b"#, "12", "-3.5e2", "x", "n"]);
        assert!(json_tokens("plain").is_none());
        assert!(json_tokens("{broken").is_none());
    }
}
