//! Validators for written-out PII formats: card numbers glued to words, IBANs in any case and
//! with any separators (ISO 13616), internationalised email addresses (RFC 6531, IDNA), and
//! numbers that must stand on their own (not part of a longer run, an amount or an id).

use std::ops::Range;

/// Words that say the number glued to them is a payment card (lower case; matched inside the
/// run of letters before the number, so `creditcard`, `card_number` and `visa` all count).
const CARD_WORDS: &[&str] = &[
    "card", "visa", "amex", "master", "maestro", "discover", "diners", "unionpay", "jcb", "karte",
    "tarjeta", "carte", "cartao", "kaart", "carta", "pan", "ccn", "ccnum",
];

/// A card number candidate glued to letters: on the left only to a card word (`card-4111…`,
/// `visa:4111…`; not `v4111…`, `ORD-4111…`), on the right only to letters that do not make the
/// whole token a hex string (`4111…exp1229`, not `4111…deadbeef`). Never glued to digits, nor
/// part of a decimal; a number written digit by digit (`4 1 1 1 …`) must end where it ends.
pub fn card_glue(text: &str, r: &Range<usize>) -> bool {
    let b = text.as_bytes();
    let s = &b[r.clone()];
    if s.len() > 2
        && s.iter().skip(1).step_by(2).all(|c| !c.is_ascii_digit())
        && !stands_alone(text, r)
    {
        return false;
    }
    let before = &b[..r.start];
    let after = &b[r.end..];
    let digit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_digit);
    if digit(before.last()) || digit(after.first()) {
        return false;
    }
    // The digits of a decimal (`0.4111…`, `4111…,5`) are no card.
    let n = before.len();
    if n >= 2 && matches!(before[n - 1], b'.' | b',') && digit(before.get(n - 2)) {
        return false;
    }
    if matches!(after.first(), Some(b'.' | b',')) && digit(after.get(1)) {
        return false;
    }
    // The word glued on the left, directly or through `-`/`_` (after `:`, `=`, `#` the number
    // is a value of its own, as in `vendor=4111…`).
    let mut end = before.len();
    let mut glued = before.last().is_some_and(u8::is_ascii_alphabetic);
    if matches!(before.last(), Some(b'-' | b'_')) {
        end -= 1;
        glued = before[..end].last().is_some_and(u8::is_ascii_alphabetic);
        if !glued && before[end] == b'-' {
            // `-4111…`: a negative number.
            return false;
        }
    }
    let mut start = end;
    while glued
        && start > 0
        && (before[start - 1].is_ascii_alphabetic() || before[start - 1] == b'_')
    {
        start -= 1;
    }
    if start < end {
        let w: String = before[start..end]
            .iter()
            .filter(|c| **c != b'_')
            .map(|c| char::from(c.to_ascii_lowercase()))
            .collect();
        let card = CARD_WORDS.iter().any(|k| w.contains(k))
            || w.ends_with("cc")
            || matches!(w.as_str(), "no" | "nr" | "num");
        if !card {
            return false;
        }
    }
    // Letters glued on the right: the whole alphanumeric token must not be hex (a hash, an id).
    if after.first().is_some_and(u8::is_ascii_alphabetic) {
        let mut e = 0;
        while e < after.len() && after[e].is_ascii_alphanumeric() {
            e += 1;
        }
        let token = &b[r.start..r.end + e];
        let hex = token
            .iter()
            .all(|c| c.is_ascii_hexdigit() || matches!(c, b' ' | b'\t' | b'-' | b'.'));
        if hex && start == end {
            return false;
        }
    }
    true
}

/// A number that stands on its own: not glued to other digits through a separator (a table
/// row, a longer id), not a decimal, a percentage or an amount with a currency sign.
pub fn stands_alone(text: &str, r: &Range<usize>) -> bool {
    let b = text.as_bytes();
    let digit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_digit);
    let sep = |c: u8| matches!(c, b' ' | b'\t' | b'-' | b'.' | b'/' | b',' | b':');
    let s = r.start;
    if digit(s.checked_sub(1).and_then(|i| b.get(i)))
        || (s >= 2 && sep(b[s - 1]) && digit(b.get(s - 2)))
    {
        return false;
    }
    match b.get(r.end) {
        Some(&c) if c.is_ascii_digit() || c == b'%' => false,
        Some(&c) if sep(c) && digit(b.get(r.end + 1)) => false,
        _ => !text[..s].trim_end().ends_with(['$', '€', '£', '¥']),
    }
}

