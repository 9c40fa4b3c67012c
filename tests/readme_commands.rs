//! Every `spanward …` command that README.md, the pages under docs/ and the files under deploy/
//! show parses with the real flags (`--help`-level: subcommand, flags and value types), so docs
//! and CLI cannot drift. The README also keeps its shape: it opens with the two commands that
//! work on a bare clone, and fits on a screen.
//!
//! Commands are taken from shell code blocks (`\` continues a line) and from inline code spans.
//! Synopsis notation is read as documentation writes it: `[…]` is an optional part (kept, with
//! the first of `a|b` alternatives), `…` repeats, UPPERCASE words are placeholders (`N`, `SEQ`
//! become a number, others a word), `|` and `&&` separate commands, `<` starts a redirection.

mod doc_pages;

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Command lines (after `spanward`) found in `text`: inline code spans, shell code blocks
/// (```sh), comment lines indented as commands (`#   spanward …`), systemd `Exec*=` lines and
/// JSON argument arrays that start with the binary (`["/usr/local/bin/spanward", …]`).
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut fenced = None::<bool>;
    let mut joined = String::new();
    let mut paragraph = String::new();
    for line in text.lines() {
        let l = line.trim();
        if let Some(lang) = l.strip_prefix("```") {
            out.extend(inline_commands(&paragraph));
            paragraph.clear();
            fenced = match fenced {
                None => Some(matches!(lang, "sh" | "bash" | "console" | "shell")),
                Some(_) => None,
            };
            continue;
        }
        let shell = match fenced {
            Some(true) => Some(l),
            Some(false) => None,
            // Outside code blocks: an indented command in a comment, or a unit's Exec line.
            None => l
                .strip_prefix("#   ")
                .or_else(|| l.split_once("=/usr/local/bin/").map(|(_, c)| c))
                .filter(|c| c.trim_start().starts_with("spanward ")),
        };
        if let Some(cmd) = shell {
            // `\` continues a command on the next line.
            match cmd.strip_suffix('\\') {
                Some(head) => {
                    joined.push_str(head);
                    joined.push(' ');
                    continue;
                }
                None => {
                    joined.push_str(cmd);
                    out.extend(split_commands(&strip_comment(&joined)));
                    joined.clear();
                }
            }
        }
        if fenced.is_none() {
            // Inline code spans may run over line ends: collect a paragraph, read it at its end.
            if l.is_empty() {
                out.extend(inline_commands(&paragraph));
                paragraph.clear();
            } else {
                paragraph.push_str(l);
                paragraph.push(' ');
            }
            // ["/usr/local/bin/spanward", "healthcheck", …]
            if let Some(i) = line.find("[\"/usr/local/bin/spanward\"") {
                let arr = &line[i..line[i..].find(']').map_or(line.len(), |j| i + j + 1)];
                // A bare `ENTRYPOINT ["…/spanward"]` carries no arguments to check.
                if let Ok(words) = serde_json::from_str::<Vec<String>>(arr) {
                    if words.len() > 1 {
                        out.push(words[1..].join(" "));
                    }
                }
            }
        }
    }
    out.extend(inline_commands(&paragraph));
    out.sort();
    out.dedup();
    out
}

/// Commands in the inline code spans of a paragraph (``a `b` c`` spans pair up as well).
fn inline_commands(paragraph: &str) -> Vec<String> {
    paragraph
        .split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .flat_map(|(_, part)| split_commands(part))
        .collect()
}

/// A shell comment at the end of a line.
fn strip_comment(line: &str) -> String {
    match line.find(" #") {
        Some(i) => line[..i].to_string(),
        None => line.to_string(),
    }
}

/// The `spanward` commands in one shell line: `a | b`, `a && b`; `cargo run -- ARGS` counts.
fn split_commands(line: &str) -> Vec<String> {
    let line = expand_optional(line);
    line.split("&&")
        .flat_map(|c| c.split('|'))
        .filter_map(|c| {
            let c = c.split('<').next().unwrap_or("").trim();
            let c = c.trim_start_matches("$ ").trim_start_matches('#').trim();
            let c = c.split_whitespace().collect::<Vec<_>>().join(" ");
            if let Some(rest) = c.strip_prefix("spanward ") {
                return Some(rest.to_string());
            }
            // `cargo run --release -- run`: the binary's arguments follow `--`.
            if c.starts_with("cargo run") {
                return c.split_once(" -- ").map(|(_, a)| a.trim().to_string());
            }
            None
        })
        // Prose that starts with the word ("spanward is an OTLP gateway…") is not a command:
        // commands start with a subcommand or a flag, all lower case.
        .filter(|c| {
            let first = c.split_whitespace().next().unwrap_or("");
            !first.is_empty() && first.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-')
        })
        .collect()
}

/// `[--format a|b]` → `--format a`; `[FILE…]` → `FILE`.
fn expand_optional(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find(']') else {
            break;
        };
        let inner = &rest[open + 1..open + close];
        // Alternatives inside an option: keep the first of each `a|b`.
        let first: Vec<&str> = inner
            .split_whitespace()
            .map(|w| w.split('|').next().unwrap_or(w))
            .collect();
        out.push_str(&first.join(" "));
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out.replace('…', "")
}

