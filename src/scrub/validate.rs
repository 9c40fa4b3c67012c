//! Validators: cheap checks run on a regex candidate before it counts as a match.
//!
//! A validator sees the whole text and the candidate's byte range and returns the (possibly
//! narrowed) range to redact, or `None` to reject the candidate. Narrowing lets an IBAN regex
//! that ran into a following upper-case word still redact exactly the IBAN.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::ops::Range;

/// One named check from a rule's `validator` field.
#[derive(Debug, Clone, PartialEq)]
pub enum Validator {
    /// Payment card: Luhn checksum, 13–19 digits and a known issuer prefix.
    Luhn,
    /// IBAN: country-specific length and ISO 7064 mod-97 == 1.
    IbanMod97,
    /// US SSN: area not 000/666/9xx, group not 00, serial not 0000.
    UsSsn,
    /// IPv4 that is not a version string, loopback, unspecified or broadcast.
    Ipv4,
    /// IPv6 that parses and is not a loopback/unspecified or a short `a::b` look-alike.
    Ipv6,
    /// MAC address that is not all zeros or broadcast.
    Mac,
    /// Phone number: 7–15 digits, not one repeated digit.
    Phone,
    /// Email: top-level domain of letters, local part and domain not empty.
    Email,
    /// JWT: the header base64url-decodes to a JSON object.
    Jwt,
    /// GitHub token: CRC32 checksum in the last 6 base62 characters.
    GithubChecksum,
    /// `Basic` credentials: base64 of `user:password`.
    BasicAuth,
    /// Shannon entropy of the candidate at least this many bits per character.
    Entropy(f64),
    /// Looks like a password rather than an English word: mixes character classes.
    PasswordLike,
    /// Not a placeholder (`xxxx`, `${VAR}`, `<token>`, `****`, `null`, our own replacements).
    NotPlaceholder,
    /// Not code that names a value instead of holding it (`req.headers.authorization`,
    /// `process.env.JWT_SECRET`, `os.environ["KEY"]`), nor a constant's name
    /// (`_POSITIONAL_OR_KEYWORD`).
    NotCode,
    /// A cookie header's value with something secret-looking in it (a `name=value` pair whose
    /// value holds a digit or a long random run), not a docs example (`chips=ahoy`).
    CookieLike,
    /// The key the value is assigned to does not describe a secret rather than hold one
    /// (`token_type: …`, `password_reset_url = …`; see `keyname`).
    KeyNotBenign,
    /// Phone number on a numbering plan (`phone_plan:intl`, `phone_plan:de|gb|fr`, see
    /// [`super::phone`]); national candidates must also not read as another kind of number.
    PhonePlan(super::phone::Plans),
    /// Card number glued to a word: only to a card word on the left, never to a hex token.
    CardGlue,
    /// A number standing on its own: not part of a longer run, a decimal or an amount.
    StandsAlone,
    /// IBAN in upper or lower case, compact or in groups of four (any single separator).
    IbanAnyCase,
    /// Internationalised email address (RFC 6531 / IDNA).
    EmailIntl,
}

impl Validator {
    /// Parses one validator name (`luhn`, `entropy:3.5`, …).
    pub fn parse(name: &str) -> Option<Validator> {
        let name = name.trim();
        if let Some(v) = name.strip_prefix("phone_plan:") {
            return super::phone::Plans::parse(v).map(Validator::PhonePlan);
        }
        if let Some(v) = name.strip_prefix("entropy:") {
            return v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .map(Validator::Entropy);
        }
        Some(match name {
            "luhn" => Validator::Luhn,
            "iban_mod97" => Validator::IbanMod97,
            "us_ssn" => Validator::UsSsn,
            "ip" | "ipv4" => Validator::Ipv4,
            "ipv6" => Validator::Ipv6,
            "mac" => Validator::Mac,
            "phone" => Validator::Phone,
            "email" => Validator::Email,
            "jwt" => Validator::Jwt,
            "github_checksum" => Validator::GithubChecksum,
            "basic_auth" => Validator::BasicAuth,
            "password_like" => Validator::PasswordLike,
            "not_placeholder" => Validator::NotPlaceholder,
            "not_code" => Validator::NotCode,
            "key_not_benign" => Validator::KeyNotBenign,
            "cookie_like" => Validator::CookieLike,
            "card_glue" => Validator::CardGlue,
            "stands_alone" => Validator::StandsAlone,
            "iban_any_case" => Validator::IbanAnyCase,
            "email_intl" => Validator::EmailIntl,
            _ => return None,
        })
    }

