//! PII in real-world written formats (issue #23): phone numbers as the 20 largest economies
//! write them nationally and internationally, cards, SSNs and IBANs with any separators or
//! glued to words, internationalised email addresses; and benign look-alikes (ids, dates,
//! versions, amounts, code) that must come out byte-identical.
//!
//! Numbers follow the published plans; where a regulator reserves numbers for drama and
//! documentation (Ofcom's 07700 900xxx and 020 7946 0xxx, NANP 555-01xx, ACMA's 0491 570 xxx
//! and 02 5550 xxxx, ARCEP's 01 99 00 xx xx), those are used.

use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, ScrubReport, Scrubber};
use std::sync::OnceLock;

fn scrubber() -> &'static Scrubber {
    static S: OnceLock<Scrubber> = OnceLock::new();
    S.get_or_init(|| {
        Scrubber::new(
            &RedactionConfig::default(),
            HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
        )
        .unwrap()
    })
}

/// Scrubs `text` and returns the output and the per-type counts.
fn scrub(text: &str) -> (String, ScrubReport) {
    let mut rep = ScrubReport::default();
    let out = scrubber().scrub_str_report(text, &mut rep).into_owned();
    (out, rep)
}

/// `value` must be gone from `text` (as written, and no run of 4 of its digits may survive in
/// place), redacted as `typ`.
fn gone(text: &str, value: &str, typ: &str) -> Result<(), String> {
    let (out, rep) = scrub(text);
    let digits: String = value.chars().filter(char::is_ascii_digit).collect();
    let tail = &digits[digits.len().saturating_sub(4)..];
    // After a key that names the secret (`ssn:`, `social_security_number=`) the key rule masks
    // the whole value first; either way the value is gone.
    let reported = rep.count(typ) + rep.count("secret_assignment");
    if out.contains(value) || (digits.len() >= 8 && out.contains(tail)) || reported == 0 {
        return Err(format!("{text:?} -> {out:?} ({:?})", rep.matches));
    }
    Ok(())
}

fn all_gone(cases: &[(&str, &str)], typ: &str) {
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|(t, v)| gone(t, v, typ).err())
        .collect();
    assert!(bad.is_empty(), "{} leaked:\n{}", bad.len(), bad.join("\n"));
}

fn all_kept(cases: &[&str]) {
    let bad: Vec<String> = cases
        .iter()
        .filter_map(|t| {
            let (out, _) = scrub(t);
            (out != *t).then(|| format!("{t:?} -> {out:?}"))
        })
        .collect();
    assert!(bad.is_empty(), "{} changed:\n{}", bad.len(), bad.join("\n"));
}

/// Each value inside a sentence.
fn in_text<'a>(values: &[&'a str], lead: &str) -> Vec<(String, &'a str)> {
    values
        .iter()
        .map(|v| (format!("{lead} {v}, thanks"), *v))
        .collect()
}

fn check_phones(values: &[&str], lead: &str) {
    let cases = in_text(values, lead);
    let refs: Vec<(&str, &str)> = cases.iter().map(|(t, v)| (t.as_str(), *v)).collect();
    all_gone(&refs, "phone");
}

#[test]
fn phones_north_america() {
    check_phones(
        &[
            "(201) 555-0123",
            "201-555-0123",
            "201.555.0123",
            "201 555 0123",
            "201/555-0123",
            "1-201-555-0123",
            "1 (604) 555-0188",
            "(604)555-0188",
            "+1 604 555 0188",
            "+1.604.555.0188",
        ],
        "reach me at",
    );
}

#[test]
fn phones_europe() {
    check_phones(
        &[
            // GB (Ofcom drama ranges)
            "07700 900461",
            "0161 496 0753",
            "(0113) 496 0012",
            "020 7946 0321",
            "07700900461",
            "+44 7700 900461",
            "+44 (0)20 7946 0321",
            "0044 20 7946 0321",
            // DE
            "089 4129 7650",
            "0170 1234567",
            "(0221) 9876543",
            "089/41297650",
            "030 - 2345 678",
            "+49 171 2345678",
            "+49 (0)89 4129-7650",
            "0049 89 41297650",
            // FR (ARCEP fiction range)
            "01 99 00 12 34",
            "06.39.98.12.34",
            "06-39-98-12-34",
            "+33 (0)1 99 00 12 34",
            "+33 6 39 98 12 34",
            // IT
            "02 8765 4321",
            "340 765 4321",
            "340 7654321",
            "+39 02 8765 4321",
            // ES
            "655 12 34 56",
            "93 412 34 56",
            "655 123 456",
            "+34 655 123 456",
            // NL
            "06 98765432",
            "(010) 765 4321",
            "+31 10 765 4321",
            // CH
            "078 765 43 21",
            "022 765 43 21",
            "+41 78 765 43 21",
            // TR
            "0544 765 43 21",
            "(0216) 765 43 21",
            "+90 544 765 43 21",
            // RU
            "8 (812) 765-43-21",
            "8 916 765 43 21",
            "8-916-765-43-21",
            "+7 916 765-43-21",
        ],
        "Tel.",
    );
}

