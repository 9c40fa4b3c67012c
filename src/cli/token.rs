//! `spanward token --type email <value>`: prints the pseudonym the redaction engine's `token`
//! action writes for a value under the current key (e.g. `<email:9f2c41d07a>`), so an operator
//! answering a data-subject request can search spans and audit records for that person without
//! the raw value ever having been stored.
//!
//! The value may be given on stdin instead of the command line (keeps it out of shell history
//! and the process list); one trailing newline is ignored. The key is loaded as the service
//! loads it: `SPANWARD_HMAC_KEY` wins, then `--key-file`; with neither, the command fails, since
//! a random key would print a pseudonym that matches nothing.

use crate::keys::{normalize_for_token, Env, HmacKey, KeySource, ProcessEnv};
use anyhow::{bail, Context};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `spanward token`.
#[derive(Debug, Clone, clap::Args)]
pub struct TokenArgs {
    /// Entity type, as the pattern packs name it (`email`, `phone`, `credit_card`, `iban`, …).
    #[arg(long = "type", value_name = "TYPE")]
    pub typ: String,
    /// The value; read from stdin when omitted.
    pub value: Option<String>,
    /// HMAC key file, as in the service config (`SPANWARD_HMAC_KEY` wins when set).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
}

/// Runs the subcommand against the real environment, stdin and stdout.
pub fn run(args: TokenArgs) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    run_with(
        &args,
        &ProcessEnv,
        stdin.lock(),
        &mut std::io::stdout().lock(),
    )
}

/// The subcommand with its environment, input and output injected (for tests).
pub fn run_with(
    args: &TokenArgs,
    env: &dyn Env,
    mut stdin: impl Read,
    stdout: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    if args.typ.is_empty()
        || !args
            .typ
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_')
    {
        bail!("--type must be a pattern type name such as email or credit_card");
    }
    let key = HmacKey::load(env, args.key_file.as_deref(), false)?;
    if key.source() == KeySource::Ephemeral {
        bail!("no HMAC key: set SPANWARD_HMAC_KEY or pass --key-file (the key the service uses)");
    }
    let value = match &args.value {
        Some(v) => v.clone(),
        None => {
            let mut s = String::new();
            stdin.read_to_string(&mut s).context("reading stdin")?;
            let trimmed = s.strip_suffix('\n').unwrap_or(&s);
            trimmed.strip_suffix('\r').unwrap_or(trimmed).to_string()
        }
    };
    if normalize_for_token(&args.typ, &value).is_empty() {
        bail!("the value is empty after normalisation");
    }
    writeln!(stdout, "{}", key.pseudonym(&args.typ, &value))?;
    Ok(ExitCode::SUCCESS)
}
