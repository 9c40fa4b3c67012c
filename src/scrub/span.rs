//! The walk over every string of a resource, scope and span: names, status message, trace
//! state, attribute keys and values, events, links, schema URLs and entity references,
//! recursing into arrays and key-value lists. It reads the encoded request where it sits and
//! records its changes as [`Edits`]; the decoded-span methods (`scrub_span` …) are the same
//! walk over the span's encoding.
//!
//! One exemption: in a `tracestate`, the OpenTelemetry `ot` member's `th` and `rv` sub-keys are
//! left alone when their values are valid (see `Scrubber::scrub_trace_state`).

use super::memo::{key_class, KeyClass};
use super::validate::luhn_card;
use super::{BytesPolicy, ScrubReport, Scrubber, Summary};
use crate::otlp::num::*;
use crate::otlp::tracestate::{parse_randomness, parse_threshold};
use crate::otlp::view::{self, Kv};
use crate::otlp::wire::{len_field_size, put_len_field, put_tag, put_varint, Field, LEN};
use crate::otlp::{edit_decoded, Edits, Msg, RewriteError, WireError};
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::Span;

/// Deeper nesting than this is replaced whole (the receivers refuse nesting past
/// `max_attribute_depth`, at most 100).
const MAX_DEPTH: usize = 32;

/// What a blocked key's value becomes.
const BLOCKED: &str = "[REDACTED:blocked_key]";
const TOO_DEEP: &str = "[REDACTED:too_deep]";

/// Why a walk stopped: the encoding did not parse, or a string was not UTF-8. Neither can
/// happen to a request the receivers checked; the caller fails closed either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    #[error(transparent)]
    Wire(#[from] WireError),
    #[error("string field at byte {0} is not UTF-8")]
    Utf8(usize),
}

/// Per-walk state.
pub(super) struct Walk<'r, 'e> {
    pub(super) rep: &'r mut ScrubReport,
    pub(super) edits: &'e mut Edits,
    /// Attribute keys that had redactions (debug summary only).
    pub(super) keys: Option<Vec<String>>,
}

impl<'r, 'e> Walk<'r, 'e> {
    pub(super) fn new(
        rep: &'r mut ScrubReport,
        edits: &'e mut Edits,
        keys: Option<Vec<String>>,
    ) -> Self {
        Walk { rep, edits, keys }
    }
}

pub(super) enum Fate {
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

fn text_of<'a>(f: &Field<'a>) -> Result<&'a str, WalkError> {
    f.str().ok_or(WalkError::Utf8(f.start))
}

/// An `AnyValue` field `num` holding a string.
fn put_string_value(out: &mut Vec<u8>, num: u32, text: &str) {
    put_tag(out, num, LEN);
    put_varint(out, len_field_size(AV_STRING, text.len()) as u64);
    put_len_field(out, AV_STRING, text.as_bytes());
}

/// A `KeyValue` field `num` with an int value.
fn put_int_kv(out: &mut Vec<u8>, num: u32, key: &str, v: i64) {
    let any = 1 + crate::otlp::wire::varint_len(v as u64);
    let kv = len_field_size(KV_KEY, key.len()) + len_field_size(KV_VALUE, any);
    put_tag(out, num, LEN);
    put_varint(out, kv as u64);
    put_len_field(out, KV_KEY, key.as_bytes());
    put_tag(out, KV_VALUE, LEN);
    put_varint(out, any as u64);
    crate::otlp::wire::put_varint_field(out, AV_INT, v as u64);
}

/// The first attribute with each summary key, as the walk left it (a span's own attributes).
#[derive(Default)]
pub(super) struct SummarySlots<'a> {
    count: Option<Field<'a>>,
    types: Option<Field<'a>>,
    keys: Option<Field<'a>>,
}

impl Scrubber {
    /// Scrubs a string field of `owner`; the field is replaced when the text changed.
    pub(super) fn scrub_field(
        &self,
        owner: &Msg<'_>,
        f: &Field<'_>,
        w: &mut Walk<'_, '_>,
    ) -> Result<(Fate, Option<String>), WalkError> {
        let text = text_of(f)?;
        match self.scrub_text(text, w.rep) {
            Some(out) => {
                w.edits.replace(owner, f.range(), |o| {
                    put_len_field(o, f.num, out.text.as_bytes())
                });
                Ok((Fate::of(out.drop), Some(out.text)))
            }
            None => Ok((Fate::Keep, None)),
        }
    }

