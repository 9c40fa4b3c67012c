//! Phone numbers: numbering-plan checks for the phone rules' candidates.
//!
//! A candidate is read as digit groups (separators: space, tab, `-`, `.`, `/`, parentheses;
//! the text is normalised to ASCII separators before rules run). International candidates
//! (`+`, `00`, `011`) are checked against the plan of their country code; national ones
//! against the plans of the regions a rule's format suggests (`phone_plan:de|gb|fr`). National
//! candidates have no country code to vouch for them, so they also have to read as nothing
//! else: not part of a longer run of numbers, not an amount, a date, an IP address, a version,
//! a year range, an ISBN or order number.
//!
//! The plans are the national numbering plans (ITU-T E.164 assignments as published by the
//! regulators: lengths of the national significant number, NSN, and its leading digits),
//! reduced to what tells a number from other digits: not every block of every plan is
//! tracked, and a plan admits reserved blocks of a valid length.

use std::ops::Range;

/// The national plans: ISO 3166 code (`us` is the whole NANP, Canada included), country
/// code, trunk prefix (empty where there is none), and blocks of national significant numbers
/// (NSN): `LO[-HI]:MIN[-MAX]`, NSNs whose leading digits lie in `LO..=HI` (compared on as many
/// digits as `LO` has) with `MIN..=MAX` digits; `!` marks a block dialled nationally without
/// the trunk prefix (Spanish and Mexican numbers, Italian ones whose leading 0 belongs to the
/// number, Australian 1300/1800, Chinese and Indian mobiles written without 0).
const PLANS: [(&str, &str, &str, &str); 19] = [
    // NANP: NXX-NXX-XXXX (see `plan_specific`).
    ("us", "1", "1", "2-9:10!"),
    // Mobiles 1[3-9], 11 digits; Beijing 10 and 2x areas + 8 digits; 3-digit areas + 7-8.
    ("cn", "86", "0", "13-19:11! 10:10 2:10 3-9:10-11 400:10!"),
    // Geographic 9 digits; mobile 70/80/90, IP 50: 10 digits.
    ("jp", "81", "0", "1-9:9 50:10 70:10 80:10 90:10"),
    // Areas 2-5 digits + subscriber: 7-11; mobiles 15x-17x: 10-11.
    ("de", "49", "0", "2-9:7-11 15-17:10-11 180:9-11"),
    // STD code + subscriber: 10; mobiles 6-9: 10; toll-free 1800.
    ("in", "91", "0", "1-8:10 6-9:10! 1800:10-11!"),
    ("gb", "44", "0", "1:9-10 2-3:10 5:10 7:10 8:9-10 9:10"),
    ("fr", "33", "0", "1-9:9"),
    // The leading 0 of fixed lines is part of the number; mobiles 3xx.
    ("it", "39", "", "0:8-11! 3:9-10! 80:6-9!"),
    // Areas 11-99 without a 0 digit; fixed 8 digits from 2-5, mobile 9 from 9.
    ("br", "55", "0", "11-99:10-11! 800:10"),
    ("ru", "7", "8", "3-4:10 6-9:10"),
    // Ten digits since 2019 (the old mobile 1 survives in international form).
    ("mx", "52", "", "2-9:10! 1:11"),
    ("au", "61", "0", "2-5:9 7-8:9 1300:10! 1800:10!"),
    ("kr", "82", "0", "2:8-9 3-6:9-10 10-19:9-10 70:10 80:9-10"),
    ("es", "34", "", "6-9:9!"),
    ("id", "62", "0", "2-7:7-11 8:9-12"),
    ("nl", "31", "0", "1-7:9 8-9:7-10"),
    ("tr", "90", "0", "2-5:10 8:10"),
    ("sa", "966", "0", "1:9 5:9 800:10!"),
    ("ch", "41", "0", "2-9:9"),
];

/// Which plans a rule's candidates are checked against (a bit per entry of [`PLANS`]), or
/// international candidates (country code first).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plans {
    Intl,
    National(u32),
}

