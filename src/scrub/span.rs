//! The walk over every string of a resource, scope and span: names, status message, trace
//! state, attribute keys and values, events, links, recursing into arrays and key-value lists.
//!
//! One exemption: in a `tracestate`, the OpenTelemetry `ot` member's `th` and `rv` sub-keys are
//! left alone when their values are valid (see `Scrubber::scrub_trace_state`).

use super::engine::Match;
use super::memo::{key_class, KeyClass};
use super::validate::luhn_card;
use super::{BytesPolicy, ScrubReport, Scrubber, Summary};
use crate::pipeline::sample::{parse_randomness, parse_threshold};
use opentelemetry_proto::tonic::common::v1::{
    any_value::Value, AnyValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

/// Deeper nesting than this is replaced whole (prost already caps decoding at 100 levels).
const MAX_DEPTH: usize = 32;

/// Per-walk state.
struct Walk<'r> {
    scratch: Vec<Match>,
    rep: &'r mut ScrubReport,
    /// Attribute keys that had redactions (debug summary only).
    keys: Option<Vec<String>>,
}

impl<'r> Walk<'r> {
    fn new(rep: &'r mut ScrubReport, keys: Option<Vec<String>>) -> Self {
        Walk {
            scratch: Vec::new(),
            rep,
            keys,
        }
    }
}

enum Fate {
    Keep,
    Drop,
}

impl Fate {
    fn of(drop: bool) -> Fate {
        if drop {
            Fate::Drop
        } else {
            Fate::Keep
        }
    }
}

impl Scrubber {
    fn scrub_string(&self, s: &mut String, w: &mut Walk<'_>) -> Fate {
        match self.scrub_text(s, &mut w.scratch, w.rep) {
            Some(out) => {
                *s = out.text;
                Fate::of(out.drop)
            }
            None => Fate::Keep,
        }
    }

    /// Scrubs `piece` into `out`; true when it changed.
    fn scrub_piece(&self, piece: &str, out: &mut String, w: &mut Walk<'_>) -> bool {
        match self.scrub_text(piece, &mut w.scratch, w.rep) {
            Some(r) => {
                out.push_str(&r.text);
                true
            }
            None => {
                out.push_str(piece);
                false
            }
        }
    }

    /// Scrubs a W3C `tracestate` member by member. In the first `ot` member (the one the
    /// sampler reads and writes), the `th` and `rv` sub-keys are copied unscanned when their
    /// values are valid (`th`: 1 to 14 lower-case hex digits; `rv`: exactly 14): sampling wrote
    /// or relies on them, and a rule matching one (a 14-digit all-decimal `rv` such as
    /// `30569309025904` passes the card check) would break the tracestate and the adjusted
    /// counts downstream. Their syntax caps what they can carry at 56 bits of hex. Every other
    /// member, every other `ot` sub-key and any invalid `th`/`rv` is scanned as before.
    fn scrub_trace_state(&self, ts: &mut String, w: &mut Walk<'_>) {
        if ts.is_empty() {
            return;
        }
        let mut out = String::with_capacity(ts.len());
        let mut changed = false;
        let mut ot_seen = false;
        for (i, member) in ts.split(',').enumerate() {
            if i > 0 {
                out.push(',');
            }
            let value = member.trim_start_matches([' ', '\t']).strip_prefix("ot=");
            match value {
                Some(value) if !ot_seen => {
                    ot_seen = true;
                    // Leading whitespace and `ot=` are copied as they were.
                    out.push_str(&member[..member.len() - value.len()]);
                    for (j, sub) in value.split(';').enumerate() {
                        if j > 0 {
                            out.push(';');
                        }
                        if is_sampling_subkey(sub.trim_end_matches([' ', '\t'])) {
                            out.push_str(sub);
                        } else {
                            changed |= self.scrub_piece(sub, &mut out, w);
                        }
                    }
                }
                _ => changed |= self.scrub_piece(member, &mut out, w),
            }
        }
        if changed {
            *ts = out;
        }
    }

