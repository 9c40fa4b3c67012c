//! The module graph runs one way (issue #25): every top-level module of `src/` may use only the
//! modules its row of [`LAYERS`] lists, and every one of those sits in a lower layer, so the
//! graph has no cycles. The test reads the sources (no compiler involved): it follows the `mod`
//! declarations from `src/lib.rs` (with `#[path]`), finds every path that leaves a top-level
//! module (`crate::X`, `use crate::{X, Y::…}`, `super::` climbing out to the crate root) and
//! reports each forbidden edge with its file and line.
//!
//! Code under `#[cfg(test)]` (a `mod tests;` file, an inline `mod tests { … }`, any other item)
//! is exempt: tests may assemble the real pieces, as the integration tests do. The lexer skips
//! comments, strings, raw strings and character literals, so braces inside them cannot shift
//! what counts as test code; its own tests are at the bottom of this file.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One top-level module of the crate: its layer and the modules it may use. Every module it may
/// use must sit in a lower layer (checked), so the table itself cannot describe a cycle.
struct Layer {
    module: &'static str,
    layer: u8,
    may_use: &'static [&'static str],
}

const fn l(module: &'static str, layer: u8, may_use: &'static [&'static str]) -> Layer {
    Layer {
        module,
        layer,
        may_use,
    }
}

/// Lowest first. A new top-level module must get a row here.
const LAYERS: &[Layer] = &[
    // Layer 0, leaves: small utilities and the shared vocabulary. They know nothing of the
    // service, so anything may import them.
    //
    // The HMAC key of pseudonyms and fingerprints, and the environment secrets are read from
    // (`keys::Env`).
    l("keys", 0, &[]),
    // gRPC status details (`RetryInfo`) as receivers send them and the exporter reads them.
    l("rpc_status", 0, &[]),
    // rustls configurations for the receivers, the exporter and the load generator.
    l("tls", 0, &[]),
    // Serde helpers for the configuration types that each module owns, and the error a
    // component gives naming the key at fault (`yaml::ComponentError`).
    l("yaml", 0, &[]),
    // Drop and refuse reasons, health, the metrics handles, the span attributes spanward
    // writes: what receivers, stages, sinks and the admin endpoint say to each other.
    l("vocab", 0, &[]),
    //
    // Layer 1, the data: encoded OTLP requests, their limits, tracestate, `service.name`.
    // Depends on nothing of the service but `vocab`'s `Signal` (which request shape to check):
    // every layer above reads requests through it.
    l("otlp", 1, &["vocab"]),
    // Bearer tokens, read from a file or from the environment (`keys::Env`).
    l("auth", 1, &["keys"]),
    //
    // Layer 2, what reads spans without running the service: the redaction engine walks OTLP
    // spans and keys its pseudonyms; audit records read spans and the attributes the
    // fingerprint stage writes (named in `vocab`).
    l("scrub", 2, &["otlp", "keys"]),
    l("audit", 2, &["otlp", "vocab"]),
    //
    // Layer 3, sinks: take encoded requests and report in `vocab`'s terms. The OTLP exporter
    // needs TLS, gRPC statuses and `yaml` for its own config; the log reads its signing key
    // from the environment (`keys::Env`).
    l(
        "sink",
        3,
        &["otlp", "vocab", "keys", "tls", "rpc_status", "yaml"],
    ),
    //
    // Layer 4, the pipeline: the queue, the stages over `otlp` (sampling, fingerprints with
    // `keys`, `scrub`, `audit`), and the workers that hand batches to `sink`s, reporting in
    // `vocab`. Each stage's config is a component that reports errors as `yaml`'s.
    l(
        "pipeline",
        4,
        &["otlp", "scrub", "audit", "sink", "vocab", "keys", "yaml"],
    ),
    //
    // Layer 5, the edges. Receivers check requests (`otlp`), authenticate (`auth`), answer with
    // gRPC statuses, and submit batches to the `pipeline`.
    l(
        "receiver",
        5,
        &["otlp", "pipeline", "vocab", "auth", "rpc_status"],
    ),
    // The admin endpoint serves `vocab` (metrics, health), reads the queue's depth
    // (`pipeline`) and guards `/metrics` with `auth`.
    l("admin", 5, &["vocab", "auth", "pipeline"]),
    // The load generator builds requests and sends them with the exporter's own OTLP/gRPC call
    // (`sink::otlp`), over `tls`, to each signal's service (`vocab::Signal`).
    l("load", 5, &["otlp", "sink", "tls", "vocab"]),
    //
    // Layer 6, the configuration file: gathers the config types each module owns and resolves
    // them (keys, TLS, tokens, pattern packs), so it sits above all of them.
    l(
        "config",
        6,
        &[
            "keys", "tls", "yaml", "auth", "otlp", "scrub", "audit", "sink", "pipeline", "receiver",
        ],
    ),
    // What the admin status page says of the setup (packs and their rule counts, the memory
    // limiter's limits, the log's checkpoint file, the masked configuration), read from the
    // types of `scrub`, `sink` and `receiver` that `admin` may not see, for `admin`.
    l("introspect", 6, &["admin", "scrub", "sink", "receiver"]),
    //
    // Layer 7, `service::run` assembles everything from a resolved config.
    l(
        "service",
        7,
        &[
            "keys",
            "rpc_status",
            "tls",
            "yaml",
            "vocab",
            "auth",
            "otlp",
            "scrub",
            "audit",
            "sink",
            "pipeline",
            "receiver",
            "admin",
            "config",
            "introspect",
        ],
    ),
    //
    // Layer 8, the command line on top: runs the service, the load generator, offline tools.
    l(
        "cli",
        8,
        &[
            "keys",
            "rpc_status",
            "tls",
            "yaml",
            "vocab",
            "auth",
            "otlp",
            "scrub",
            "audit",
            "sink",
            "pipeline",
            "receiver",
            "admin",
            "load",
            "config",
            "service",
        ],
    ),
];

/// Binaries: they use the library through its public API (`spanward::…`), not `crate::`.
const BINARY_ROOTS: &[&str] = &["src/main.rs", "src/bin/"];

#[test]
fn module_graph_runs_one_way() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let graph = match Graph::read(root) {
        Ok(g) => g,
        Err(e) => panic!("reading the module graph: {e}"),
    };
    let mut problems = table_problems(&graph.top_modules);
    let by_name: BTreeMap<&str, &Layer> = LAYERS.iter().map(|r| (r.module, r)).collect();
    for e in &graph.edges {
        if e.test {
            continue;
        }
        let Some(row) = by_name.get(e.from.as_str()) else {
            continue; // reported by table_problems
        };
        if !row.may_use.contains(&e.to.as_str()) {
            let to_layer = by_name
                .get(e.to.as_str())
                .map_or("not in the table".to_string(), |r| {
                    format!("layer {}", r.layer)
                });
            let may = if row.may_use.is_empty() {
                "nothing of the service".to_string()
            } else {
                format!("only {}", row.may_use.join(", "))
            };
            problems.push(format!(
                "{}:{}: forbidden edge {} -> {} ({} is layer {} and may use {may}; {} is {})",
                e.file, e.line, e.from, e.to, e.from, row.layer, e.to, to_layer
            ));
        }
    }
    problems.extend(graph.scan_errors.iter().cloned());
    if !problems.is_empty() {
        panic!(
            "the module graph breaks its layering ({} problems):\n  {}\n\nedges found \
             (outside #[cfg(test)]):\n{}",
            problems.len(),
            problems.join("\n  "),
            graph.summary()
        );
    }
}

