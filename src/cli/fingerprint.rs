//! `spanward fingerprint`: recompute offline the digest the pipeline wrote as
//! `spanward.input_hash` / `spanward.output_hash`, so an auditor can prove what a tool or model
//! was called with.
//!
//! ```text
//! spanward fingerprint --key-file /etc/spanward/hmac.key --role input < fields.json
//! ```
//!
//! `fields.json` holds the span's RAW fields (as the agent produced them, before scrubbing), in
//! either form:
//! - a JSON object `{attribute_key: value}`: strings, booleans and arrays map to the same OTLP
//!   types; integers (no fraction or exponent) to `int`, other numbers to `double`, objects to
//!   key-value lists, `null` to an empty value. Example:
//!   `{"gen_ai.tool.call.arguments": "{\"city\":\"Paris\"}"}`;
//! - a JSON array of OTLP/JSON attributes, `[{"key": "...", "value": {"stringValue": "..."}}]`,
//!   for exact types (`bytesValue` as base64, `intValue` as string or number) and for keys that
//!   occur more than once (the same key on the span and on an event).
//!
//! With `--role`, only the fields the role map assigns to that role are hashed (the role map
//! is the built-in one, or the `fingerprint:` section of `--config`); without it, every field
//! given is hashed. The digest (64 hex digits) goes to stdout; the key id to stderr. The key
//! is loaded as the service loads it: `SPANWARD_HMAC_KEY` wins, then `--key-file`; with neither,
//! the command fails (a random key would give a meaningless digest). The encoding is
//! documented in `crate::pipeline::fingerprint`.

use crate::keys::{Env, HmacKey, KeySource, ProcessEnv};
use crate::pipeline::fingerprint::{FingerprintConfig, Fingerprinter, HashMode, Role};
use anyhow::{anyhow, bail, Context};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::common::v1::{AnyValue, ArrayValue, KeyValue, KeyValueList};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `spanward fingerprint`.
#[derive(Debug, Clone, clap::Args)]
pub struct FingerprintArgs {
    /// HMAC key file, as in the service config (`SPANWARD_HMAC_KEY` wins when set).
    #[arg(long, value_name = "PATH")]
    pub key_file: Option<PathBuf>,
    /// Hash only the fields the role map assigns to this role.
    #[arg(long, value_enum)]
    pub role: Option<RoleArg>,
    /// spanward config file whose `fingerprint:` section (role map, mode) to use.
    #[arg(long, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Override the config's mode (`sha256` needs no key).
    #[arg(long, value_enum)]
    pub mode: Option<ModeArg>,
    /// Read the fields from this file instead of stdin.
    #[arg(long, value_name = "PATH")]
    pub input: Option<PathBuf>,
}

/// `--role` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RoleArg {
    Input,
    Output,
}

/// `--mode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModeArg {
    Hmac,
    Sha256,
}

