//! The walk over every string of a resource, scope and span: names, status message, trace
//! state, attribute keys and values, events, links, recursing into arrays and key-value lists.

use super::engine::Match;
use super::validate::luhn_card;
use super::{BytesPolicy, ScrubReport, Scrubber, Summary};
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
            if self.dropped.matches(&kv.key) {
                w.rep.dropped_attributes += 1;
                attrs.remove(i);
                continue;
            }
            if self.blocked.matches(&kv.key) {
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
            } else if !self.allowed.matches(&kv.key) {
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
        self.scrub_string(&mut s.trace_state, &mut w);
        if let Some(st) = s.status.as_mut() {
            self.scrub_string(&mut st.message, &mut w);
        }
        self.scrub_attrs(&mut s.attributes, &mut w, 0);
        for ev in &mut s.events {
            self.scrub_string(&mut ev.name, &mut w);
            self.scrub_attrs(&mut ev.attributes, &mut w, 0);
        }
        for ln in &mut s.links {
            self.scrub_string(&mut ln.trace_state, &mut w);
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