/// Rows for every top-level module, none for a module that does not exist, and every allowed
/// dependency in a strictly lower layer.
fn table_problems(top_modules: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let by_name: BTreeMap<&str, &Layer> = LAYERS.iter().map(|r| (r.module, r)).collect();
    if by_name.len() != LAYERS.len() {
        out.push("tests/module_graph.rs: a module has two rows in LAYERS".to_string());
    }
    for m in top_modules {
        if !by_name.contains_key(m.as_str()) {
            out.push(format!(
                "src/lib.rs: top-level module `{m}` has no row in LAYERS (tests/module_graph.rs)"
            ));
        }
    }
    for r in LAYERS {
        if !top_modules.contains(r.module) {
            out.push(format!(
                "tests/module_graph.rs: LAYERS lists `{}`, which src/lib.rs does not declare",
                r.module
            ));
        }
        for d in r.may_use {
            match by_name.get(d) {
                None => out.push(format!(
                    "tests/module_graph.rs: `{}` may use `{d}`, which has no row",
                    r.module
                )),
                Some(dr) if dr.layer >= r.layer => out.push(format!(
                    "tests/module_graph.rs: `{}` (layer {}) may use `{d}` (layer {}): allowed \
                     dependencies must sit in a lower layer",
                    r.module, r.layer, dr.layer
                )),
                Some(_) => {}
            }
        }
    }
    out
}

