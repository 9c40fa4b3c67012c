//! Keyed fingerprints of each span's raw inputs and outputs, computed before scrubbing.
//!
//! A **role map** classifies attribute keys (of the span and of its events alike) as *input* or
//! *output*. For each role present on a span, the stage writes the keyed digest of the raw
//! fields of that role as `spanward.input_hash` / `spanward.output_hash`, and the key's public id
//! as `spanward.hash_key_id`. An auditor holding the key proves "this tool was called with
//! exactly this input" by recomputing the digest (`spanward fingerprint`); analysts group
//! identical calls by equal hashes; nobody needs the stored payload. Per role, the raw fields
//! are then either left for the scrubber (`scrub`, default) or removed (`hash_only`).
//!
//! # Canonical encoding (version 1)
//!
//! The digest of one role of one span is computed over this byte string, so it can be
//! re-implemented from this description alone. `u64be(n)` is `n` as 8 bytes, big-endian;
//! `bytes(b)` is `u64be(len(b)) || b`.
//!
//! ```text
//! message = "spanward-fingerprint-v1" 0x00 u64be(N) field_1 … field_N
//! field   = bytes(UTF-8 attribute key) value
//! value   = 's' bytes(UTF-8 string)                  string
//!         | 'i' i64 as 8 bytes big-endian (two's complement)   int
//!         | 'd' u64be(IEEE-754 binary64 bits)        double (bit pattern, so -0.0 ≠ 0.0)
//!         | 'b' 0x00 | 0x01                         bool false | true
//!         | 'x' bytes(raw bytes)                     bytes
//!         | 'a' u64be(n) value_1 … value_n           array, element order kept
//!         | 'm' u64be(n) (bytes(key) value)_1 … _n   key-value list, entries sorted
//!         | 'n'                                      value absent (empty AnyValue)
//!         | 'r' i32 as 4 bytes big-endian            string-table index (profiling only)
//! ```
//!
//! The type tags are the ASCII letters shown (`'s'` = 0x73 …). `field_1 … field_N` are all the
//! span's fields of that role: its own attributes and the attributes of all its events whose
//! keys the role map assigns to the role, with no distinction between span and event (a key
//! that occurs several times occurs several times). Fields are sorted by key bytes, then by the
//! bytes of their `value` encoding; key-value list entries likewise (by key bytes, then value
//! encoding). Sorting makes the digest independent of attribute and event order. Strings are
//! hashed exactly as received: no normalisation, so a one-byte change changes the digest.
//!
//! The digest is `HMAC-SHA-256(key, message)` (`mode: hmac`, the default), or the unkeyed
//! `SHA-256(message)` (`mode: sha256`), written as 64 lower-case hex digits. A role with no
//! fields gets no attribute.
//!
//! # Why keyed
//! Unkeyed SHA-256 of a low-entropy value (a phone number, a customer id, a yes/no answer) is
//! reversed by hashing every candidate: there are only ~10^10 phone numbers. `mode: sha256`
//! exists for interoperability with tools that cannot hold a key; it is weaker and is written
//! with `spanward.hash_key_id = "sha256"` so readers can tell.

use crate::keys::HmacKey;
use crate::otlp::view::{self, Kv};
use crate::otlp::wire::put_string_kv;
use crate::otlp::{edit_decoded, num, Edits, Msg, RewriteError, Val, WireError};
use crate::pipeline::glob::{Glob, GlobError};
use hmac::Mac;
use opentelemetry_proto::tonic::common::v1::AnyValue;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message;
use serde::Deserialize;
use sha2::{Digest, Sha256};

#[path = "fingerprint_events.rs"]
mod events;
use events::{event_name, kvlist_of, legacy_event_role};

/// The span attributes this stage writes (defined with the shared vocabulary, since the audit
/// log reads them too).
pub use crate::vocab::attr::{HASH_KEY_ID, INPUT_HASH, OUTPUT_HASH};
/// Domain-separation prefix of the canonical encoding (includes the trailing NUL).
pub const ENCODING_PREFIX: &[u8] = b"spanward-fingerprint-v1\0";
/// `hash_key_id` written in `sha256` mode.
pub const UNKEYED_KEY_ID: &str = "sha256";

