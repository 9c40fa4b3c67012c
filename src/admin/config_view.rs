//! The effective configuration as the status page shows it: the resolved configuration's
//! pretty `Debug` text (every key, defaults applied) read back into a tree, with secrets
//! replaced by `<set>`.
//!
//! Reading `Debug` text keeps this module free of the configuration's types (the admin layer
//! sits below `config`), and a key added later shows up without touching this file. What is
//! secret is decided by name, failing closed: a field whose last name piece is a secret word
//! (`hmac_key`, `password`, `token`), every value of a map of environment variables, producer
//! properties or headers (but for a few plainly harmless keys), and the user part of URLs. The
//! types themselves never print key material either (`HmacKey`, `Authenticator`).

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};

/// What a masked value shows.
pub const SET: &str = "<set>";

/// One value of the tree.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    /// A number as printed.
    Num(String),
    Str(String),
    List(Vec<Node>),
    /// Fields or map entries, in printed order.
    Obj(Vec<(String, Node)>),
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Node::Null => s.serialize_none(),
            Node::Bool(b) => s.serialize_bool(*b),
            Node::Num(n) => match (n.parse::<i64>(), n.parse::<f64>()) {
                (Ok(i), _) => s.serialize_i64(i),
                (_, Ok(f)) if f.is_finite() => s.serialize_f64(f),
                _ => s.serialize_str(n),
            },
            Node::Str(t) => s.serialize_str(t),
            Node::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            Node::Obj(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// The masked tree of a value's pretty `Debug` text (`format!("{value:#?}")`).
pub fn from_debug(text: &str) -> Node {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("").trim();
    let tree = value(strip_comma(first), &mut lines, 0);
    mask(tree, Context::Plain)
}

/// Nesting deeper than this is shown as text (our configuration is a dozen levels at most).
const MAX_DEPTH: usize = 64;

fn strip_comma(s: &str) -> &str {
    s.strip_suffix(',').unwrap_or(s)
}

/// The value whose first line is `first`; continues on `lines` for nested blocks.
fn value<'a>(first: &'a str, lines: &mut impl Iterator<Item = &'a str>, depth: usize) -> Node {
    if first.starts_with('"') {
        if let Some((s, rest)) = quoted(first) {
            if rest.is_empty() {
                return Node::Str(s);
            }
        }
        return Node::Str(first.to_string());
    }
    if depth < MAX_DEPTH {
        if first == "{" || first.ends_with(" {") {
            return block(lines, depth, '}');
        }
        if first == "[" {
            return match block(lines, depth, ']') {
                Node::Obj(f) => Node::Obj(f),
                other => other,
            };
        }
        if first.ends_with('(') && !first.contains(' ') {
            return match block(lines, depth, ')') {
                Node::List(mut items) if items.len() == 1 => items.remove(0),
                other => other,
            };
        }
    }
    match first {
        "None" => Node::Null,
        "true" => Node::Bool(true),
        "false" => Node::Bool(false),
        "[]" => Node::List(Vec::new()),
        "{}" => Node::Obj(Vec::new()),
        n if looks_numeric(n) => Node::Num(n.to_string()),
        other => Node::Str(other.to_string()),
    }
}

fn looks_numeric(s: &str) -> bool {
    let d = s.strip_prefix('-').unwrap_or(s);
    !d.is_empty()
        && d.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && d.bytes().next().is_some_and(|b| b.is_ascii_digit())
        && s.parse::<f64>().is_ok()
}

