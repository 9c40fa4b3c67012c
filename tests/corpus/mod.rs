//! The project's own evaluation corpus: labelled agent payloads generated from a fixed seed, so
//! every test that needs a corpus runs on a bare clone (nothing beside the checkout).
//!
//! The payloads are of the kinds agents put in spans: GenAI semantic-convention message arrays
//! (`gen_ai.input.messages`, `gen_ai.output.messages`), tool-call arguments and results,
//! OpenInference `input.value` / `output.value`, and exception text. Each record carries the
//! secrets that must not survive scrubbing (exactly as they appear in `text`, JSON-escaped where
//! the text is JSON) and benign look-alikes that must survive (ids, digests, timestamps, order
//! numbers that fail Luhn, model names, `sk-learn`, `password-reset`, ...). Card numbers pass
//! Luhn, IBANs pass mod-97, tokens follow the vendors' published shapes; every value is made up
//! here from the seed. Difficulty is ordinary on purpose (no adversarial encodings): this corpus
//! checks that the pipeline keeps working, not how far the engine generalises.
//!
//! `SPANWARD_CORPUS=FILE` replaces it with a JSONL file of the same format; `../shared/corpus/`
//! (present in CI) is an extra check through [`shared`]. `cargo run --example corpus` prints the
//! generated corpus as JSONL.
#![allow(dead_code)]

use std::path::PathBuf;

/// One labelled payload.
#[derive(Debug, Clone)]
pub struct Record {
    pub id: String,
    /// The attribute key it sits under.
    pub key: String,
    pub text: String,
    /// `(type, value)`: each value occurs in `text` as written here.
    pub secrets: Vec<(String, String)>,
    /// Substrings that must come out unchanged.
    pub benign: Vec<String>,
}

impl Record {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "key": self.key,
            "text": self.text,
            "secrets": self.secrets.iter().map(|(t, v)| serde_json::json!({"type": t, "value": v})).collect::<Vec<_>>(),
            "benign": self.benign,
        })
    }

    fn from_json(v: &serde_json::Value, line: usize) -> Result<Record, String> {
        let s = |x: &serde_json::Value, what: &str| {
            x.as_str()
                .map(str::to_string)
                .ok_or_else(|| format!("line {line}: `{what}` is not a string"))
        };
        let secrets = v["secrets"]
            .as_array()
            .ok_or_else(|| format!("line {line}: no `secrets` array"))?
            .iter()
            .map(|x| Ok((s(&x["type"], "type")?, s(&x["value"], "value")?)))
            .collect::<Result<Vec<_>, String>>()?;
        let benign = v["benign"]
            .as_array()
            .ok_or_else(|| format!("line {line}: no `benign` array"))?
            .iter()
            .map(|x| s(x, "benign"))
            .collect::<Result<Vec<_>, String>>()?;
        Ok(Record {
            id: v["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("line-{line}")),
            key: s(&v["key"], "key")?,
            text: s(&v["text"], "text")?,
            secrets,
            benign,
        })
    }
}

/// Records in the generated corpus.
pub const SIZE: usize = 2400;
/// Its seed: change it and every figure measured on the corpus changes.
pub const SEED: u64 = 0x5EED_0027_A6E7_2026;

/// The corpus the project's tests use: `SPANWARD_CORPUS` when set, else the generated one.
pub fn own() -> (String, Vec<Record>) {
    if let Ok(p) = std::env::var("SPANWARD_CORPUS") {
        let recs = read_jsonl(&PathBuf::from(&p)).unwrap_or_else(|e| panic!("{e}"));
        return (p, recs);
    }
    (
        format!("generated (seed {SEED:#x}, {SIZE} records)"),
        generate(SIZE, SEED),
    )
}

/// The shared development corpus (`../shared/corpus/agent-payloads.jsonl`), an extra check
/// that runs when it is present. `None` (and one line on stderr saying the check is skipped)
/// on a bare clone.
pub fn shared(test: &str) -> Option<(PathBuf, Vec<Record>)> {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let found = [
        "../shared/corpus/agent-payloads.jsonl",
        "../../shared/corpus/agent-payloads.jsonl",
    ]
    .iter()
    .map(|p| here.join(p))
    .find(|p| p.exists());
    match found {
        Some(p) => {
            let recs = read_jsonl(&p).unwrap_or_else(|e| panic!("{e}"));
            say(&format!(
                "{test}: extra check on the shared corpus {} ({} records)",
                p.display(),
                recs.len()
            ));
            Some((p, recs))
        }
        None => {
            say(&format!("{test}: SKIPPED the extra check on ../shared/corpus/agent-payloads.jsonl (not present beside the checkout); the project's own corpus ran"));
            None
        }
    }
}