    /// Scrubs `piece` into `out`; true when it changed.
    fn scrub_piece(&self, piece: &str, out: &mut String, w: &mut Walk<'_, '_>) -> bool {
        match self.scrub_text(piece, w.rep) {
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
    fn scrub_trace_state(
        &self,
        owner: &Msg<'_>,
        f: &Field<'_>,
        w: &mut Walk<'_, '_>,
    ) -> Result<(), WalkError> {
        let ts = text_of(f)?;
        if ts.is_empty() {
            return Ok(());
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
            w.edits.replace(owner, f.range(), |o| {
                put_len_field(o, f.num, out.as_bytes())
            });
        }
        Ok(())
    }

    /// Replaces an `AnyValue`'s member (or fills an empty one) with a string.
    fn set_string_member(av: &Msg<'_>, member: Option<&Field<'_>>, text: &str, e: &mut Edits) {
        let write = |o: &mut Vec<u8>| put_len_field(o, AV_STRING, text.as_bytes());
        match member {
            Some(m) => e.replace(av, m.range(), write),
            None => e.append(av, write),
        }
    }

    pub(super) fn scrub_value(
        &self,
        av: Msg<'_>,
        w: &mut Walk<'_, '_>,
        depth: usize,
    ) -> Result<Fate, WalkError> {
        let member = view::any_member(av)?;
        if depth > MAX_DEPTH {
            w.rep.add(&self.t_too_deep, 1);
            Self::set_string_member(&av, member.as_ref(), TOO_DEEP, w.edits);
            return Ok(Fate::Keep);
        }
        let Some(m) = member else {
            return Ok(Fate::Keep);
        };
        Ok(match m.num {
            AV_STRING => self.scrub_field(&av, &m, w)?.0,
            AV_INT => {
                // Users log card numbers as integers (negative ones too): scan long ones as text.
                let i = m.varint().unwrap_or(0) as i64;
                self.scrub_number(&av, &m, i.unsigned_abs(), &i.to_string(), w)
            }
            AV_DOUBLE => {
                // … and as doubles: an integral double of card length is scanned as the integer.
                let d = match m.val {
                    crate::otlp::wire::Val::I64(bits) => f64::from_bits(bits),
                    _ => f64::NAN,
                };
                if d.is_finite() && d.fract() == 0.0 && d.abs() < 1e20 {
                    let u = d.abs() as u64;
                    let sign = if d < 0.0 { "-" } else { "" };
                    self.scrub_number(&av, &m, u, &format!("{sign}{u}"), w)
                } else {
                    Fate::Keep
                }
            }
            AV_BYTES => match self.bytes {
                BytesPolicy::Keep => {
                    w.rep.bytes_values_skipped += 1;
                    Fate::Keep
                }
                BytesPolicy::Drop => Fate::Drop,
                BytesPolicy::Scan => match std::str::from_utf8(m.bytes()) {
                    Ok(text) => match self.scrub_text(text, w.rep) {
                        Some(out) => {
                            w.edits.replace(&av, m.range(), |o| {
                                put_len_field(o, AV_BYTES, out.text.as_bytes())
                            });
                            Fate::of(out.drop)
                        }
                        None => Fate::Keep,
                    },
                    // Not UTF-8 (a Latin-1 log line, one stray byte): scanned with the invalid
                    // bytes read as U+FFFD. Where something is found, the value becomes that
                    // text scrubbed (so a secret beside a stray byte is not stored); where
                    // nothing is, it is kept exactly as sent and counted as not scanned as is.
                    Err(_) => {
                        let lossy = String::from_utf8_lossy(m.bytes());
                        match self.scrub_text(&lossy, w.rep) {
                            Some(out) => {
                                w.edits.replace(&av, m.range(), |o| {
                                    put_len_field(o, AV_BYTES, out.text.as_bytes())
                                });
                                Fate::of(out.drop)
                            }
                            None => {
                                w.rep.bytes_values_skipped += 1;
                                Fate::Keep
                            }
                        }
                    }
                },
            },
            AV_ARRAY => {
                let mut fate = Fate::Keep;
                if let Some(arr) = m.msg() {
                    for x in view::each(arr, LIST_VALUES) {
                        let Some(x) = x?.msg() else { continue };
                        if let Fate::Drop = self.scrub_value(x, w, depth + 1)? {
                            fate = Fate::Drop;
                        }
                    }
                }
                fate
            }
            AV_KVLIST => {
                if let Some(l) = m.msg() {
                    self.scrub_attrs(l, LIST_VALUES, w, depth + 1, &[])?;
                }
                Fate::Keep
            }
            _ => Fate::Keep,
        })
    }

    /// A number that may be a card number written as an int or a double: one of card length
    /// that passes the card check is scanned as text and, when a rule replaces it, becomes a
    /// string. Every other number keeps its type.
    fn scrub_number(
        &self,
        av: &Msg<'_>,
        m: &Field<'_>,
        abs: u64,
        text: &str,
        w: &mut Walk<'_, '_>,
    ) -> Fate {
        if abs < 1_000_000_000_000 || !luhn_card(&abs.to_string()) {
            return Fate::Keep;
        }
        let before = w.rep.total();
        let (fate, out) = match self.scrub_text(text, w.rep) {
            Some(out) => (Fate::of(out.drop), out.text),
            None => (Fate::Keep, text.to_string()),
        };
        if w.rep.total() != before {
            Self::set_string_member(av, Some(m), &out, w.edits);
        }
        fate
    }

    /// Scrubs the key-values (fields `num`) of `parent`; see [`Scrubber::scrub_kv`].
    pub(super) fn scrub_attrs<'a>(
        &self,
        parent: Msg<'a>,
        num: u32,
        w: &mut Walk<'_, '_>,
        depth: usize,
        skip: &[usize],
    ) -> Result<(), WalkError> {
        for f in view::each(parent, num) {
            self.scrub_kv(parent, f?, w, depth, skip, None)?;
        }
        Ok(())
    }

    /// Scrubs one key-value field `f` of `parent` (key rules, key, value), deleting it when it
    /// is dropped. A field starting at an offset in `skip` (sorted) was removed by an earlier
    /// stage and is left alone. `slots`: where a span's summary attributes are.
    pub(super) fn scrub_kv<'a>(
        &self,
        parent: Msg<'a>,
        f: Field<'a>,
        w: &mut Walk<'_, '_>,
        depth: usize,
        skip: &[usize],
        slots: Option<&mut SummarySlots<'a>>,
    ) -> Result<(), WalkError> {
        if !skip.is_empty() && skip.binary_search(&f.start).is_ok() {
            return Ok(());
        }
        let Some(kvm) = f.msg() else {
            return Ok(());
        };
        let kv = Kv::read(kvm)?;
        let before = w.rep.total();
        let cp = w.edits.checkpoint();
        // The key is scrubbed first so the key rules see what will be written: a second pass
        // then makes the same decisions (idempotence).
        let (key_fate, new_key) = match &kv.key_field {
            Some(kf) => self.scrub_field(&kvm, kf, w)?,
            None => (Fate::Keep, None),
        };
        let key = new_key.as_deref().unwrap_or(kv.key);
        let class = self.key_class(key);
        if class.dropped {
            w.rep.dropped_attributes += 1;
            w.edits.truncate(cp);
            w.edits.delete(&parent, f.range());
            return Ok(());
        }
        if class.blocked {
            // Nothing to hide: no value, an empty string, one already masked, or a flag.
            let is_empty = match kv.member()? {
                None => true,
                Some(m) if m.num == AV_STRING => {
                    // A template or mask (`${API_KEY}`, `********`) only names the secret.
                    let s = text_of(&m)?;
                    s.is_empty() || s == BLOCKED || super::validate::is_template_or_mask(s)
                }
                Some(m) => m.num == AV_BOOL,
            };
            if !is_empty {
                w.rep.add(&self.t_blocked, 1);
                // The value's words are secrets wherever else they appear in the request.
                if let (Some(rule), Some(m)) = (self.echo_rule, kv.member()?) {
                    if m.num == AV_STRING {
                        self.note_echo(text_of(&m)?, rule, w.rep);
                    }
                }
                if let Some(vf) = kv.value_field {
                    w.edits
                        .replace(&kvm, vf.range(), |o| put_string_value(o, KV_VALUE, BLOCKED));
                }
            }
        } else if !class.allowed {
            let val_fate = match kv.value_field.and_then(|v| v.msg()) {
                Some(av) => self.scrub_value(av, w, depth)?,
                None => Fate::Keep,
            };
            if matches!(key_fate, Fate::Drop) || matches!(val_fate, Fate::Drop) {
                w.rep.dropped_attributes += 1;
                w.edits.truncate(cp);
                w.edits.delete(&parent, f.range());
                return Ok(());
            }
        }
        if w.rep.total() != before {
            if let Some(keys) = w.keys.as_mut() {
                keys.push(key.to_string());
            }
        }
        if let Some(sl) = slots {
            let slot = match key {
                "redaction.count" => &mut sl.count,
                "redaction.types" => &mut sl.types,
                "redaction.keys" => &mut sl.keys,
                _ => return Ok(()),
            };
            slot.get_or_insert(f);
        }
        Ok(())
    }