/// A reference from one top-level module to another.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edge {
    from: String,
    to: String,
    file: String,
    line: usize,
    /// Inside `#[cfg(test)]` code.
    test: bool,
}

struct Graph {
    top_modules: BTreeSet<String>,
    edges: Vec<Edge>,
    scan_errors: Vec<String>,
}

impl Graph {
    /// Follows `mod` declarations from `src/lib.rs` and scans every file reached.
    fn read(root: &Path) -> Result<Graph, String> {
        let lib = root.join("src/lib.rs");
        let mut top_modules = BTreeSet::new();
        let mut edges = Vec::new();
        let mut scan_errors = Vec::new();
        let mut seen: BTreeSet<PathBuf> = BTreeSet::new();
        // (file, module path, reached only through #[cfg(test)], is a mod-rs file)
        let mut todo = vec![(lib, Vec::<String>::new(), false, true)];
        while let Some((file, path, test_file, mod_rs)) = todo.pop() {
            let rel = rel_name(root, &file);
            let src = std::fs::read_to_string(&file).map_err(|e| format!("{rel}: {e}"))?;
            seen.insert(file.clone());
            let scan = match scan(&src, path.len()) {
                Ok(s) => s,
                Err(e) => {
                    scan_errors.push(format!("{rel}: {e}"));
                    continue;
                }
            };
            let dir = file.parent().map(Path::to_path_buf).unwrap_or_default();
            let base = if mod_rs {
                dir.clone()
            } else {
                let stem = file
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or_default();
                dir.join(stem)
            };
            for m in &scan.mods {
                let mut child_path = path.clone();
                child_path.extend(m.inline.iter().cloned());
                child_path.push(m.name.clone());
                if path.is_empty() && m.inline.is_empty() {
                    top_modules.insert(m.name.clone());
                }
                let inline_dir = m.inline.iter().fold(base.clone(), |d, s| d.join(s));
                let (child, child_mod_rs) = match &m.path_attr {
                    Some(p) if m.inline.is_empty() => (dir.join(p), true),
                    Some(p) => (inline_dir.join(p), true),
                    None => {
                        let flat = inline_dir.join(format!("{}.rs", m.name));
                        if flat.is_file() {
                            (flat, false)
                        } else {
                            (inline_dir.join(&m.name).join("mod.rs"), true)
                        }
                    }
                };
                if !child.is_file() {
                    scan_errors.push(format!(
                        "{rel}:{}: `mod {}` has no file ({})",
                        m.line,
                        m.name,
                        rel_name(root, &child)
                    ));
                    continue;
                }
                todo.push((child, child_path, test_file || m.test, child_mod_rs));
            }
            let Some(from) = path.first() else {
                continue; // the crate root only declares modules and re-exports
            };
            for r in scan.refs {
                match r.target {
                    Target::Module(to) => {
                        if &to != from {
                            edges.push(Edge {
                                from: from.clone(),
                                to,
                                file: rel.clone(),
                                line: r.line,
                                test: test_file || r.test,
                            });
                        }
                    }
                    Target::Problem(why) => scan_errors.push(format!("{rel}:{}: {why}", r.line)),
                }
            }
        }
        // Names used at the crate root must be modules (a re-export there would hide an edge).
        for e in &edges {
            if !top_modules.contains(&e.to) {
                scan_errors.push(format!(
                    "{}:{}: `crate::{}` is not a top-level module: import it from the module \
                     that defines it",
                    e.file, e.line, e.to
                ));
            }
        }
        // Every source file is checked, or is a binary's.
        for f in rs_files(&root.join("src"))? {
            let rel = rel_name(root, &f);
            let binary = BINARY_ROOTS
                .iter()
                .any(|b| rel == *b || (b.ends_with('/') && rel.starts_with(b)));
            if !seen.contains(&f) && !binary {
                scan_errors.push(format!(
                    "{rel}: not reached from src/lib.rs by `mod` declarations, so not checked"
                ));
            }
        }
        Ok(Graph {
            top_modules,
            edges,
            scan_errors,
        })
    }

    /// `from -> to (n) e.g. file:line`, one line per edge outside tests.
    fn summary(&self) -> String {
        let mut by: BTreeMap<(&str, &str), Vec<&Edge>> = BTreeMap::new();
        for e in self.edges.iter().filter(|e| !e.test) {
            by.entry((&e.from, &e.to)).or_default().push(e);
        }
        let mut s = String::new();
        for ((f, t), es) in by {
            let _ = writeln!(
                s,
                "  {f} -> {t} ({}) e.g. {}:{}",
                es.len(),
                es[0].file,
                es[0].line
            );
        }
        s
    }
}