/// A line on the real standard error: the test harness captures `eprintln!` of passing tests,
/// and whether the shared corpus ran must show in every run's output.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Reads a JSONL corpus file.
pub fn read_jsonl(path: &std::path::Path) -> Result<Vec<Record>, String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("corpus {}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            let v: serde_json::Value = serde_json::from_str(l)
                .map_err(|e| format!("corpus {} line {}: {e}", path.display(), i + 1))?;
            Record::from_json(&v, i + 1).map_err(|e| format!("corpus {}: {e}", path.display()))
        })
        .collect()
}

/// splitmix64: a fixed, dependency-free generator, so the corpus never changes under a
/// dependency update.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn range(&mut self, lo: usize, hi_inclusive: usize) -> usize {
        lo + self.below(hi_inclusive - lo + 1)
    }
    pub fn pick<'a, T: ?Sized>(&mut self, xs: &'a [&'a T]) -> &'a T {
        xs[self.below(xs.len())]
    }
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }
    fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| alphabet[self.below(alphabet.len())] as char)
            .collect()
    }
    fn digits(&mut self, n: usize) -> String {
        self.chars(DIGITS, n)
    }
}

const DIGITS: &[u8] = b"0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const HEX: &[u8] = b"0123456789abcdef";
const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

const FIRST: &[&str] = &[
    "amara", "lukas", "sofia", "ravi", "ingrid", "tomasz", "chiara", "kwame", "yuki", "mateo",
    "elif", "oskar", "priya", "dmitri", "leila", "henrik", "ana", "jonas", "mei", "farid",
];
const LAST: &[&str] = &[
    "okonkwo",
    "lindqvist",
    "moreau",
    "iyer",
    "brennan",
    "kowalski",
    "ferrari",
    "mensah",
    "tanaka",
    "alvarez",
    "demir",
    "nygaard",
    "sharma",
    "volkov",
    "haddad",
    "berg",
];
const DOMAINS: &[&str] = &[
    "northwind.example",
    "fabrikam.io",
    "tailspin.co.uk",
    "wingtip.de",
    "adatum.fr",
    "litware.com",
    "proseware.net",
    "woodgrove.org",
];
const MODELS: &[&str] = &[
    "gpt-4o-mini",
    "claude-sonnet-4",
    "llama-3.1-70b-instruct",
    "mistral-large-2411",
    "gemini-1.5-pro",
    "qwen2.5-coder-32b",
];
const TOOLS: &[&str] = &[
    "crm_lookup",
    "create_invoice",
    "send_email",
    "search_tickets",
    "run_sql",
    "fetch_url",
    "update_profile",
    "book_meeting",
];
const BENIGN_WORDS: &[&str] = &[
    "sk-learn",
    "password-reset",
    "token_count",
    "reset_password_flow",
    "api_key_rotation_doc",
    "secret-santa",
];