impl Plans {
    /// `intl`, or regions by ISO 3166 code separated by `|` (`ca` is an alias of `us`).
    pub fn parse(s: &str) -> Option<Plans> {
        let s = s.trim();
        if s == "intl" {
            return Some(Plans::Intl);
        }
        let mut bits = 0u32;
        for code in s.split('|') {
            let code = match code.trim() {
                "ca" => "us",
                c => c,
            };
            bits |= 1 << PLANS.iter().position(|p| p.0 == code)?;
        }
        (bits != 0).then_some(Plans::National(bits))
    }
}

/// Whether `nsn` lies in one block of `spec` (see [`PLANS`]); `trunk`: the number was written
/// with the trunk prefix, so blocks dialled without it count too.
fn in_blocks(spec: &str, nsn: &[u8], trunk: bool) -> bool {
    spec.split(' ').any(|blk| {
        let (blk, bare) = match blk.strip_suffix('!') {
            Some(b) => (b, true),
            None => (blk, false),
        };
        let Some((lead, len)) = blk.split_once(':') else {
            return false;
        };
        let (lo, hi) = lead.split_once('-').unwrap_or((lead, lead));
        let (min, max) = len.split_once('-').unwrap_or((len, len));
        let (Ok(min), Ok(max)) = (min.parse::<usize>(), max.parse::<usize>()) else {
            return false;
        };
        let k = lo.len();
        (trunk || bare)
            && (min..=max).contains(&nsn.len())
            && nsn.len() >= k
            && &nsn[..k] >= lo.as_bytes()
            && &nsn[..k] <= hi.as_bytes()
    })
}

/// Rules of plans that blocks do not express.
fn plan_specific(iso: &str, nsn: &[u8]) -> bool {
    match iso {
        // NANP: NPA and exchange start with 2-9; N11 codes are service codes, not areas.
        "us" => nsn.len() == 10 && nsn[3] >= b'2' && &nsn[1..3] != b"11",
        "br" if !nsn.starts_with(b"80") => {
            nsn[1] != b'0'
                && match nsn.len() {
                    10 => (b'2'..=b'5').contains(&nsn[2]),
                    11 => nsn[2] == b'9',
                    _ => false,
                }
        }
        _ => true,
    }
}

/// Whether `nsn` is a number of plan `p`.
fn plan_admits(p: &(&str, &str, &str, &str), nsn: &[u8], trunk: bool) -> bool {
    !nsn.is_empty() && in_blocks(p.3, nsn, trunk) && plan_specific(p.0, nsn)
}

/// Whether national digits `d` are a number of one of `regions`.
fn national_ok(d: &[u8], regions: u32) -> bool {
    PLANS
        .iter()
        .enumerate()
        .filter(|(i, _)| regions & (1 << i) != 0)
        .any(|(_, p)| {
            let t = p.2.as_bytes();
            (!t.is_empty() && d.starts_with(t) && plan_admits(p, &d[t.len()..], true))
                || plan_admits(p, d, false)
        })
}

/// Country codes assigned in ITU-T E.164 (two- and three-digit; 1 and 7 are the one-digit ones).
const CC2: &[u8] =
    b"20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 \
60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98";
const CC3: &[u8] =
    b"211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 \
235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255 256 257 258 \
260 261 262 263 264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 \
359 370 371 372 373 374 375 376 377 378 380 381 382 383 385 386 387 389 420 421 423 500 501 502 \
503 504 505 506 507 508 509 590 591 592 593 594 595 596 597 598 599 670 672 673 674 675 676 677 \
678 679 680 681 682 683 685 686 687 688 689 690 691 692 800 808 850 852 853 855 856 870 878 880 \
881 882 883 886 888 960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 979 992 \
993 994 995 996 998";

fn listed(list: &[u8], code: &[u8]) -> bool {
    list.split(|&c| c == b' ').any(|x| x == code)
}

/// The country code at the start of international digits `d`: its length, or `None`.
fn country_code(d: &[u8]) -> Option<usize> {
    match d.first()? {
        b'1' | b'7' => Some(1),
        _ if d.len() >= 2 && listed(CC2, &d[..2]) => Some(2),
        _ if d.len() >= 3 && listed(CC3, &d[..3]) => Some(3),
        _ => None,
    }
}