    fn scrub_value(&self, v: &mut AnyValue, w: &mut Walk<'_>, depth: usize) -> Fate {
        if depth > MAX_DEPTH {
            w.rep.add(&self.t_too_deep, 1);
            v.value = Some(Value::StringValue("[REDACTED:too_deep]".into()));
            return Fate::Keep;
        }
        let Some(val) = v.value.as_mut() else {
            return Fate::Keep;
        };
        match val {
            Value::StringValue(s) => self.scrub_string(s, w),
            Value::IntValue(i) => {
                // Users log card numbers as integers: scan long ones as text.
                let u = i.unsigned_abs();
                if u >= 1_000_000_000_000 && luhn_card(&u.to_string()) {
                    let mut s = i.to_string();
                    let before = w.rep.total();
                    let fate = self.scrub_string(&mut s, w);
                    if w.rep.total() != before {
                        *val = Value::StringValue(s);
                    }
                    return fate;
                }
                Fate::Keep
            }
            Value::BytesValue(b) => match self.bytes {
                BytesPolicy::Keep => {
                    w.rep.bytes_values_skipped += 1;
                    Fate::Keep
                }
                BytesPolicy::Drop => Fate::Drop,
                BytesPolicy::Scan => match std::str::from_utf8(b) {
                    Ok(text) => match self.scrub_text(text, &mut w.scratch, w.rep) {
                        Some(out) => {
                            *b = out.text.into_bytes();
                            Fate::of(out.drop)
                        }
                        None => Fate::Keep,
                    },
                    Err(_) => {
                        w.rep.bytes_values_skipped += 1;
                        Fate::Keep
                    }
                },
            },
            Value::ArrayValue(a) => {
                let mut fate = Fate::Keep;
                for x in &mut a.values {
                    if let Fate::Drop = self.scrub_value(x, w, depth + 1) {
                        fate = Fate::Drop;
                    }
                }
                fate
            }
            Value::KvlistValue(kv) => {
                self.scrub_attrs(&mut kv.values, w, depth + 1);
                Fate::Keep
            }
            Value::BoolValue(_) | Value::DoubleValue(_) | Value::StringValueStrindex(_) => {
                Fate::Keep
            }
        }
    }

    /// Scrubs a list of key-values in place (key rules, keys, values), removing dropped ones.
    fn scrub_attrs(&self, attrs: &mut Vec<KeyValue>, w: &mut Walk<'_>, depth: usize) {
        let mut i = 0;
        while i < attrs.len() {
            let before = w.rep.total();
            // The key is scrubbed first so the key rules see what will be written: a second
            // pass then makes the same decisions (idempotence).
            let key_fate = self.scrub_string(&mut attrs[i].key, w);
            let kv = &mut attrs[i];
            let class = self.key_class(&kv.key);
            if class.dropped {
                w.rep.dropped_attributes += 1;
                attrs.remove(i);
                continue;
            }
            if class.blocked {
                let is_empty = match kv.value.as_ref().and_then(|v| v.value.as_ref()) {
                    None => true,
                    Some(Value::StringValue(s)) => s.is_empty() || s == "[REDACTED:blocked_key]",
                    _ => false,
                };
                if !is_empty {
                    w.rep.add(&self.t_blocked, 1);
                    kv.value = Some(AnyValue {
                        value: Some(Value::StringValue("[REDACTED:blocked_key]".into())),
                    });
                }
            } else if !class.allowed {
                let val_fate = match kv.value.as_mut() {
                    Some(v) => self.scrub_value(v, w, depth),
                    None => Fate::Keep,
                };
                if matches!(key_fate, Fate::Drop) || matches!(val_fate, Fate::Drop) {
                    w.rep.dropped_attributes += 1;
                    attrs.remove(i);
                    continue;
                }
            }
            if w.rep.total() != before {
                if let Some(keys) = w.keys.as_mut() {
                    keys.push(attrs[i].key.clone());
                }
            }
            i += 1;
        }
    }

    /// Which key rules apply to `key` (remembered per thread for keys known clean).
    fn key_class(&self, key: &str) -> KeyClass {
        key_class(self.memo_id, key, || KeyClass {
            dropped: self.dropped.matches(key),
            blocked: self.blocked.matches(key),
            allowed: self.allowed.matches(key),
        })
    }

    /// Scrubs resource attributes.
    pub fn scrub_resource(&self, r: &mut Resource, rep: &mut ScrubReport) {
        if !self.enabled {
            return;
        }
        let mut w = Walk::new(rep, None);
        self.scrub_attrs(&mut r.attributes, &mut w, 0);
    }

    /// Scrubs the scope's name, version and attributes.
    pub fn scrub_scope(&self, s: &mut InstrumentationScope, rep: &mut ScrubReport) {
        if !self.enabled {
            return;
        }
        let mut w = Walk::new(rep, None);
        self.scrub_string(&mut s.name, &mut w);
        self.scrub_string(&mut s.version, &mut w);
        self.scrub_attrs(&mut s.attributes, &mut w, 0);
    }

