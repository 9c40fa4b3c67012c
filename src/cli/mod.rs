//! Subcommands. The binary's `main` calls [`main`]; errors are boxed only here, at the edge.

pub mod explain;
pub mod fingerprint;
pub mod log;
pub mod patterns;
pub mod scrub;
pub mod token;
pub mod top;

use crate::config::{Config, Resolved};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "spanward",
    version,
    about = "OTLP trace gateway for AI agents: sample, fingerprint, scrub, store"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the service (embedded defaults when no --config is given).
    Run {
        /// YAML config file.
        #[arg(long)]
        config: Option<PathBuf>,
        /// Start even if the log is damaged before its tail: damage past the last checkpoint is
        /// cut (the bytes kept in a `.salvaged-<offset>` file); damaged records a checkpoint or a
        /// sealed segment covers stay in place (an ERROR names them, `verify` keeps failing
        /// there) and their leaf hashes come from `hashes.dat`.
        #[arg(long)]
        salvage: bool,
    },
    /// Check a config file: exit 0 when valid, else print what is wrong and where.
    Validate {
        #[arg(long)]
        config: PathBuf,
    },
    /// Send synthetic AI-agent spans to a receiver and report throughput and latency.
    Load(LoadCommand),
    /// Recompute offline the input/output fingerprint the pipeline wrote for raw fields.
    Fingerprint(fingerprint::FingerprintArgs),
    /// Print the pseudonym the `token` redaction action gives a value under the current key.
    Token(token::TokenArgs),
    /// Check a log directory: every CRC, leaf, root and checkpoint signature.
    Verify(log::VerifyArgs),
    /// Print an inclusion proof of record N against the latest checkpoint (JSON).
    Prove(log::ProveArgs),
    /// Check an inclusion proof printed by `prove`.
    VerifyProof(log::VerifyProofArgs),
    /// Read a log directory.
    #[command(subcommand)]
    Log(log::LogCommand),
    /// Make a key: an HMAC key (default) or an Ed25519 checkpoint signing key (`--signing`).
    Keygen(log::SigningKeygenArgs),
    /// Check the hash chain of audit files (give rotated files oldest first, then the current).
    AuditVerify {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Exit 0 when an admin URL answers 200 (for container health checks without curl).
    Healthcheck {
        /// The URL (`http://host:port/path`); `--url URL` says the same.
        #[arg(value_name = "URL", conflicts_with = "url")]
        url_arg: Option<String>,
        /// The URL. Default `http://127.0.0.1:8888/healthz`.
        #[arg(long)]
        url: Option<String>,
    },
    /// Check or list redaction pattern packs.
    Patterns(patterns::PatternsArgs),
    /// Run the redaction engine over files (OTLP JSON, JSONL payloads, plain text).
    Scrub(scrub::ScrubArgs),
    /// A live terminal dashboard of a running instance, read from its admin endpoint.
    Top(top::TopArgs),
}

fn init_logging(level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(level))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
}