/// Whether international digits `d` (country code first) form a number: the plan of a known
/// country, or else an assigned country code and a length E.164 allows.
fn intl_ok(d: &[u8], trunk_zero_written: bool) -> bool {
    let Some(k) = country_code(d) else {
        return false;
    };
    let (cc, mut nsn) = d.split_at(k);
    let mut known = PLANS.iter().filter(|p| p.1.as_bytes() == cc).peekable();
    if known.peek().is_none() {
        return (7..=15).contains(&d.len()) && nsn.len() >= 4;
    }
    // `+44 (0)20 …`, or the trunk 0 kept by mistake (`+44 020 …`); Italy's 0 is the number's.
    if (trunk_zero_written || nsn.first() == Some(&b'0'))
        && cc != b"39"
        && nsn.len() > 1
        && nsn[0] == b'0'
    {
        nsn = &nsn[1..];
    }
    known.any(|p| plan_admits(p, nsn, true))
}

/// A candidate read as digit groups.
struct Read {
    digits: Vec<u8>,
    /// Digits per group, and where each group ends in the candidate (byte offset).
    groups: Vec<(usize, usize)>,
    seps: Vec<u8>,
    /// `(0)` written after the country code.
    trunk_zero: bool,
}

fn read(s: &[u8]) -> Read {
    let mut r = Read {
        digits: Vec::with_capacity(16),
        groups: Vec::new(),
        seps: Vec::new(),
        trunk_zero: false,
    };
    let mut run = 0;
    for (i, &c) in s.iter().enumerate() {
        if c.is_ascii_digit() {
            r.digits.push(c);
            run += 1;
        } else {
            if run > 0 {
                r.groups.push((run, i));
                run = 0;
            }
            if matches!(c, b' ' | b'\t' | b'-' | b'.' | b'/') && !r.seps.contains(&c) {
                r.seps.push(c);
            }
        }
    }
    if run > 0 {
        r.groups.push((run, s.len()));
    }
    r.trunk_zero = s.windows(3).any(|w| w == b"(0)");
    r
}

fn value(g: &[u8]) -> u32 {
    g.iter()
        .fold(0u32, |a, &c| a.saturating_mul(10) + u32::from(c - b'0'))
}

/// Digits of each group.
fn group_digits(rd: &Read) -> Vec<&[u8]> {
    let mut at = 0;
    rd.groups
        .iter()
        .map(|&(n, _)| {
            let g = &rd.digits[at..at + n];
            at += n;
            g
        })
        .collect()
}

/// Shapes that are something else: dates, IP addresses, year ranges, ascending runs.
fn other_shape(rd: &Read) -> bool {
    let g = group_digits(rd);
    let d = &rd.digits;
    if d.iter().all(|&c| c == d[0]) {
        return true;
    }
    // `0123456789`, `b'0987654321'`, `0123456701`: test strings and padding, not numbers
    // anyone has: 9 digits counting up or down, or 6 counting up from the first.
    let steps = |up: bool| {
        d.windows(2).map(move |w| {
            let (a, b) = if up { (w[0], w[1]) } else { (w[1], w[0]) };
            b == a + 1 || (a == b'9' && b == b'0')
        })
    };
    let longest = |up: bool| {
        steps(up)
            .fold((0, 0), |(cur, best), step| {
                let cur = if step { cur + 1 } else { 0 };
                (cur, best.max(cur))
            })
            .1
    };
    if g.len() == 1
        && (longest(true) >= 8
            || longest(false) >= 8
            || steps(true).take_while(|x| *x).count() >= 5)
    {
        return true;
    }
    // `01-02-03-04`: groups counting up.
    if g.len() >= 3
        && g.windows(2)
            .all(|w| w[0].len() == w[1].len() && value(w[1]) == value(w[0]) + 1)
    {
        return true;
    }
    // `016.016.016`: one group repeated.
    if g.len() >= 2 && g.windows(2).all(|w| w[0] == w[1]) {
        return true;
    }
    let day = |x: &[u8]| x.len() <= 2 && (1..=31).contains(&value(x));
    let month = |x: &[u8]| x.len() <= 2 && (1..=12).contains(&value(x));
    let year = |x: &[u8]| x.len() == 4 && (1900..=2099).contains(&value(x));
    if g.len() >= 3 {
        let (a, b, c) = (g[0], g[1], g[2]);
        let short_year = g.len() == 3 && c.len() == 2;
        let day_month = day(a) && month(b) || month(a) && day(b);
        if (year(a) && month(b) && day(c))
            || (day_month && (year(c) || short_year))
            // `01-00-1980`, `08-01-3697739`: dates, if not valid ones.
            || (g.len() == 3 && a.len() <= 2 && b.len() <= 2 && c.len() >= 4 && (day_month || year(c)))
        {
            return true;
        }
    }
    // `017777777777`, `040000000000`: masks and padding (6 equal digits in a row).
    if d.windows(6).any(|w| w.iter().all(|&c| c == w[0])) {
        return true;
    }
    // `98765.43210`: a decimal.
    if g.len() == 2 && rd.seps == [b'.'] {
        return true;
    }
    // Dotted quads are addresses (the IP rules judge them).
    if g.len() == 4 && rd.seps == [b'.'] && g.iter().all(|x| x.len() <= 3 && value(x) <= 255) {
        return true;
    }
    // Round figures (`640 480 320`): sizes and counts rather than a subscriber number.
    if g.len() >= 3 && g.iter().all(|x| x.len() >= 2 && x.ends_with(b"0")) {
        return true;
    }
    // Two adjacent years: a range (`2019-2024`, `(12) 2023 2024`).
    g.windows(2).any(|w| year(w[0]) && year(w[1]))
}