    /// Scrubs every string of the span and, per `summary`, adds `redaction.count` and
    /// `redaction.types` (and `redaction.keys` for `debug`) when anything was redacted.
    pub fn scrub_span(&self, s: &mut Span, rep: &mut ScrubReport) {
        if !self.enabled {
            return;
        }
        let mut local = ScrubReport::default();
        let mut w = Walk::new(&mut local, (self.summary == Summary::Debug).then(Vec::new));
        self.scrub_string(&mut s.name, &mut w);
        self.scrub_trace_state(&mut s.trace_state, &mut w);
        if let Some(st) = s.status.as_mut() {
            self.scrub_string(&mut st.message, &mut w);
        }
        self.scrub_attrs(&mut s.attributes, &mut w, 0);
        for ev in &mut s.events {
            self.scrub_string(&mut ev.name, &mut w);
            self.scrub_attrs(&mut ev.attributes, &mut w, 0);
        }
        for ln in &mut s.links {
            self.scrub_trace_state(&mut ln.trace_state, &mut w);
            self.scrub_attrs(&mut ln.attributes, &mut w, 0);
        }
        let keys = w.keys.take();
        let total = local.total();
        if total > 0 && self.summary != Summary::Silent {
            let types = local
                .matches
                .iter()
                .map(|(t, n)| format!("{t}:{n}"))
                .collect::<Vec<_>>()
                .join(",");
            set_attr(
                &mut s.attributes,
                "redaction.count",
                Value::IntValue(total as i64),
            );
            set_attr(
                &mut s.attributes,
                "redaction.types",
                Value::StringValue(types),
            );
            if let Some(mut keys) = keys {
                keys.sort();
                keys.dedup();
                set_attr(
                    &mut s.attributes,
                    "redaction.keys",
                    Value::StringValue(keys.join(",")),
                );
            }
        }
        rep.merge(&local);
    }
}

/// A valid `th:` or `rv:` sub-key of the `ot` tracestate member.
fn is_sampling_subkey(sub: &str) -> bool {
    match sub.split_once(':') {
        Some(("th", v)) => parse_threshold(v).is_some(),
        Some(("rv", v)) => parse_randomness(v).is_some(),
        _ => false,
    }
}