fn luhn_digit(payload: &str) -> u32 {
    // Check digit that makes `payload + d` pass Luhn.
    let mut sum = 0;
    for (i, c) in payload.bytes().rev().enumerate() {
        let mut d = (c - b'0') as u32;
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    (10 - sum % 10) % 10
}

fn card(r: &mut Rng) -> String {
    let (prefix, len, amex) = match r.below(4) {
        0 => ("4", 16, false),
        1 => (["51", "52", "53", "54", "55"][r.below(5)], 16, false),
        2 => (["34", "37"][r.below(2)], 15, true),
        _ => ("6011", 16, false),
    };
    let mut n = prefix.to_string();
    n.push_str(&r.digits(len - 1 - prefix.len()));
    n.push(char::from_digit(luhn_digit(&n), 10).unwrap_or('0'));
    let sep = [" ", "-", ""][r.below(3)];
    if sep.is_empty() {
        return n;
    }
    if amex {
        format!("{}{sep}{}{sep}{}", &n[..4], &n[4..10], &n[10..])
    } else {
        n.as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(sep)
    }
}

/// A 13-19 digit order number that fails Luhn (benign: must not be taken for a card).
fn order_number(r: &mut Rng) -> String {
    let mut n = format!("{}", r.range(1, 9));
    n.push_str(&r.digits(14));
    let good = luhn_digit(&n);
    n.push(char::from_digit((good + 1 + r.below(8) as u32) % 10, 10).unwrap_or('1'));
    n
}

fn iban(r: &mut Rng) -> String {
    // (country, BBAN shape: 'd' digit, 'A' upper-case letter)
    let (cc, shape) = [
        ("DE", "dddddddddddddddddd"),
        ("FR", "ddddddddddddddddddddddd"),
        ("NL", "AAAAdddddddddd"),
        ("GB", "AAAAdddddddddddddd"),
        ("ES", "dddddddddddddddddddd"),
        ("BE", "dddddddddddd"),
    ][r.below(6)];
    let bban: String = shape
        .bytes()
        .map(|c| {
            if c == b'd' {
                (b'0' + r.below(10) as u8) as char
            } else {
                (b'A' + r.below(26) as u8) as char
            }
        })
        .collect();
    let rearranged = format!("{bban}{cc}00");
    let mut rem: u64 = 0;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap_or(0) as u64;
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    let check = 98 - rem;
    let compact = format!("{cc}{check:02}{bban}");
    if r.chance(40) {
        compact
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(" ")
    } else {
        compact
    }
}

fn ssn(r: &mut Rng) -> String {
    let area = loop {
        let a = r.range(1, 899);
        if a != 666 {
            break a;
        }
    };
    format!("{area:03}-{:02}-{:04}", r.range(1, 99), r.range(1, 9999))
}

fn phone(r: &mut Rng) -> String {
    match r.below(4) {
        0 => format!(
            "+1 {}{} {} {}",
            r.range(2, 9),
            r.digits(2),
            r.range(200, 999),
            r.digits(4)
        ),
        1 => format!("+44 20 {} {}", r.range(3000, 8999), r.digits(4)),
        2 => format!("+49 30 {} {}", r.range(200, 999), r.range(10000, 99999)),
        _ => format!(
            "({}{}) {}-{}",
            r.range(2, 9),
            r.digits(2),
            r.range(200, 999),
            r.digits(4)
        ),
    }
}

fn ipv4(r: &mut Rng) -> String {
    let first = [23, 34, 45, 52, 64, 81, 91, 104, 141, 172, 185, 203][r.below(12)];
    format!(
        "{first}.{}.{}.{}",
        r.range(0, 255),
        r.range(0, 255),
        r.range(1, 254)
    )
}

fn email(r: &mut Rng) -> String {
    let sep = [".", "_", ""][r.below(3)];
    let tail = if r.chance(30) {
        format!("{}", r.range(1, 99))
    } else {
        String::new()
    };
    format!(
        "{}{sep}{}{tail}@{}",
        r.pick(FIRST),
        r.pick(LAST),
        r.pick(DOMAINS)
    )
}

fn b64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn jwt(r: &mut Rng) -> String {
    let header = format!(
        "{{\"alg\":\"{}\",\"typ\":\"JWT\"}}",
        ["HS256", "RS256", "ES256"][r.below(3)]
    );
    let payload = format!(
        "{{\"sub\":\"{}\",\"iat\":{},\"scope\":\"{}\"}}",
        r.range(10000, 9999999),
        1_700_000_000 + r.below(90_000_000),
        ["read", "read write", "admin"][r.below(3)]
    );
    let sig: Vec<u8> = (0..32).map(|_| r.below(256) as u8).collect();
    format!(
        "{}.{}.{}",
        b64url(header.as_bytes()),
        b64url(payload.as_bytes()),
        b64url(&sig)
    )
}

fn private_key(r: &mut Rng, newline: &str) -> String {
    let kind = ["RSA ", "EC ", ""][r.below(3)];
    let mut s = format!("-----BEGIN {kind}PRIVATE KEY-----");
    for _ in 0..r.range(3, 6) {
        s.push_str(newline);
        s.push_str(&r.chars(B64, 64));
    }
    s.push_str(newline);
    let tail = r.range(8, 40);
    s.push_str(&r.chars(B64, tail));
    s.push('=');
    s.push_str(newline);
    s.push_str(&format!("-----END {kind}PRIVATE KEY-----"));
    s
}

fn password(r: &mut Rng) -> String {
    let words = ["Harbor", "Quartz", "Violet", "Falcon", "Cobalt", "Maple"];
    let word = words[r.below(words.len())];
    let mark = ["!", "#", "$", "%", "&", "*"][r.below(6)];
    let (nd, na) = (r.range(2, 4), r.range(3, 6));
    format!("{word}{mark}{}{}", r.digits(nd), r.chars(ALNUM, na))
}

/// A secret of `kind`: `(value, sentence that carries it, type)`. `json` says whether the
/// sentence will sit inside a JSON string (the private key's newlines are then escapes).
fn secret(r: &mut Rng, kind: usize, json: bool) -> (String, String, &'static str) {
    match kind {
        0 => {
            let v = card(r);
            let s = match r.below(3) {
                0 => format!("Charged the card {v} for the renewal."),
                1 => format!("payment method on file: {v} (expires 09/29)"),
                _ => format!("Customer read out card number {v} over chat."),
            };
            (v, s, "credit_card")
        }
        1 => {
            let v = phone(r);
            let s = match r.below(2) {
                0 => format!("Reach the account owner on {v} before noon."),
                _ => format!("callback number: {v}"),
            };
            (v, s, "phone")
        }
        2 => {
            let v = ipv4(r);
            let s = format!("login from {v} was flagged by the risk engine");
            (v, s, "ipv4")
        }
        3 => {
            let v = iban(r);
            let s = format!("Refund goes to IBAN {v} within three days.");
            (v, s, "iban")
        }
        4 => {
            let v = email(r);
            let s = match r.below(2) {
                0 => format!("Forwarded the summary to {v} as requested."),
                _ => format!("contact: {v}"),
            };
            (v, s, "email")
        }
        5 => {
            let v = ssn(r);
            let s = format!("Applicant SSN {v} matched the payroll record.");
            (v, s, "us_ssn")
        }
        6 => {
            let v = jwt(r);
            let s = format!("Authorization: Bearer {v}");
            (v, s, "jwt")
        }
        7 => {
            let v = format!("ghp_{}", r.chars(ALNUM, 36));
            let s = format!("GITHUB_TOKEN={v} was found in the CI logs");
            (v, s, "github_pat")
        }
        8 => {
            let n = r.range(24, 40);
            let v = format!("sk_live_{}", r.chars(ALNUM, n));
            let s = format!("billing client configured with {v}");
            (v, s, "stripe_live_key")
        }
        9 => {
            let v = password(r);
            let s = match r.below(2) {
                0 => format!("connect with db_password={v} on the replica"),
                _ => format!("the admin password is {v}"),
            };
            (v, s, "password_assignment")
        }
        10 => {
            let v = format!("AIza{}", r.chars(B64URL, 35));
            let s = format!("maps request used key={v}");
            (v, s, "google_api_key")
        }
        11 => {
            let v = format!(
                "xoxb-{}-{}-{}",
                r.digits(12),
                r.digits(13),
                r.chars(ALNUM, 24)
            );
            let s = format!("SLACK_BOT_TOKEN {v} posted to #ops");
            (v, s, "slack_bot_token")
        }
        12 => {
            let v = private_key(r, if json { "\\n" } else { "\n" });
            let s = format!("deploy key follows {v} end of key");
            (v, s, "private_key")
        }
        13 => {
            let v = format!(
                "sk-proj-{}T3BlbkFJ{}",
                r.chars(B64URL, 40),
                r.chars(B64URL, 40)
            );
            let s = format!("OPENAI_API_KEY={v}");
            (v, s, "openai_key")
        }
        _ => {
            let v = format!("AKIA{}", r.chars(UPPER_DIGITS, 16));
            let s = format!("aws_access_key_id = {v} (profile prod)");
            (v, s, "aws_access_key_id")
        }
    }
}

const SECRET_KINDS: usize = 15;

/// A benign value and a sentence that carries it.
fn benign(r: &mut Rng) -> (String, String) {
    match r.below(9) {
        0 => {
            let v = r.chars(HEX, 32);
            (v.clone(), format!("trace {v} was sampled"))
        }
        1 => {
            let v = format!(
                "{}-{}-4{}-{}{}-{}",
                r.chars(HEX, 8),
                r.chars(HEX, 4),
                r.chars(HEX, 3),
                ["8", "9", "a", "b"][r.below(4)],
                r.chars(HEX, 3),
                r.chars(HEX, 12)
            );
            (v.clone(), format!("request_id {v}"))
        }
        2 => {
            let v = r.chars(HEX, 64);
            (v.clone(), format!("artifact sha256 {v} verified"))
        }
        3 => {
            let v = r.chars(HEX, 40);
            (v.clone(), format!("built from commit {v}"))
        }
        4 => {
            let v = format!(
                "2026-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                r.range(1, 12),
                r.range(1, 28),
                r.range(0, 23),
                r.range(0, 59),
                r.range(0, 59),
                r.range(0, 999)
            );
            (v.clone(), format!("completed at {v}"))
        }
        5 => {
            let v = format!("ORD-{}", order_number(r));
            (v.clone(), format!("order {v} shipped"))
        }
        6 => {
            let v = r.pick(MODELS).to_string();
            (v.clone(), format!("answered by {v}"))
        }
        7 => {
            let v = r.pick(BENIGN_WORDS).to_string();
            (v.clone(), format!("see the {v} page"))
        }
        _ => {
            let v = format!("{}", 1_760_000_000_000u64 + r.below(1_000_000_000) as u64);
            (
                v.clone(),
                format!("took {} ms, epoch_ms {v}", r.range(3, 900)),
            )
        }
    }
}

fn json_escape(s: &str) -> String {
    let q = serde_json::to_string(s).unwrap_or_default();
    q[1..q.len() - 1].to_string()
}

/// Generates `n` records from `seed`.
pub fn generate(n: usize, seed: u64) -> Vec<Record> {
    let mut r = Rng::new(seed);
    (0..n).map(|i| record(&mut r, i)).collect()
}

fn record(r: &mut Rng, i: usize) -> Record {
    const KEYS: &[&str] = &[
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "gen_ai.tool.call.result",
        "input.value",
        "output.value",
        "exception.message",
    ];
    let key = KEYS[r.below(KEYS.len())];
    // JSON-bearing keys; input.value / output.value are JSON half of the time.
    let json = match key {
        "exception.message" => false,
        "input.value" | "output.value" => r.chance(50),
        _ => true,
    };
    let n_secrets = match r.below(10) {
        0..=2 => 0,
        3..=8 => 1,
        _ => 2,
    };
    let mut secrets = Vec::new();
    let mut sentences = Vec::new();
    for _ in 0..n_secrets {
        let kind = r.below(SECRET_KINDS);
        let (v, s, t) = secret(r, kind, json);
        secrets.push((t.to_string(), v));
        sentences.push(s);
    }
    let mut benigns = Vec::new();
    for _ in 0..r.range(0, 2) {
        let (v, s) = benign(r);
        benigns.push(v);
        sentences.push(s);
    }
    if sentences.is_empty() {
        sentences.push("Nothing sensitive in this step.".into());
    }
    // Shuffle the sentences (Fisher-Yates) so secrets are not always first.
    for j in (1..sentences.len()).rev() {
        let k = r.below(j + 1);
        sentences.swap(j, k);
    }
    let body = sentences.join(" ");
    let text = wrap(r, key, json, &body);
    let secrets = secrets
        .into_iter()
        .map(|(t, v)| {
            // A private key built for JSON already holds `\n` escapes; escape the rest.
            let shown = if json && t != "private_key" {
                json_escape(&v)
            } else {
                v
            };
            (t, shown)
        })
        .collect();
    let benign = benigns
        .into_iter()
        .map(|b| if json { json_escape(&b) } else { b })
        .collect();
    Record {
        id: format!("own-{i}"),
        key: key.into(),
        text,
        secrets,
        benign,
    }
}

/// Puts `body` into the shape of the attribute `key`. In JSON shapes `body` is escaped as a JSON
/// string, except that a private key's `\n` escapes are already in place.
fn wrap(r: &mut Rng, key: &str, json: bool, body: &str) -> String {
    // Escape everything but the backslash-n sequences the private key brought.
    let esc = |s: &str| {
        s.split("\\n")
            .map(json_escape)
            .collect::<Vec<_>>()
            .join("\\n")
    };
    let model = r.pick(MODELS);
    let tool = r.pick(TOOLS);
    match (key, json) {
        ("gen_ai.input.messages", _) => format!(
            "[{{\"role\":\"system\",\"parts\":[{{\"type\":\"text\",\"content\":\"You are a support agent. Use {tool} when needed.\"}}]}},{{\"role\":\"user\",\"parts\":[{{\"type\":\"text\",\"content\":\"{}\"}}]}}]",
            esc(body)
        ),
        ("gen_ai.output.messages", _) => format!(
            "[{{\"role\":\"assistant\",\"parts\":[{{\"type\":\"text\",\"content\":\"{}\"}}],\"finish_reason\":\"{}\"}}]",
            esc(body),
            ["stop", "length", "tool_calls"][r.below(3)]
        ),
        ("gen_ai.tool.call.arguments", _) => format!(
            "{{\"tool\":\"{tool}\",\"note\":\"{}\",\"limit\":{}}}",
            esc(body),
            r.range(1, 50)
        ),
        ("gen_ai.tool.call.result", _) => format!(
            "{{\"status\":\"ok\",\"rows\":{},\"result\":\"{}\"}}",
            r.range(0, 20),
            esc(body)
        ),
        ("input.value", true) | ("output.value", true) => format!(
            "{{\"model\":\"{model}\",\"text\":\"{}\"}}",
            esc(body)
        ),
        ("exception.message", _) => format!(
            "ToolError in {tool}: upstream returned 422 while processing: {body}"
        ),
        _ => body.to_string(),
    }
}
