//! Edits to an encoded message, applied in one pass: whole fields replaced, deleted or inserted,
//! every enclosing message's length rewritten. A request whose spans nothing changed is never
//! re-encoded; one with changes is copied in long runs around the edits.
//!
//! Each edit belongs to the message whose fields it touches (its *owner*, named by the offset
//! where the owner's fields start, see [`Msg::start`]) and covers whole fields of that message:
//! `[start, end)` are field boundaries (or `start == end` for an insertion before the field at
//! `start`, or at the owner's end). An edit that removes a field also discards every edit
//! inside that field. Every edit must land: edits of one owner that overlap, or an edit whose
//! owner is no message of the buffer, make [`Edits::apply`] fail rather than lose an edit
//! silently (a lost edit could be a redaction).

use super::wire::{put_varint, varint_len, Msg, Val, WireError};

/// Why edits could not be applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EditError {
    #[error(transparent)]
    Wire(#[from] WireError),
    /// An edit overlapped another of the same message, or named no message of the buffer.
    #[error("{0} of the edits could not be placed")]
    Unplaced(usize),
}
use std::ops::Range;

#[derive(Debug, Clone)]
struct Op {
    owner: usize,
    start: usize,
    end: usize,
    data: Range<usize>,
    seq: u32,
}

/// A list of edits to one buffer, plus the bytes they write.
#[derive(Debug, Default)]
pub struct Edits {
    ops: Vec<Op>,
    data: Vec<u8>,
    /// Sizes of edited messages, in visiting order (scratch for [`Edits::apply`]).
    sizes: Vec<usize>,
}

/// Where an edit list can be cut back to ([`Edits::truncate`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    ops: usize,
    data: usize,
}

/// Output of the two passes: a byte count, or the bytes.
trait Out {
    fn put(&mut self, b: &[u8]);
    fn put_varint(&mut self, v: u64);
    /// Bytes output so far.
    fn len(&self) -> usize;
}

struct Count(usize);

impl Out for Count {
    fn put(&mut self, b: &[u8]) {
        self.0 += b.len();
    }
    fn put_varint(&mut self, v: u64) {
        self.0 += varint_len(v);
    }
    fn len(&self) -> usize {
        self.0
    }
}

impl Out for Vec<u8> {
    fn put(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
    fn put_varint(&mut self, v: u64) {
        put_varint(self, v);
    }
    fn len(&self) -> usize {
        Vec::len(self)
    }
}

impl Edits {
    pub fn new() -> Edits {
        Edits::default()
    }

