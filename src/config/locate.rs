//! Finds the line of a key path (`redaction.disable_rules[0]`) in a YAML file, so errors found
//! after parsing (an unknown rule id, a zero capacity, an unreadable key file) name the line as
//! parse errors do.
//!
//! A line scan, not a YAML parser: it follows block mappings and sequences by indentation. A
//! key inside a flow collection (`grpc: { endpoint: ... }`, `disable_rules: [a, b]`) is on the
//! line of the flow collection's key, which is the line reported. Anchors, multi-line flow
//! collections and multi-document files fall back to the nearest enclosing key found.

/// 1-based line of `path` in `text`, or of its nearest enclosing key; `None` when not even the
/// first segment is in the file (the value came from a default).
pub fn line_of(text: &str, path: &str) -> Option<usize> {
    let index = index(text);
    let mut p = path.to_string();
    loop {
        if let Some((_, line)) = index.iter().find(|(k, _)| *k == p) {
            return Some(*line);
        }
        // A flow sequence's items sit on their key's line: `a.b[2]` → `a.b`.
        let cut = match (p.rfind('.'), p.rfind('[')) {
            (Some(d), Some(b)) => d.max(b),
            (Some(d), None) => d,
            (None, Some(b)) => b,
            (None, None) => return None,
        };
        p.truncate(cut);
    }
}

/// Every block key and sequence item with its line, in file order.
fn index(text: &str) -> Vec<(String, usize)> {
    // Open entries with their depth: twice the column of a key, twice the column of a `-` plus
    // one for a sequence item, so an item sits between its dash's column and its keys.
    struct Open {
        indent: usize,
        path: String,
        /// Next sequence index, when this entry is a key whose value is a block sequence.
        next_item: usize,
    }
    let mut out = Vec::new();
    let mut stack: Vec<Open> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with("---") {
            continue;
        }
        let mut col = raw.len() - trimmed.len();
        let mut rest = trimmed;
        // `- item` or `- key: value` (a mapping inside a sequence).
        while let Some(after) = rest
            .strip_prefix('-')
            .filter(|a| a.is_empty() || a.starts_with(' '))
        {
            let depth = 2 * col;
            while stack.last().is_some_and(|o| o.indent > depth) {
                stack.pop();
            }
            // The sequence belongs to the nearest key at a smaller indent, or to one at the
            // same indent (YAML allows `key:` followed by `- item` at the key's own indent).
            let Some(parent) = stack.last_mut() else {
                break;
            };
            let item = format!("{}[{}]", parent.path, parent.next_item);
            parent.next_item += 1;
            out.push((item.clone(), line_no));
            let inner = after.trim_start();
            stack.push(Open {
                indent: depth + 1,
                path: item,
                next_item: 0,
            });
            col += 1 + (after.len() - inner.len());
            rest = inner;
        }
        let Some(key) = key_of(rest) else {
            continue;
        };
        let depth = 2 * col;
        while stack.last().is_some_and(|o| o.indent >= depth) {
            stack.pop();
        }
        let path = match stack.last() {
            Some(o) => format!("{}.{key}", o.path),
            None => key.to_string(),
        };
        out.push((path.clone(), line_no));
        stack.push(Open {
            indent: depth,
            path,
            next_item: 0,
        });
    }
    out
}

/// The key of a `key: value` line (quotes removed), if the line is one.
fn key_of(s: &str) -> Option<&str> {
    let (k, after) = if let Some(q) = s.strip_prefix('"') {
        let end = q.find('"')?;
        (&q[..end], &q[end + 1..])
    } else if let Some(q) = s.strip_prefix('\'') {
        let end = q.find('\'')?;
        (&q[..end], &q[end + 1..])
    } else {
        let end = s.find(": ").or_else(|| s.strip_suffix(':').map(str::len))?;
        (&s[..end], &s[end..])
    };
    let after = after.trim_start();
    (after.starts_with(':') && !k.is_empty()).then_some(k.trim_end())
}

/// serde_norway appends " at line L column C" to messages; we report the location separately.
/// What libyaml adds after it (", while parsing a flow mapping at line 3 column 11": where the
/// unclosed construct began) is kept.
pub(super) fn strip_location(msg: &str) -> String {
    match msg.find(" at line ") {
        Some(i) => {
            let rest = &msg[i..];
            match rest.find(", ") {
                Some(j) => format!("{}{}", &msg[..i], &rest[j..]),
                None => msg[..i].to_string(),
            }
        }
        None => msg.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::line_of;

    const TEXT: &str = "\
# comment
receivers:
  otlp:
    grpc: { endpoint: \"127.0.0.1:4317\" }
    http:
      endpoint: \"127.0.0.1:4318\"
redaction:
  disable_rules: [emial, phone]
  disable_types:
    - ipv9
    - mac_address
pipeline:
  queue:
    max_spans: 0
sampling:
  rules:
  - name: keep-errors
    ratio: 1.0
  - name: rest
    ratio: 2
";

    #[test]
    fn block_keys_flow_items_and_sequences() {
        assert_eq!(line_of(TEXT, "receivers.otlp.grpc.endpoint"), Some(4));
        assert_eq!(line_of(TEXT, "receivers.otlp.http.endpoint"), Some(6));
        assert_eq!(line_of(TEXT, "redaction.disable_rules[0]"), Some(8));
        assert_eq!(line_of(TEXT, "redaction.disable_types[1]"), Some(11));
        assert_eq!(line_of(TEXT, "pipeline.queue.max_spans"), Some(14));
        assert_eq!(line_of(TEXT, "sampling.rules[1].ratio"), Some(20));
        assert_eq!(line_of(TEXT, "sampling.rules[0].name"), Some(17));
        // Not in the file: the nearest enclosing key, or nothing.
        assert_eq!(line_of(TEXT, "pipeline.queue.max_bytes"), Some(13));
        assert_eq!(line_of(TEXT, "exporters.file.path"), None);
    }
}
