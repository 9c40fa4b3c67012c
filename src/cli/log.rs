//! `spanward verify`, `prove`, `verify-proof`, `log cat` and `keygen --signing`: offline tools
//! over a log directory (read-only, safe while the service runs).

use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Subcommand};

use crate::sink::log::checkpoint;
use crate::sink::log::verify::{self, InclusionProof};

/// `spanward verify DIR [--pubkey FILE]`
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Log directory (`exporters.file.path`).
    pub dir: PathBuf,
    /// File with the verifier key(s) checkpoints must be signed by (`spanward keygen
    /// --signing` wrote it). Without it, the keys in DIR/pubkeys are used, which proves the
    /// log consistent but not who signed it.
    #[arg(long)]
    pub pubkey: Option<PathBuf>,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// `spanward prove DIR --seq N`
#[derive(Debug, Args)]
pub struct ProveArgs {
    pub dir: PathBuf,
    /// Sequence number of the record to prove (0-based); `--seq N` says the same.
    #[arg(
        value_name = "SEQ",
        required_unless_present = "seq",
        conflicts_with = "seq"
    )]
    pub seq_arg: Option<u64>,
    /// Sequence number of the record to prove (0-based).
    #[arg(long)]
    pub seq: Option<u64>,
}

/// `spanward verify-proof [FILE] [--pubkey FILE]`
#[derive(Debug, Args)]
pub struct VerifyProofArgs {
    /// Proof JSON as `spanward prove` printed it; `-` or absent reads standard input.
    pub proof: Option<PathBuf>,
    /// Verifier key file; without it only the proof's arithmetic is checked, not who signed
    /// the checkpoint.
    #[arg(long)]
    pub pubkey: Option<PathBuf>,
}

/// `spanward log …`
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// Prints records as OTLP JSON, one export request per line in its signal's OTLP/JSON
    /// (top-level `resourceSpans`, `resourceLogs` or `resourceMetrics`), each replayable as an
    /// OTLP/HTTP JSON body to /v1/traces, /v1/logs or /v1/metrics.
    Cat(CatArgs),
}

#[derive(Debug, Args)]
pub struct CatArgs {
    pub dir: PathBuf,
    /// First sequence number to print.
    #[arg(long, default_value_t = 0)]
    pub from: u64,
    /// Print only this signal's records (`traces`, `logs` or `metrics`), so that every line
    /// can be posted to the same path. Default: all, in log order.
    #[arg(long, value_parser = parse_signal)]
    pub signal: Option<crate::vocab::Signal>,
}

fn parse_signal(s: &str) -> Result<crate::vocab::Signal, String> {
    crate::vocab::Signal::ALL
        .into_iter()
        .find(|x| x.as_str() == s)
        .ok_or_else(|| format!("`{s}`: expected traces, logs or metrics"))
}

/// `spanward keygen [--out FILE]` (HMAC key) or `spanward keygen --signing [--name NAME] --out FILE`
#[derive(Debug, Args)]
pub struct SigningKeygenArgs {
    /// Make an Ed25519 checkpoint signing key (rather than an HMAC key).
    #[arg(long, requires = "out")]
    pub signing: bool,
    /// Key name, which becomes the checkpoints' origin line: no spaces or '+'.
    #[arg(long, default_value = crate::sink::log::DEFAULT_KEY_NAME)]
    pub name: String,
    /// Where to write the private key (mode 0600, never overwritten). With `--signing` the
    /// verifier key goes to FILE.pub and to standard output. Without `--out`, an HMAC key is
    /// printed to standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn read_pubkeys(p: &Option<PathBuf>) -> anyhow::Result<Option<Vec<String>>> {
    match p {
        None => Ok(None),
        Some(p) => Ok(Some(checkpoint::read_vkeys(p)?)),
    }
}