/// The entries of a block up to its closing `close`: an object when every entry has a name,
/// else a list.
fn block<'a>(lines: &mut impl Iterator<Item = &'a str>, depth: usize, close: char) -> Node {
    let mut entries: Vec<(Option<String>, Node)> = Vec::new();
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with(close) || t.starts_with(['}', ')', ']']) {
            break;
        }
        let t = strip_comma(t);
        if t == ".." {
            continue;
        }
        match split_key(t) {
            Some((k, rest)) => {
                let v = value(rest, lines, depth + 1);
                entries.push((Some(k), v));
            }
            None => {
                let v = value(t, lines, depth + 1);
                entries.push((None, v));
            }
        }
    }
    if !entries.is_empty() && entries.iter().all(|(k, _)| k.is_some()) {
        Node::Obj(
            entries
                .into_iter()
                .map(|(k, v)| (k.unwrap_or_default(), v))
                .collect(),
        )
    } else {
        Node::List(entries.into_iter().map(|(_, v)| v).collect())
    }
}

/// `name: rest` (a field) or `"key": rest` (a map entry).
fn split_key(t: &str) -> Option<(String, &str)> {
    if t.starts_with('"') {
        let (k, rest) = quoted(t)?;
        return Some((k, rest.strip_prefix(": ")?));
    }
    let (k, rest) = t.split_once(": ")?;
    let ident = k.strip_prefix("r#").unwrap_or(k);
    let ok = ident
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && ident
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_');
    ok.then(|| (ident.to_string(), rest))
}

/// A Rust-escaped string at the start of `t`: its text and what follows it.
fn quoted(t: &str) -> Option<(String, &str)> {
    let body = t.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &body[i + 1..])),
            '\\' => match chars.next()?.1 {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                'u' => {
                    let mut hex = String::new();
                    for (_, h) in chars.by_ref() {
                        match h {
                            '{' => {}
                            '}' => break,
                            h => hex.push(h),
                        }
                    }
                    out.push(
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .unwrap_or('\u{fffd}'),
                    );
                }
                other => out.push(other),
            },
            c => out.push(c),
        }
    }
    None
}

/// Where a value sits, for masking.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    Plain,
    /// Inside a field named as a secret: only identifiers, sources and paths show.
    Secret,
    /// A map of environment variables, producer properties or headers.
    SensitiveMap,
}

/// The pieces of a name, lower-cased: `hmac_key` → `hmac`, `key`; `sasl.password` → …
fn pieces(name: &str) -> Vec<String> {
    name.split(['_', '.', '-'])
        .filter(|p| !p.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// A name whose value is a secret: its last piece is a secret word (`hmac_key`, `api_token`,
/// `ssl.key.pem`), or any piece says password (`ssl.key.password`, `sasl.jaas.config`).
fn is_secret_name(name: &str) -> bool {
    const LAST: &[&str] = &[
        "key",
        "secret",
        "secrets",
        "password",
        "passwd",
        "passphrase",
        "pass",
        "pwd",
        "token",
        "tokens",
        "credential",
        "credentials",
        "pin",
        "pem",
        "cookie",
        "authorization",
        "bearer",
    ];
    const ANY: &[&str] = &["password", "passwd", "jaas", "secret", "credentials"];
    let p = pieces(name);
    let last_secret = p.last().is_some_and(|l| LAST.contains(&l.as_str()));
    // `secret_key_words`, `blocked_keys`: lists of key names the scrubber looks for, not keys.
    let names_words = p
        .last()
        .is_some_and(|l| ["words", "patterns", "file", "files", "env", "id"].contains(&l.as_str()));
    // The configuration's own source text (the resolved config keeps it to name lines in
    // errors): it holds every value as written, secrets included.
    let source_text = name == "locator";
    source_text || ((last_secret || p.iter().any(|x| ANY.contains(&x.as_str()))) && !names_words)
}

/// A field or key whose value may show even where secrets are about: identifiers, where a key
/// comes from, file paths.
fn is_harmless_name(name: &str) -> bool {
    let p = pieces(name);
    p.last().is_some_and(|l| {
        [
            "id",
            "source",
            "file",
            "path",
            "location",
            "protocol",
            "mechanism",
            "mechanisms",
            "origin",
        ]
        .contains(&l.as_str())
    }) && !is_secret_name(name)
}

/// Maps all of whose values are treated as secret but for harmless keys.
fn is_sensitive_map(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "env" | "environment" | "properties" | "headers" | "metadata"
    )
}

fn masked(v: &Node) -> Node {
    match v {
        Node::Null => Node::Null,
        Node::Bool(b) => Node::Bool(*b),
        _ => Node::Str(SET.into()),
    }
}

fn mask(v: Node, ctx: Context) -> Node {
    match v {
        Node::Obj(fields) => Node::Obj(
            fields
                .into_iter()
                .map(|(k, v)| {
                    let v = mask_field(&k, v, ctx);
                    (k, v)
                })
                .collect(),
        ),
        Node::List(items) => Node::List(
            items
                .into_iter()
                .map(|i| match (ctx, i) {
                    (Context::Plain, i) => mask(i, ctx),
                    (_, i @ (Node::Obj(_) | Node::List(_))) => mask(i, ctx),
                    (_, other) => masked(&other),
                })
                .collect(),
        ),
        Node::Str(s) if ctx == Context::Plain => Node::Str(hide_userinfo(&s)),
        Node::Str(_) | Node::Num(_) if ctx != Context::Plain => Node::Str(SET.into()),
        other => other,
    }
}

/// A field or map entry `k` of a value in `ctx`.
fn mask_field(k: &str, v: Node, ctx: Context) -> Node {
    let secret = is_secret_name(k) || (ctx != Context::Plain && !is_harmless_name(k));
    if secret {
        return match v {
            Node::Obj(_) => mask(v, Context::Secret),
            other => masked(&other),
        };
    }
    if is_sensitive_map(k) {
        return mask(v, Context::SensitiveMap);
    }
    mask(v, Context::Plain)
}

/// `scheme://user:password@host…` → `scheme://<set>@host…`.
fn hide_userinfo(s: &str) -> String {
    let Some(i) = s.find("://") else {
        return s.to_string();
    };
    let rest = &s[i + 3..];
    let auth_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..auth_end].rfind('@') {
        Some(at) => format!("{}://{SET}@{}", &s[..i], &rest[at + 1..]),
        None => s.to_string(),
    }
}