#[test]
fn phones_asia_pacific_americas() {
    check_phones(
        &[
            // CN
            "186 1234 5678",
            "186-1234-5678",
            "(021) 6288 1234",
            "0755 2688 1234",
            "+86 10 6552 9988",
            "+86 186 1234 5678",
            // JP
            "03-5412-6789",
            "080-4321-8765",
            "06 6311 2233",
            "(03) 5412-6789",
            "+81 90-8765-4321",
            // KR
            "010-9876-5432",
            "(02) 3456-7890",
            "031-765-4321",
            "+82 2-3456-7890",
            // IN
            "99887 76655",
            "080 4123 4567",
            "099887-76655",
            "+91 99887 76655",
            "+91-80-4123-4567",
            // ID
            "0813-9876-5432",
            "(022) 8765432",
            "+62 813 9876 5432",
            // AU (ACMA fiction ranges)
            "0491 570 156",
            "(02) 5550 1234",
            "+61 491 570 156",
            "1800 160 401",
            // SA
            "055 765 4321",
            "012 765 4321",
            "+966 55 765 4321",
            // BR
            "(21) 98765-4321",
            "(11) 3456-7890",
            "21 98765-4321",
            "+55 21 98765-4321",
            // MX
            "(81) 8765 4321",
            "33 8765 4321",
            "+52 81 8765 4321",
        ],
        "contact",
    );
}

#[test]
fn phone_separator_mixes_and_glue() {
    check_phones(
        &[
            "0161\t496\t0753",
            "+44 20 7946-0321",
            "+49 89 / 4129 7650",
            "+1 (201)-555.0123",
            "06 39.98-12 34",
            "(0221) 98-76-543",
        ],
        "phone",
    );
    all_gone(
        &[
            ("tel:+442079460321", "+442079460321"),
            ("tel:020 7946 0321", "020 7946 0321"),
            ("{\"phone\":\"0170 1234567\"}", "0170 1234567"),
            ("phone=06 39 98 12 34&x=1", "06 39 98 12 34"),
            ("(+44 20 7946 0321)", "+44 20 7946 0321"),
        ],
        "phone",
    );
    // Digits that run on after a valid international number are not part of it.
    let (out, _) = scrub("+44 20 7946 0321 12 times");
    assert!(out.ends_with(" 12 times") && !out.contains("7946"), "{out}");
}

#[test]
fn cards_any_separators_and_glued() {
    all_gone(
        &[
            ("card 4111 1111 1111 1111 exp", "4111 1111 1111 1111"),
            ("pay 5500-0000.0000 0004 now", "5500-0000.0000 0004"),
            ("pay 4012\t8888\t8888\t1881 now", "4012\t8888\t8888\t1881"),
            ("pay 4012 - 8888 - 8888 - 1881", "4012 - 8888 - 8888 - 1881"),
            (
                "num 4 0 1 2 8 8 8 8 8 8 8 8 1 8 8 1 ok",
                "4 0 1 2 8 8 8 8 8 8 8 8 1 8 8 1",
            ),
            ("amex 3782.822463.10005", "3782.822463.10005"),
            ("card-5555555555554444", "5555555555554444"),
            ("visa:4012888888881881", "4012888888881881"),
            ("creditcard4012888888881881", "4012888888881881"),
            ("4012888888881881exp1229", "4012888888881881"),
            ("card_number=3530 1113 3330 0000", "3530 1113 3330 0000"),
            ("4111111111111111", "4111111111111111"),
        ],
        "credit_card",
    );
}

