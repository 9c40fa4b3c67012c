//! Escape-aware view of a string: JSON documents (and JSON fragments, truncated JSON, JSON
//! nested inside JSON strings) carry their text escaped (`\n`, `\"`, `\u0040`, `\\`).
//! Detection runs on the decoded text; every decoded byte maps back to the raw escape it came
//! from, so a match replaces whole escape sequences and the JSON stays valid.

/// Decoded text plus, for each decoded byte offset (and one past the end), the raw offset.
pub struct View {
    pub text: String,
    /// `map[i]` = raw byte offset of decoded byte `i`; `map[text.len()]` = raw length.
    pub map: Vec<usize>,
}

impl View {
    /// Maps a decoded range to raw bytes. Decoded match ranges lie on char boundaries, and each
    /// decoded char starts at the first byte of its raw escape, so raw ranges cover whole escapes.
    pub fn raw_range(&self, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
        let s = self.map.get(r.start).copied().unwrap_or(0);
        let e = self.map.get(r.end).copied().unwrap_or(s);
        s..e.max(s)
    }
}

fn hex4(b: &[u8]) -> Option<u32> {
    if b.len() < 4 {
        return None;
    }
    let s = std::str::from_utf8(&b[..4]).ok()?;
    u32::from_str_radix(s, 16).ok()
}

/// Decodes JSON string escapes once, leniently: unknown or broken escapes stay literal.
/// Returns `None` when nothing would change (no backslash escape in `raw`).
pub fn unescape_once(raw: &str) -> Option<View> {
    let mut map = Vec::with_capacity(raw.len() + 1);
    let text = unescape_impl::<true>(raw, &mut map)?;
    Some(View { text, map })
}

/// As [`unescape_once`] without the offset map (the common case: nothing matches, so nothing
/// needs mapping back).
fn unescape_text(raw: &str) -> Option<String> {
    unescape_impl::<false>(raw, &mut Vec::new())
}

fn unescape_impl<const MAP: bool>(raw: &str, map: &mut Vec<usize>) -> Option<String> {
    let b = raw.as_bytes();
    memchr::memchr(b'\\', b)?;
    let mut text = String::with_capacity(raw.len());
    let mut changed = false;
    let mut i = 0;
    while i < b.len() {
        // Copy the literal run up to the next backslash in one go (backslash is ASCII, so the
        // run ends on a char boundary).
        let next = memchr::memchr(b'\\', &b[i..]).map_or(b.len(), |k| i + k);
        if next > i {
            text.push_str(&raw[i..next]);
            if MAP {
                map.extend(i..next);
            }
            i = next;
            continue;
        }
        if i + 1 < b.len() {
            let simple = match b[i + 1] {
                b'n' => Some('\n'),
                b't' => Some('\t'),
                b'r' => Some('\r'),
                b'"' => Some('"'),
                b'\\' => Some('\\'),
                b'/' => Some('/'),
                b'b' => Some('\u{8}'),
                b'f' => Some('\u{c}'),
                _ => None,
            };
            if let Some(c) = simple {
                push_char::<MAP>(&mut text, map, c, i);
                i += 2;
                changed = true;
                continue;
            }
            if b[i + 1] == b'u' {
                if let Some(hi) = hex4(&b[i + 2..]) {
                    // Surrogate pair: \uD83D\uDE00.
                    if (0xD800..0xDC00).contains(&hi)
                        && b.get(i + 6) == Some(&b'\\')
                        && b.get(i + 7) == Some(&b'u')
                    {
                        if let Some(lo) = hex4(&b[i + 8..]) {
                            if (0xDC00..0xE000).contains(&lo) {
                                let cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
                                if let Some(c) = char::from_u32(cp) {
                                    push_char::<MAP>(&mut text, map, c, i);
                                    i += 12;
                                    changed = true;
                                    continue;
                                }
                            }
                        }
                    }
                    if let Some(c) = char::from_u32(hi) {
                        push_char::<MAP>(&mut text, map, c, i);
                        i += 6;
                        changed = true;
                        continue;
                    }
                }
            }
        }
        // A backslash that starts no escape stays literal.
        text.push('\\');
        if MAP {
            map.push(i);
        }
        i += 1;
    }
    if MAP {
        map.push(b.len());
    }
    changed.then_some(text)
}

fn push_char<const MAP: bool>(text: &mut String, map: &mut Vec<usize>, c: char, raw_at: usize) {
    let n = c.len_utf8();
    text.push(c);
    // Every byte of the decoded char points at the start of its escape; the byte after it
    // (the next char) points at the next escape, so ranges never split an escape.
    if MAP {
        for _ in 0..n {
            map.push(raw_at);
        }
    }
}

/// The decoded text of [`decoded_view`] without building offset maps; `None` when `raw` holds
/// no escapes.
pub fn decoded_text(raw: &str, max_depth: usize) -> Option<String> {
    let mut text = unescape_text(raw)?;
    for _ in 1..max_depth {
        match unescape_text(&text) {
            Some(next) => text = next,
            None => break,
        }
    }
    Some(text)
}

/// Decodes repeatedly (JSON inside a JSON string inside …) up to `max_depth` levels, composing
/// the offset maps. `None` when `raw` holds no escapes.
pub fn decoded_view(raw: &str, max_depth: usize) -> Option<View> {
    let mut view = unescape_once(raw)?;
    for _ in 1..max_depth {
        let Some(next) = unescape_once(&view.text) else {
            break;
        };
        let map = next.map.iter().map(|&i| view.map[i]).collect();
        view = View {
            text: next.text,
            map,
        };
    }
    Some(view)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_escapes_back() {
        let raw = r#"{"to":"alice\u0040example.com","k":"a\nb"}"#;
        let v = decoded_view(raw, 3).unwrap();
        assert!(v.text.contains("alice@example.com"));
        let s = v.text.find("alice@").unwrap();
        let r = v.raw_range(s..s + "alice@example.com".len());
        assert_eq!(&raw[r], r"alice\u0040example.com");
    }

    #[test]
    fn nested_json_string() {
        let raw = r#"{"args":"{\"password\":\"hunter2\\\"x\"}"}"#;
        let v = decoded_view(raw, 3).unwrap();
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
            let v = decoded_view(raw, 3).map(|v| v.text);
            assert_eq!(decoded_text(raw, 3), v, "{raw}");
        }
    }

    #[test]
    fn no_escapes_no_view() {
        assert!(decoded_view("plain text", 3).is_none());
        let v = decoded_view("C:\\dir é\\x", 3);
        assert!(v.is_none());
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
