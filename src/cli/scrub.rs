//! `spanward scrub [--input FILE|-] [--format otlp-json|jsonl|text] [--report]`: the same
//! engine over files (OTLP/JSON exports, JSONL payloads, plain text), output on stdout.

use crate::keys::{HmacKey, KeySource, ProcessEnv};
use crate::scrub::{RedactionConfig, ScrubReport, Scrubber};
use clap::{Args, ValueEnum};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScrubFormat {
    /// ExportTraceServiceRequests in OTLP/JSON: one document, or one per line (as `spanward log
    /// cat` prints them); written back one per line.
    OtlpJson,
    /// One JSON document per line; every string in it is scrubbed, each line stays valid JSON.
    Jsonl,
    /// Plain text, scrubbed line by line.
    Text,
}

#[derive(Debug, Args)]
pub struct ScrubArgs {
    /// Input file, or `-` for stdin.
    #[arg(long, short, default_value = "-")]
    pub input: String,
    /// Input format.
    #[arg(long, short, value_enum, default_value = "text")]
    pub format: ScrubFormat,
    /// Print per-type counts to stderr when done.
    #[arg(long)]
    pub report: bool,
    /// Extra pattern packs (repeatable), as `redaction.pattern_files`.
    #[arg(long = "patterns")]
    pub pattern_files: Vec<PathBuf>,
    /// HMAC key file for `token` pseudonyms (`SPANWARD_HMAC_KEY` wins over it).
    #[arg(long)]
    pub key_file: Option<PathBuf>,
    /// Instead of scrubbing, show each line (each string of an OTLP/JSON export) with what
    /// would be masked highlighted (rule, type, action, validators) and the near misses with
    /// their reason. The output holds the input as it is: use it on test data.
    #[arg(long)]
    pub explain: bool,
    /// With `--explain`: one JSON object per explained item instead of text.
    #[arg(long, requires = "explain")]
    pub json: bool,
}

fn read_input(input: &str) -> anyhow::Result<Box<dyn BufRead>> {
    Ok(if input == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        let f = std::fs::File::open(input).map_err(|e| anyhow::anyhow!("opening {input}: {e}"))?;
        Box::new(std::io::BufReader::new(f))
    })
}

/// Scrubs `input` into `out`; the seam tests drive.
pub fn scrub_stream(
    scrubber: &Scrubber,
    format: ScrubFormat,
    mut input: impl BufRead,
    out: &mut impl Write,
    rep: &mut ScrubReport,
) -> anyhow::Result<()> {
    match format {
        ScrubFormat::OtlpJson => {
            let mut text = String::new();
            input.read_to_string(&mut text)?;
            // One export, or several one after another (newline-delimited, as `spanward log cat`
            // prints them), of any signal: the top-level key says which. The error names the
            // position only: serde_json messages do not quote input.
            let mut reqs = Vec::new();
            for (i, v) in serde_json::Deserializer::from_str(&text)
                .into_iter::<serde_json::Value>()
                .enumerate()
            {
                let not_otlp = |e: &dyn std::fmt::Display| {
                    anyhow::anyhow!("request {} is not an OTLP/JSON export: {e}", i + 1)
                };
                let v = v.map_err(|e| not_otlp(&e))?;
                reqs.push(Export::from_json(v).map_err(|e| not_otlp(&e))?);
            }
            for req in &mut reqs {
                // As the service does: a value one part of the request revealed is masked in
                // every other part too, before or after it (a second walk, only when needed).
                // Nothing is written unless every part of every request was scrubbed: fail
                // closed.
                let mut first = ScrubReport::default();
                req.scrub(scrubber, &mut first)?;
                if first.found_secrets() {
                    let mut second = ScrubReport::with_known(Some(first.known_from_found()));
                    req.scrub(scrubber, &mut second)?;
                    first.found.clear();
                    rep.merge(&first);
                    second.found.clear();
                    second.bytes_scanned = 0;
                    rep.merge(&second);
                } else {
                    rep.merge(&first);
                }
            }
            for req in &reqs {
                req.write_json(&mut *out)?;
                writeln!(out)?;
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
                let (body, nl) = match line.strip_suffix('\n') {
                    Some(b) => (b, "\n"),
                    None => (line.as_str(), ""),
                };
                if format == ScrubFormat::Jsonl
                    && !body.trim().is_empty()
                    && serde_json::from_str::<serde::de::IgnoredAny>(body).is_err()
                {
                    anyhow::bail!("line {n} is not JSON");
                }
                let cleaned = scrubber.scrub_str_report(body, rep);
                out.write_all(cleaned.as_bytes())?;
                out.write_all(nl.as_bytes())?;
            }
        }
    }
    Ok(())
}