fn is_sep(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'-' | b'.' | b'/' | b',')
}

/// Words that make the number after them an identifier, a version or a quantity.
const NOT_PHONE_WORDS: &[&str] = &[
    "isbn", "issn", "order", "ord", "invoice", "inv", "ref", "id", "version", "ver", "v", "build",
    "release", "port", "serial", "sn", "sku", "ean", "upc", "po", "ticket", "pid", "uid", "gid",
    "tx", "txn", "account", "acct", "iban", "bic",
];

/// The text around a national candidate says it is some other number.
fn other_context(text: &[u8], r: &Range<usize>) -> bool {
    let before = &text[..r.start];
    let after = &text[r.end..];
    let digit = |c: Option<&u8>| c.is_some_and(u8::is_ascii_digit);
    // Part of a longer run of numbers: a table row (columns apart by runs of blanks), a
    // longer id, a decimal or a time.
    let not_blank = |c: &u8| !matches!(*c, b' ' | b'\t');
    let mut i = before.len();
    if digit(before.last()) {
        return true;
    }
    if i >= 2 && (is_sep(before[i - 1]) || before[i - 1] == b':') && digit(before.get(i - 2)) {
        return true;
    }
    if digit(before.iter().rev().find(|c| not_blank(c))) {
        return true;
    }
    if let Some(&c) = after.first() {
        if c.is_ascii_digit() || c == b'%' {
            return true;
        }
        if (is_sep(c) || c == b':') && digit(after.get(1)) {
            return true;
        }
    }
    if digit(after.iter().find(|c| not_blank(c))) {
        return true;
    }
    // Amounts: a currency before or after.
    let cur = |s: &[u8]| {
        s.ends_with("$".as_bytes())
            || s.ends_with("€".as_bytes())
            || s.ends_with("£".as_bytes())
            || s.ends_with("¥".as_bytes())
            || s.ends_with("₹".as_bytes())
    };
    let trimmed = {
        let mut j = i;
        while j > 0 && before[j - 1] == b' ' {
            j -= 1;
        }
        &before[..j]
    };
    if cur(trimmed) {
        return true;
    }
    let next: Vec<u8> = after
        .iter()
        .skip_while(|&&c| c == b' ')
        .take(3)
        .map(u8::to_ascii_lowercase)
        .collect();
    if matches!(
        next.as_slice(),
        [b'e', b'u', b'r', ..] | [b'u', b's', b'd', ..] | [b'g', b'b', b'p', ..]
    ) || after.starts_with("€".as_bytes())
        || after.starts_with(" €".as_bytes())
    {
        return true;
    }
    // The word right before (through `:`, `#`, `=`, `.`, spaces) names another kind of number.
    i = trimmed.len();
    while i > 0
        && matches!(
            before[i - 1],
            b':' | b'#' | b'=' | b'.' | b' ' | b'-' | b'_'
        )
    {
        i -= 1;
    }
    let mut j = i;
    while j > 0 && before[j - 1].is_ascii_alphabetic() {
        j -= 1;
    }
    if j < i && i - j <= 8 {
        let w = before[j..i].to_ascii_lowercase();
        if NOT_PHONE_WORDS.iter().any(|x| x.as_bytes() == w.as_slice()) {
            return true;
        }
    }
    false
}