    /// Notes the words of a value masked by a key rule (`Token abc…` under `Authorization`)
    /// as revealed secrets: words of token characters that look like a secret of their own;
    /// scheme words, short words and structure (`{"content":"call`) are not.
    fn note_echo(&self, value: &str, rule: u32, rep: &mut ScrubReport) {
        const SCHEMES: &[&str] = &["bearer", "basic", "token", "digest", "bot", "apikey"];
        let token = |c: char| {
            c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    '+' | '/'
                        | '='
                        | '_'
                        | '.'
                        | '~'
                        | '-'
                        | '!'
                        | '#'
                        | '$'
                        | '%'
                        | '*'
                        | '?'
                        | '@'
                        | '&'
                )
        };
        for word in value.split(|c: char| {
            c.is_whitespace()
                || matches!(
                    c,
                    '"' | '\'' | ',' | ';' | '{' | '}' | '[' | ']' | '(' | ')' | '<' | '>'
                )
        }) {
            if word.chars().all(token)
                && super::scan::echo_worthy(word)
                && !SCHEMES.contains(&word.to_ascii_lowercase().as_str())
                && !rep.found.iter().any(|(v, _)| v == word)
            {
                rep.found.push((word.to_string(), rule));
            }
        }
    }

    /// Which key rules apply to `key` (remembered per thread for keys known clean).
    fn key_class(&self, key: &str) -> KeyClass {
        key_class(self.memo_id, key, || KeyClass {
            dropped: self.dropped.matches(key),
            blocked: self.blocked.matches(key) || self.key_words.classify(key).is_some(),
            allowed: self.allowed.matches(key),
        })
    }

    /// Scrubs an encoded resource: attributes and entity references.
    pub fn scrub_resource_encoded(
        &self,
        r: Msg<'_>,
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Result<(), WalkError> {
        if !self.enabled {
            return Ok(());
        }
        let mut w = Walk::new(rep, edits, None);
        self.scrub_attrs(r, RESOURCE_ATTRIBUTES, &mut w, 0, &[])?;
        for e in view::each(r, RESOURCE_ENTITY_REFS) {
            let Some(e) = e?.msg() else { continue };
            for f in e.fields() {
                let f = f?;
                if f.is_len() {
                    self.scrub_field(&e, &f, &mut w)?;
                }
            }
        }
        Ok(())
    }

    /// Scrubs an encoded scope's name, version and attributes.
    pub fn scrub_scope_encoded(
        &self,
        s: Msg<'_>,
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Result<(), WalkError> {
        if !self.enabled {
            return Ok(());
        }
        let mut w = Walk::new(rep, edits, None);
        for f in s.fields() {
            let f = f?;
            if matches!(f.num, SCOPE_NAME | SCOPE_VERSION) {
                self.scrub_field(&s, &f, &mut w)?;
            }
        }
        self.scrub_attrs(s, SCOPE_ATTRIBUTES, &mut w, 0, &[])
    }

    /// Scrubs a string field of `owner` that is not part of a resource, scope or span (the
    /// `schema_url` of a `ResourceSpans` or `ScopeSpans`).
    pub fn scrub_string_field(
        &self,
        owner: Msg<'_>,
        f: &Field<'_>,
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Result<(), WalkError> {
        if !self.enabled {
            return Ok(());
        }
        let mut w = Walk::new(rep, edits, None);
        self.scrub_field(&owner, f, &mut w).map(|_| ())
    }

    /// Scrubs every string of an encoded span and, per `summary`, sets `redaction.count` and
    /// `redaction.types` (and `redaction.keys` for `debug`) when anything was redacted.
    /// Attributes starting at an offset in `skip` (sorted; removed by the fingerprint stage)
    /// are left alone.
    pub fn scrub_span_encoded(
        &self,
        s: Msg<'_>,
        skip: &[usize],
        edits: &mut Edits,
        rep: &mut ScrubReport,
    ) -> Result<(), WalkError> {
        if !self.enabled {
            return Ok(());
        }
        self.with_summary(s, SPAN_ATTRIBUTES, edits, rep, |w, slots| {
            for f in s.fields() {
                let f = f?;
                match f.num {
                    SPAN_NAME => {
                        self.scrub_field(&s, &f, w)?;
                    }
                    SPAN_TRACE_STATE => self.scrub_trace_state(&s, &f, w)?,
                    SPAN_ATTRIBUTES => self.scrub_kv(s, f, w, 0, skip, Some(slots))?,
                    SPAN_STATUS => {
                        let Some(st) = f.msg() else { continue };
                        for g in view::each(st, STATUS_MESSAGE) {
                            self.scrub_field(&st, &g?, w)?;
                        }
                    }
                    SPAN_EVENTS => {
                        let Some(ev) = f.msg() else { continue };
                        for g in view::each(ev, EVENT_NAME) {
                            self.scrub_field(&ev, &g?, w)?;
                        }
                        self.scrub_attrs(ev, EVENT_ATTRIBUTES, w, 0, skip)?;
                    }
                    SPAN_LINKS => {
                        let Some(ln) = f.msg() else { continue };
                        for g in view::each(ln, LINK_TRACE_STATE) {
                            self.scrub_trace_state(&ln, &g?, w)?;
                        }
                        self.scrub_attrs(ln, LINK_ATTRIBUTES, w, 0, skip)?;
                    }
                    _ => {}
                }
            }
            Ok(())
        })
    }

    /// Scrubs resource attributes (of a decoded resource). On error the resource is
    /// unchanged, so it must not be forwarded or printed (fail closed).
    pub fn scrub_resource(
        &self,
        r: &mut Resource,
        rep: &mut ScrubReport,
    ) -> Result<(), RewriteError> {
        edit_decoded(r, |m, e| self.scrub_resource_encoded(m, e, rep))
    }

    /// Scrubs the scope's name, version and attributes (of a decoded scope); errors as for
    /// [`Scrubber::scrub_resource`].
    pub fn scrub_scope(
        &self,
        s: &mut InstrumentationScope,
        rep: &mut ScrubReport,
    ) -> Result<(), RewriteError> {
        edit_decoded(s, |m, e| self.scrub_scope_encoded(m, e, rep))
    }

    /// Scrubs every string of a decoded span (see [`Scrubber::scrub_span_encoded`]); errors as
    /// for [`Scrubber::scrub_resource`].
    pub fn scrub_span(&self, s: &mut Span, rep: &mut ScrubReport) -> Result<(), RewriteError> {
        edit_decoded(s, |m, e| self.scrub_span_encoded(m, &[], e, rep))
    }
}

impl Scrubber {
    /// Runs `walk` over an item (a span or a log record) into a report of its own, then, per
    /// `summary`, writes the `redaction.*` attributes among `owner`'s attributes (fields `num`)
    /// and adds the item's report to `rep`.
    pub(super) fn with_summary<'a>(
        &self,
        owner: Msg<'a>,
        num: u32,
        edits: &mut Edits,
        rep: &mut ScrubReport,
        walk: impl FnOnce(&mut Walk<'_, '_>, &mut SummarySlots<'a>) -> Result<(), WalkError>,
    ) -> Result<(), WalkError> {
        let mut local = ScrubReport::with_known(rep.known.clone());
        let mut w = Walk::new(
            &mut local,
            edits,
            (self.summary == Summary::Debug).then(Vec::new),
        );
        let mut slots = SummarySlots::default();
        walk(&mut w, &mut slots)?;
        let keys = w.keys.take();
        self.write_summary(&owner, num, slots, keys, w.edits, &local);
        rep.merge(&local);
        Ok(())
    }

    /// Per `summary`, sets `redaction.count` and `redaction.types` (and `redaction.keys`, the
    /// keys in `keys`, for `debug`) among `owner`'s attributes (fields `num`) when `local`
    /// counted redactions.
    pub(super) fn write_summary(
        &self,
        owner: &Msg<'_>,
        num: u32,
        slots: SummarySlots<'_>,
        keys: Option<Vec<String>>,
        edits: &mut Edits,
        local: &ScrubReport,
    ) {
        let total = local.total();
        if total == 0 || self.summary == Summary::Silent {
            return;
        }
        let types = local
            .matches
            .iter()
            .map(|(t, n)| format!("{t}:{n}"))
            .collect::<Vec<_>>()
            .join(",");
        set_attr(owner, slots.count, edits, |o| {
            put_int_kv(o, num, "redaction.count", total as i64)
        });
        set_attr(owner, slots.types, edits, |o| {
            crate::otlp::wire::put_string_kv(o, num, "redaction.types", &types)
        });
        if let Some(mut keys) = keys {
            keys.sort();
            keys.dedup();
            let keys = keys.join(",");
            set_attr(owner, slots.keys, edits, |o| {
                crate::otlp::wire::put_string_kv(o, num, "redaction.keys", &keys)
            });
        }
    }
}

/// Sets a summary attribute: the first one with its key is replaced, or a new one appended.
fn set_attr(
    span: &Msg<'_>,
    slot: Option<Field<'_>>,
    e: &mut Edits,
    write: impl FnOnce(&mut Vec<u8>),
) {
    match slot {
        Some(f) => e.replace(span, f.range(), write),
        None => e.append(span, write),
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

#[cfg(test)]
#[path = "span_tests.rs"]
mod tests;