    pub fn clear(&mut self) {
        self.ops.clear();
        self.data.clear();
    }

    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    pub fn len(&self) -> usize {
        self.ops.len()
    }

    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            ops: self.ops.len(),
            data: self.data.len(),
        }
    }

    /// Forgets every edit made after `cp` (a span that failed half-way through its stages).
    pub fn truncate(&mut self, cp: Checkpoint) {
        self.ops.truncate(cp.ops);
        self.data.truncate(cp.data);
    }

    /// Whether any edit was made after `cp`.
    pub fn changed_since(&self, cp: Checkpoint) -> bool {
        self.ops.len() > cp.ops
    }

    fn push(&mut self, owner: &Msg<'_>, range: Range<usize>, write: impl FnOnce(&mut Vec<u8>)) {
        let from = self.data.len();
        write(&mut self.data);
        let seq = self.ops.len() as u32;
        self.ops.push(Op {
            owner: owner.start(),
            start: range.start,
            end: range.end,
            data: from..self.data.len(),
            seq,
        });
    }

    /// Replaces the fields in `range` (field boundaries inside `owner`) by what `write` appends.
    pub fn replace(
        &mut self,
        owner: &Msg<'_>,
        range: Range<usize>,
        write: impl FnOnce(&mut Vec<u8>),
    ) {
        self.push(owner, range, write);
    }

    /// Removes the fields in `range`.
    pub fn delete(&mut self, owner: &Msg<'_>, range: Range<usize>) {
        self.push(owner, range, |_| {});
    }

    /// Appends fields at the end of `owner` (after earlier insertions there).
    pub fn append(&mut self, owner: &Msg<'_>, write: impl FnOnce(&mut Vec<u8>)) {
        let e = owner.end();
        self.push(owner, e..e, write);
    }

    /// Writes `root` with the edits applied into `out` (cleared first). `root` must be the
    /// message every edit's owner lies in (usually the whole buffer).
    pub fn apply(&mut self, root: Msg<'_>, out: &mut Vec<u8>) -> Result<(), EditError> {
        out.clear();
        // Owners in buffer order, so each message's subtree is one contiguous run; a message's
        // own edits first (its start is below every descendant's), by position, then as made.
        let mut ops = std::mem::take(&mut self.ops);
        ops.sort_unstable_by_key(|o| (o.owner, o.start, o.seq));
        self.sizes.clear();
        let counted = {
            let mut c = Count(0);
            self.walk(root, &ops, &mut c, None)
                .map(|placed| (placed, c.0))
        };
        let r = match counted {
            Ok((placed, _)) if placed != ops.len() => Err(EditError::Unplaced(ops.len() - placed)),
            Ok((_, total)) => {
                out.reserve(total);
                let mut cursor = 0usize;
                self.walk(root, &ops, out, Some(&mut cursor)).map(|_| ())
            }
            Err(e) => Err(e),
        };
        self.ops = ops;
        r
    }

    /// One pass over `msg` with `ops` (its subtree's edits). Counting (`cursor` is `None`)
    /// records each edited child's new size in visiting order; writing reads them back.
    /// Returns how many of `ops` were placed (or discarded with a field an edit removed).
    fn walk<O: Out>(
        &mut self,
        msg: Msg<'_>,
        ops: &[Op],
        out: &mut O,
        mut cursor: Option<&mut usize>,
    ) -> Result<usize, EditError> {
        let buf = msg.buf();
        let own_n = ops.iter().take_while(|o| o.owner == msg.start()).count();
        let (own, mut rest) = ops.split_at(own_n);
        let mut own = own.iter().peekable();
        let mut pos = msg.start();
        let mut placed = 0usize;
        for f in msg.fields() {
            let f = f?;
            // This message's edits that start at (or before) this field.
            while let Some(op) = own.next_if(|o| o.start <= f.start) {
                if op.start < pos {
                    // Overlaps an earlier edit, or starts inside a field: not placed.
                    continue;
                }
                out.put(&buf[pos..op.start]);
                out.put(&self.data[op.data.clone()]);
                pos = op.end;
                placed += 1;
            }
            if pos > f.start {
                // Removed or replaced: edits inside the fields it covered go with them (their
                // owners start after the first removed field's tag and at most at `pos`).
                let k = rest.iter().take_while(|o| o.owner <= pos).count();
                rest = &rest[k..];
                placed += k;
                continue;
            }
            let Val::Len(child) = f.val else {
                continue;
            };
            // Edits of this child's subtree: owners from its start to its end.
            if rest.first().is_none_or(|o| o.owner > child.end()) {
                continue;
            }
            let k = rest.iter().take_while(|o| o.owner <= child.end()).count();
            let (sub, r2) = rest.split_at(k);
            rest = r2;
            out.put(&buf[pos..f.tag_end]);
            match cursor.as_deref_mut() {
                None => {
                    // Counting: the child's bytes, then its length prefix (order is irrelevant
                    // to a count); the size is kept for the writing pass.
                    let slot = self.sizes.len();
                    self.sizes.push(0);
                    let before = out.len();
                    placed += self.walk(child, sub, out, None)?;
                    let n = out.len() - before;
                    self.sizes[slot] = n;
                    out.put_varint(n as u64);
                }
                Some(cur) => {
                    let n = self.sizes.get(*cur).copied().unwrap_or(0);
                    *cur += 1;
                    out.put_varint(n as u64);
                    placed += self.walk(child, sub, out, Some(cur))?;
                }
            }
            pos = f.end;
        }
        // Insertions at the end. Anything else left is not placed (and is counted as such).
        for op in own {
            if op.start != msg.end() || op.end != msg.end() || pos > msg.end() {
                continue;
            }
            out.put(&buf[pos..msg.end()]);
            out.put(&self.data[op.data.clone()]);
            pos = msg.end();
            placed += 1;
        }
        if pos < msg.end() {
            out.put(&buf[pos..msg.end()]);
        }
        Ok(placed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::otlp::num::*;
    use crate::otlp::testgen::{encode_kv, kv, request};
    use crate::otlp::view::{each, Kv};
    use crate::otlp::wire::{put_len_field, Field};
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue};
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, Span};
    use proptest::prelude::*;
    use prost::Message;

    fn fields(m: Msg<'_>) -> Vec<Field<'_>> {
        m.fields().collect::<Result<_, _>>().unwrap()
    }

    /// Applies edit `choice` to span `sp` (a view of the encoded request) and the same change to
    /// `mirror` (the decoded span); returns false when the span is to be removed from the mirror.
    fn edit_span(
        choice: u8,
        ss: &Msg<'_>,
        span_field: &Field<'_>,
        mirror: &mut Span,
        e: &mut Edits,
    ) -> bool {
        let sp = span_field.msg().unwrap();
        let attrs: Vec<Field> = each(sp, SPAN_ATTRIBUTES).map(|f| f.unwrap()).collect();
        match choice {
            1 => {
                e.delete(ss, span_field.range());
                return false;
            }
            2 => {
                let new = kv("added", Value::StringValue("x".repeat(300)));
                e.append(&sp, |out| encode_kv(out, SPAN_ATTRIBUTES, &new));
                mirror.attributes.push(new);
            }
            3 if !attrs.is_empty() => {
                // Replace the first attribute's value member (owner: its AnyValue).
                let k = Kv::read(attrs[0].msg().unwrap()).unwrap();
                let av = k.value_field.unwrap().msg().unwrap();
                let s = "y".repeat(200);
                match k.member().unwrap() {
                    Some(m) => e.replace(&av, m.range(), |out| {
                        put_len_field(out, AV_STRING, s.as_bytes())
                    }),
                    None => e.append(&av, |out| put_len_field(out, AV_STRING, s.as_bytes())),
                }
                mirror.attributes[0].value = Some(AnyValue {
                    value: Some(Value::StringValue(s)),
                });
            }
            4 if !attrs.is_empty() => {
                // An edit deep inside the attribute, then the attribute removed: the inner edit
                // must go with it.
                let k = Kv::read(attrs[0].msg().unwrap()).unwrap();
                let kf = k.key_field.unwrap();
                e.replace(&attrs[0].msg().unwrap(), kf.range(), |out| {
                    put_len_field(out, KV_KEY, b"ignored")
                });
                e.delete(&sp, attrs[0].range());
                mirror.attributes.remove(0);
            }
            5 => {
                let name = fields(sp).into_iter().find(|f| f.num == SPAN_NAME);
                let new = "renamed-".repeat(20);
                match name {
                    Some(f) => e.replace(&sp, f.range(), |out| {
                        put_len_field(out, SPAN_NAME, new.as_bytes())
                    }),
                    None => e.append(&sp, |out| put_len_field(out, SPAN_NAME, new.as_bytes())),
                }
                mirror.name = new;
            }
            _ => {}
        }
        true
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(300))]
        /// Whatever edits are made, in whatever order, the written request decodes to what the
        /// same changes make of the decoded one; with no edits it is byte-identical.
        #[test]
        fn edits_match_the_same_changes_on_decoded_requests(
            req in request(),
            choices in proptest::collection::vec(0u8..6, 64),
            reverse in any::<bool>(),
        ) {
            let buf = req.encode_to_vec();
            let root = Msg::new(&buf);
            let mut mirror = req.clone();
            let mut e = Edits::new();
            let mut out = Vec::new();
            e.apply(root, &mut out).unwrap();
            prop_assert_eq!(&out, &buf);
            let mut k = 0;
            let mut jobs = Vec::new();
            for (ri, rs) in each(root, REQUEST_RESOURCE_SPANS).enumerate() {
                let rs = rs.unwrap().msg().unwrap();
                for (si, ss) in each(rs, RS_SCOPE_SPANS).enumerate() {
                    let ss = ss.unwrap().msg().unwrap();
                    for (pi, sp) in each(ss, SS_SPANS).enumerate() {
                        jobs.push((ri, si, pi, ss, sp.unwrap(), choices[k % choices.len()]));
                        k += 1;
                    }
                }
            }
            if reverse {
                jobs.reverse();
            }
            let mut removed = Vec::new();
            for (ri, si, pi, ss, sp, c) in &jobs {
                let m = &mut mirror.resource_spans[*ri].scope_spans[*si].spans[*pi];
                if !edit_span(*c, ss, sp, m, &mut e) {
                    removed.push((*ri, *si, *pi));
                }
            }
            removed.sort();
            for (ri, si, pi) in removed.into_iter().rev() {
                mirror.resource_spans[ri].scope_spans[si].spans.remove(pi);
            }
            e.apply(root, &mut out).unwrap();
            let got = ExportTraceServiceRequest::decode(out.as_slice()).unwrap();
            prop_assert_eq!(got, mirror.clone());
            // Minimal lengths everywhere: prost writes as many bytes (appended fields may sit
            // elsewhere in prost's field order, so the bytes themselves can differ).
            prop_assert_eq!(out.len(), mirror.encoded_len());
        }
    }

    /// Edits that cannot all land make `apply` fail: a lost edit could be a redaction.
    #[test]
    fn edits_that_cannot_land_are_errors_not_silence() {
        let span = Span {
            name: "n".into(),
            attributes: vec![kv("k", Value::StringValue("v".into()))],
            ..Default::default()
        };
        let buf = span.encode_to_vec();
        let root = Msg::new(&buf);
        let name = fields(root)
            .into_iter()
            .find(|f| f.num == SPAN_NAME)
            .unwrap();
        let attr = fields(root)
            .into_iter()
            .find(|f| f.num == SPAN_ATTRIBUTES)
            .unwrap();
        let kvm = attr.msg().unwrap();
        let mut out = Vec::new();
        // The same field replaced twice.
        let mut e = Edits::new();
        e.replace(&root, name.range(), |o| put_len_field(o, SPAN_NAME, b"a"));
        e.replace(&root, name.range(), |o| put_len_field(o, SPAN_NAME, b"b"));
        assert_eq!(e.apply(root, &mut out), Err(EditError::Unplaced(1)));
        // A field of the span named as the key-value's.
        let mut e = Edits::new();
        e.replace(&kvm, name.range(), |o| put_len_field(o, SPAN_NAME, b"a"));
        assert_eq!(e.apply(root, &mut out), Err(EditError::Unplaced(1)));
        // An edit inside a removed field goes with it; the rest lands.
        let mut e = Edits::new();
        let key = fields(kvm).into_iter().find(|f| f.num == KV_KEY).unwrap();
        e.replace(&kvm, key.range(), |o| put_len_field(o, KV_KEY, b"x"));
        e.delete(&root, attr.range());
        e.replace(&root, name.range(), |o| put_len_field(o, SPAN_NAME, b"m"));
        e.apply(root, &mut out).unwrap();
        let got = Span::decode(out.as_slice()).unwrap();
        assert_eq!(got.name, "m");
        assert!(got.attributes.is_empty());
    }

    #[test]
    fn truncate_forgets_later_edits() {
        let req = ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans::default()],
        };
        let buf = req.encode_to_vec();
        let root = Msg::new(&buf);
        let mut e = Edits::new();
        let cp = e.checkpoint();
        e.append(&root, |out| put_len_field(out, REQUEST_RESOURCE_SPANS, &[]));
        assert!(e.changed_since(cp));
        e.truncate(cp);
        assert!(e.is_empty());
        let mut out = Vec::new();
        e.apply(root, &mut out).unwrap();
        assert_eq!(out, buf);
    }
}