/// Built-in input keys (OpenTelemetry GenAI, OpenInference, WayFlow events).
pub const BUILTIN_INPUT: &[&str] = &[
    // OpenTelemetry GenAI semantic conventions.
    "gen_ai.input.messages",
    "gen_ai.system_instructions",
    "gen_ai.tool.call.arguments",
    "gen_ai.retrieval.query.text",
    "gen_ai.prompt",
    "gen_ai.prompt.*",
    // OpenInference.
    "input.value",
    "llm.input_messages.*",
    "tool.parameters*",
    "tool_call.function.arguments",
    // WayFlow event attributes.
    "prompt.messages.*",
    "tool_request.inputs.*",
    "inputs.*",
];

/// Built-in output keys.
pub const BUILTIN_OUTPUT: &[&str] = &[
    "gen_ai.output.messages",
    "gen_ai.tool.call.result",
    "gen_ai.completion",
    "gen_ai.completion.*",
    "output.value",
    "llm.output_messages.*",
    "completion.message.*",
    "tool_result.output",
    "step_result.outputs.*",
];

/// Which digest is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HashMode {
    /// HMAC-SHA-256 with the shared key (`SPANWARD_HMAC_KEY` or the key file).
    #[default]
    Hmac,
    /// Unkeyed SHA-256: opt-in only; low-entropy inputs can be brute-forced from it.
    Sha256,
}

/// What happens to a role's raw content after it is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContentMode {
    /// Keep the content; the scrubber redacts it downstream.
    #[default]
    Scrub,
    /// Remove the content; only the hash remains.
    HashOnly,
}

/// Input or output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Input,
    Output,
}

/// `fingerprint:` section of the config.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FingerprintConfig {
    /// Compute fingerprints. Default `true`. When `false` the stage does nothing at all
    /// (no hashes, and `hash_only` removes nothing).
    pub enabled: bool,
    /// `hmac` (default) or `sha256`. `sha256` is unkeyed and can be reversed for low-entropy
    /// values by trying every candidate; use it only where a keyed hash is impossible.
    pub mode: HashMode,
    /// Which attribute keys are inputs and outputs.
    pub roles: RoleMapConfig,
    /// What happens to raw content after hashing, for services no `services` rule matches.
    /// Default: `scrub` for both roles.
    pub content: ContentConfig,
    /// Per-service overrides of `content`; the first rule whose `service` glob matches the
    /// resource's `service.name` wins, and a role it omits falls back to `content`.
    /// Default: none. One glob test per span per rule until a match.
    pub services: Vec<ServiceContentRule>,
    /// Keep `spanward.*_hash` attributes that arrive already set (from an upstream spanward
    /// sharing the key) instead of recomputing them over what may be already-scrubbed content.
    /// Default `false`: arriving values are removed and recomputed, so a client cannot forge
    /// them. Enable only behind a trusted spanward.
    pub trust_upstream: bool,
}

impl Default for FingerprintConfig {
    fn default() -> Self {
        FingerprintConfig {
            enabled: true,
            mode: HashMode::Hmac,
            roles: RoleMapConfig::default(),
            content: ContentConfig::default(),
            services: Vec::new(),
            trust_upstream: false,
        }
    }
}

/// `fingerprint.roles`: the role map.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RoleMapConfig {
    /// Include the built-in GenAI / OpenInference / WayFlow keys. Default `true`; `false`
    /// replaces them with `input` and `output` below.
    pub builtin: bool,
    /// Extra input key globs (`*` any run, `?` one character), checked before the built-ins.
    /// Default: none.
    pub input: Vec<String>,
    /// Extra output key globs, checked after `input` and before the built-ins. Default: none.
    pub output: Vec<String>,
}

impl Default for RoleMapConfig {
    fn default() -> Self {
        RoleMapConfig {
            builtin: true,
            input: Vec::new(),
            output: Vec::new(),
        }
    }
}

/// Content handling per role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ContentConfig {
    /// Default `scrub`.
    pub input: ContentMode,
    /// Default `scrub`.
    pub output: ContentMode,
}

/// One per-service content override.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceContentRule {
    /// Glob on `service.name`.
    pub service: String,
    /// Overrides `content.input` when set.
    #[serde(default)]
    pub input: Option<ContentMode>,
    /// Overrides `content.output` when set.
    #[serde(default)]
    pub output: Option<ContentMode>,
}