pub fn run_verify(args: &VerifyArgs) -> anyhow::Result<ExitCode> {
    let keys = read_pubkeys(&args.pubkey)?;
    let show = !args.quiet && std::io::stderr().is_terminal();
    let mut last_pct = u64::MAX;
    let mut progress = |done: u64, total: u64| {
        // A bar only for logs big enough to take a while.
        if !show || total < (256 << 20) {
            return;
        }
        let pct = done.saturating_mul(100) / total.max(1);
        if pct != last_pct {
            last_pct = pct;
            let filled = (pct / 2) as usize;
            eprint!(
                "\rverifying [{}{}] {pct:>3}% ({} / {} MiB)",
                "#".repeat(filled),
                " ".repeat(50 - filled.min(50)),
                done >> 20,
                total >> 20
            );
        }
    };
    let res = verify::verify_dir(&args.dir, keys.as_deref(), &mut progress);
    if last_pct != u64::MAX {
        eprintln!();
    }
    match res {
        Ok(r) => {
            println!(
                "OK: {} records ({} spans, {} bytes in {} segments), {} checkpoints; tree size {}, root {}",
                r.records, r.spans, r.bytes, r.segments, r.checkpoints, r.tree_size, r.root
            );
            if r.log_batches + r.metric_batches > 0 {
                println!(
                    "    of which {} log batches ({} log records) and {} metric batches ({} data points)",
                    r.log_batches, r.log_records, r.metric_batches, r.metric_points
                );
            }
            if r.pruned_records > 0 {
                println!(
                    "    {} earlier records were removed by retention (their leaf hashes verified)",
                    r.pruned_records
                );
            }
            if r.tree_size > r.last_checkpoint_size {
                println!(
                    "    {} records after the last checkpoint (size {}) are not signed yet",
                    r.tree_size - r.last_checkpoint_size,
                    r.last_checkpoint_size
                );
            }
            if args.pubkey.is_none() {
                println!(
                    "    signatures checked against DIR/pubkeys; pass --pubkey to check who signed"
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("FAILED: {f}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn run_prove(args: &ProveArgs) -> anyhow::Result<ExitCode> {
    // clap requires one of the two.
    let seq = args.seq.or(args.seq_arg).unwrap_or_default();
    match verify::prove(&args.dir, seq) {
        Ok(p) => {
            println!("{}", serde_json::to_string_pretty(&p)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            eprintln!("error: {f}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn run_verify_proof(args: &VerifyProofArgs) -> anyhow::Result<ExitCode> {
    let mut text = String::new();
    match &args.proof {
        Some(p) if p.as_os_str() != "-" => {
            text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        _ => {
            std::io::stdin().read_to_string(&mut text)?;
        }
    }
    let proof: InclusionProof = serde_json::from_str(&text).context("parsing the proof JSON")?;
    let keys = read_pubkeys(&args.pubkey)?;
    match verify::verify_proof(&proof, keys.as_deref()) {
        Ok(()) => {
            println!(
                "OK: record {} is included in the tree of size {}{}",
                proof.seq,
                proof.tree_size,
                if keys.is_some() {
                    " signed by the given key"
                } else {
                    " (signature not checked: no --pubkey)"
                }
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("FAILED: {e}");
            Ok(ExitCode::FAILURE)
        }
    }
}

pub fn run_log(cmd: &LogCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        LogCommand::Cat(a) => {
            let stdout = std::io::stdout();
            let mut out = std::io::BufWriter::new(stdout.lock());
            match verify::cat_signal(&a.dir, a.from, a.signal, &mut out) {
                Ok(r) => {
                    out.flush()?;
                    // Which signal each line is: said once on stderr when the log holds more
                    // than traces (the trace-only output stays what it always was).
                    if r.logs + r.metrics > 0 || a.signal.is_some() {
                        eprintln!(
                            "note: printed {} trace, {} log and {} metric requests (one per line; the top-level key says which){}",
                            r.traces,
                            r.logs,
                            r.metrics,
                            if r.filtered > 0 {
                                format!("; {} records of other signals left out", r.filtered)
                            } else {
                                String::new()
                            }
                        );
                    }
                    if r.skipped > 0 {
                        eprintln!(
                            "note: {} records were not OTLP export requests and were skipped",
                            r.skipped
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(f) => {
                    out.flush()?;
                    eprintln!("error: {f}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
    }
}

/// `spanward keygen`: an HMAC key (hex) for pseudonyms and fingerprints, or with `--signing` an
/// Ed25519 checkpoint signing key.
pub fn run_keygen(args: &SigningKeygenArgs) -> anyhow::Result<ExitCode> {
    if !args.signing {
        let key = crate::keys::generate_hex_key();
        match &args.out {
            Some(p) => write_private(p, format!("{key}\n").as_bytes())?,
            None => println!("{key}"),
        }
        return Ok(ExitCode::SUCCESS);
    }
    let out = args
        .out
        .clone()
        .ok_or_else(|| anyhow::anyhow!("--signing needs --out FILE"))?;
    anyhow::ensure!(
        checkpoint::is_valid_name(&args.name),
        "--name must be non-empty, without spaces or '+'"
    );
    let (skey, vkey) = checkpoint::generate_signing_key(&args.name);
    write_private(&out, format!("{skey}\n").as_bytes())?;
    let mut pubpath = out.clone().into_os_string();
    pubpath.push(".pub");
    std::fs::write(&pubpath, format!("{vkey}\n"))
        .with_context(|| format!("writing {}", PathBuf::from(&pubpath).display()))?;
    println!("{vkey}");
    Ok(ExitCode::SUCCESS)
}

fn write_private(path: &std::path::Path, data: &[u8]) -> anyhow::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {} (it must not exist yet)", path.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    Ok(())
}