    /// Runs the check on `text[r]`; returns the range to redact.
    pub fn check(&self, text: &str, r: Range<usize>) -> Option<Range<usize>> {
        let s = text.get(r.clone())?;
        let ok = match self {
            Validator::Luhn => luhn_card(s),
            Validator::IbanMod97 => return iban(text, r),
            Validator::UsSsn => us_ssn(s),
            Validator::Ipv4 => ipv4(text, r.clone()),
            Validator::Ipv6 => ipv6(s),
            Validator::Mac => mac(s),
            Validator::Phone => phone(s),
            Validator::Email => email_in(text, r.clone()),
            Validator::Jwt => jwt(s),
            Validator::GithubChecksum => github_checksum(s),
            Validator::BasicAuth => basic_auth(s),
            Validator::Entropy(min) => entropy(s) >= *min,
            Validator::PasswordLike => password_like(s),
            Validator::NotPlaceholder => !is_placeholder(s),
            Validator::NotCode => !super::assign::is_expression(s) && !constant_name(s),
            Validator::CookieLike => super::assign::cookie_like(s),
            Validator::KeyNotBenign => !key_before(text, r.start).is_some_and(|k| {
                static KW: std::sync::OnceLock<super::keyname::KeyWords> =
                    std::sync::OnceLock::new();
                KW.get_or_init(super::keyname::KeyWords::defaults)
                    .describes_secret(k)
            }),
            Validator::PhonePlan(p) => return super::phone::check(text, r, *p),
            Validator::CardGlue => super::formats::card_glue(text, &r),
            Validator::StandsAlone => super::formats::stands_alone(text, &r),
            Validator::IbanAnyCase => return super::formats::iban(text, r),
            Validator::EmailIntl => super::formats::email_intl(s),
        };
        ok.then_some(r)
    }
}

fn digits(s: &str) -> impl DoubleEndedIterator<Item = u32> + '_ {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
}

/// Luhn checksum over the digits of `s`.
pub fn luhn(s: &str) -> bool {
    // From the last digit, without collecting them: this runs on every card-shaped candidate.
    let mut sum = 0;
    let mut n = 0;
    for (i, mut v) in digits(s).rev().enumerate() {
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
        n += 1;
    }
    n > 0 && sum % 10 == 0
}