fn load_config(path: Option<&Path>) -> anyhow::Result<(Config, Resolved)> {
    let (cfg, origin) = match path {
        Some(p) => (Config::load(p)?, p.display().to_string()),
        None => (Config::default(), "<embedded defaults>".to_string()),
    };
    let resolved = cfg.resolve(&origin)?;
    Ok((cfg, resolved))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

fn cmd_run(config: Option<PathBuf>, salvage: bool) -> anyhow::Result<ExitCode> {
    let (cfg, mut resolved) = load_config(config.as_deref())?;
    resolved.salvage = salvage;
    init_logging(&cfg.logging.level);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("spanward-io")
        .build()?;
    rt.block_on(async move {
        let listeners = crate::service::Listeners::bind(&resolved)?;
        tracing::info!(
            version = env!("CARGO_PKG_VERSION"),
            workers = resolved.workers,
            "spanward starting"
        );
        crate::service::run(resolved, listeners, shutdown_signal()).await?;
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(ExitCode::SUCCESS)
}

fn cmd_validate(config: PathBuf) -> anyhow::Result<ExitCode> {
    let (_, r) = load_config(Some(&config))?;
    // Everything `run` loads at start (pattern packs and their examples, keys, directories),
    // without binding ports or writing the log.
    crate::service::preflight(&r)?;
    println!(
        "{}: valid (grpc: {}, http: {}, admin: {}, exporters: {})",
        config.display(),
        r.grpc
            .map(|a| a.to_string())
            .unwrap_or_else(|| "off".into()),
        r.http
            .map(|a| a.to_string())
            .unwrap_or_else(|| "off".into()),
        r.admin,
        r.exporters
            .iter()
            .map(|e| e.key)
            .collect::<Vec<_>>()
            .join("+")
    );
    Ok(ExitCode::SUCCESS)
}

/// `spanward load`: how to send, and what.
#[derive(Debug, clap::Args)]
pub struct LoadCommand {
    #[command(flatten)]
    args: crate::load::LoadArgs,
    #[command(flatten)]
    traffic: crate::load::TrafficArgs,
}

fn cmd_load(cmd: LoadCommand) -> anyhow::Result<ExitCode> {
    let args = cmd.args;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // Where the data goes: a default `spanward run` stores every span it receives.
    eprintln!(
        "load: sending OTLP/{} to {} for {}; a `spanward run` with no config keeps what it receives in \
         ./spanward-data (retention: newest {} GiB, see retention_max_bytes in docs/configuration.md)",
        match args.protocol {
            crate::load::Protocol::Grpc => "gRPC",
            crate::load::Protocol::Http => "HTTP",
        },
        args.target(),
        humantime::format_duration(args.duration),
        crate::sink::log::DEFAULT_RUN_RETENTION_BYTES >> 30
    );
    let report = rt.block_on(crate::load::run_traffic(&args, &cmd.traffic))?;
    println!("{report}");
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    }
    // A run where nothing got through is a failure for scripts, whatever the cause.
    if report.requests_ok == 0 && !report.failures.is_empty() {
        eprintln!("spanward: load: every request failed");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}

fn cmd_healthcheck(url: &str) -> anyhow::Result<ExitCode> {
    use anyhow::Context;
    use std::io::{Read, Write};
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| anyhow::anyhow!("{url}: must be http://host:port/path"))?;
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let addr = std::net::ToSocketAddrs::to_socket_addrs(host)
        .with_context(|| format!("{url}: resolving {host}"))?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{url}: {host} does not resolve"))?;
    let timeout = std::time::Duration::from_secs(3);
    let mut s = std::net::TcpStream::connect_timeout(&addr, timeout)
        .with_context(|| format!("{url}: connecting to {addr}"))?;
    s.set_read_timeout(Some(timeout))
        .with_context(|| format!("{url}: setting a read timeout"))?;
    write!(
        s,
        "GET /{path} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
    )
    .with_context(|| format!("{url}: sending the request"))?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head)
        .with_context(|| format!("{url}: reading the answer"))?;
    Ok(if &head[9..12] == b"200" {
        ExitCode::SUCCESS
    } else {
        eprintln!(
            "spanward: {url}: answered {}",
            String::from_utf8_lossy(&head[9..12])
        );
        ExitCode::from(1)
    })
}

/// Panic messages can quote the data being processed (a failed string slice prints the string),
/// so panics on worker threads, which handle span contents, report only where they happened.
fn install_panic_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let worker = std::thread::current()
            .name()
            .is_some_and(|n| n.starts_with("spanward-worker"));
        // A reader that went away (`spanward patterns list | head`): stop quietly with the
        // shell's status for SIGPIPE, as a C tool killed by the signal would.
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.starts_with("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(141);
        }
        if worker {
            let at = info
                .location()
                .map(|l| format!("{}:{}", l.file(), l.line()))
                .unwrap_or_default();
            tracing::error!(location = %at, "panic on a worker thread (message withheld: it may quote span data)");
        } else {
            default(info);
        }
    }));
}

/// Parses a command line as `main` would, without running it: the commands README.md and docs/
/// show are checked against the real flags with this (`tests/readme_commands.rs`). `args`
/// starts with the program name. `--help` and `--version` count as parsed.
pub fn check_args<I, T>(args: I) -> Result<(), clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    use clap::error::ErrorKind;
    match Cli::try_parse_from(args) {
        Ok(_) => Ok(()),
        Err(e) if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Parses flags and runs the subcommand; prints errors with their causes.
pub fn main() -> ExitCode {
    install_panic_hook();
    let cli = Cli::parse();
    let res = match cli.command {
        Command::Run { config, salvage } => cmd_run(config, salvage),
        Command::Verify(a) => log::run_verify(&a),
        Command::Prove(a) => log::run_prove(&a),
        Command::VerifyProof(a) => log::run_verify_proof(&a),
        Command::Log(c) => log::run_log(&c),
        Command::Keygen(a) => log::run_keygen(&a),
        Command::Validate { config } => cmd_validate(config),
        Command::Load(args) => cmd_load(args),
        Command::Fingerprint(args) => fingerprint::run(args),
        Command::Token(args) => token::run(args),
        Command::Patterns(args) => patterns::run(args),
        Command::Healthcheck { url_arg, url } => cmd_healthcheck(
            url.or(url_arg)
                .as_deref()
                .unwrap_or("http://127.0.0.1:8888/healthz"),
        ),
        Command::AuditVerify { files } => match crate::audit::verify_chain(&files) {
            Ok(r) => {
                println!(
                    "ok: {} records, {} chain start(s)",
                    r.records, r.chain_starts
                );
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => {
                println!("FAIL: {e}");
                Ok(ExitCode::FAILURE)
            }
        },
        Command::Scrub(args) => scrub::run(args),
        Command::Top(args) => top::run(args),
    };
    match res {
        Ok(code) => code,
        Err(e) => {
            eprintln!("spanward: {}", report(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, each cause once. Our messages often already quote their
/// source (`reading {path}: {source}`, so the path stays next to the cause), and anyhow's `{:#}`
/// would then print that source a second (and third) time.
pub fn report(e: &anyhow::Error) -> String {
    report_chain(e.chain())
}

/// [`report`] over any error chain (the outermost error first).
pub fn report_chain<'a>(
    chain: impl Iterator<Item = &'a (dyn std::error::Error + 'static)>,
) -> String {
    let mut out = String::new();
    for cause in chain {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
