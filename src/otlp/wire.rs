//! Protobuf wire-format primitives over a borrowed buffer: varints, tags, and [`Msg`], a view of
//! one message's bytes whose [`Msg::fields`] yields each field with its byte range in the whole
//! buffer. Nothing is copied or allocated; offsets are absolute, so an [`super::edit::Edits`]
//! list can name the fields it replaces.

use std::ops::Range;

/// Wire types this format uses (groups, 3 and 4, are refused: OTLP has none).
pub const VARINT: u8 = 0;
pub const I64: u8 = 1;
pub const LEN: u8 = 2;
pub const I32: u8 = 5;

/// Largest field number protobuf allows.
const MAX_FIELD: u64 = (1 << 29) - 1;

/// Bytes that do not parse as protobuf. Offsets only: the bytes themselves are payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("truncated field at byte {0}")]
    Truncated(usize),
    #[error("invalid varint at byte {0}")]
    Varint(usize),
    #[error("invalid field tag at byte {0}")]
    Tag(usize),
    #[error("unsupported wire type {1} at byte {0}")]
    WireType(usize, u8),
}

/// Reads a varint at `*pos`, as prost does: at most 10 bytes, the 10th at most 1.
#[inline(always)]
pub fn read_varint(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    // Tags and lengths are one or two bytes: the common cases, without the loop.
    if let Some(&b) = buf.get(*pos) {
        if b < 0x80 {
            *pos += 1;
            return Ok(u64::from(b));
        }
        if let Some(&c) = buf.get(*pos + 1) {
            if c < 0x80 {
                *pos += 2;
                return Ok(u64::from(b & 0x7f) | (u64::from(c) << 7));
            }
        }
    }
    read_varint_long(buf, pos)
}

fn read_varint_long(buf: &[u8], pos: &mut usize) -> Result<u64, WireError> {
    let at = *pos;
    let mut v: u64 = 0;
    for i in 0..10 {
        let Some(&b) = buf.get(at + i) else {
            return Err(WireError::Truncated(at));
        };
        if i == 9 && b > 1 {
            return Err(WireError::Varint(at));
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b < 0x80 {
            *pos = at + i + 1;
            return Ok(v);
        }
    }
    Err(WireError::Varint(at))
}

/// Encoded length of a varint.
pub fn varint_len(v: u64) -> usize {
    // 1 byte per 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn put_tag(out: &mut Vec<u8>, num: u32, wire: u8) {
    put_varint(out, (u64::from(num) << 3) | u64::from(wire));
}

/// A length-delimited field (string, bytes or message) with its payload.
pub fn put_len_field(out: &mut Vec<u8>, num: u32, payload: &[u8]) {
    put_tag(out, num, LEN);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// A varint field.
pub fn put_varint_field(out: &mut Vec<u8>, num: u32, v: u64) {
    put_tag(out, num, VARINT);
    put_varint(out, v);
}

/// A `KeyValue` field `num` with a string value: `key = value`.
pub fn put_string_kv(out: &mut Vec<u8>, num: u32, key: &str, value: &str) {
    // KeyValue { key: 1, value: 2 = AnyValue { string_value: 1 } }
    let any = len_field_size(1, value.len());
    let kv = len_field_size(1, key.len()) + len_field_size(2, any);
    put_tag(out, num, LEN);
    put_varint(out, kv as u64);
    put_len_field(out, 1, key.as_bytes());
    put_tag(out, 2, LEN);
    put_varint(out, any as u64);
    put_len_field(out, 1, value.as_bytes());
}

/// Encoded size of a length-delimited field with a payload of `len` bytes.
pub fn len_field_size(num: u32, len: usize) -> usize {
    varint_len(u64::from(num) << 3) + varint_len(len as u64) + len
}

/// One message: `buf[start..end]` are its fields, `buf` is the whole request.
#[derive(Debug, Clone, Copy)]
pub struct Msg<'a> {
    buf: &'a [u8],
    start: usize,
    end: usize,
}

impl<'a> Msg<'a> {
    /// The whole buffer as one message.
    pub fn new(buf: &'a [u8]) -> Msg<'a> {
        Msg {
            buf,
            start: 0,
            end: buf.len(),
        }
    }

    /// Where the message's fields start in the whole buffer; also its identity in an edit list
    /// (no two messages of one buffer start at the same byte: a child's fields start after its
    /// own tag and length).
    pub fn start(&self) -> usize {
        self.start
    }

    pub fn end(&self) -> usize {
        self.end
    }

    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The message's own bytes.
    pub fn bytes(&self) -> &'a [u8] {
        &self.buf[self.start..self.end]
    }

    /// The whole buffer the message lies in.
    pub fn buf(&self) -> &'a [u8] {
        self.buf
    }

    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }

    pub fn fields(&self) -> Fields<'a> {
        Fields {
            buf: self.buf,
            pos: self.start,
            end: self.end,
        }
    }
}

/// A field's value.
#[derive(Debug, Clone, Copy)]
pub enum Val<'a> {
    Varint(u64),
    I64(u64),
    I32(u32),
    /// A string, bytes or an embedded message: its payload.
    Len(Msg<'a>),
}

/// One field: tag at `start`, value ending at `end` (absolute offsets).
#[derive(Debug, Clone, Copy)]
pub struct Field<'a> {
    pub num: u32,
    pub start: usize,
    /// End of the tag (and start of the length, for length-delimited fields).
    pub tag_end: usize,
    pub end: usize,
    pub val: Val<'a>,
}

impl<'a> Field<'a> {
    pub fn range(&self) -> Range<usize> {
        self.start..self.end
    }