/// IBAN (ISO 13616) starting at `r.start`, in upper or lower case, compact or in groups of four
/// separated by single spaces, tabs, dots or dashes; exactly the country's length, then no
/// further alphanumeric; ISO 7064 mod 97-10. Returns the IBAN's exact range.
pub fn iban(text: &str, r: Range<usize>) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let start = r.start;
    let cc = b.get(start..start + 2)?.to_ascii_uppercase();
    let want = super::validate::iban_len(&cc)?;
    let mut chars: Vec<u8> = Vec::with_capacity(want);
    let mut groups: Vec<usize> = Vec::new();
    let mut run = 0;
    let mut i = start;
    let limit = r.end.max(start).min(b.len());
    while i < limit && chars.len() < want {
        let c = b[i];
        if c.is_ascii_alphanumeric() {
            chars.push(c.to_ascii_uppercase());
            run += 1;
        } else if matches!(c, b' ' | b'\t' | b'.' | b'-') && run > 0 {
            groups.push(run);
            run = 0;
        } else {
            break;
        }
        i += 1;
    }
    if chars.len() != want || b.get(i).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    // Written in groups: of four, as the standard prints it (a UUID's 8-4-4 is no IBAN).
    if groups.iter().any(|&g| g != 4) {
        return None;
    }
    if !chars[2..4].iter().all(u8::is_ascii_digit)
        || !chars[..2].iter().all(u8::is_ascii_alphabetic)
    {
        return None;
    }
    super::validate::iban_mod97_ok(&chars).then_some(start..i)
}

/// An internationalised address (RFC 6531 local part, IDNA domain): some non-ASCII character
/// or an `xn--` label (ASCII-only addresses are the `email` rule's), labels of 1-63 characters,
/// a top-level domain of letters or an `xn--` label, local part of at most 64 characters.
pub fn email_intl(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    let lower = domain.to_ascii_lowercase();
    if s.is_ascii() && !lower.split('.').any(|l| l.starts_with("xn--")) {
        return false;
    }
    let labels: Vec<&str> = lower.split('.').collect();
    let Some(tld) = labels.last() else {
        return false;
    };
    let tld_ok = if let Some(rest) = tld.strip_prefix("xn--") {
        !rest.is_empty() && rest.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-')
    } else {
        tld.chars().count() >= 2 && tld.chars().all(char::is_alphabetic)
    };
    tld_ok
        && labels.len() >= 2
        && labels
            .iter()
            .all(|l| (1..=63).contains(&l.chars().count()) && !l.starts_with('-'))
        && domain.len() <= 253
        && (1..=64).contains(&local.chars().count())
        && !local.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn glue(text: &str, cand: &str) -> bool {
        let s = text.find(cand).unwrap();
        card_glue(text, &(s..s + cand.len()))
    }

    #[test]
    fn cards_glued_to_words() {
        let n = "4111111111111111";
        for t in [
            "card-4111111111111111",
            "visa:4111111111111111",
            "creditcard4111111111111111",
            "card_number=4111111111111111",
            "4111111111111111exp1229",
            "cc#4111111111111111",
            "vendor=4111111111111111",
            "rv:4111111111111111",
            "(4111111111111111)",
        ] {
            assert!(glue(t, n), "{t}");
        }
        for t in [
            "v4111111111111111",
            "ORD-4111111111111111",
            "id4111111111111111",
            "4111111111111111deadbeef",
            "-4111111111111111",
            "94111111111111111",
            "0.4111111111111111",
            "4111111111111111.5",
        ] {
            assert!(!glue(t, n), "{t}");
        }
    }

    #[test]
    fn standing_alone() {
        let at = |t: &str, c: &str| {
            let s = t.find(c).unwrap();
            stands_alone(t, &(s..s + c.len()))
        };
        assert!(at("ssn 123 45 6789 ok", "123 45 6789"));
        assert!(!at("12 123 45 6789", "123 45 6789"));
        assert!(!at("123 45 6789 12", "123 45 6789"));
        assert!(!at("123 45 6789,50", "123 45 6789"));
        assert!(!at("$ 123 45 6789", "123 45 6789"));
    }

    #[test]
    fn ibans_any_case_and_separator() {
        for t in [
            "DE89 3704 0044 0532 0130 00",
            "de89 3704 0044 0532 0130 00",
            "DE89.3704.0044.0532.0130.00",
            "DE89-3704-0044-0532-0130-00",
            "de89370400440532013000",
            "gb82 west 1234 5698 7654 32",
        ] {
            assert_eq!(iban(t, 0..t.len()), Some(0..t.len()), "{t}");
        }
        for t in [
            "DE89 3704 0044 0532 0130 01",
            "de89-37040044-0532-0130-00",
            "DE89 3704 0044 0532 0130 0012",
            "be71096123456769abcd",
        ] {
            assert_eq!(iban(t, 0..t.len()), None, "{t}");
        }
    }

    #[test]
    fn international_addresses() {
        for ok in [
            "jürgen.müller@exämple.de",
            "用户@例子.广告",
            "info@xn--mller-kva.de",
            "admin@xn--80ak6aa92e.xn--p1ai",
            "δοκιμή@παράδειγμα.δοκιμή",
        ] {
            assert!(email_intl(ok), "{ok}");
        }
        for bad in ["user@example.com", "a@b", "ü@x", "ü@-x.de", "ü@x.1"] {
            assert!(!email_intl(bad), "{bad}");
        }
    }
}
