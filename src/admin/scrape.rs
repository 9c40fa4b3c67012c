//! Reads the registry's own OpenMetrics text back into samples, so the JSON status view is made
//! of exactly what `/metrics` shows at that moment (families with label values only known at run
//! time, such as redaction types, included).

/// One sample line: `name{labels} value`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: Vec<(String, String)>,
    pub value: f64,
}

impl Sample {
    /// The value of label `key`, or `""`.
    pub fn label(&self, key: &str) -> &str {
        self.labels
            .iter()
            .find(|(k, _)| k == key)
            .map_or("", |(_, v)| v.as_str())
    }
}

/// Every sample of an exposition. Comment lines (`# TYPE`, `# HELP`, `# EOF`) are skipped, and
/// so is any line that does not parse: this reads our own encoder's output.
pub fn parse(text: &str) -> Vec<Sample> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .filter_map(parse_line)
        .collect()
}

/// The classic Prometheus text format (0.0.4) of an OpenMetrics exposition: a counter's
/// `# HELP` and `# TYPE` name its samples' `…_total` name, and there is no `# EOF` or `# UNIT`.
/// Samples are the same lines in both.
pub fn to_classic(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len() + 16 * counters.len());
    for line in openmetrics.lines() {
        if line == "# EOF" || line.starts_with("# UNIT ") {
            continue;
        }
        let meta = line
            .strip_prefix("# HELP ")
            .map(|r| ("# HELP ", r))
            .or_else(|| line.strip_prefix("# TYPE ").map(|r| ("# TYPE ", r)));
        match meta {
            Some((kind, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                out.push_str(kind);
                out.push_str(name);
                if counters.contains(name) {
                    out.push_str("_total");
                }
                if !tail.is_empty() {
                    out.push(' ');
                    out.push_str(tail);
                }
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

fn parse_line(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(r) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(r)?;
        labels = parsed;
        rest = after;
    }
    // The value, then an optional timestamp or ` # {…}` exemplar.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some(Sample {
        name: name.to_string(),
        labels,
        value,
    })
}

/// `k="v",k2="v2"}` → the pairs and what follows the `}`.
fn parse_labels(mut s: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(',');
        if let Some(after) = s.strip_prefix('}') {
            return Some((out, after));
        }
        let eq = s.find('=')?;
        let key = s[..eq].trim().to_string();
        let body = s[eq + 1..].strip_prefix('"')?;
        let mut value = String::new();
        let mut chars = body.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '"' => break i,
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                c => value.push(c),
            }
        };
        out.push((key, value));
        s = &body[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_labels_escapes_and_specials() {
        let text = "# HELP x_total A counter\n# TYPE x_total counter\n\
                    x_total{transport=\"grpc\",reason=\"queue_full\"} 12\n\
                    y 3.5\n\
                    h_bucket{le=\"+Inf\"} 7\n\
                    c_total{client=\"a\\\"b\\\\c\\nd\"} 1 # {trace_id=\"x\"} 1\n\
                    broken{le=\"1\" 2\n\
                    # EOF\n";
        let s = parse(text);
        assert_eq!(s.len(), 4, "{s:?}");
        assert_eq!(s[0].name, "x_total");
        assert_eq!(s[0].label("reason"), "queue_full");
        assert_eq!(s[0].value, 12.0);
        assert_eq!(s[1].value, 3.5);
        assert!(s[1].labels.is_empty());
        assert_eq!(s[2].label("le"), "+Inf");
        assert_eq!(s[3].label("client"), "a\"b\\c\nd");
        assert_eq!(s[3].label("missing"), "");
    }

    #[test]
    fn classic_text_names_counters_by_their_samples() {
        let om = "# HELP a_spans Spans.\n# TYPE a_spans counter\na_spans_total{x=\"1\"} 3\n\
                  # HELP g A gauge.\n# TYPE g gauge\ng 1\n# UNIT g seconds\n# EOF\n";
        assert_eq!(
            to_classic(om),
            "# HELP a_spans_total Spans.\n# TYPE a_spans_total counter\na_spans_total{x=\"1\"} 3\n\
             # HELP g A gauge.\n# TYPE g gauge\ng 1\n"
        );
        assert_eq!(parse(om), parse(&to_classic(om)));
    }

    #[test]
    fn the_registry_reads_back() {
        let (m, r) = crate::vocab::metrics::Metrics::new();
        m.refused("http", crate::vocab::RefuseReason::QueueFull, 5);
        m.redactions
            .get_or_create(&crate::vocab::metrics::TypeLabel {
                r#type: "email".into(),
            })
            .inc_by(3);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &r).unwrap();
        let s = parse(&text);
        let find = |name: &str| s.iter().find(|x| x.name == name).unwrap();
        assert_eq!(find("spanward_receiver_refused_spans_total").value, 5.0);
        assert_eq!(find("spanward_redactions_total").label("type"), "email");
        assert_eq!(find("spanward_redactions_total").value, 3.0);
    }
}
