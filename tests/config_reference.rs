//! docs/configuration.md documents every key the config parser accepts, and nothing else.
//!
//! The accepted keys come from the code, not from a list kept by hand: [`accepted_keys`] runs
//! `Config`'s own `Deserialize` impl against a tracing deserializer. Serde's derive hands every
//! struct's field names to `deserialize_struct` (the same list `deny_unknown_fields` checks
//! against), so the tracer sees each field, offers a value for it and walks into nested
//! structs, `Option`s and list elements. A field added to any config struct therefore appears
//! here without anyone editing this test, and fails it until it is documented.
//!
//! What counts as documented, precisely: a row of a markdown table in docs/configuration.md
//! whose first cell holds the full dotted key path as a code span (`` `pipeline.queue.max_spans` ``),
//! with a non-empty default cell and a non-empty meaning cell. `{a,b}` inside a code span
//! stands for both spellings (`` `receivers.otlp.{grpc,http}.endpoint` ``), and list elements
//! are written `sampling.rules[].ratio`. Only leaves are required (keys whose value is not a
//! mapping of further keys: scalars, lists, free-form maps such as `redaction.actions`); a
//! section is documented through its keys. The other way round, every key path in such a first
//! cell must be accepted by the parser, so a renamed or removed key cannot linger in the docs.
//!
//! Also here: every ```yaml block of README.md and docs/*.md parses as a config, so the examples
//! a reader copies are accepted keys with values of the right type.

mod doc_pages;

use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, Visitor};
use serde::Deserialize;
use spanward::config::Config;
use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

#[derive(Debug)]
struct TraceError(String);

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TraceError {}

impl de::Error for TraceError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        TraceError(msg.to_string())
    }
}

/// What the walk learns, and which sample value each leaf gets on this attempt.
#[derive(Default)]
struct State {
    /// Dotted paths of leaves (list elements excluded: `a.b[]` is part of `a.b`).
    leaves: BTreeSet<String>,
    /// Paths of nested structs.
    sections: BTreeSet<String>,
    /// Index into the leaf's sample values; bumped when a value is refused.
    choice: HashMap<String, usize>,
    /// The last leaf given a value: the one to blame when the walk fails.
    last: Option<String>,
}

/// Sample values for a leaf, tried in order until the field's own deserializer accepts one. Custom
/// deserializers parse strings: `"0"` is a valid duration (humantime) and octal mode, `"1.2"` a
/// TLS version.
const STRINGS: &[&str] = &["0", "1.2", "x"];

#[derive(Clone, Copy)]
struct Tracer<'a> {
    path: &'a str,
    state: &'a RefCell<State>,
}

impl<'a> Tracer<'a> {
    fn at<'b>(&self, path: &'b str) -> Tracer<'b>
    where
        'a: 'b,
    {
        Tracer {
            path,
            state: self.state,
        }
    }

    /// Records a leaf; returns which sample value to give it.
    fn leaf(&self) -> usize {
        let mut s = self.state.borrow_mut();
        if !self.path.ends_with("[]") {
            s.leaves.insert(self.path.to_string());
        }
        s.last = Some(self.path.to_string());
        s.choice.get(self.path).copied().unwrap_or(0)
    }

    fn string(&self) -> Result<&'static str, TraceError> {
        STRINGS
            .get(self.leaf())
            .copied()
            .ok_or_else(|| TraceError(format!("`{}`: no sample string is accepted", self.path)))
    }
}

fn child(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A mapping holding each of a struct's fields once, each value traced under its path.
struct Fields<'a> {
    tracer: Tracer<'a>,
    fields: std::slice::Iter<'static, &'static str>,
    current: Option<String>,
}

impl<'de> de::MapAccess<'de> for Fields<'_> {
    type Error = TraceError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, TraceError> {
        let Some(f) = self.fields.next() else {
            return Ok(None);
        };
        self.current = Some(child(self.tracer.path, f));
        seed.deserialize((*f).into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, TraceError> {
        let path = self.current.take().expect("a key first");
        seed.deserialize(self.tracer.at(&path))
    }
}

/// A list of one element, traced under `path[]`.
struct One<'a> {
    tracer: Tracer<'a>,
    done: bool,
}

impl<'de> de::SeqAccess<'de> for One<'_> {
    type Error = TraceError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, TraceError> {
        if std::mem::replace(&mut self.done, true) {
            return Ok(None);
        }
        let path = format!("{}[]", self.tracer.path);
        seed.deserialize(self.tracer.at(&path)).map(Some)
    }
}

/// An enum value: the variant chosen for this attempt, its content traced in place.
struct Variant<'a> {
    tracer: Tracer<'a>,
    name: &'static str,
}

impl<'de> de::EnumAccess<'de> for Variant<'_> {
    type Error = TraceError;
    type Variant = Self;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self), TraceError> {
        let v = seed.deserialize(self.name.into_deserializer())?;
        Ok((v, self))
    }
}