/// The phone validator: `text[r]` is a number of `plans`. International candidates that run
/// on into digits that are not theirs (`+44 20 7946 0958 12`) are narrowed to the longest
/// leading groups that form a number.
pub fn check(text: &str, r: Range<usize>, plans: Plans) -> Option<Range<usize>> {
    let b = text.as_bytes();
    let s = b.get(r.clone())?;
    let rd = read(s);
    let n = rd.digits.len();
    if !(6..=17).contains(&n) || rd.groups.is_empty() {
        return None;
    }
    match plans {
        Plans::Intl => {
            let plus = s.first() == Some(&b'+');
            // `+` or the `00`/`011` international prefix.
            let skip = if plus {
                0
            } else if rd.digits.starts_with(b"011") && rd.digits.get(3) != Some(&b'1') {
                3
            } else if rd.digits.starts_with(b"00") {
                2
            } else {
                return None;
            };
            if !plus && (other_shape(&rd) || other_context(b, &r)) {
                return None;
            }
            // Whole, then without trailing groups while at least two groups remain.
            let mut at = n;
            for k in (1..=rd.groups.len()).rev() {
                if k < rd.groups.len() {
                    at -= rd.groups[k].0;
                }
                let d = &rd.digits[skip..at];
                if d.iter().all(|&c| c == d[0]) {
                    return None;
                }
                if intl_ok(d, rd.trunk_zero) {
                    let end = if k == rd.groups.len() {
                        r.end
                    } else {
                        r.start + rd.groups[k - 1].1
                    };
                    return Some(r.start..end);
                }
                if k <= 2 {
                    break;
                }
            }
            None
        }
        Plans::National(regions) => {
            if other_shape(&rd) || other_context(b, &r) || !national_ok(&rd.digits, regions) {
                return None;
            }
            Some(r)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nat(s: &str, regions: &str) -> bool {
        check(s, 0..s.len(), Plans::parse(regions).unwrap()).is_some()
    }

    fn intl(s: &str) -> Option<&str> {
        check(s, 0..s.len(), Plans::Intl).map(|r| &s[r])
    }

    #[test]
    fn plans_parse() {
        assert_eq!(Plans::parse("intl"), Some(Plans::Intl));
        assert!(matches!(Plans::parse("de|gb"), Some(Plans::National(_))));
        assert_eq!(Plans::parse("de|xx"), None);
        assert_eq!(Plans::parse(""), None);
    }

    #[test]
    fn international_numbers_by_country_plan() {
        for ok in [
            "+1 212 555 0143",
            "+86 138 0013 8000",
            "+81 3-3224-9999",
            "+49 30 901820",
            "+91 98765 43210",
            "+44 (0)20 7946 0958",
            "+33 6 12 34 56 78",
            "+39 06 6982 1234",
            "+55 11 91234-5678",
            "+7 (495) 123-45-67",
            "+52 55 1234 5678",
            "+61 4 1234 5678",
            "+82 10-1234-5678",
            "+34 612 34 56 78",
            "+62 812-3456-7890",
            "+31 6 12345678",
            "+90 532 123 45 67",
            "+966 50 123 4567",
            "+41 44 668 18 00",
            "0044 20 7946 0958",
            "011 44 20 7946 0958",
            "+353 1 234 5678",
        ] {
            assert_eq!(intl(ok), Some(ok), "{ok}");
        }
        for bad in [
            "+1 123 555 0143",
            "+44 20 79",
            "+86 238 0013 8000 1",
            "0012345678",
            "+999 1234 5678",
            "+1 111 111 1111",
        ] {
            assert_eq!(intl(bad), None, "{bad}");
        }
        // A trailing group that is not the number's is left out.
        assert_eq!(intl("+44 20 7946 0958 12"), Some("+44 20 7946 0958"));
        assert_eq!(intl("+33 6 12 34 56 78 90"), Some("+33 6 12 34 56 78"));
    }

    #[test]
    fn national_numbers_by_region() {
        let t0 = "de|gb|fr|it|nl|ch|tr|sa|id|jp|kr|cn|in|au|br";
        for ok in [
            "030 12345678",
            "030/1234567",
            "0151 23456789",
            "020 7946 0958",
            "07700 900123",
            "0161 496 0123",
            "06 12 34 56 78",
            "01.42.68.53.00",
            "06 6982 1234",
            "020-1234567",
            "06-12345678",
            "079 123 45 67",
            "0532 123 45 67",
            "(0312) 456 78 90",
            "050 123 4567",
            "0812-3456-7890",
            "03-3224-9999",
            "090-1234-5678",
            "010-1234-5678",
            "02-312-3456",
            "010 6552 9988",
            "0755-8888-1234",
            "022 2345 6789",
            "0412 345 678",
            "(02) 9876 5432",
            "(011) 91234-5678",
            "0612345678",
        ] {
            assert!(nat(ok, t0), "{ok}");
        }
        for (ok, r) in [
            ("415/555-2671", "us"),
            ("(415) 555-2671", "us"),
            ("8 (495) 123-45-67", "ru"),
            ("8-912-345-67-89", "ru"),
            ("(11) 91234-5678", "br|mx"),
            ("(55) 1234 5678", "br|mx"),
            ("55 1234 5678", "mx|br"),
            ("11 91234-5678", "br"),
            ("138 0013 8000", "cn"),
            ("98765 43210", "in"),
            ("612 34 56 78", "es"),
            ("91 123 45 67", "es"),
            ("612 345 678", "es"),
            ("333 123 4567", "us|mx|it"),
            ("347 1234567", "it"),
            ("1300 123 456", "au"),
        ] {
            assert!(nat(ok, r), "{ok} {r}");
        }
        for (bad, r) in [
            ("01.02.2024", t0),
            ("05/06/2024", t0),
            ("0123456789", t0),
            ("0000 000000", t0),
            ("030 12", t0),
            ("123-456-7890", "us"),
            ("415-155-2671", "us"),
            ("211 555 1234", "us"),
            ("(12) 2023 2024", "br|mx"),
            ("10.20.30.40", "es"),
            ("512 345 678", "es"),
            ("640 480 320", "es"),
            ("138 0013 8000", "in"),
            ("0123456701", t0),
            ("0987654321", t0),
            ("016.016.016", t0),
            ("01-00-1980", t0),
            ("01-02-03-04", t0),
            ("08-01-3697739", t0),
            ("017777777777", t0),
            ("040000000000", t0),
        ] {
            assert!(!nat(bad, r), "{bad} {r}");
        }
    }

    #[test]
    fn benign_context_rejects_national_candidates() {
        let t0 = Plans::parse("de|gb|fr|it").unwrap();
        let es = Plans::parse("es").unwrap();
        let at = |text: &str, cand: &str, p: Plans| {
            let s = text.find(cand).unwrap();
            check(text, s..s + cand.len(), p).is_some()
        };
        assert!(at("call 030 12345678 now", "030 12345678", t0));
        assert!(at("tel:030 12345678", "030 12345678", t0));
        assert!(!at("12 030 12345678 9", "030 12345678", t0));
        assert!(!at("row 030 12345678 040 1234", "030 12345678", t0));
        assert!(!at("total 612 345 678,90 EUR", "612 345 678", es));
        assert!(!at("$ 612 345 678", "612 345 678", es));
        assert!(!at("612 345 678 EUR", "612 345 678", es));
        assert!(!at("612 345 678%", "612 345 678", es));
        assert!(!at("ISBN 030 12345678", "030 12345678", t0));
        assert!(!at("order #030 12345678", "030 12345678", t0));
        assert!(!at("at 12:030 12345678", "030 12345678", t0));
        assert!(!at("'01  012 0123    01234'", "01  012 0123", t0));
        assert!(!at("42\t030 12345678", "030 12345678", t0));
    }
}