fn argv(cmd: &str) -> Vec<String> {
    std::iter::once("spanward".to_string())
        .chain(cmd.split_whitespace().map(|w| {
            let placeholder = !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
                && w.chars().any(|c| c.is_ascii_uppercase());
            match (placeholder, w) {
                (true, "N" | "SEQ") => "1".to_string(),
                (true, _) => "x".to_string(),
                (false, _) => w.trim_matches(['"', '\'']).to_string(),
            }
        }))
        .collect()
}

/// Checks every command in `text`; returns them.
fn check(origin: &str, text: &str) -> Vec<String> {
    let cmds = commands(text);
    let mut bad = Vec::new();
    for c in &cmds {
        let mut args = argv(c);
        // A bare subcommand named in prose (`spanward verify`, `spanward log cat`): the
        // subcommand must exist.
        if c.split(' ').all(|w| {
            !w.is_empty()
                && w.chars().all(|ch| ch.is_ascii_lowercase() || ch == '-')
                && !w.starts_with('-')
        }) {
            args.push("--help".into());
        }
        if let Err(e) = spanward::cli::check_args(args) {
            let first = e.to_string().lines().next().unwrap_or("").to_string();
            bad.push(format!("{origin}: `spanward {c}`: {first}"));
        }
    }
    assert!(
        bad.is_empty(),
        "commands that do not parse:\n{}",
        bad.join("\n")
    );
    cmds
}

#[test]
fn every_readme_and_docs_command_parses() {
    let mut all = std::collections::BTreeSet::new();
    for (name, text) in doc_pages::pages() {
        let cmds = check(&name, &text);
        if name == "README.md" {
            // The README shows run, validate, log cat, keygen and a few more.
            assert!(
                cmds.len() >= 5,
                "only {} commands found in the README",
                cmds.len()
            );
        }
        all.extend(cmds);
    }
    // The pages show three dozen distinct commands; far fewer means the extraction broke.
    assert!(
        all.len() >= 30,
        "only {} commands found in README.md and docs/",
        all.len()
    );
}

/// The README's first lines are the two commands a newcomer needs, both working on a bare clone:
/// one runs the service on embedded defaults, one runs the whole test suite.
#[test]
fn readme_opens_with_the_two_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let mut lines = readme.lines();
    assert!(lines.next().unwrap().starts_with("# "), "a title first");
    assert_eq!(lines.next(), Some(""));
    assert_eq!(lines.next(), Some("```sh"));
    let block: Vec<&str> = lines.take_while(|l| *l != "```").collect();
    assert_eq!(block.len(), 2, "exactly two commands: {block:?}");
    assert_eq!(
        strip_comment(block[0]).trim(),
        "cargo run --release -- run",
        "{block:?}"
    );
    assert_eq!(
        strip_comment(block[1]).trim(),
        "bash scripts/test.sh",
        "{block:?}"
    );
    assert!(root().join("scripts/test.sh").is_file());
}

/// Issue #25: the README is what a newcomer reads on one page; reference material lives in
/// docs/.
#[test]
fn readme_fits_on_a_screen() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let n = readme.lines().count();
    assert!(
        n <= 250,
        "README.md has {n} lines; move reference material to docs/"
    );
}

#[test]
fn every_deploy_file_command_parses() {
    let mut n = 0;
    let mut stack = vec![root().join("deploy")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let text = std::fs::read_to_string(&p).unwrap();
                n += check(&p.display().to_string(), &text).len();
            }
        }
    }
    // keygen in the manifest, validate and run in the unit.
    assert!(n >= 3, "only {n} commands found under deploy/");
}

/// The extraction itself: synopsis notation becomes arguments, and a wrong flag is caught.
#[test]
fn extraction_reads_synopses_and_catches_drift() {
    assert_eq!(
        commands("`spanward scrub [--input FILE|-] [--format otlp-json|jsonl] [--report]`"),
        vec!["scrub --input FILE --format otlp-json --report"]
    );
    assert_eq!(
        commands("```sh\nspanward log cat DIR | spanward scrub --format otlp-json\n```\n"),
        vec!["log cat DIR", "scrub --format otlp-json"]
    );
    assert_eq!(
        commands(
            "```sh\nspanward load --endpoint 127.0.0.1:4317 \\\n  --duration 20s  # go\n```\n"
        ),
        vec!["load --endpoint 127.0.0.1:4317 --duration 20s"]
    );
    // A code span that runs over a line end.
    assert_eq!(
        commands("see `spanward log cat DIR | spanward scrub --format\n  otlp-json` there\n"),
        vec!["log cat DIR", "scrub --format otlp-json"]
    );
    // Prose that starts with the name is not a command.
    assert!(commands("spanward is an OTLP trace gateway\n").is_empty());
    assert!(spanward::cli::check_args(argv("prove DIR SEQ")).is_ok());
    assert!(spanward::cli::check_args(argv("prove DIR --seq N")).is_ok());
    assert!(spanward::cli::check_args(argv("prove DIR --sequence N")).is_err());
    assert!(
        spanward::cli::check_args(argv("verify")).is_err(),
        "DIR is required"
    );
}
