//! The `scrub` fuzz target's check, shared with `tests/fuzz_smoke.rs`: the scrubber on
//! arbitrary text and on arbitrary spans (nested array/kvlist values, decoded from the input as
//! protobuf). Invariants: no panic; a second pass finds nothing (so the
//! output holds nothing the engine reports); no value the engine found in the input survives;
//! valid JSON stays valid JSON.
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{Engine, RedactionConfig, ScrubReport, Scrubber};
use std::sync::OnceLock;

fn scrubber() -> &'static Scrubber {
    static S: OnceLock<Scrubber> = OnceLock::new();
    S.get_or_init(|| {
        // Bytes values scanned too, so that path is fuzzed as well.
        let cfg = RedactionConfig {
            bytes: spanward::scrub::BytesPolicy::Scan,
            ..RedactionConfig::default()
        };
        Scrubber::new(
            &cfg,
            HmacKey::from_bytes(vec![3; 32], None, KeySource::File),
        )
        .expect("scrubber")
    })
}

fn text(s: &str) {
    let sc = scrubber();
    let mut rep = ScrubReport::default();
    let once = sc.scrub_str_report(s, &mut rep).into_owned();
    let mut rep2 = ScrubReport::default();
    let twice = sc.scrub_str_report(&once, &mut rep2);
    assert_eq!(rep2.total(), 0, "second pass found more in {once:?}");
    assert_eq!(twice, once);
    // The scrubber matches on the escape-decoded text (`\t@x.io` is a tab, not an email), so
    // the raw-text engine is a fair oracle only where there is nothing to decode.
    let mut found = Vec::new();
    // Text that already holds one of our own replacement forms is not checked either: matches
    // overlapping them are left alone by design (idempotence).
    if !s.contains('\\') && !s.contains("[REDACTED:") && !s.contains('>') {
        sc.engine().find(s, &mut found);
    }
    // Our own replacement forms can spell a found value (`uthorization` inside
    // `[REDACTED:authorization_header]`): survivors are looked for outside them.
    let bare = outside_own_forms(&once);
    for m in &found {
        let v = &s[m.start..m.end];
        // Short values can occur by chance in replacements or untouched text (the scrubber
        // chases recurrences from 8 bytes on). Matches touching one of our own replacement
        // forms are left alone by design (idempotence), so they are not checked here.
        let own = v.contains("[REDACTED:") || v.contains('>');
        // A value that does not look like a secret of its own (`uthorization`, a word) may
        // also be part of kept context (`Authorization:`); the scrubber masks the values it
        // found, and searches elsewhere only for those that look like secrets.
        if v.len() >= 12 && !own && spanward::scrub::looks_like_secret_value(v) {
            assert!(
                !bare.iter().any(|p| p.contains(v)),
                "found value survived: {v:?} in {once:?}"
            );
        }
    }
    // Only objects and arrays are treated as JSON documents: a string attribute holding a bare
    // number is plain text (a card number in it becomes an unquoted token).
    let doc = matches!(s.trim_start().as_bytes().first(), Some(b'{' | b'['));
    if doc && serde_json::from_str::<serde_json::Value>(s).is_ok() {
        assert!(
            serde_json::from_str::<serde_json::Value>(&once).is_ok(),
            "JSON broken: {once:?}"
        );
    }
}

/// The stretches of `text` outside our replacement forms (`[REDACTED:type]`,
/// `<type:0123456789>`), kept apart so that text on either side of a form does not join up.
fn outside_own_forms(text: &str) -> Vec<&str> {
    let ident = |c: u8| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_';
    let b = text.as_bytes();
    // The length of an own form starting at `i`, if one does.
    let form_at = |i: usize| -> Option<usize> {
        let rest = &b[i..];
        if let Some(after) = rest.strip_prefix(b"[REDACTED:") {
            let n = after.iter().take_while(|&&c| ident(c)).count();
            return (after.get(n) == Some(&b']')).then_some(10 + n + 1);
        }
        let after = rest.strip_prefix(b"<")?;
        let n = after.iter().take_while(|&&c| ident(c)).count();
        let tail = after[n..].strip_prefix(b":")?;
        let h = tail.iter().take_while(|c| c.is_ascii_hexdigit()).count();
        (n > 0 && h == 10 && tail.get(h) == Some(&b'>')).then_some(1 + n + 1 + h + 1)
    };
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < b.len() {
        match form_at(i) {
            Some(len) => {
                parts.push(&text[start..i]);
                i += len;
                start = i;
            }
            None => i += 1,
        }
    }
    parts.push(&text[start..]);
    parts
}

fn span(data: &[u8]) {
    let Ok(mut sp) = Span::decode(data) else {
        return;
    };
    let sc = scrubber();
    let mut rep = ScrubReport::default();
    sc.scrub_span(&mut sp, &mut rep).unwrap();
    let once = sp.clone();
    let mut rep2 = ScrubReport::default();
    sc.scrub_span(&mut sp, &mut rep2).unwrap();
    assert_eq!(rep2.total(), 0, "second pass found more");
    assert_eq!(sp, once);
}

/// One input: a leading 0 byte makes the rest a protobuf `Span`, anything else text.
pub fn run(data: &[u8]) {
    match data.split_first() {
        Some((0, rest)) => span(rest),
        Some((_, rest)) => text(&String::from_utf8_lossy(rest)),
        None => {}
    }
}