/// Runs the subcommand against the real environment, stdin and stdout.
pub fn run(args: FingerprintArgs) -> anyhow::Result<ExitCode> {
    let stdin = std::io::stdin();
    run_with(
        &args,
        &ProcessEnv,
        stdin.lock(),
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
}

/// The subcommand with its environment, input and outputs injected (for tests).
pub fn run_with(
    args: &FingerprintArgs,
    env: &dyn Env,
    mut stdin: impl Read,
    stdout: &mut dyn Write,
    stderr: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut cfg = match &args.config {
        Some(p) => fingerprint_section(p)?,
        None => FingerprintConfig::default(),
    };
    if let Some(m) = args.mode {
        cfg.mode = match m {
            ModeArg::Hmac => HashMode::Hmac,
            ModeArg::Sha256 => HashMode::Sha256,
        };
    }
    let key = match cfg.mode {
        HashMode::Hmac => {
            let key = HmacKey::load(env, args.key_file.as_deref(), false)?;
            if key.source() == KeySource::Ephemeral {
                bail!(
                    "no HMAC key: set SPANWARD_HMAC_KEY or pass --key-file (the key the service uses)"
                );
            }
            key
        }
        // Unkeyed: the key is not used.
        HashMode::Sha256 => HmacKey::ephemeral(),
    };
    let f = Fingerprinter::new(&cfg, key)?;
    let mut text = String::new();
    match &args.input {
        Some(p) => {
            text = std::fs::read_to_string(p).with_context(|| format!("reading {}", p.display()))?
        }
        None => {
            stdin.read_to_string(&mut text).context("reading stdin")?;
        }
    }
    let fields = parse_fields(&text)?;
    let want = args.role.map(|r| match r {
        RoleArg::Input => Role::Input,
        RoleArg::Output => Role::Output,
    });
    let selected: Vec<(&str, &AnyValue)> = fields
        .iter()
        .filter(|(k, _)| want.is_none() || f.role_of(k) == want)
        .map(|(k, v)| (k.as_str(), v))
        .collect();
    let Some(digest) = f.digest_fields(selected.iter().copied()) else {
        writeln!(stderr, "no fields of the requested role in the input")?;
        return Ok(ExitCode::from(1));
    };
    writeln!(stdout, "{digest}")?;
    writeln!(
        stderr,
        "hash_key_id={} fields={}",
        f.key_id(),
        selected.len()
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Reads the `fingerprint:` section of a spanward config file (default when absent).
fn fingerprint_section(path: &std::path::Path) -> anyhow::Result<FingerprintConfig> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let doc: serde_norway::Value =
        serde_norway::from_str(&text).with_context(|| format!("parsing {}", path.display()))?;
    match doc.get("fingerprint") {
        Some(section) => serde_norway::from_value(section.clone())
            .with_context(|| format!("{}: fingerprint section", path.display())),
        None => Ok(FingerprintConfig::default()),
    }
}

/// Parses the input: a JSON object of plain values or an array of OTLP/JSON attributes.
pub fn parse_fields(text: &str) -> anyhow::Result<Vec<(String, AnyValue)>> {
    let v: serde_json::Value = serde_json::from_str(text).context("input is not JSON")?;
    match v {
        serde_json::Value::Object(map) => map
            .into_iter()
            .map(|(k, v)| Ok((k, plain_value(&v)?)))
            .collect(),
        serde_json::Value::Array(items) => items
            .iter()
            .map(|kv| {
                let kv = otlp_key_value(kv)?;
                Ok((kv.key, kv.value.unwrap_or_default()))
            })
            .collect(),
        _ => bail!("input must be a JSON object or an array of OTLP attributes"),
    }
}

/// Plain JSON to an OTLP value.
pub fn plain_value(v: &serde_json::Value) -> anyhow::Result<AnyValue> {
    use serde_json::Value as J;
    let value = match v {
        J::Null => None,
        J::Bool(b) => Some(Value::BoolValue(*b)),
        J::String(s) => Some(Value::StringValue(s.clone())),
        J::Number(n) => Some(match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::IntValue(i),
            (None, Some(_), _) => bail!("integer {n} does not fit an OTLP int (i64)"),
            (None, None, Some(f)) => Value::DoubleValue(f),
            _ => bail!("unsupported number {n}"),
        }),
        J::Array(a) => Some(Value::ArrayValue(ArrayValue {
            values: a.iter().map(plain_value).collect::<anyhow::Result<_>>()?,
        })),
        J::Object(m) => Some(Value::KvlistValue(KeyValueList {
            values: m
                .iter()
                .map(|(k, v)| {
                    Ok(KeyValue {
                        key: k.clone(),
                        value: Some(plain_value(v)?),
                        ..Default::default()
                    })
                })
                .collect::<anyhow::Result<_>>()?,
        })),
    };
    Ok(AnyValue { value })
}

fn otlp_key_value(v: &serde_json::Value) -> anyhow::Result<KeyValue> {
    let key = v
        .get("key")
        .and_then(|k| k.as_str())
        .ok_or_else(|| anyhow!("attribute without a string \"key\""))?;
    let value = match v.get("value") {
        Some(x) => Some(otlp_value(x)?),
        None => None,
    };
    Ok(KeyValue {
        key: key.to_string(),
        value,
        ..Default::default()
    })
}

/// OTLP/JSON `AnyValue` (`{"stringValue": …}` etc.) to an OTLP value.
pub fn otlp_value(v: &serde_json::Value) -> anyhow::Result<AnyValue> {
    let obj = v
        .as_object()
        .ok_or_else(|| anyhow!("an OTLP value must be an object like {{\"stringValue\": …}}"))?;
    let mut it = obj.iter();
    let value = match (it.next(), it.next()) {
        (None, _) => None,
        (Some(_), Some(_)) => bail!("an OTLP value has exactly one field"),
        (Some((k, x)), None) => Some(match k.as_str() {
            "stringValue" => Value::StringValue(
                x.as_str()
                    .ok_or_else(|| anyhow!("stringValue must be a string"))?
                    .to_string(),
            ),
            "boolValue" => Value::BoolValue(
                x.as_bool()
                    .ok_or_else(|| anyhow!("boolValue must be a bool"))?,
            ),
            "intValue" => Value::IntValue(match x {
                serde_json::Value::String(s) => s.parse().context("intValue")?,
                _ => x
                    .as_i64()
                    .ok_or_else(|| anyhow!("intValue must be an i64"))?,
            }),
            "doubleValue" => Value::DoubleValue(match x {
                serde_json::Value::String(s) => s.parse().context("doubleValue")?,
                _ => x
                    .as_f64()
                    .ok_or_else(|| anyhow!("doubleValue must be a number"))?,
            }),
            "bytesValue" => Value::BytesValue(base64_decode(
                x.as_str()
                    .ok_or_else(|| anyhow!("bytesValue must be a base64 string"))?,
            )?),
            "arrayValue" => Value::ArrayValue(ArrayValue {
                values: list(x)?
                    .iter()
                    .map(otlp_value)
                    .collect::<anyhow::Result<_>>()?,
            }),
            "kvlistValue" => Value::KvlistValue(KeyValueList {
                values: list(x)?
                    .iter()
                    .map(otlp_key_value)
                    .collect::<anyhow::Result<_>>()?,
            }),
            other => bail!("unknown OTLP value type {other:?}"),
        }),
    };
    Ok(AnyValue { value })
}

fn list(x: &serde_json::Value) -> anyhow::Result<&[serde_json::Value]> {
    match x.get("values") {
        None => Ok(&[]),
        Some(v) => v
            .as_array()
            .map(Vec::as_slice)
            .ok_or_else(|| anyhow!("\"values\" must be an array")),
    }
}

/// Standard base64 (RFC 4648, with or without padding), as OTLP/JSON encodes bytes.
fn base64_decode(s: &str) -> anyhow::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => bail!("bytesValue is not base64"),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64() {
        assert_eq!(base64_decode("").unwrap(), b"");
        assert_eq!(base64_decode("Zg==").unwrap(), b"f");
        assert_eq!(base64_decode("Zm8=").unwrap(), b"fo");
        assert_eq!(base64_decode("Zm9v").unwrap(), b"foo");
        assert_eq!(base64_decode("Zm9vYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("AP8=").unwrap(), [0u8, 255]);
        assert!(base64_decode("Zm9v!").is_err());
    }

    #[test]
    fn plain_and_otlp_forms_agree() {
        let plain = parse_fields(
            r#"{"a": "x", "b": 3, "c": 1.5, "d": true, "e": [1, "y"], "f": {"k": null}}"#,
        )
        .unwrap();
        let otlp = parse_fields(
            r#"[{"key":"a","value":{"stringValue":"x"}},
                {"key":"b","value":{"intValue":"3"}},
                {"key":"c","value":{"doubleValue":1.5}},
                {"key":"d","value":{"boolValue":true}},
                {"key":"e","value":{"arrayValue":{"values":[{"intValue":1},{"stringValue":"y"}]}}},
                {"key":"f","value":{"kvlistValue":{"values":[{"key":"k","value":{}}]}}}]"#,
        )
        .unwrap();
        assert_eq!(plain, otlp);
        assert!(parse_fields("3").is_err());
        assert!(parse_fields(r#"{"a": 18446744073709551615}"#).is_err());
        assert!(parse_fields(r#"[{"key":"a","value":{"stringValue":"x","intValue":1}}]"#).is_err());
    }
}