/// A payment card: Luhn, plausible length and a known issuer identification prefix.
pub fn luhn_card(s: &str) -> bool {
    // The digits on the stack: a card has at most 19.
    let mut buf = [0u8; 19];
    let mut n = 0;
    for b in s.bytes().filter(u8::is_ascii_digit) {
        let Some(slot) = buf.get_mut(n) else {
            return false;
        };
        *slot = b;
        n += 1;
    }
    let Ok(d) = std::str::from_utf8(&buf[..n]) else {
        return false;
    };
    if n < 13 || !luhn(d) {
        return false;
    }
    // All one digit (0000…, 4444…) are test patterns or padding, not cards.
    if d.bytes().all(|b| b == d.as_bytes()[0]) {
        return false;
    }
    let p2: u32 = d[..2].parse().unwrap_or(0);
    let p3: u32 = d[..3].parse().unwrap_or(0);
    let p4: u32 = d[..4].parse().unwrap_or(0);
    let p6: u32 = d[..6].parse().unwrap_or(0);
    match d.as_bytes()[0] {
        b'4' => matches!(n, 13 | 16 | 19),                          // Visa
        b'5' => (51..=55).contains(&p2) || (50..=59).contains(&p2), // Mastercard, Maestro
        b'2' => (2221..=2720).contains(&p4) || (2200..=2204).contains(&p4), // Mastercard 2-series, Mir
        b'3' => {
            matches!(p2, 34 | 37 | 36 | 38 | 39) // Amex, Diners
                || (300..=305).contains(&p3)
                || (3528..=3589).contains(&p4) // JCB
        }
        b'6' => {
            p4 == 6011
                || p2 == 65
                || p2 == 62 // UnionPay
                || (644..=649).contains(&p3)
                || (622126..=622925).contains(&p6)
                || (60..=69).contains(&p2) // Maestro / RuPay / others
        }
        _ => false,
    }
}

/// IBAN length by country (SWIFT registry), SEPA and the other IBAN countries.
pub(crate) fn iban_len(cc: &[u8]) -> Option<usize> {
    let l = match cc {
        b"AD" => 24,
        b"AE" => 23,
        b"AL" => 28,
        b"AT" => 20,
        b"AZ" => 28,
        b"BA" => 20,
        b"BE" => 16,
        b"BG" => 22,
        b"BH" => 22,
        b"BR" => 29,
        b"BY" => 28,
        b"CH" => 21,
        b"CR" => 22,
        b"CY" => 28,
        b"CZ" => 24,
        b"DE" => 22,
        b"DK" => 18,
        b"DO" => 28,
        b"EE" => 20,
        b"EG" => 29,
        b"ES" => 24,
        b"FI" => 18,
        b"FO" => 18,
        b"FR" => 27,
        b"GB" => 22,
        b"GE" => 22,
        b"GI" => 23,
        b"GL" => 18,
        b"GR" => 27,
        b"GT" => 28,
        b"HR" => 21,
        b"HU" => 28,
        b"IE" => 22,
        b"IL" => 23,
        b"IQ" => 23,
        b"IS" => 26,
        b"IT" => 27,
        b"JO" => 30,
        b"KW" => 30,
        b"KZ" => 20,
        b"LB" => 28,
        b"LC" => 32,
        b"LI" => 21,
        b"LT" => 20,
        b"LU" => 20,
        b"LV" => 21,
        b"MC" => 27,
        b"MD" => 24,
        b"ME" => 22,
        b"MK" => 19,
        b"MR" => 27,
        b"MT" => 31,
        b"MU" => 30,
        b"NL" => 18,
        b"NO" => 15,
        b"PK" => 24,
        b"PL" => 28,
        b"PS" => 29,
        b"PT" => 25,
        b"QA" => 29,
        b"RO" => 24,
        b"RS" => 22,
        b"SA" => 24,
        b"SC" => 31,
        b"SE" => 24,
        b"SI" => 19,
        b"SK" => 24,
        b"SM" => 27,
        b"ST" => 25,
        b"SV" => 28,
        b"TL" => 23,
        b"TN" => 24,
        b"TR" => 26,
        b"UA" => 29,
        b"VA" => 22,
        b"VG" => 24,
        b"XK" => 20,
        _ => return None,
    };
    Some(l)
}