    /// The payload of a length-delimited field as a message.
    pub fn msg(&self) -> Option<Msg<'a>> {
        match self.val {
            Val::Len(m) => Some(m),
            _ => None,
        }
    }

    /// The payload of a length-delimited field (empty for other wire types).
    pub fn bytes(&self) -> &'a [u8] {
        self.msg().map_or(&[], |m| m.bytes())
    }

    /// The payload as UTF-8 text; `None` when it is not length-delimited or not UTF-8.
    pub fn str(&self) -> Option<&'a str> {
        let m = self.msg()?;
        simdutf8::basic::from_utf8(m.bytes()).ok()
    }

    pub fn varint(&self) -> Option<u64> {
        match self.val {
            Val::Varint(v) => Some(v),
            _ => None,
        }
    }

    pub fn is_len(&self) -> bool {
        matches!(self.val, Val::Len(_))
    }

    pub fn wire_type(&self) -> u8 {
        match self.val {
            Val::Varint(_) => VARINT,
            Val::I64(_) => I64,
            Val::I32(_) => I32,
            Val::Len(_) => LEN,
        }
    }
}

/// The fields of a message in order. After an error it yields nothing more.
pub struct Fields<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
}

impl<'a> Fields<'a> {
    #[inline]
    fn next_field(&mut self) -> Result<Field<'a>, WireError> {
        let start = self.pos;
        let window = &self.buf[..self.end];
        let mut p = start;
        let tag = read_varint(window, &mut p)?;
        let num = tag >> 3;
        if num == 0 || num > MAX_FIELD {
            return Err(WireError::Tag(start));
        }
        let tag_end = p;
        let val = match (tag & 7) as u8 {
            VARINT => Val::Varint(read_varint(window, &mut p)?),
            I64 => {
                let b = window.get(p..p + 8).ok_or(WireError::Truncated(start))?;
                p += 8;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Val::I64(u64::from_le_bytes(a))
            }
            I32 => {
                let b = window.get(p..p + 4).ok_or(WireError::Truncated(start))?;
                p += 4;
                let mut a = [0u8; 4];
                a.copy_from_slice(b);
                Val::I32(u32::from_le_bytes(a))
            }
            LEN => {
                let len = read_varint(window, &mut p)?;
                let len = usize::try_from(len).map_err(|_| WireError::Truncated(start))?;
                let e = p.checked_add(len).ok_or(WireError::Truncated(start))?;
                if e > self.end {
                    return Err(WireError::Truncated(start));
                }
                let m = Msg {
                    buf: self.buf,
                    start: p,
                    end: e,
                };
                p = e;
                Val::Len(m)
            }
            w => return Err(WireError::WireType(start, w)),
        };
        self.pos = p;
        Ok(Field {
            num: num as u32,
            start,
            tag_end,
            end: p,
            val,
        })
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<Field<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        let r = self.next_field();
        if r.is_err() {
            self.pos = self.end;
        }
        Some(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message;

    #[test]
    fn varints_round_trip_and_sizes_agree_with_prost() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            put_varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
            assert_eq!(out.len(), prost::encoding::encoded_len_varint(v), "{v}");
            let mut p = 0;
            assert_eq!(read_varint(&out, &mut p), Ok(v));
            assert_eq!(p, out.len());
        }
    }

    #[test]
    fn overlong_and_truncated_varints_are_errors() {
        let mut p = 0;
        assert_eq!(
            read_varint(&[0x80, 0x80], &mut p),
            Err(WireError::Truncated(0))
        );
        let eleven = [0xffu8; 11];
        assert_eq!(read_varint(&eleven, &mut p), Err(WireError::Varint(0)));
        // Ten bytes whose last carries more than the 64th bit.
        let mut ten = [0xffu8; 10];
        ten[9] = 0x02;
        assert_eq!(read_varint(&ten, &mut p), Err(WireError::Varint(0)));
        ten[9] = 0x01;
        assert_eq!(read_varint(&ten, &mut 0), Ok(u64::MAX));
    }

    #[test]
    fn fields_carry_absolute_ranges() {
        use opentelemetry_proto::tonic::common::v1::{any_value::Value, AnyValue, KeyValue};
        let kv = KeyValue {
            key: "k".into(),
            value: Some(AnyValue {
                value: Some(Value::IntValue(-3)),
            }),
            ..Default::default()
        };
        let mut buf = vec![0xAA, 0xBB];
        buf.extend(kv.encode_to_vec());
        let m = Msg {
            buf: &buf,
            start: 2,
            end: buf.len(),
        };
        let f: Vec<Field> = m.fields().collect::<Result<_, _>>().unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!((f[0].num, f[0].start, f[0].end), (1, 2, 5));
        assert_eq!(f[0].str(), Some("k"));
        let v = f[1].msg().unwrap();
        let inner: Vec<Field> = v.fields().collect::<Result<_, _>>().unwrap();
        assert_eq!(inner[0].num, 3);
        assert_eq!(inner[0].varint(), Some((-3i64) as u64));
        assert_eq!(f[1].end, buf.len());
    }

    #[test]
    fn malformed_fields_stop_the_walk() {
        for bad in [
            &[0x00u8, 0x01][..],     // field number 0
            &[0x0b][..],             // wire type 3 (group)
            &[0x0a, 0x05, b'a'][..], // length past the end
            &[0x09, 1, 2, 3][..],    // fixed64 cut short
            &[0x08][..],             // varint missing
        ] {
            let mut it = Msg::new(bad).fields();
            assert!(matches!(it.next(), Some(Err(_))), "{bad:?}");
            assert!(it.next().is_none());
        }
    }
}