#[test]
fn ssns_and_ibans() {
    all_gone(
        &[
            ("holder 512 44 1234 on file", "512 44 1234"),
            ("holder 512.44.1234 on file", "512.44.1234"),
            ("ssn:512441234", "512441234"),
            ("SSN512-44-1234", "512-44-1234"),
            ("social_security_number=512 44 1234", "512 44 1234"),
        ],
        "us_ssn",
    );
    all_gone(
        &[
            (
                "iban de89 3704 0044 0532 0130 00.",
                "de89 3704 0044 0532 0130 00",
            ),
            (
                "IBAN: FR76.3000.6000.0112.3456.7890.189",
                "FR76.3000.6000.0112.3456.7890.189",
            ),
            ("to nl91-abna-0417-1643-00 today", "nl91-abna-0417-1643-00"),
            ("ES9121000418450200051332", "ES9121000418450200051332"),
            (
                "iban:CH93\t0076\t2011\t6238\t5295\t7",
                "CH93\t0076\t2011\t6238\t5295\t7",
            ),
        ],
        "iban",
    );
}

#[test]
fn internationalised_emails() {
    all_gone(
        &[
            ("from: jürgen.müller@exämple.de", "jürgen.müller@exämple.de"),
            ("mail 用户@例子.广告 now", "用户@例子.广告"),
            ("send to josé@correo.es, ok", "josé@correo.es"),
            ("info@xn--mller-kva.de", "info@xn--mller-kva.de"),
            (
                "admin@xn--80ak6aa92e.xn--p1ai",
                "admin@xn--80ak6aa92e.xn--p1ai",
            ),
            ("почта: иван@пример.рф", "иван@пример.рф"),
            (
                "{\"to\":\"δοκιμή@παράδειγμα.δοκιμή\"}",
                "δοκιμή@παράδειγμα.δοκιμή",
            ),
            ("müller@example.com", "müller@example.com"),
        ],
        "email",
    );
}

#[test]
fn benign_numbers_stay_byte_identical() {
    all_kept(&[
        "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 span_id=00f067aa0ba902b7",
        "request 123e4567-e89b-12d3-a456-426614174000 done",
        "uuid 98765432-1234-5678-9012-345678901234",
        "commit 9fceb02d0ae598e95dc970b74767f19372d61af8",
        "at 2024-01-31T12:34:56.789+01:00 and 2024-01-31 12:34:56",
        "epoch 1706700000000 ms, 1706700000 s",
        "dates 31.01.2024, 31/01/2024, 01/02/2024 10:30, 05.06.24, 2024/01/31",
        "from 2019-2024 and 2023 2024",
        "time 12:34:56, 08:30",
        "v1.2.3, version 10.0.19041.1, release 2.31.0",
        "ORD-7127684268465632 and order 0612345678",
        "invoice 2024-000123",
        "total 1 234 567,89 € and $12,345.67 and 612 345 678,90 EUR",
        "ISBN 978-3-16-148410-0, ISBN 0-306-40615-2, ISBN 0306406152",
        "listening on 0.0.0.0:8080 and localhost:4317",
        "HTTP/1.1 200 OK",
        "  1024  2048  4096  8192",
        "| 2023 | 12 345 | 67 890 |",
        "row 030 1234 5678 9012 3456",
        "  at render (app.js:123:45)",
        "File \"/usr/lib/python3.11/json/decoder.py\", line 337, in decode",
        "MAX = 2147483647; MASK = 0x7fffffff; pi = 3.141592653589793",
        "x = 0.30000000000000004 + 4.440892098500626e-16",
        "size (640, 480) or 640 480 320",
        "0123456789 and 1234567890",
        "values 0.5123456789012345 and 5.123456789012345",
        "sha 4111111111111111deadbeefcafe0000",
        "ids 12345 67890 and 10 1234 5678 9",
        "ranges 1300 123 45 and 8 123 456 78 90",
        // Found in the CPython standard library: octal literals, invalid dates, signed numbers.
        "self.assertEquals(2147483647, 017777777777); for s in '040000000000', '0x100000000':",
        "for test in ['01-00-1980', '01-13-1980', '08-01-3697739', '01-01-1980 25:00:00']:",
        "test(1234, \"+b\", \"+10011010010\"); '+3.140000; -3.140000'",
        "'01  012 0123    01234' and b'0987654321' * 1024 and '0123456701'",
        "([1, 2, 3, 4], \"01-02-03-04\")",
    ]);
}

#[test]
fn scrubbing_formats_is_idempotent() {
    for t in [
        "Tel. 0161 496 0753 or +44 7700 900461, card 4111 1111 1111 1111",
        "iban de89 3704 0044 0532 0130 00 / jürgen@exämple.de",
        "Rufnummer 030 - 2345 678; 8 (812) 765-43-21; (21) 98765-4321",
    ] {
        let (once, _) = scrub(t);
        let (twice, _) = scrub(&once);
        assert_eq!(once, twice, "{t}");
    }
}