/// Invalid fingerprint configuration.
#[derive(Debug, thiserror::Error)]
pub enum FingerprintError {
    #[error("fingerprint.{field}[{index}]: {source}")]
    Glob {
        field: &'static str,
        index: usize,
        #[source]
        source: GlobError,
    },
}

/// The fingerprint stage. Immutable; share between workers.
#[derive(Debug)]
pub struct Fingerprinter {
    enabled: bool,
    /// `None` in `sha256` mode.
    key: Option<HmacKey>,
    key_id: String,
    /// Ordered: user input, user output, built-in input, built-in output. First match wins.
    /// The byte is the glob's first byte when fixed (a cheap pre-check).
    roles: Vec<(Option<u8>, Glob, Role)>,
    content: ContentConfig,
    services: Vec<(Glob, ContentConfig)>,
    trust_upstream: bool,
}

fn compile(
    field: &'static str,
    patterns: impl IntoIterator<Item = impl AsRef<str>>,
    role: Role,
    out: &mut Vec<(Option<u8>, Glob, Role)>,
) -> Result<(), FingerprintError> {
    for (index, p) in patterns.into_iter().enumerate() {
        let g = Glob::new(p.as_ref()).map_err(|source| FingerprintError::Glob {
            field,
            index,
            source,
        })?;
        out.push((g.first_byte(), g, role));
    }
    Ok(())
}

impl Fingerprinter {
    /// Compiles the role map and per-service rules. `key` is ignored in `sha256` mode.
    pub fn new(cfg: &FingerprintConfig, key: HmacKey) -> Result<Fingerprinter, FingerprintError> {
        let mut roles = Vec::new();
        compile("roles.input", &cfg.roles.input, Role::Input, &mut roles)?;
        compile("roles.output", &cfg.roles.output, Role::Output, &mut roles)?;
        if cfg.roles.builtin {
            compile("builtin", BUILTIN_INPUT, Role::Input, &mut roles)?;
            compile("builtin", BUILTIN_OUTPUT, Role::Output, &mut roles)?;
        }
        let mut services = Vec::with_capacity(cfg.services.len());
        for (index, r) in cfg.services.iter().enumerate() {
            let g = Glob::new(&r.service).map_err(|source| FingerprintError::Glob {
                field: "services",
                index,
                source,
            })?;
            services.push((
                g,
                ContentConfig {
                    input: r.input.unwrap_or(cfg.content.input),
                    output: r.output.unwrap_or(cfg.content.output),
                },
            ));
        }
        let (key, key_id) = match cfg.mode {
            HashMode::Hmac => {
                let id = key.key_id().to_string();
                (Some(key), id)
            }
            HashMode::Sha256 => (None, UNKEYED_KEY_ID.to_string()),
        };
        Ok(Fingerprinter {
            enabled: cfg.enabled,
            key,
            key_id,
            roles,
            content: cfg.content,
            services,
            trust_upstream: cfg.trust_upstream,
        })
    }

    /// The id written as `spanward.hash_key_id`.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The role of an attribute key (span or event attribute), if any.
    pub fn role_of(&self, key: &str) -> Option<Role> {
        let first = key.as_bytes().first().copied();
        self.roles
            .iter()
            .find(|(b, g, _)| (b.is_none() || *b == first) && g.matches(key))
            .map(|(_, _, r)| *r)
    }

    /// Content handling for a service.
    pub fn content_for(&self, service_name: &str) -> ContentConfig {
        self.services
            .iter()
            .find(|(g, _)| g.matches(service_name))
            .map_or(self.content, |(_, c)| *c)
    }

