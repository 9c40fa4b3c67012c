//! `spanward scrub --explain`: each input line (or, for OTLP/JSON, each string of the export)
//! with what the scrubber masks highlighted, the rule, type, action and validators of each
//! match, and the near misses with their reason (see `scrub::explain`). Colour on a terminal,
//! `[[…]]` and `{{…}}` markers otherwise; `--json` prints one JSON object per explained item.
//! Items with nothing to report are not printed.

use super::scrub::ScrubFormat;
use crate::scrub::explain::Explained;
use crate::scrub::Scrubber;
use std::io::{BufRead, Write};

/// Where an explained string came from: its line, and its JSON path inside an OTLP export.
struct Item<'a> {
    line: usize,
    path: Option<String>,
    text: &'a str,
}

pub fn explain_stream(
    scrubber: &Scrubber,
    format: ScrubFormat,
    mut input: impl BufRead,
    out: &mut impl Write,
    json: bool,
    colour: bool,
) -> anyhow::Result<()> {
    let emit = |item: Item<'_>, out: &mut dyn Write| -> anyhow::Result<()> {
        let e = scrubber.explain(item.text);
        if e.masked.is_empty() && e.near_misses.is_empty() && e.replaced_whole.is_none() {
            return Ok(());
        }
        if json {
            let v = serde_json::json!({
                "line": item.line,
                "path": item.path,
                "text": item.text,
                "masked": e.masked,
                "near_misses": e.near_misses,
                "replaced_whole": e.replaced_whole,
            });
            serde_json::to_writer(&mut *out, &v)?;
            writeln!(out)?;
        } else {
            write_human(out, &item, &e, colour)?;
        }
        Ok(())
    };
    match format {
        ScrubFormat::OtlpJson => {
            let mut text = String::new();
            input.read_to_string(&mut text)?;
            for (i, doc) in serde_json::Deserializer::from_str(&text)
                .into_iter::<serde_json::Value>()
                .enumerate()
            {
                let doc =
                    doc.map_err(|e| anyhow::anyhow!("document {} is not JSON: {e}", i + 1))?;
                let mut strings = Vec::new();
                collect_strings(&doc, "$".to_string(), &mut strings);
                for (path, s) in strings {
                    emit(
                        Item {
                            line: i + 1,
                            path: Some(path),
                            text: s,
                        },
                        out,
                    )?;
                }
            }
        }
        ScrubFormat::Jsonl | ScrubFormat::Text => {
            let mut line = String::new();
            let mut n = 0usize;
            loop {
                line.clear();
                if input.read_line(&mut line)? == 0 {
                    break;
                }
                n += 1;
                let body = line.strip_suffix('\n').unwrap_or(&line);
                emit(
                    Item {
                        line: n,
                        path: None,
                        text: body,
                    },
                    out,
                )?;
            }
        }
    }
    Ok(())
}

/// Every string of a JSON document with its path (`$.resourceSpans[0].…`).
fn collect_strings<'a>(v: &'a serde_json::Value, path: String, out: &mut Vec<(String, &'a str)>) {
    match v {
        serde_json::Value::String(s) => out.push((path, s)),
        serde_json::Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                collect_strings(x, format!("{path}[{i}]"), out);
            }
        }
        serde_json::Value::Object(o) => {
            for (k, x) in o {
                collect_strings(x, format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

fn write_human(
    out: &mut dyn Write,
    item: &Item<'_>,
    e: &Explained,
    colour: bool,
) -> std::io::Result<()> {
    match &item.path {
        Some(p) => writeln!(out, "line {} {p}", item.line)?,
        None => writeln!(out, "line {}", item.line)?,
    }
    if let Some(kind) = &e.replaced_whole {
        return writeln!(out, "  replaced whole: [REDACTED:{kind}]");
    }
    // Masked ranges are disjoint; a near miss is shown where no mask covers it.
    let mut marks: Vec<(usize, usize, bool)> = e
        .masked
        .iter()
        .map(|m| (m.start, m.end, true))
        .chain(e.near_misses.iter().map(|n| (n.start, n.end, false)))
        .collect();
    marks.sort_by_key(|&(s, e, masked)| (s, !masked, std::cmp::Reverse(e)));
    let t = item.text;
    let mut shown = String::new();
    let mut last = 0;
    for (s, end, masked) in marks {
        if s < last || !t.is_char_boundary(s) || !t.is_char_boundary(end) {
            continue;
        }
        shown.push_str(&t[last..s]);
        let (open, close) = match (masked, colour) {
            (true, true) => ("\x1b[1;37;41m", "\x1b[0m"),
            (false, true) => ("\x1b[4;33m", "\x1b[0m"),
            (true, false) => ("[[", "]]"),
            (false, false) => ("{{", "}}"),
        };
        shown.push_str(open);
        shown.push_str(&t[s..end]);
        shown.push_str(close);
        last = end;
    }
    shown.push_str(&t[last..]);
    writeln!(out, "  {shown}")?;
    for m in &e.masked {
        let v = if m.validators.is_empty() {
            String::new()
        } else {
            format!(", validators passed: {}", m.validators.join(", "))
        };
        writeln!(
            out,
            "  masked {}..{} type {} (rule {}, action {}{v})",
            m.start, m.end, m.typ, m.rule, m.action
        )?;
    }
    for n in &e.near_misses {
        writeln!(
            out,
            "  near miss {}..{} rule {}: {}",
            n.start, n.end, n.rule, n.reason
        )?;
    }
    Ok(())
}