impl<'de> de::VariantAccess<'de> for Variant<'_> {
    type Error = TraceError;

    fn unit_variant(self) -> Result<(), TraceError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, TraceError> {
        seed.deserialize(self.tracer)
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, TraceError> {
        self.tracer.deserialize_tuple(len, v)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TraceError> {
        self.tracer.deserialize_struct("", fields, v)
    }
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = TraceError;

    fn deserialize_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        // Untagged enums and other self-describing reads: strings first, then a number.
        match self.leaf() {
            i if i < STRINGS.len() => v.visit_str(STRINGS[i]),
            i if i == STRINGS.len() => v.visit_u64(0),
            _ => v.visit_bool(false),
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        let b = self.leaf() % 2 == 1;
        v.visit_bool(b)
    }

    fn deserialize_i64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        let n = self.leaf() as i64;
        v.visit_i64(n)
    }

    fn deserialize_u64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        let n = self.leaf() as u64;
        v.visit_u64(n)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        let n = self.leaf() as f64;
        v.visit_f64(n)
    }

    fn deserialize_str<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        v.visit_str(self.string()?)
    }

    fn deserialize_string<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_str(v)
    }

    fn deserialize_option<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        // Present, so that what is inside is walked too.
        v.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        v: V,
    ) -> Result<V::Value, TraceError> {
        v.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.leaf();
        v.visit_seq(One {
            tracer: self,
            done: false,
        })
    }

    fn deserialize_map<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        // A map with keys of the user's choosing (`redaction.actions`): a leaf, left empty.
        self.leaf();
        v.visit_map(de::value::MapDeserializer::new(std::iter::empty::<(
            &str,
            &str,
        )>()))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TraceError> {
        if !self.path.is_empty() {
            self.state
                .borrow_mut()
                .sections
                .insert(self.path.to_string());
        }
        v.visit_map(Fields {
            tracer: self,
            fields: fields.iter(),
            current: None,
        })
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, TraceError> {
        let i = self.leaf();
        let name = variants
            .get(i)
            .ok_or_else(|| TraceError(format!("`{}`: no variant is accepted", self.path)))?;
        v.visit_enum(Variant { tracer: self, name })
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_str(v)
    }

    fn deserialize_i32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_i64(v)
    }

    fn deserialize_u32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_u64(v)
    }

    fn deserialize_u16<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_u64(v)
    }

    fn deserialize_u8<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_u64(v)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, v: V) -> Result<V::Value, TraceError> {
        self.deserialize_f64(v)
    }

    // Shapes no config struct uses today: offered the same samples as an untyped value.
    serde::forward_to_deserialize_any! {
        i8 i16 i128 u128 char bytes byte_buf unit unit_struct tuple tuple_struct ignored_any
    }
}

/// Every leaf key path `Config` accepts, and the struct sections, read from its `Deserialize`.
fn accepted_keys() -> (BTreeSet<String>, BTreeSet<String>) {
    let state = RefCell::new(State::default());
    for _attempt in 0..200 {
        {
            let mut s = state.borrow_mut();
            s.leaves.clear();
            s.sections.clear();
            s.last = None;
        }
        let result = Config::deserialize(Tracer {
            path: "",
            state: &state,
        });
        let mut s = state.borrow_mut();
        match result {
            Ok(_) => {
                let State {
                    leaves, sections, ..
                } = std::mem::take(&mut *s);
                return (leaves, sections);
            }
            Err(e) => {
                // The field that refused its sample value: offer it the next one.
                let last = s.last.clone().unwrap_or_else(|| panic!("{e}"));
                *s.choice.entry(last).or_default() += 1;
            }
        }
    }
    panic!("the config walk did not settle");
}

/// `a.{b,c}.d` → `a.b.d`, `a.c.d`.
fn expand(span: &str) -> Vec<String> {
    match (span.find('{'), span.find('}')) {
        (Some(open), Some(close)) if open < close => span[open + 1..close]
            .split(',')
            .flat_map(|alt| {
                expand(&format!(
                    "{}{}{}",
                    &span[..open],
                    alt.trim(),
                    &span[close + 1..]
                ))
            })
            .collect(),
        _ => vec![span.to_string()],
    }
}

/// Cells of a markdown table row (`\|` inside a cell is not a separator).
fn cells(row: &str) -> Vec<String> {
    let row = row.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in row.chars() {
        match (escaped, c) {
            (false, '\\') => escaped = true,
            (false, '|') => out.push(String::new()),
            (true, c) => {
                if c != '|' {
                    out.last_mut().unwrap().push('\\');
                }
                out.last_mut().unwrap().push(c);
                escaped = false;
            }
            (false, c) => out.last_mut().unwrap().push(c),
        }
    }
    out.into_iter().map(|c| c.trim().to_string()).collect()
}