fn rel_name(root: &Path, f: &Path) -> String {
    f.strip_prefix(root)
        .unwrap_or(f)
        .to_string_lossy()
        .replace('\\', "/")
}

fn rs_files(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let rd = std::fs::read_dir(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        for entry in rd {
            let p = entry.map_err(|e| format!("{}: {e}", d.display()))?.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Scanner: a lexer that drops comments and literals, then a walk over its tokens.

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    /// A string literal's raw contents (escapes left as written).
    Str(String),
    /// Character, byte, number literals and lifetimes: nothing the walk looks at.
    Other,
    /// `::`
    PathSep,
    Punct(char),
}

#[derive(Debug, Clone)]
struct Token {
    tok: Tok,
    line: usize,
}

fn is_ident_start(c: char) -> bool {
    c == '_' || c.is_alphabetic()
}

fn is_ident_char(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

fn lex(src: &str) -> Result<Vec<Token>, String> {
    let s: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let at = |i: usize| s.get(i).copied();
    while i < s.len() {
        let c = s[i];
        let start_line = line;
        if c == '\n' {
            line += 1;
            i += 1;
        } else if c.is_whitespace() {
            i += 1;
        } else if c == '/' && at(i + 1) == Some('/') {
            while i < s.len() && s[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && at(i + 1) == Some('*') {
            let mut depth = 0usize;
            loop {
                match (at(i), at(i + 1)) {
                    (Some('/'), Some('*')) => {
                        depth += 1;
                        i += 2;
                    }
                    (Some('*'), Some('/')) => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    }
                    (Some(ch), _) => {
                        if ch == '\n' {
                            line += 1;
                        }
                        i += 1;
                    }
                    (None, _) => return Err(format!("line {start_line}: unterminated comment")),
                }
            }
        } else if c == '"' {
            let (text, next) = quoted(&s, i + 1, &mut line)
                .ok_or_else(|| format!("line {start_line}: unterminated string"))?;
            out.push(Token {
                tok: Tok::Str(text),
                line: start_line,
            });
            i = next;
        } else if c == '\'' {
            i = quote_or_lifetime(&s, i, &mut line)
                .ok_or_else(|| format!("line {start_line}: unterminated character literal"))?;
            out.push(Token {
                tok: Tok::Other,
                line: start_line,
            });
        } else if is_ident_start(c) {
            let mut j = i;
            while j < s.len() && is_ident_char(s[j]) {
                j += 1;
            }
            let word: String = s[i..j].iter().collect();
            let next = at(j);
            // Raw strings: r"…", r#"…"#, br"…", cr"…".
            if matches!(word.as_str(), "r" | "br" | "cr") && matches!(next, Some('"' | '#')) {
                let mut hashes = 0;
                let mut k = j;
                while at(k) == Some('#') {
                    hashes += 1;
                    k += 1;
                }
                if at(k) == Some('"') {
                    let mut m = k + 1;
                    let body_start = m;
                    loop {
                        match at(m) {
                            None => {
                                return Err(format!("line {start_line}: unterminated raw string"))
                            }
                            Some('"') if (1..=hashes).all(|h| at(m + h) == Some('#')) => break,
                            Some(ch) => {
                                if ch == '\n' {
                                    line += 1;
                                }
                                m += 1;
                            }
                        }
                    }
                    out.push(Token {
                        tok: Tok::Str(s[body_start..m].iter().collect()),
                        line: start_line,
                    });
                    i = m + 1 + hashes;
                    continue;
                }
                if word == "r" && hashes == 1 && at(k).is_some_and(is_ident_start) {
                    // A raw identifier: r#type.
                    let mut m = k;
                    while at(m).is_some_and(is_ident_char) {
                        m += 1;
                    }
                    out.push(Token {
                        tok: Tok::Ident(s[k..m].iter().collect()),
                        line: start_line,
                    });
                    i = m;
                    continue;
                }
            }
            // Byte and C strings: b"…", c"…"; byte characters: b'…'.
            if matches!(word.as_str(), "b" | "c") && next == Some('"') {
                let (text, after) = quoted(&s, j + 1, &mut line)
                    .ok_or_else(|| format!("line {start_line}: unterminated string"))?;
                out.push(Token {
                    tok: Tok::Str(text),
                    line: start_line,
                });
                i = after;
                continue;
            }
            if word == "b" && next == Some('\'') {
                i = quote_or_lifetime(&s, j, &mut line)
                    .ok_or_else(|| format!("line {start_line}: unterminated byte literal"))?;
                out.push(Token {
                    tok: Tok::Other,
                    line: start_line,
                });
                continue;
            }
            out.push(Token {
                tok: Tok::Ident(word),
                line: start_line,
            });
            i = j;
        } else if c.is_ascii_digit() {
            // Numbers, suffixes included (`1u8`, `0x1f`, `1e5`); a `.` stays punctuation.
            while at(i).is_some_and(is_ident_char) {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Other,
                line: start_line,
            });
        } else if c == ':' && at(i + 1) == Some(':') {
            out.push(Token {
                tok: Tok::PathSep,
                line: start_line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(c),
                line: start_line,
            });
            i += 1;
        }
    }
    Ok(out)
}

/// The body of a `"`-quoted literal starting at `i` (after the quote), and the index after the
/// closing quote.
fn quoted(s: &[char], mut i: usize, line: &mut usize) -> Option<(String, usize)> {
    let start = i;
    loop {
        match s.get(i)? {
            '\\' => {
                if s.get(i + 1) == Some(&'\n') {
                    *line += 1;
                }
                i += 2;
            }
            '"' => return Some((s[start..i].iter().collect(), i + 1)),
            ch => {
                if *ch == '\n' {
                    *line += 1;
                }
                i += 1;
            }
        }
    }
}

/// At a `'`: a character literal (`'x'`, `'\n'`, `'\u{1F600}'`, `'{'`) or a lifetime or label
/// (`'a`, `'static`). Returns the index after it.
fn quote_or_lifetime(s: &[char], i: usize, line: &mut usize) -> Option<usize> {
    let c1 = *s.get(i + 1)?;
    if c1 == '\\' {
        // Escaped character: runs to the next unescaped quote.
        let mut k = i + 2;
        k += 1; // the escaped character itself (`'`, `\`, `n`, `u`, `x`…)
        while *s.get(k)? != '\'' {
            k += 1;
        }
        return Some(k + 1);
    }
    if s.get(i + 2) == Some(&'\'') {
        if c1 == '\n' {
            *line += 1;
        }
        return Some(i + 3);
    }
    // Lifetime or label.
    let mut k = i + 1;
    while s.get(k).is_some_and(|c| is_ident_char(*c)) {
        k += 1;
    }
    Some(k)
}

/// A module declared in a file: `mod name;`, possibly inside inline modules.
#[derive(Debug, Clone, PartialEq)]
struct ModDecl {
    name: String,
    /// Inline modules around the declaration (`mod a { mod b; }` → `["a"]`).
    inline: Vec<String>,
    path_attr: Option<String>,
    test: bool,
    line: usize,
}

#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// A name right under the crate root.
    Module(String),
    /// A path the check cannot follow.
    Problem(String),
}

#[derive(Debug, Clone, PartialEq)]
struct Ref {
    target: Target,
    line: usize,
    test: bool,
}

#[derive(Debug, Default)]
struct Scan {
    mods: Vec<ModDecl>,
    refs: Vec<Ref>,
}

fn is_punct(t: Option<&Token>, c: char) -> bool {
    matches!(t, Some(Token { tok: Tok::Punct(p), .. }) if *p == c)
}

fn is_ident(t: Option<&Token>, w: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(x), .. }) if x == w)
}

