//! Relative links in README.md and the pages under docs/ lead somewhere: the file exists and, for
//! `page.md#anchor`, the page has a heading with that anchor (GitHub's rule: lower case, spaces
//! to `-`, punctuation other than `-` and `_` dropped). Pages move and headings get renamed;
//! this keeps "where to read on" true.

use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// README.md and every `.md` under docs/ (including docs/bench/).
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md")];
    let mut stack = vec![root().join("docs")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "md") {
                out.push(p);
            }
        }
    }
    out
}

/// GitHub's anchor for a heading.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Anchors of a page's headings (lines in code blocks are not headings).
fn anchors(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
        } else if !fenced && l.starts_with('#') {
            out.push(slug(l.trim_start_matches('#')));
        }
    }
    out
}

/// Targets of `[text](target)` links, outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut fenced = false;
    let mut out = Vec::new();
    for l in text.lines() {
        if l.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            continue;
        }
        let mut rest = l;
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            out.push(after[..end].to_string());
            rest = &after[end..];
        }
    }
    out
}

#[test]
fn every_relative_link_resolves() {
    let mut bad = Vec::new();
    let mut n = 0;
    for page in pages() {
        let text = std::fs::read_to_string(&page).unwrap();
        let name = page.strip_prefix(root()).unwrap().display().to_string();
        for target in links(&text) {
            if target.starts_with("http://") || target.starts_with("https://") {
                continue;
            }
            n += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                page.clone()
            } else {
                page.parent().unwrap().join(file)
            };
            if !path.exists() {
                bad.push(format!("{name}: `{target}`: no such file"));
                continue;
            }
            if !anchor.is_empty() {
                let t = std::fs::read_to_string(&path).unwrap();
                if !anchors(&t).iter().any(|a| a == anchor) {
                    bad.push(format!("{name}: `{target}`: no heading with that anchor"));
                }
            }
        }
    }
    assert!(bad.is_empty(), "broken links:\n{}", bad.join("\n"));
    assert!(n >= 40, "only {n} relative links found");
}

#[test]
fn anchors_follow_githubs_rule() {
    assert_eq!(
        slug(" Tamper-evident log (`exporters.file`)"),
        "tamper-evident-log-exportersfile"
    );
    assert_eq!(
        slug(" The OTLP exporter's retries"),
        "the-otlp-exporters-retries"
    );
    assert_eq!(
        links("see [a](docs/a.md#x) and [b](b.md)\n```\n[c](c.md)\n```\n"),
        ["docs/a.md#x", "b.md"]
    );
    assert_eq!(
        anchors("# A b\n```sh\n# not a heading\n```\n## C\n"),
        ["a-b", "c"]
    );
}