/// Every `scheme://user:password@` in free text (a problem message naming an endpoint) with
/// the user part as `<set>`.
pub fn hide_userinfo_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let start = rest[..i]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '-' || c == '.'))
            .map_or(0, |p| p + 1);
        out.push_str(&rest[..start]);
        let url_end = rest[i + 3..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'' || c == '>')
            .map_or(rest.len(), |e| i + 3 + e);
        out.push_str(&hide_userinfo(&rest[start..url_end]));
        rest = &rest[url_end..];
    }
    out.push_str(rest);
    out
}

/// The tree as indented `key: value` lines (for the page's fallback and for tests).
pub fn to_text(n: &Node) -> String {
    let mut out = String::new();
    write_text(n, 0, &mut out);
    out
}

fn scalar(n: &Node) -> Option<String> {
    match n {
        Node::Null => Some("~".into()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Num(x) => Some(x.clone()),
        Node::Str(s) => Some(format!("{s:?}")),
        Node::List(l) if l.is_empty() => Some("[]".into()),
        Node::Obj(o) if o.is_empty() => Some("{}".into()),
        _ => None,
    }
}

fn write_text(n: &Node, indent: usize, out: &mut String) {
    let pad = "  ".repeat(indent);
    match n {
        Node::Obj(fields) => {
            for (k, v) in fields {
                match scalar(v) {
                    Some(s) => out.push_str(&format!("{pad}{k}: {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        write_text(v, indent + 1, out);
                    }
                }
            }
        }
        Node::List(items) => {
            for i in items {
                match scalar(i) {
                    Some(s) => out.push_str(&format!("{pad}- {s}\n")),
                    None => {
                        out.push_str(&format!("{pad}-\n"));
                        write_text(i, indent + 1, out);
                    }
                }
            }
        }
        other => {
            if let Some(s) = scalar(other) {
                out.push_str(&format!("{pad}{s}\n"));
            }
        }
    }
}

#[cfg(test)]
mod tests;