/// Key paths named in the first cell of the reference tables, with the row they are in.
fn documented_keys(doc: &str, sections: &BTreeSet<String>) -> Vec<(String, Vec<String>)> {
    let tops: BTreeSet<&str> = sections
        .iter()
        .map(|s| s.split('.').next().unwrap())
        .collect();
    let mut out = Vec::new();
    for line in doc.lines().filter(|l| l.trim_start().starts_with('|')) {
        let row = cells(line);
        let first = &row[0];
        for span in first.split('`').skip(1).step_by(2) {
            let top = span.split('.').next().unwrap_or("");
            if !span.contains('.') || !tops.contains(top) {
                continue;
            }
            for key in expand(span) {
                out.push((key, row.clone()));
            }
        }
    }
    out
}

fn configuration_page() -> String {
    doc_pages::pages()
        .into_iter()
        .find(|(n, _)| n == "docs/configuration.md")
        .expect("docs/configuration.md")
        .1
}

/// A build without the `kafka` cargo feature takes any value under `exporters.kafka` (and then
/// refuses it by name): the page documents its keys for the builds that have it.
fn kafka_left_out(key: &str) -> bool {
    cfg!(not(feature = "kafka"))
        && (key == "exporters.kafka" || key.starts_with("exporters.kafka."))
}

#[test]
fn every_accepted_key_is_in_the_configuration_reference() {
    let (leaves, sections) = accepted_keys();
    let doc = configuration_page();
    let documented = documented_keys(&doc, &sections);
    let mut missing = Vec::new();
    for key in leaves.iter().filter(|k| !kafka_left_out(k)) {
        match documented.iter().find(|(k, _)| k == key) {
            None => missing.push(format!("`{key}`: no table row")),
            Some((_, row)) => {
                if row.len() < 3 || row[1].is_empty() || row[2].is_empty() {
                    missing.push(format!("`{key}`: its row lacks a default or a meaning"));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not document:\n{}",
        missing.join("\n")
    );
    let stale: Vec<_> = documented
        .iter()
        .map(|(k, _)| k)
        .filter(|k| !leaves.contains(*k) && !sections.contains(*k) && !kafka_left_out(k))
        .collect();
    assert!(
        stale.is_empty(),
        "docs/configuration.md documents keys the parser refuses: {stale:?}"
    );
}

/// The walk itself: it reaches keys behind `Option`s, lists, enums, custom deserializers, and
/// would see a key that is not yet documented.
#[test]
fn the_walk_finds_nested_and_custom_keys() {
    let (leaves, sections) = accepted_keys();
    for k in [
        "receivers.otlp.grpc.endpoint",
        "receivers.otlp.http.tls.min_version", // a hand-written Deserialize (untagged)
        "exporters.file.file_mode",            // deserialize_with, a parsed string
        "exporters.file.retention_max_age",    // Option<Duration> through humantime_serde
        "exporters.kafka.properties",          // a free-form map
        "sampling.rules[].span_name",          // a list of structs
        "audit.file.chain",                    // a struct behind an Option
        "pipeline.memory_limiter.check_interval",
    ]
    .into_iter()
    .filter(|k| !kafka_left_out(k))
    {
        assert!(leaves.contains(k), "{k} not found in {leaves:?}");
    }
    assert!(sections.contains("receivers.otlp.grpc.tls"));
    assert!(
        !leaves.contains("receivers.otlp"),
        "a section is not a leaf"
    );
    assert!(
        leaves.len() > 100,
        "only {} keys: the walk stopped early",
        leaves.len()
    );
    // Shapes of the docs' tables.
    assert_eq!(
        expand("receivers.otlp.{grpc,http}.tls.cert_file"),
        [
            "receivers.otlp.grpc.tls.cert_file",
            "receivers.otlp.http.tls.cert_file"
        ]
    );
    assert_eq!(
        cells(r"| `redaction.actions` | `{}` | `mask\|token` |"),
        ["`redaction.actions`", "`{}`", "`mask|token`"]
    );
    let doc = "| `pipeline.workers` | 0 | threads |\n| `pipeline.wrokers` | 0 | typo |\n";
    let keys: Vec<_> = documented_keys(doc, &sections)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    assert_eq!(keys, ["pipeline.workers", "pipeline.wrokers"]);
}

/// Every ```yaml block of the README and docs/ is a config the parser accepts.
#[test]
fn every_yaml_example_parses() {
    let mut n = 0;
    for (page, text) in doc_pages::pages() {
        let mut block: Option<String> = None;
        for l in text.lines() {
            match (&mut block, l.trim_start()) {
                (None, "```yaml") => block = Some(String::new()),
                (Some(b), "```") => {
                    if let Err(e) = Config::from_yaml(b, &page) {
                        panic!("{page}: a yaml example does not parse: {e}\n{b}");
                    }
                    n += 1;
                    block = None;
                }
                (Some(b), _) => {
                    b.push_str(l);
                    b.push('\n');
                }
                (None, _) => {}
            }
        }
    }
    assert!(n >= 7, "only {n} yaml examples found");
}