fn set_attr(attrs: &mut Vec<KeyValue>, key: &str, v: Value) {
    let value = Some(AnyValue { value: Some(v) });
    match attrs.iter_mut().find(|kv| kv.key == key) {
        Some(kv) => kv.value = value,
        None => attrs.push(KeyValue {
            key: key.to_string(),
            value,
            ..Default::default()
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::super::RedactionConfig;
    use super::*;
    use crate::keys::{HmacKey, KeySource};
    use opentelemetry_proto::tonic::trace::v1::span::Link;

    /// 14 decimal digits, Luhn-valid with a Diners Club prefix (305): a valid `rv` that the
    /// `credit_card` rule accepts anywhere else.
    const RV: &str = "30569309025904";

    fn scrubber() -> Scrubber {
        Scrubber::new(
            &RedactionConfig::default(),
            HmacKey::from_bytes(vec![9; 32], None, KeySource::File),
        )
        .unwrap()
    }

    fn scrubbed(ts: &str) -> (String, ScrubReport) {
        let mut span = Span {
            trace_state: ts.into(),
            links: vec![Link {
                trace_state: ts.into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut rep = ScrubReport::default();
        scrubber().scrub_span(&mut span, &mut rep);
        assert_eq!(span.links[0].trace_state, span.trace_state, "links alike");
        (span.trace_state, rep)
    }

    fn attr_span(attrs: &[(&str, &str)]) -> Span {
        Span {
            name: "chat gpt-4o-mini".into(),
            attributes: attrs
                .iter()
                .map(|(k, v)| KeyValue {
                    key: k.to_string(),
                    value: Some(AnyValue {
                        value: Some(Value::StringValue(v.to_string())),
                    }),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    /// The memo of clean strings and key decisions changes nothing: the same spans scrubbed
    /// again by the same scrubber (memo warm) come out as from a fresh scrubber (memo cold),
    /// including blocked keys, short secrets and keys that hold a secret themselves.
    #[test]
    fn memoised_scrubbing_agrees_with_a_cold_scrubber() {
        let attrs = [
            ("gen_ai.request.model", "gpt-4o-mini"),
            ("db.password", "hunter2hunter2"),
            ("user.email", "ann@example.com"),
            ("http.request.header.authorization", "Bearer abc"),
            ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "x"),
            ("note", "call me at +44 20 7946 0958"),
        ];
        let warm = scrubber();
        let mut first = None;
        for round in 0..3 {
            let mut sp = attr_span(&attrs);
            let mut rep = ScrubReport::default();
            warm.scrub_span(&mut sp, &mut rep);
            // The memo is per thread and per scrubber: a fresh scrubber on a fresh thread is cold
            // (on this thread it would also empty the warm scrubber's memo).
            let (cold_sp, cold_rep) = std::thread::spawn(move || {
                let mut sp = attr_span(&attrs);
                let mut rep = ScrubReport::default();
                scrubber().scrub_span(&mut sp, &mut rep);
                (sp, rep)
            })
            .join()
            .unwrap();
            assert_eq!(sp.attributes, cold_sp.attributes, "round {round}");
            assert_eq!(rep.total(), cold_rep.total(), "round {round}");
            assert_eq!(rep.bytes_scanned, cold_rep.bytes_scanned, "round {round}");
            let out = format!("{:?}", sp.attributes);
            for raw in [
                "hunter2",
                "ann@example.com",
                "Bearer abc",
                "ghp_16C7",
                "7946",
            ] {
                assert!(!out.contains(raw), "{raw} survived round {round}: {out}");
            }
            assert!(out.contains("gpt-4o-mini"));
            first.get_or_insert(sp.attributes.clone());
            assert_eq!(first.as_ref(), Some(&sp.attributes));
        }
        // The warm rounds did go through the memo (keys and the model name are remembered).
        for clean in [
            "db.password",
            "gen_ai.request.model",
            "gpt-4o-mini",
            "chat gpt-4o-mini",
        ] {
            assert!(super::super::memo::is_clean(warm.memo_id, clean), "{clean}");
        }
        assert!(!super::super::memo::is_clean(
            warm.memo_id,
            "ann@example.com"
        ));
    }

    #[test]
    fn the_card_rule_matches_the_rv_digits_outside_the_ot_member() {
        // Proves the exemption below is needed: the same digits are a card elsewhere.
        let (out, rep) = scrubbed(&format!("vendor={RV}"));
        assert!(!out.contains(RV), "{out}");
        assert!(rep.count("credit_card") > 0);
        assert!(scrubber()
            .scrub_str(&format!("rv:{RV}"))
            .contains("<credit_card:"));
    }

    #[test]
    fn ot_th_and_rv_survive_other_members_are_scanned() {
        let ts = format!("ot=th:8;rv:{RV};x:{RV}, vendor={RV},congo=t61rcWkgMzE");
        let (out, rep) = scrubbed(&ts);
        let (ot, rest) = out.split_once(',').unwrap();
        assert!(ot.starts_with(&format!("ot=th:8;rv:{RV};x:")), "{out}");
        // The other `ot` sub-key and the vendor member lost the digits; the rest is untouched.
        assert_eq!(out.matches(RV).count(), 1, "{out}");
        assert!(rest.starts_with(" vendor="), "{out}");
        assert!(rest.ends_with(",congo=t61rcWkgMzE"), "{out}");
        // Two spans' worth (span and link), two matches each.
        assert_eq!(rep.count("credit_card"), 4);
        // What the sampler reads is intact.
        let member = ot.strip_prefix("ot=").unwrap();
        let subs: Vec<&str> = member.split(';').collect();
        assert_eq!(
            parse_threshold(subs[0].strip_prefix("th:").unwrap()),
            Some(8 << 52)
        );
        assert!(parse_randomness(subs[1].strip_prefix("rv:").unwrap()).is_some());
    }

    #[test]
    fn only_valid_sampling_values_and_the_first_ot_member_are_exempt() {
        // An `rv` of the wrong length, a `th` with upper-case digits and a second `ot` member are
        // not what the sampler reads: scanned like any other text.
        for ts in [
            // 15 digits (an Amex test number): one too many for an `rv`.
            "ot=rv:378282246310005".to_string(),
            "ot=th:4111111111111111".to_string(),
            format!("ot=th:8,ot=rv:{RV}"),
        ] {
            let (out, rep) = scrubbed(&ts);
            assert!(rep.count("credit_card") > 0, "{ts} -> {out}");
        }
        // Unchanged input stays byte-identical, whitespace included.
        let ts = format!(" ot=th:c;rv:{RV} ,a=b");
        assert_eq!(scrubbed(&ts).0, ts);
    }
}