    /// Digest (hex) of a set of raw fields, exactly as [`Fingerprinter::apply_span`] computes it
    /// for one role; `None` when `fields` is empty.
    pub fn digest_fields<'a>(
        &self,
        fields: impl IntoIterator<Item = (&'a str, &'a AnyValue)>,
    ) -> Option<String> {
        let owned: Vec<(&str, Vec<u8>)> = fields
            .into_iter()
            .map(|(k, v)| (k, v.encode_to_vec()))
            .collect();
        let mut enc = FieldEncoder::default();
        for (k, v) in &owned {
            enc.push(k, Some(Msg::new(v))).ok()?;
        }
        self.finish(&enc)
    }

    fn finish(&self, enc: &FieldEncoder<'_>) -> Option<String> {
        if enc.fields.is_empty() {
            return None;
        }
        let digest: [u8; 32] = match &self.key {
            Some(k) => {
                let mut m = k.mac();
                enc.feed(|b| Mac::update(&mut m, b));
                m.finalize().into_bytes().into()
            }
            None => {
                let mut h = Sha256::new();
                enc.feed(|b| Digest::update(&mut h, b));
                h.finalize().into()
            }
        };
        Some(crate::keys::hex_digest(&digest))
    }

    /// Computes `spanward.input_hash` / `output_hash` / `hash_key_id` over the span's RAW role
    /// fields (span and event attributes), then removes the content of roles configured
    /// `hash_only` for `service_name`. Call before scrubbing. Arriving `spanward.*` hash
    /// attributes are replaced unless `trust_upstream` is set. (A decoded span: see
    /// [`Fingerprinter::apply_encoded`], which does the work.)
    pub fn apply_span(&self, service_name: &str, span: &mut Span) -> Result<(), RewriteError> {
        edit_decoded(span, |m, e| {
            self.apply_encoded(service_name, m, e, &mut Vec::new())
        })
    }

    /// [`Fingerprinter::apply_span`] on an encoded span: the attributes it removes are deleted
    /// through `edits` and their field offsets pushed to `removed` (sorted; the scrubber skips
    /// them), the new ones appended to the span.
    pub fn apply_encoded(
        &self,
        service_name: &str,
        span: Msg<'_>,
        edits: &mut Edits,
        removed: &mut Vec<usize>,
    ) -> Result<(), WireError> {
        let shape = Shape {
            attrs: num::SPAN_ATTRIBUTES,
            events: Some((num::SPAN_EVENTS, num::EVENT_ATTRIBUTES)),
            body: None,
            body_entries: None,
        };
        self.apply_item(service_name, span, &shape, edits, removed)
    }

    /// [`Fingerprinter::apply_encoded`] on an encoded log record: its attributes are role
    /// fields as a span's are (the `gen_ai.client.inference.operation.details` event carries
    /// `gen_ai.input.messages`, `gen_ai.output.messages` and `gen_ai.system_instructions` there,
    /// so its digests equal those of a span carrying the same values). The body of the older
    /// GenAI events is one field named after the event: `gen_ai.system.message`,
    /// `gen_ai.user.message`, `gen_ai.assistant.message` and `gen_ai.tool.message` are input,
    /// `gen_ai.choice` is output (`hash_only` removes the body). Any other body that is a
    /// key-value list (the Events API's payload, a structured log) has its entries read as
    /// attributes are: `{"gen_ai.input.messages": …}` in a body is an input field, and
    /// `hash_only` removes that entry. The event name is the record's `event_name`, or its
    /// `event.name` attribute as older SDKs write it.
    pub fn apply_log_encoded(
        &self,
        service_name: &str,
        record: Msg<'_>,
        edits: &mut Edits,
        removed: &mut Vec<usize>,
    ) -> Result<(), WireError> {
        let event = event_name(record)?;
        let body = legacy_event_role(event).map(|r| (num::LOG_BODY, r, event));
        let shape = Shape {
            attrs: num::LOG_ATTRIBUTES,
            events: None,
            body,
            body_entries: body.is_none().then_some(num::LOG_BODY),
        };
        self.apply_item(service_name, record, &shape, edits, removed)
    }

    /// The work of [`Fingerprinter::apply_encoded`] on any item of the given shape.
    fn apply_item(
        &self,
        service_name: &str,
        item: Msg<'_>,
        shape: &Shape<'_>,
        edits: &mut Edits,
        removed: &mut Vec<usize>,
    ) -> Result<(), WireError> {
        if !self.enabled {
            return Ok(());
        }
        // One pass over the item: arriving hash attributes are removed (undone below if they
        // are to be trusted), role fields collected from the item, its events and its body.
        let cp = edits.checkpoint();
        let removed_from = removed.len();
        let mut upstream = false;
        let mut inp = FieldEncoder::default();
        let mut out = FieldEncoder::default();
        for f in item.fields() {
            let f = f?;
            if f.num == shape.attrs {
                let Some(m) = f.msg() else { continue };
                let kv = Kv::read(m)?;
                if matches!(kv.key, INPUT_HASH | OUTPUT_HASH | HASH_KEY_ID) {
                    upstream |= kv.key == HASH_KEY_ID;
                    edits.delete(&item, f.range());
                    removed.push(f.start);
                    continue;
                }
                self.collect(&kv, &mut inp, &mut out)?;
            } else if let Some((_, ev_attrs)) = shape.events.filter(|(n, _)| *n == f.num) {
                let Some(ev) = f.msg() else { continue };
                for g in view::each(ev, ev_attrs) {
                    let Some(m) = g?.msg() else { continue };
                    self.collect(&Kv::read(m)?, &mut inp, &mut out)?;
                }
            } else if let Some((_, role, key)) = shape.body.filter(|(n, _, _)| *n == f.num) {
                match role {
                    Role::Input => inp.push(key, f.msg())?,
                    Role::Output => out.push(key, f.msg())?,
                }
            } else if shape.body_entries == Some(f.num) {
                if let Some(list) = kvlist_of(f.msg())? {
                    for g in view::each(list, num::LIST_VALUES) {
                        let Some(m) = g?.msg() else { continue };
                        self.collect(&Kv::read(m)?, &mut inp, &mut out)?;
                    }
                }
            }
        }
        if self.trust_upstream && upstream {
            edits.truncate(cp);
            removed.truncate(removed_from);
        } else {
            let (input, output) = (self.finish(&inp), self.finish(&out));
            let any = input.is_some() || output.is_some();
            for (k, v) in [(INPUT_HASH, input), (OUTPUT_HASH, output)] {
                if let Some(v) = v {
                    edits.append(&item, |o| put_string_kv(o, shape.attrs, k, &v));
                }
            }
            if any {
                edits.append(&item, |o| {
                    put_string_kv(o, shape.attrs, HASH_KEY_ID, &self.key_id)
                });
            }
        }
        self.remove_hash_only(service_name, item, shape, edits, removed)?;
        removed.sort_unstable();
        Ok(())
    }

    /// Removes the content of the roles configured `hash_only` for `service_name`.
    fn remove_hash_only(
        &self,
        service_name: &str,
        item: Msg<'_>,
        shape: &Shape<'_>,
        edits: &mut Edits,
        removed: &mut Vec<usize>,
    ) -> Result<(), WireError> {
        let content = self.content_for(service_name);
        let drop_in = content.input == ContentMode::HashOnly;
        let drop_out = content.output == ContentMode::HashOnly;
        if !drop_in && !drop_out {
            return Ok(());
        }
        let gone = |role: Option<Role>| match role {
            Some(Role::Input) => drop_in,
            Some(Role::Output) => drop_out,
            None => false,
        };
        for f in view::each(item, shape.attrs) {
            let f = f?;
            let Some(m) = f.msg() else { continue };
            if removed.contains(&f.start) {
                continue;
            }
            if gone(self.role_of(Kv::read(m)?.key)) {
                edits.delete(&item, f.range());
                removed.push(f.start);
            }
        }
        if let Some((events, ev_attrs)) = shape.events {
            for ev in view::each(item, events) {
                let Some(ev) = ev?.msg() else { continue };
                for f in view::each(ev, ev_attrs) {
                    let f = f?;
                    let Some(m) = f.msg() else { continue };
                    if gone(self.role_of(Kv::read(m)?.key)) {
                        edits.delete(&ev, f.range());
                        removed.push(f.start);
                    }
                }
            }
        }
        if let Some((body, role, _)) = shape.body {
            if gone(Some(role)) {
                for f in view::each(item, body) {
                    let f = f?;
                    edits.delete(&item, f.range());
                    removed.push(f.start);
                }
            }
        }
        if let Some(body) = shape.body_entries {
            for b in view::each(item, body) {
                let Some(list) = kvlist_of(b?.msg())? else {
                    continue;
                };
                for f in view::each(list, num::LIST_VALUES) {
                    let f = f?;
                    let Some(m) = f.msg() else { continue };
                    if gone(self.role_of(Kv::read(m)?.key)) {
                        edits.delete(&list, f.range());
                        removed.push(f.start);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Where an item keeps its role fields: its attributes (field `attrs`), its events' attributes
/// (`events`: the events' field and their attributes' field), and a body that is one field of
/// a fixed role (`body`: its field, its role, and the key it is hashed under).
struct Shape<'a> {
    attrs: u32,
    events: Option<(u32, u32)>,
    body: Option<(u32, Role, &'a str)>,
    /// A body field whose key-value list entries are role fields like attributes.
    body_entries: Option<u32>,
}

impl Fingerprinter {
    /// Adds a key-value to the encoder of its role, if it has one.
    fn collect<'a>(
        &self,
        kv: &Kv<'a>,
        inp: &mut FieldEncoder<'a>,
        out: &mut FieldEncoder<'a>,
    ) -> Result<(), WireError> {
        let value = kv.value_field.and_then(|v| v.msg());
        match self.role_of(kv.key) {
            Some(Role::Input) => inp.push(kv.key, value),
            Some(Role::Output) => out.push(kv.key, value),
            None => Ok(()),
        }
    }
}

/// Collects fields of one role. A string value (prompts, tool arguments and results: nearly all
/// the bytes) is referenced where it sits and its 9-byte header is written at feed time; other
/// values are encoded into one arena buffer. So a span costs two small allocations however
/// many fields it has, and its payload is read once, by the hash.
#[derive(Default)]
struct FieldEncoder<'a> {
    buf: Vec<u8>,
    fields: Vec<(&'a str, Enc<'a>)>,
}

/// One field's value encoding.
#[derive(Clone, Copy)]
enum Enc<'a> {
    /// `buf[start..end]`.
    Buf(usize, usize),
    /// `'s' bytes(str)`.
    Str(&'a [u8]),
}

impl<'a> FieldEncoder<'a> {
    /// One field: `value` is the encoded `AnyValue` (`None`: the key-value has no value).
    fn push(&mut self, key: &'a str, value: Option<Msg<'a>>) -> Result<(), WireError> {
        if let Some(v) = value {
            if let Some(f) = view::any_member(v)?.filter(|f| f.num == num::AV_STRING) {
                self.fields.push((key, Enc::Str(f.bytes())));
                return Ok(());
            }
        }
        let start = self.buf.len();
        encode_value(value, &mut self.buf)?;
        self.fields.push((key, Enc::Buf(start, self.buf.len())));
        Ok(())
    }

    /// Writes one value encoding to `sink` in pieces.
    fn feed_value(&self, e: Enc<'_>, sink: &mut impl FnMut(&[u8])) {
        match e {
            Enc::Buf(s, e) => sink(&self.buf[s..e]),
            Enc::Str(b) => {
                sink(b"s");
                sink(&(b.len() as u64).to_be_bytes());
                sink(b);
            }
        }
    }

    /// The bytes of one value encoding (only to order fields with equal keys, which is rare).
    fn value_bytes(&self, e: Enc<'_>) -> Vec<u8> {
        let mut v = Vec::new();
        self.feed_value(e, &mut |b| v.extend_from_slice(b));
        v
    }

    /// Writes the canonical message to `sink` in pieces (sorting the fields first).
    fn feed(&self, mut sink: impl FnMut(&[u8])) {
        let mut order: Vec<usize> = (0..self.fields.len()).collect();
        order.sort_by(|&a, &b| self.fields[a].0.as_bytes().cmp(self.fields[b].0.as_bytes()));
        // Fields with equal keys go by their value encodings, each built once per run.
        let mut i = 0;
        while i < order.len() {
            let key = self.fields[order[i]].0;
            let run = order[i..]
                .iter()
                .take_while(|&&j| self.fields[j].0 == key)
                .count();
            if run > 1 {
                let mut vals: Vec<(Vec<u8>, usize)> = order[i..i + run]
                    .iter()
                    .map(|&j| (self.value_bytes(self.fields[j].1), j))
                    .collect();
                vals.sort();
                for (slot, (_, j)) in order[i..i + run].iter_mut().zip(vals) {
                    *slot = j;
                }
            }
            i += run;
        }
        sink(ENCODING_PREFIX);
        sink(&(self.fields.len() as u64).to_be_bytes());
        for i in order {
            let (k, e) = self.fields[i];
            sink(&(k.len() as u64).to_be_bytes());
            sink(k.as_bytes());
            self.feed_value(e, &mut sink);
        }
    }
}

/// The canonical message for a set of fields (see the module docs); for tests and auditors.
pub fn canonical_message<'a>(fields: impl IntoIterator<Item = (&'a str, &'a AnyValue)>) -> Vec<u8> {
    let owned: Vec<(&str, Vec<u8>)> = fields
        .into_iter()
        .map(|(k, v)| (k, v.encode_to_vec()))
        .collect();
    let mut enc = FieldEncoder::default();
    for (k, v) in &owned {
        // Our own encoding always parses.
        let _ = enc.push(k, Some(Msg::new(v)));
    }
    let mut out = Vec::new();
    enc.feed(|b| out.extend_from_slice(b));
    out
}

fn put_bytes(out: &mut Vec<u8>, b: &[u8]) {
    out.extend_from_slice(&(b.len() as u64).to_be_bytes());
    out.extend_from_slice(b);
}

/// Appends the canonical encoding of one encoded `AnyValue` (`None`: absent).
fn encode_value(v: Option<Msg<'_>>, out: &mut Vec<u8>) -> Result<(), WireError> {
    let Some(member) = v.map(view::any_member).transpose()?.flatten() else {
        out.push(b'n');
        return Ok(());
    };
    let int = member.varint().unwrap_or(0);
    match (member.num, member.val) {
        (num::AV_STRING, _) => {
            out.push(b's');
            put_bytes(out, member.bytes());
        }
        (num::AV_INT, _) => {
            out.push(b'i');
            out.extend_from_slice(&(int as i64).to_be_bytes());
        }
        (num::AV_DOUBLE, Val::I64(bits)) => {
            out.push(b'd');
            out.extend_from_slice(&bits.to_be_bytes());
        }
        (num::AV_BOOL, _) => {
            out.push(b'b');
            out.push(u8::from(int != 0));
        }
        (num::AV_BYTES, _) => {
            out.push(b'x');
            put_bytes(out, member.bytes());
        }
        (num::AV_STRINDEX, _) => {
            // A profiling-only string-table reference; traces never carry it.
            out.push(b'r');
            out.extend_from_slice(&(int as i32).to_be_bytes());
        }
        (num::AV_ARRAY, Val::Len(a)) => {
            out.push(b'a');
            let n = view::each(a, num::LIST_VALUES).count();
            out.extend_from_slice(&(n as u64).to_be_bytes());
            for e in view::each(a, num::LIST_VALUES) {
                encode_value(e?.msg(), out)?;
            }
        }
        (num::AV_KVLIST, Val::Len(l)) => {
            out.push(b'm');
            let mut entries: Vec<Vec<u8>> = Vec::new();
            // Entries are encoded separately, then sorted, so their order does not matter.
            for f in view::each(l, num::LIST_VALUES) {
                let Some(m) = f?.msg() else { continue };
                let kv = Kv::read(m)?;
                let mut e = Vec::new();
                put_bytes(&mut e, kv.key.as_bytes());
                encode_value(kv.value_field.and_then(|v| v.msg()), &mut e)?;
                entries.push(e);
            }
            out.extend_from_slice(&(entries.len() as u64).to_be_bytes());
            // bytes(key) sorts by length first, so compare keys, then the whole encoding.
            entries.sort_by(|a, b| entry_key(a).cmp(entry_key(b)).then_with(|| a.cmp(b)));
            for e in entries {
                out.extend_from_slice(&e);
            }
        }
        // A member of the wrong wire type cannot pass the receivers' check.
        _ => out.push(b'n'),
    }
    Ok(())
}

fn entry_key(e: &[u8]) -> &[u8] {
    let mut len = [0u8; 8];
    len.copy_from_slice(&e[..8]);
    let n = u64::from_be_bytes(len) as usize;
    &e[8..8 + n]
}

#[cfg(test)]
#[path = "fingerprint_tests.rs"]
mod tests;