/// Validates an IBAN starting at `r.start`, taking exactly the country's length of
/// alphanumerics (single spaces allowed between them); returns the exact range.
fn iban(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let start = r.start;
    let cc = b.get(start..start + 2)?;
    let want = iban_len(&cc.to_ascii_uppercase())?;
    let mut chars: Vec<u8> = Vec::with_capacity(want);
    let mut i = start;
    let limit = r.end.max(start).min(b.len());
    while i < limit && chars.len() < want {
        let c = b[i];
        if c.is_ascii_alphanumeric() {
            chars.push(c.to_ascii_uppercase());
        } else if c != b' ' {
            break;
        }
        i += 1;
    }
    if chars.len() != want {
        return None;
    }
    // The IBAN must not run on into more alphanumerics without a break.
    if b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    if !chars[2..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    iban_mod97_ok(&chars).then_some(start..i)
}

/// ISO 7064 mod 97-10 over an upper-case compact IBAN (`chars`): the country code and check
/// digits moved to the end, letters as 10–35; valid when the remainder is 1.
pub(crate) fn iban_mod97_ok(chars: &[u8]) -> bool {
    if chars.len() < 5 {
        return false;
    }
    let mut rem: u32 = 0;
    for &c in chars[4..].iter().chain(chars[..4].iter()) {
        let v = if c.is_ascii_digit() {
            u32::from(c - b'0')
        } else {
            u32::from(c.wrapping_sub(b'A')) + 10
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

fn us_ssn(s: &str) -> bool {
    let d: Vec<u32> = digits(s).collect();
    if d.len() != 9 {
        return false;
    }
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    // Well-known advertising numbers are invalid too.
    let adv =
        area == 78 && group == 5 && serial == 1120 || area == 219 && group == 9 && serial == 9999;
    area != 0 && area != 666 && area < 900 && group != 0 && serial != 0 && !adv
}

fn ipv4(text: &str, r: Range<usize>) -> bool {
    let Some(s) = text.get(r.clone()) else {
        return false;
    };
    let Ok(ip) = s.parse::<Ipv4Addr>() else {
        return false;
    };
    let b = text.as_bytes();
    let before = r.start.checked_sub(1).map(|i| b[i]);
    // `v1.2.3.4` and `1.2.3.4.5` are versions or OIDs, not addresses.
    if matches!(before, Some(b'v' | b'V' | b'.' | b'-')) {
        return false;
    }
    // `Chrome/120.0.0.0`, `Version/17.4.1.2`: a product token's version, not an address.
    if before == Some(b'/') && r.start >= 2 && b[r.start - 2].is_ascii_alphabetic() {
        return false;
    }
    if before.is_some_and(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    if b.get(r.end) == Some(&b'.') && b.get(r.end + 1).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    // `2.0.0.1-beta`, `1.2.3.4+build`: a version with a pre-release or build suffix.
    if matches!(b.get(r.end), Some(b'-' | b'+'))
        && b.get(r.end + 1).is_some_and(u8::is_ascii_alphabetic)
    {
        return false;
    }
    // A version word right before (`version 1.2.3.4`, `release 10.0.0.1`) also means a version.
    let head = &text[..r.start];
    let head = head.trim_end();
    let lw = head
        .rsplit(|c: char| !c.is_ascii_alphabetic())
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    if matches!(
        lw.as_str(),
        "version" | "ver" | "release" | "build" | "firmware"
    ) {
        return false;
    }
    !(ip.is_loopback() || ip.is_unspecified() || ip.is_broadcast())
}

fn ipv6(s: &str) -> bool {
    let core = s.split('%').next().unwrap_or(s);
    let Ok(ip) = core.parse::<Ipv6Addr>() else {
        return false;
    };
    if ip.is_loopback() || ip.is_unspecified() {
        return false;
    }
    // `a::b` look-alikes (C++ paths, Rust paths that happen to be hex): need three groups.
    let groups = core.split(':').filter(|g| !g.is_empty()).count();
    groups >= 3 && core.bytes().any(|c| c.is_ascii_digit())
}

fn mac(s: &str) -> bool {
    let hex: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    hex.len() == 12
        && !hex.iter().all(|&c| c == b'0')
        && !hex.iter().all(|&c| c == b'f' || c == b'F')
}

fn phone(s: &str) -> bool {
    let d: Vec<u8> = s.bytes().filter(u8::is_ascii_digit).collect();
    if !(7..=15).contains(&d.len()) {
        return false;
    }
    !d.iter().all(|&c| c == d[0])
}

/// An email, and not the user and host of an SSH address (`git@github.com:org/repo.git`,
/// `deploy@host:/srv/app`): a `:` and a path right after the domain.
fn email_in(text: &str, r: Range<usize>) -> bool {
    let s = &text[r.clone()];
    email_at(s, text, r)
}

fn email_at(s: &str, text: &str, r: Range<usize>) -> bool {
    let b = text.as_bytes();
    // The password and host of a URL (`scheme://user:pw@host`) are no address: the `@` sits in
    // the URL's authority (no `/`, `?` or `#` between `://` and it). An address in the URL's
    // path or query (`?q=ann%40example.org`) still is one.
    let token_start = b[..r.start]
        .iter()
        .rposition(|c| c.is_ascii_whitespace() || matches!(c, b'"' | b'\'' | b'<' | b'>'))
        .map_or(0, |i| i + 1);
    if r.start - token_start <= 4096 {
        if let Some(k) = memchr::memmem::rfind(&b[token_start..r.start], b"://") {
            let authority_from = token_start + k + 3;
            let at = r.start + s.find('@').unwrap_or(s.len());
            if !b[authority_from..at.min(b.len())]
                .iter()
                .any(|c| matches!(c, b'/' | b'?' | b'#'))
            {
                return false;
            }
        }
    }
    if b.get(r.end) == Some(&b':')
        && b.get(r.end + 1)
            .is_some_and(|&c| c == b'/' || c == b'~' || c.is_ascii_alphanumeric())
    {
        return false;
    }
    let Some((local, domain)) = s.rsplit_once('@').or_else(|| s.rsplit_once("%40")) else {
        return false;
    };
    let Some((_, tld)) = domain.rsplit_once('.') else {
        return false;
    };
    !local.is_empty()
        && tld.len() >= 2
        && tld.bytes().all(|c| c.is_ascii_alphabetic())
        // Retina image names (`icon@2x.png`) and package pins (`pkg@1.2.3`) are not addresses.
        && !domain.bytes().next().is_some_and(|c| c.is_ascii_digit()
            && matches!(tld.to_ascii_lowercase().as_str(), "png" | "jpg" | "jpeg" | "gif" | "svg" | "webp"))
}

fn b64url_decode(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    let t = s.trim_end_matches('=');
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t)
        .ok()
        .or_else(|| {
            base64::engine::general_purpose::STANDARD_NO_PAD
                .decode(t)
                .ok()
        })
}

fn jwt(s: &str) -> bool {
    let header = s.split('.').next().unwrap_or("");
    let Some(bytes) = b64url_decode(header) else {
        return false;
    };
    matches!(
        serde_json::from_slice::<serde_json::Value>(&bytes),
        Ok(serde_json::Value::Object(_))
    )
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            let mask = (crc & 1).wrapping_neg();
            crc = (crc >> 1) ^ (0xEDB8_8320 & mask);
        }
    }
    !crc
}

fn github_checksum(s: &str) -> bool {
    // `<prefix>_<30 random base62><6 base62 CRC32 of the random part>`.
    let Some((_, body)) = s.split_once('_') else {
        return false;
    };
    if body.len() != 36 {
        return false;
    }
    let (rand, check) = body.split_at(30);
    const ALPHA: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut n = crc32(rand.as_bytes()) as u64;
    let mut enc = [b'0'; 6];
    for slot in enc.iter_mut().rev() {
        *slot = ALPHA[(n % 62) as usize];
        n /= 62;
    }
    enc == check.as_bytes()
}

fn basic_auth(s: &str) -> bool {
    use base64::Engine as _;
    let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(s.trim()) else {
        return false;
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        return false;
    };
    text.contains(':') && text.chars().all(|c| !c.is_control())
}

/// Shannon entropy in bits per character.
pub fn entropy(s: &str) -> f64 {
    let mut counts = [0u32; 256];
    let mut n = 0u32;
    for b in s.bytes() {
        counts[b as usize] += 1;
        n += 1;
    }
    if n == 0 {
        return 0.0;
    }
    let n = f64::from(n);
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// A constant's name in upper snake case (`_POSITIONAL_OR_KEYWORD`, `LOG_AUTH`).
fn constant_name(s: &str) -> bool {
    let b = s.as_bytes();
    b.contains(&b'_')
        && b.iter()
            .all(|&c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == b'_')
        && b.iter().filter(|c| c.is_ascii_uppercase()).count() >= 3
}

/// The key a value at `start` is assigned to: back over an opening quote, blanks, the operator
/// (`=`, `:`, `=>`, `:=`, `is`), blanks and a closing quote, then the identifier.
fn key_before(text: &str, start: usize) -> Option<&str> {
    let b = text.as_bytes();
    let mut i = start;
    let back = |i: &mut usize, f: &dyn Fn(u8) -> bool, max: usize| {
        let from = *i;
        while *i > 0 && from - *i < max && f(b[*i - 1]) {
            *i -= 1;
        }
    };
    back(&mut i, &|c| matches!(c, b'"' | b'\'' | b'`'), 1);
    back(&mut i, &|c| c == b' ' || c == b'\t', 8);
    if i >= 2 && &b[i - 2..i] == b"is" {
        i -= 2;
    } else {
        back(&mut i, &|c| matches!(c, b'=' | b':' | b'>'), 2);
    }
    back(&mut i, &|c| c == b' ' || c == b'\t', 8);
    back(&mut i, &|c| matches!(c, b'"' | b'\''), 1);
    let end = i;
    back(
        &mut i,
        &|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'),
        128,
    );
    (i < end).then(|| &text[i..end])
}

fn password_like(s: &str) -> bool {
    // Sentence punctuation after a word (`incorrect.`) is not part of it.
    let s = s.trim_end_matches(['.', ',', '!', '?', ';', ':', ')']);
    // A word, capitalised or not (`Manager`, `incorrect`), is not a password.
    let b = s.as_bytes();
    if b.iter().all(u8::is_ascii_alphabetic) && b.iter().skip(1).all(u8::is_ascii_lowercase) {
        return false;
    }
    let lower = s.bytes().any(|c| c.is_ascii_lowercase());
    let upper = s.bytes().any(|c| c.is_ascii_uppercase());
    let digit = s.bytes().any(|c| c.is_ascii_digit());
    let other = s.bytes().any(|c| !c.is_ascii_alphanumeric());
    let classes = [lower, upper, digit, other].iter().filter(|x| **x).count();
    s.len() >= 6 && classes >= 2 && !is_placeholder(s)
}

/// Placeholders, redacted forms and empty-ish values that are not secrets.
pub fn is_placeholder(s: &str) -> bool {
    let t = s.trim().trim_matches(|c| c == '"' || c == '\'');
    if t.is_empty() {
        return true;
    }
    let lower = t.to_ascii_lowercase();
    if matches!(
        lower.as_str(),
        "null"
            | "none"
            | "nil"
            | "true"
            | "false"
            | "undefined"
            | "redacted"
            | "hidden"
            | "n/a"
            | "na"
            | "empty"
            | "required"
            | "optional"
            | "string"
            | "str"
            | "your_password"
            | "password"
            | "secret"
            | "token"
            | "<redacted>"
            | "masked"
            | "foo"
            | "bar"
            | "baz"
            | "qux"
            | "dummy"
            | "sample"
            | "test"
            | "fake"
            | "mock"
    ) {
        return true;
    }
    // Our own replacements, and `<…>` placeholders: the whole value, not a prefix of it (a
    // marker next to a secret does not make the secret a placeholder).
    if (t.starts_with("[REDACTED") && t.ends_with(']') && t.matches(']').count() == 1)
        || (t.starts_with('<')
            && t.ends_with('>')
            && t.matches('>').count() == 1
            && placeholder_name(&t[1..t.len() - 1]))
    {
        return true;
    }
    // `(hidden)`, `[not set]`: a placeholder word in brackets.
    if let Some(inner) = t
        .strip_prefix('(')
        .and_then(|x| x.strip_suffix(')'))
        .or_else(|| t.strip_prefix('[').and_then(|x| x.strip_suffix(']')))
    {
        if matches!(
            inner.to_ascii_lowercase().as_str(),
            "hidden" | "redacted" | "masked" | "not set" | "unset" | "none" | "omitted" | "secret"
        ) {
            return true;
        }
    }
    // Template variables: ${VAR}, {{ var }}, %(name)s, $VAR, {var}.
    if t.starts_with("${")
        || t.starts_with("{{")
        || (t.starts_with("%(") && t.ends_with(")s"))
        || t == "%s"
    {
        return true;
    }
    if t.starts_with('$')
        && t[1..]
            .bytes()
            .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
    {
        return true;
    }
    if t.starts_with('{') && t.ends_with('}') && placeholder_name(&t[1..t.len() - 1]) {
        return true;
    }
    // One repeated mask character: xxxx, ****, ••••, ....
    let mut chars = lower.chars();
    if let Some(first) = chars.next() {
        if matches!(first, 'x' | '*' | '•' | '.' | '#' | '-' | '_' | '0')
            && chars.all(|c| c == first)
        {
            return true;
        }
    }
    lower.starts_with("your_")
        || lower.starts_with("your-")
        || lower.contains("placeholder")
        || lower.starts_with("example")
        || lower.starts_with("<your")
        || lower == "changeit"
}

/// The inside of a `<…>` or `{…}` placeholder: a name (`your-client-secret`, `password`,
/// `db.password`, `user name`), not a random run that happens to be bracketed
/// (`<Y0KNK#p2J5iQFM>`, `{Ww8oES9MV3qc}`).
pub(crate) fn placeholder_name(inner: &str) -> bool {
    let b = inner.trim().as_bytes();
    !b.is_empty()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.' | b' ' | b':'))
        && !(b.len() >= 8
            && b.iter().any(u8::is_ascii_uppercase)
            && b.iter().any(u8::is_ascii_lowercase)
            && b.iter().any(u8::is_ascii_digit))
}

/// A value that only stands for a secret: a template reference (`${OPENAI_API_KEY}`,
/// `{{ .Values.db.password }}`, `$TOKEN`, `%(pw)s`), a named placeholder (`<your-api-key>`), a
/// run of one mask character (`********`) or a marker. Unlike [`is_placeholder`], common
/// words (`test`, `secret`) are not in it: under a key that names a secret they can be the
/// secret.
pub fn is_template_or_mask(s: &str) -> bool {
    let t = s.trim();
    if t.is_empty() {
        return true;
    }
    let shell_var = t.strip_prefix('$').is_some_and(|v| {
        !v.is_empty()
            && v.bytes()
                .all(|c| c.is_ascii_uppercase() || c == b'_' || c.is_ascii_digit())
    });
    let mask = {
        let mut cs = t.chars();
        cs.next()
            .is_some_and(|f| matches!(f, 'x' | 'X' | '*' | '•' | '#') && cs.all(|c| c == f))
    };
    shell_var
        || mask
        || ((t.starts_with("${") || t.starts_with("{{")) && t.ends_with('}'))
        || (t.starts_with("%(") && t.ends_with(")s"))
        || (t.starts_with('<') && t.ends_with('>') && placeholder_name(&t[1..t.len() - 1]))
        || (t.starts_with("[REDACTED") && t.ends_with(']') && t.matches(']').count() == 1)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