pub fn run(args: ScrubArgs) -> anyhow::Result<ExitCode> {
    let cfg = RedactionConfig {
        pattern_files: args.pattern_files.clone(),
        key_file: args.key_file.clone(),
        ..Default::default()
    };
    let key = HmacKey::load(&ProcessEnv, cfg.key_file.as_deref(), false)?;
    if key.source() == KeySource::Ephemeral {
        eprintln!("WARN no HMAC key configured (SPANWARD_HMAC_KEY or --key-file): pseudonyms are random for this run only");
    }
    let scrubber = Scrubber::new(&cfg, key)?;
    let input = read_input(&args.input)?;
    let stdout = std::io::stdout();
    if args.explain {
        use std::io::IsTerminal;
        let colour = !args.json && stdout.is_terminal();
        let mut out = std::io::BufWriter::new(stdout.lock());
        super::explain::explain_stream(&scrubber, args.format, input, &mut out, args.json, colour)?;
        out.flush()?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut rep = ScrubReport::default();
    scrub_stream(&scrubber, args.format, input, &mut out, &mut rep)?;
    out.flush()?;
    if args.report {
        let mut m = rep.matches.clone();
        m.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        eprintln!("{:28} {:>8}", "type", "count");
        for (t, n) in &m {
            eprintln!("{t:28} {n:8}");
        }
        eprintln!(
            "total {} redactions; {} bytes scanned; {} bytes values skipped; {} oversize values; {} attributes dropped",
            rep.total(),
            rep.bytes_scanned,
            rep.bytes_values_skipped,
            rep.oversize_values,
            rep.dropped_attributes
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One OTLP/JSON export request of any signal.
enum Export {
    Traces(ExportTraceServiceRequest),
    Logs(ExportLogsServiceRequest),
    Metrics(ExportMetricsServiceRequest),
}

impl Export {
    /// The request a JSON object holds, by its top-level key (`resourceSpans`, `resourceLogs`,
    /// `resourceMetrics`; an object with none of them is an empty trace export).
    fn from_json(v: serde_json::Value) -> Result<Export, serde_json::Error> {
        let has = |k: &str| v.get(k).is_some();
        Ok(if has("resourceLogs") {
            Export::Logs(serde_json::from_value(v)?)
        } else if has("resourceMetrics") {
            Export::Metrics(serde_json::from_value(v)?)
        } else {
            Export::Traces(serde_json::from_value(v)?)
        })
    }

    fn write_json(&self, out: &mut impl Write) -> serde_json::Result<()> {
        match self {
            Export::Traces(r) => serde_json::to_writer(out, r),
            Export::Logs(r) => serde_json::to_writer(out, r),
            Export::Metrics(r) => serde_json::to_writer(out, r),
        }
    }

    /// Scrubs every resource, scope and item; the first failure stops it (the caller then
    /// writes nothing).
    fn scrub(&mut self, sc: &Scrubber, rep: &mut ScrubReport) -> anyhow::Result<()> {
        let failed = |e| anyhow::anyhow!("could not scrub the export, nothing written: {e}");
        let outer = |r: Option<&mut Resource>, rep: &mut ScrubReport| match r {
            Some(r) => sc.scrub_resource(r, rep).map_err(failed),
            None => Ok(()),
        };
        let scope = |s: Option<&mut InstrumentationScope>, rep: &mut ScrubReport| match s {
            Some(s) => sc.scrub_scope(s, rep).map_err(failed),
            None => Ok(()),
        };
        match self {
            Export::Traces(req) => {
                for rs in &mut req.resource_spans {
                    outer(rs.resource.as_mut(), rep)?;
                    for ss in &mut rs.scope_spans {
                        scope(ss.scope.as_mut(), rep)?;
                        for sp in &mut ss.spans {
                            sc.scrub_span(sp, rep).map_err(failed)?;
                        }
                    }
                }
            }
            Export::Logs(req) => {
                for rl in &mut req.resource_logs {
                    outer(rl.resource.as_mut(), rep)?;
                    for sl in &mut rl.scope_logs {
                        scope(sl.scope.as_mut(), rep)?;
                        for r in &mut sl.log_records {
                            sc.scrub_log_record(r, rep).map_err(failed)?;
                        }
                    }
                }
            }
            Export::Metrics(req) => {
                for rm in &mut req.resource_metrics {
                    outer(rm.resource.as_mut(), rep)?;
                    for sm in &mut rm.scope_metrics {
                        scope(sm.scope.as_mut(), rep)?;
                        for m in &mut sm.metrics {
                            sc.scrub_metric(m, rep).map_err(failed)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }
}