fn is_sep(t: Option<&Token>) -> bool {
    matches!(
        t,
        Some(Token {
            tok: Tok::PathSep,
            ..
        })
    )
}

fn opens(t: &Tok) -> bool {
    matches!(t, Tok::Punct('(' | '[' | '{'))
}

fn closes(t: &Tok) -> bool {
    matches!(t, Tok::Punct(')' | ']' | '}'))
}

/// Index of the bracket closing the one at `open`.
fn matching(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if opens(&t.tok) {
            depth += 1;
        } else if closes(&t.tok) {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// Index of the bracket opening the one closing at `close`.
fn matching_back(toks: &[Token], close: usize) -> Option<usize> {
    let mut depth = 0usize;
    for k in (0..=close).rev() {
        if closes(&toks[k].tok) {
            depth += 1;
        } else if opens(&toks[k].tok) {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// Where the item (or statement, field, match arm) starting at `start` ends: after a `;` or `,`
/// at its own level, after the `}` closing its body, or before a bracket closing the block
/// around it. It can end early (e.g. at a `,` inside generics), never late, so code after a
/// `#[cfg(test)]` item is never taken for test code.
fn item_end(toks: &[Token], start: usize) -> usize {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(start) {
        match &t.tok {
            x if opens(x) => depth += 1,
            x if closes(x) => {
                if depth == 0 {
                    return k;
                }
                depth -= 1;
                if depth == 0 && *x == Tok::Punct('}') {
                    return k + 1;
                }
            }
            Tok::Punct(';' | ',') if depth == 0 => return k + 1,
            _ => {}
        }
    }
    toks.len()
}

/// The attributes `#[…]` directly before index `at`, skipping a visibility (`pub`, `pub(…)`).
fn attrs_before(toks: &[Token], at: usize) -> Vec<&[Token]> {
    let mut k = at;
    if k > 0 && is_punct(toks.get(k - 1), ')') {
        if let Some(open) = matching_back(toks, k - 1) {
            if open > 0 && is_ident(toks.get(open - 1), "pub") {
                k = open - 1;
            }
        }
    } else if k > 0 && is_ident(toks.get(k - 1), "pub") {
        k -= 1;
    }
    let mut out = Vec::new();
    while k > 0 && is_punct(toks.get(k - 1), ']') {
        let Some(open) = matching_back(toks, k - 1) else {
            break;
        };
        if open == 0 || !is_punct(toks.get(open - 1), '#') {
            break;
        }
        out.push(&toks[open + 1..k - 1]);
        k = open - 1;
    }
    out
}

fn is_cfg_test(attr: &[Token]) -> bool {
    let t: Vec<&Tok> = attr.iter().map(|t| &t.tok).collect();
    matches!(
        t.as_slice(),
        [Tok::Ident(cfg), Tok::Punct('('), Tok::Ident(test), Tok::Punct(')')]
            if cfg == "cfg" && test == "test"
    )
}

fn path_attr(attr: &[Token]) -> Option<String> {
    match attr {
        [Token {
            tok: Tok::Ident(p), ..
        }, Token {
            tok: Tok::Punct('='),
            ..
        }, Token {
            tok: Tok::Str(s), ..
        }] if p == "path" => Some(s.clone()),
        _ => None,
    }
}

/// Scans one file whose module sits `depth` levels under the crate root.
fn scan(src: &str, depth: usize) -> Result<Scan, String> {
    let toks = lex(src)?;
    let mut out = Scan::default();
    // Bracket depth, and the inline modules open around the current token with the depth
    // their `{` opened at.
    let mut level = 0usize;
    let mut inline: Vec<(String, usize)> = Vec::new();
    // Tokens before this index are inside a #[cfg(test)] item.
    let mut test_end = 0usize;
    // `super` tokens already resolved as part of a `use` group.
    let mut done: HashSet<usize> = HashSet::new();
    let mut i = 0;
    while i < toks.len() {
        let t = &toks[i];
        let test = i < test_end;
        match &t.tok {
            // Attributes: #[cfg(test)] marks the next item, #![cfg(test)] the enclosing block.
            Tok::Punct('#')
                if is_punct(toks.get(i + 1), '[')
                    || (is_punct(toks.get(i + 1), '!') && is_punct(toks.get(i + 2), '[')) =>
            {
                let inner = is_punct(toks.get(i + 1), '!');
                let open = if inner { i + 2 } else { i + 1 };
                let close = matching(&toks, open)
                    .ok_or_else(|| format!("line {}: unbalanced attribute", t.line))?;
                if is_cfg_test(&toks[open + 1..close]) {
                    let end = if inner {
                        // To the end of the enclosing block (or of the file).
                        let mut d = 0usize;
                        let mut k = close + 1;
                        while k < toks.len() {
                            if opens(&toks[k].tok) {
                                d += 1;
                            } else if closes(&toks[k].tok) {
                                if d == 0 {
                                    break;
                                }
                                d -= 1;
                            }
                            k += 1;
                        }
                        k
                    } else {
                        item_end(&toks, close + 1)
                    };
                    test_end = test_end.max(end);
                }
                // Attribute contents hold no paths that matter; the brackets balance.
                i = close + 1;
                continue;
            }
            Tok::Ident(w) if w == "mod" => {
                if let (
                    Some(Token {
                        tok: Tok::Ident(name),
                        ..
                    }),
                    Some(next),
                ) = (toks.get(i + 1), toks.get(i + 2))
                {
                    match next.tok {
                        Tok::Punct(';') => {
                            let attrs = attrs_before(&toks, i);
                            out.mods.push(ModDecl {
                                name: name.clone(),
                                inline: inline.iter().map(|(n, _)| n.clone()).collect(),
                                path_attr: attrs.iter().find_map(|a| path_attr(a)),
                                test,
                                line: t.line,
                            });
                            i += 3;
                            continue;
                        }
                        Tok::Punct('{') => {
                            inline.push((name.clone(), level));
                            level += 1;
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            Tok::Ident(w) if w == "crate" && is_sep(toks.get(i + 1)) => {
                // `$crate::` in a macro means the same crate.
                at_root(&toks, i + 2, test, &mut out.refs);
            }
            Tok::Ident(w)
                if w == "super"
                    && is_sep(toks.get(i + 1))
                    && !done.contains(&i)
                    && !(i > 0 && is_sep(toks.get(i - 1))) =>
            {
                let here = depth + inline.len();
                climb(&toks, i, here, test, &mut out.refs, &mut done);
            }
            x if opens(x) => level += 1,
            x if closes(x) => {
                level = level
                    .checked_sub(1)
                    .ok_or_else(|| format!("line {}: unbalanced `{:?}`", t.line, x))?;
                if *x == Tok::Punct('}') && inline.last().is_some_and(|(_, l)| *l == level) {
                    inline.pop();
                }
            }
            _ => {}
        }
        i += 1;
    }
    if level != 0 {
        return Err(format!("unbalanced brackets at the end ({level} open)"));
    }
    Ok(out)
}

/// The path continues at `k` right under the crate root: one name, or a `{…}` group of them.
fn at_root(toks: &[Token], k: usize, test: bool, refs: &mut Vec<Ref>) {
    let line = toks.get(k).map_or(0, |t| t.line);
    let mut push = |target: Target, line: usize| refs.push(Ref { target, line, test });
    match toks.get(k).map(|t| &t.tok) {
        Some(Tok::Ident(name)) if name == "self" => {}
        Some(Tok::Ident(name)) => push(Target::Module(name.clone()), line),
        Some(Tok::Punct('{')) => {
            let Some(close) = matching(toks, k) else {
                push(Target::Problem("unbalanced `use` group".into()), line);
                return;
            };
            // The first token of each entry at the group's own level.
            let mut d = 0usize;
            let mut entry_start = true;
            for t in &toks[k + 1..close] {
                if entry_start && d == 0 {
                    match &t.tok {
                        Tok::Ident(n) if n == "self" => {}
                        Tok::Ident(n) if n == "super" => {
                            push(Target::Problem("`super` at the crate root".into()), t.line)
                        }
                        Tok::Ident(n) => push(Target::Module(n.clone()), t.line),
                        other => push(not_a_name(Some(other)), t.line),
                    }
                }
                entry_start = false;
                if opens(&t.tok) {
                    d += 1;
                } else if closes(&t.tok) {
                    d = d.saturating_sub(1);
                } else if t.tok == Tok::Punct(',') && d == 0 {
                    entry_start = true;
                }
            }
        }
        other => push(not_a_name(other), line),
    }
}

/// Something other than a name right under the crate root.
fn not_a_name(t: Option<&Tok>) -> Target {
    Target::Problem(match t {
        Some(Tok::Punct('*')) => "`crate::*`: a glob hides which modules are used".into(),
        Some(t) => format!("a path under the crate root continues with {t:?}, not a name"),
        None => "a path under the crate root ends the file".into(),
    })
}

/// A path starting with `super::` at `i`, in a module `here` levels under the root. Climbing to
/// the root makes the next name a top-level module; a `{…}` group on the way is followed into
/// (its entries may climb further).
fn climb(
    toks: &[Token],
    i: usize,
    here: usize,
    test: bool,
    refs: &mut Vec<Ref>,
    done: &mut HashSet<usize>,
) {
    let mut k = i;
    let mut level = here;
    while is_ident(toks.get(k), "super") && is_sep(toks.get(k + 1)) {
        done.insert(k);
        if level == 0 {
            refs.push(Ref {
                target: Target::Problem("`super` climbs above the crate root".into()),
                line: toks[k].line,
                test,
            });
            return;
        }
        level -= 1;
        k += 2;
    }
    if level == 0 {
        at_root(toks, k, test, refs);
        return;
    }
    // Still inside the top-level module; follow the path through names and `::` to a group.
    while let Some(t) = toks.get(k) {
        match &t.tok {
            Tok::Ident(_) | Tok::PathSep => k += 1,
            Tok::Punct('{') => {
                let Some(close) = matching(toks, k) else {
                    return;
                };
                let mut d = 0usize;
                let mut entry_start = true;
                for j in k + 1..close {
                    let tj = &toks[j].tok;
                    if entry_start && d == 0 && is_ident(toks.get(j), "super") {
                        climb(toks, j, level, test, refs, done);
                    }
                    entry_start = false;
                    if opens(tj) {
                        d += 1;
                    } else if closes(tj) {
                        d = d.saturating_sub(1);
                    } else if *tj == Tok::Punct(',') && d == 0 {
                        entry_start = true;
                    }
                }
                return;
            }
            _ => return,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The scanner's own tests.

fn targets(src: &str, depth: usize) -> Vec<(String, bool)> {
    let s = match scan(src, depth) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    };
    s.refs
        .into_iter()
        .map(|r| match r.target {
            Target::Module(m) => (m, r.test),
            Target::Problem(p) => (format!("problem: {p}"), r.test),
        })
        .collect()
}

fn names(v: &[(String, bool)]) -> Vec<&str> {
    v.iter().map(|(n, _)| n.as_str()).collect()
}

#[test]
fn scanner_finds_crate_paths_and_use_groups() {
    let t = targets(
        "use crate::a::B;\nuse crate::{b::C, c::{D, E}, self};\nfn f() { crate::d::f(); }\n\
         pub(crate) fn g() {}\npub(in crate::e) struct S;\n",
        1,
    );
    assert_eq!(names(&t), ["a", "b", "c", "d", "e"]);
    assert!(t.iter().all(|(_, test)| !test));
}

#[test]
fn scanner_ignores_comments_strings_and_char_literals() {
    let src = r####"
// use crate::a;
/* use crate::b; /* nested */ use crate::c; */
/// [`crate::d`]
const S: &str = "crate::e { ";
const R: &str = r#"crate::f " } "#;
const B: &[u8] = br##"crate::g"##;
const C: char = '{';
const Q: char = '\'';
const U: char = '\u{7b}';
const BC: u8 = b'}';
fn f<'a>(x: &'a str) -> &'a str { 'outer: loop { break 'outer; } x }
struct T { r#type: u8 }
use crate::h;
"####;
    assert_eq!(names(&targets(src, 1)), ["h"]);
}

#[test]
fn scanner_follows_super_out_of_a_top_level_module() {
    // A file two levels down (`src/a/b.rs`): one `super` stays in `a`, two reach the root.
    let t = targets(
        "use super::x;\nuse super::super::y;\nmod inner { use super::super::super::z; }\n\
         use super::{super::w, v};\n",
        2,
    );
    assert_eq!(names(&t), ["y", "z", "w"]);
    let t = targets("use super::super::super::q;", 2);
    assert_eq!(names(&t), ["problem: `super` climbs above the crate root"]);
}

#[test]
fn scanner_exempts_cfg_test_items_and_nothing_after_them() {
    let src = "
#[cfg(test)]
mod tests {
    use crate::a;
    fn f() { let c = '}'; let s = \"}\"; }
}
#[cfg(test)]
use crate::b;
use crate::c;
#[cfg(test)]
#[path = \"x_tests.rs\"]
mod tests2;
#[cfg(unix)]
use crate::d;
struct S {
    #[cfg(test)]
    field: crate::e::E,
    other: crate::f::F,
}
fn g() {
    #[cfg(test)]
    crate::h::go();
    crate::i::go();
}
";
    let t = targets(src, 1);
    assert_eq!(
        t,
        [
            ("a".to_string(), true),
            ("b".to_string(), true),
            ("c".to_string(), false),
            ("d".to_string(), false),
            ("e".to_string(), true),
            ("f".to_string(), false),
            ("h".to_string(), true),
            ("i".to_string(), false),
        ]
    );
    let s = scan(src, 1).unwrap_or_default();
    assert_eq!(s.mods.len(), 1);
    assert_eq!(s.mods[0].name, "tests2");
    assert_eq!(s.mods[0].path_attr.as_deref(), Some("x_tests.rs"));
    assert!(s.mods[0].test);
}

#[test]
fn scanner_reports_globs_at_the_root_and_unbalanced_files() {
    assert_eq!(
        names(&targets("use crate::*;", 1)),
        ["problem: `crate::*`: a glob hides which modules are used"]
    );
    assert!(scan("fn f() {", 1).is_err());
    assert!(scan("fn f() { \"}\" }", 1).is_ok());
}

#[test]
fn scanner_reports_lines() {
    let s = scan(
        "\n\n/* a\nb */\nconst X: &str = \"a\nb\";\nuse crate::z;\n",
        1,
    )
    .unwrap_or_default();
    assert_eq!(s.refs.len(), 1);
    assert_eq!(s.refs[0].line, 7);
}
