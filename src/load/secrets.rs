//! Synthetic PII and secrets for the realistic load: values in the formats the default packs
//! detect (emails, Luhn-valid cards, phones, SSNs, IBANs with valid check digits, cloud and API
//! keys, JWTs, private key blocks, passwords), and their placement in generated text.

use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;

use super::text::NAMES;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn chars_from(rng: &mut StdRng, alphabet: &[u8], n: usize) -> String {
    (0..n)
        .map(|_| alphabet[rng.gen_range(0..alphabet.len())] as char)
        .collect()
}

fn b64url(rng: &mut StdRng, n: usize) -> String {
    chars_from(
        rng,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        n,
    )
}

fn b64url_encode(data: &[u8]) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..=chunk.len() {
            out.push(A[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

/// A number of `len` digits starting with `prefix` whose last digit makes it pass Luhn.
pub fn luhn_complete(prefix: &str, len: usize, rng: &mut StdRng) -> String {
    let mut digits: Vec<u32> = prefix.chars().filter_map(|c| c.to_digit(10)).collect();
    while digits.len() < len.saturating_sub(1) {
        digits.push(rng.gen_range(0..10));
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 0 {
                let x = d * 2;
                if x > 9 {
                    x - 9
                } else {
                    x
                }
            } else {
                d
            }
        })
        .sum();
    digits.push((10 - sum % 10) % 10);
    digits.iter().map(|d| char::from(b'0' + *d as u8)).collect()
}

/// An IBAN of `country` with `bban_len` digits and correct ISO 7064 check digits.
fn iban(rng: &mut StdRng, country: &str, bban_len: usize) -> String {
    let bban: String = (0..bban_len)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect();
    // Check digits: 98 - (BBAN + country as numbers + "00") mod 97.
    let mut rem: u32 = 0;
    let moved = format!("{bban}{country}00");
    for c in moved.chars() {
        let v = c.to_digit(36).unwrap_or(0);
        let (mul, add) = if v >= 10 { (100, v) } else { (10, v) };
        rem = (rem * mul + add) % 97;
    }
    format!("{country}{:02}{bban}", 98 - rem)
}

fn person(rng: &mut StdRng) -> (&'static str, &'static str) {
    const LAST: &[&str] = &[
        "garcia", "smith", "tanaka", "mueller", "patel", "haddad", "wang", "rossi", "silva",
        "okafor", "nielsen", "kowalski", "dubois", "kim", "novak",
    ];
    (
        NAMES.choose(rng).copied().unwrap_or("alex"),
        LAST.choose(rng).copied().unwrap_or("doe"),
    )
}

/// One synthetic sensitive value with a few words around it, as it shows up in agent text.
pub fn sensitive(rng: &mut StdRng) -> String {
    match rng.gen_range(0..14) {
        0 | 1 => {
            let (f, l) = person(rng);
            let d = [
                "gmail.com",
                "outlook.com",
                "acme-corp.com",
                "yahoo.co.uk",
                "proton.me",
            ]
            .choose(rng)
            .copied()
            .unwrap_or("example.org");
            format!(
                "you can reach them at {}.{l}{}@{d}",
                f.to_lowercase(),
                rng.gen_range(1..99)
            )
        }
        2 => {
            let (prefix, len) = [("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)]
                .choose(rng)
                .copied()
                .unwrap_or(("4", 16));
            let n = luhn_complete(prefix, len, rng);
            let shown = if rng.gen_bool(0.5) && len == 16 {
                format!("{} {} {} {}", &n[0..4], &n[4..8], &n[8..12], &n[12..16])
            } else {
                n
            };
            format!("the card on file is {shown}")
        }
        3 => {
            let area = [212, 415, 312, 646, 617, 206, 303, 512, 718, 404]
                .choose(rng)
                .copied()
                .unwrap_or(212);
            format!(
                "call me back on +1 ({area}) {}-{:04}",
                rng.gen_range(201..990),
                rng.gen_range(0..10000)
            )
        }
        4 => format!(
            "aws_access_key_id = AKIA{}\naws_secret_access_key = {}",
            chars_from(rng, b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 16),
            chars_from(
                rng,
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                40
            )
        ),
        5 => format!("export GITHUB_TOKEN=ghp_{}", chars_from(rng, ALNUM, 36)),
        6 => {
            let header = b64url_encode(br#"{"alg":"HS256","typ":"JWT"}"#);
            let (f, _) = person(rng);
            let claims = format!(
                r#"{{"sub":"{}","name":"{f}","iat":{}}}"#,
                rng.gen_range(100000..999999),
                rng.gen_range(1_700_000_000u64..1_800_000_000)
            );
            format!(
                "Authorization: Bearer {header}.{}.{}",
                b64url_encode(claims.as_bytes()),
                b64url(rng, 43)
            )
        }
        7 => {
            let mut s = String::from("-----BEGIN RSA PRIVATE KEY-----\nMIIEow");
            s.push_str(&chars_from(rng, ALNUM, 58));
            for _ in 0..rng.gen_range(3..7) {
                s.push('\n');
                s.push_str(&chars_from(rng, ALNUM, 64));
            }
            s.push_str("\n-----END RSA PRIVATE KEY-----");
            s
        }
        8 => format!(
            "db_password={}{}!",
            ["Summer", "Winter", "Falcon", "Orchid", "Tiger"]
                .choose(rng)
                .copied()
                .unwrap_or("Secret"),
            chars_from(rng, ALNUM, 10)
        ),
        9 => format!(
            "my SSN is {:03}-{:02}-{:04}",
            rng.gen_range(101..665),
            rng.gen_range(10..99),
            rng.gen_range(1000..9999)
        ),
        10 => format!(
            "please wire it to {}",
            match rng.gen_range(0..3) {
                0 => iban(rng, "DE", 18),
                1 => iban(rng, "FR", 23),
                _ => iban(rng, "ES", 20),
            }
        ),
        11 => format!("STRIPE_SECRET_KEY=sk_live_{}", chars_from(rng, ALNUM, 24)),
        12 => format!(
            "xoxb-{}-{}-{}",
            rng.gen_range(10_000_000_000u64..99_999_999_999),
            rng.gen_range(10_000_000_000u64..99_999_999_999),
            chars_from(rng, ALNUM, 24)
        ),
        _ => format!("OPENAI_API_KEY=sk-proj-{}", b64url(rng, 48)),
    }
}

/// `text` with a sensitive value put in at a sentence or line boundary near the middle.
pub fn with_sensitive(rng: &mut StdRng, mut text: String) -> String {
    let value = sensitive(rng);
    let mut mid = text.len() / 2;
    while !text.is_char_boundary(mid) {
        mid -= 1;
    }
    let at = text[..mid].rfind(['.', '\n']).map(|i| i + 1).unwrap_or(0);
    text.insert_str(at, &format!(" {value} "));
    text
}
