//! Text derived from a string (escapes decoded, characters normalised, encodings decoded, line
//! breaks joined) together with where each of its bytes came from, so that a match found in the
//! derived text masks exactly the original bytes it was found in, whole escapes and whole
//! characters included.
//!
//! Every derived character comes from one *unit* of the source: a character copied as it is, an
//! escape (`\u0040`, `%40`, `&#64;`, `=40`), a run of units that decode together (the `%C3%A9`
//! of one `é`), or a look-alike character replaced by its ASCII form. Units dropped from the
//! derived text (zero-width characters, soft line breaks) belong to no derived byte, so a match
//! next to them does not spread over them, while a match across them covers them.

use std::ops::Range;

/// Derived text plus, for each of its bytes, the source range of the unit it came from.
#[derive(Debug, Clone)]
pub struct Mapped {
    pub text: String,
    /// `start[i]..end[i]`: the source unit of derived byte `i`.
    start: Vec<u32>,
    end: Vec<u32>,
}

impl Mapped {
    /// The source range covering derived bytes `r` (which lie on char boundaries): from the
    /// first byte's unit to the last byte's unit. An empty range maps to an empty range.
    pub fn raw_range(&self, r: Range<usize>) -> Range<usize> {
        if self.start.is_empty() {
            return 0..0;
        }
        let s = r.start.min(self.start.len() - 1);
        if r.end <= r.start {
            let at = self.start[s] as usize;
            return at..at;
        }
        let e = (r.end - 1).min(self.end.len() - 1);
        self.start[s] as usize..(self.end[e] as usize).max(self.start[s] as usize)
    }

    /// `self` was derived from `outer.text`: the same text, mapped to `outer`'s source.
    pub fn over(self, outer: &Mapped) -> Mapped {
        let start = self
            .start
            .iter()
            .map(|&s| outer.start[s as usize])
            .collect();
        let end = self
            .end
            .iter()
            .map(|&e| outer.end[(e as usize).saturating_sub(1)])
            .collect();
        Mapped {
            text: self.text,
            start,
            end,
        }
    }

    /// Derives `f(text)` from this text and maps it to the source; `None` when `f` changed
    /// nothing.
    pub fn then(self, f: impl FnOnce(&str) -> Option<Mapped>) -> Result<Mapped, Mapped> {
        match f(&self.text) {
            Some(next) => Ok(next.over(&self)),
            None => Err(self),
        }
    }

    /// The source offset where derived byte `i` starts (`i` may be the text's length).
    pub fn raw_at(&self, i: usize) -> usize {
        match self.start.get(i) {
            Some(&s) => s as usize,
            None => self.end.last().map_or(0, |&e| e as usize),
        }
    }
}

/// Where a derivation writes: a [`Builder`] (text and map) or a plain `String` (text only: most
/// strings match nothing, so the map is built only when something did).
pub trait Sink {
    /// Copies `s`, which sits at source offset `at`, byte for byte.
    fn copy(&mut self, s: &str, at: usize);
    /// Appends `c`, decoded from the source unit `raw`.
    fn push(&mut self, c: char, raw: Range<usize>);
    /// Appends `s`, decoded from the source unit `raw`.
    fn push_str(&mut self, s: &str, raw: Range<usize>);
    /// Records that a source unit was dropped.
    fn drop_unit(&mut self);
}

/// A text-only sink: the derived text and whether it differs from the source.
#[derive(Default)]
pub struct TextOnly {
    pub text: String,
    pub changed: bool,
}

impl TextOnly {
    pub fn new(capacity: usize) -> TextOnly {
        TextOnly {
            text: String::with_capacity(capacity),
            changed: false,
        }
    }

    pub fn finish(self) -> Option<String> {
        self.changed.then_some(self.text)
    }
}

impl Sink for TextOnly {
    fn copy(&mut self, s: &str, _at: usize) {
        self.text.push_str(s);
    }
    fn push(&mut self, c: char, _raw: Range<usize>) {
        self.text.push(c);
        self.changed = true;
    }
    fn push_str(&mut self, s: &str, _raw: Range<usize>) {
        self.text.push_str(s);
        self.changed = true;
    }
    fn drop_unit(&mut self) {
        self.changed = true;
    }
}

impl Sink for Builder {
    fn copy(&mut self, s: &str, at: usize) {
        Builder::copy(self, s, at)
    }
    fn push(&mut self, c: char, raw: Range<usize>) {
        Builder::push(self, c, raw)
    }
    fn push_str(&mut self, s: &str, raw: Range<usize>) {
        Builder::push_str(self, s, raw)
    }
    fn drop_unit(&mut self) {
        Builder::drop_unit(self)
    }
}

/// Builds a [`Mapped`] left to right.
pub struct Builder {
    text: String,
    start: Vec<u32>,
    end: Vec<u32>,
    changed: bool,
}

impl Builder {
    pub fn new(capacity: usize) -> Builder {
        Builder {
            text: String::with_capacity(capacity),
            start: Vec::with_capacity(capacity),
            end: Vec::with_capacity(capacity),
            changed: false,
        }
    }

    /// Copies `s`, which sits at source offset `at`, byte for byte.
    pub fn copy(&mut self, s: &str, at: usize) {
        self.text.push_str(s);
        let at = at as u32;
        self.start.extend(at..at + s.len() as u32);
        self.end.extend(at + 1..at + 1 + s.len() as u32);
    }

    /// Appends `c`, decoded from the source unit `raw`.
    pub fn push(&mut self, c: char, raw: Range<usize>) {
        let n = c.len_utf8();
        self.text.push(c);
        for _ in 0..n {
            self.start.push(raw.start as u32);
            self.end.push(raw.end as u32);
        }
        self.changed = true;
    }

    /// Appends `s`, decoded from the source unit `raw` (every byte maps to the whole unit).
    pub fn push_str(&mut self, s: &str, raw: Range<usize>) {
        self.text.push_str(s);
        for _ in 0..s.len() {
            self.start.push(raw.start as u32);
            self.end.push(raw.end as u32);
        }
        self.changed = true;
    }

    /// Records that a source unit was dropped.
    pub fn drop_unit(&mut self) {
        self.changed = true;
    }

    pub fn finish(self) -> Option<Mapped> {
        self.changed.then_some(Mapped {
            text: self.text,
            start: self.start,
            end: self.end,
        })
    }
}

/// Strings longer than this are not mapped (offsets are 32-bit); the scrubber's value limit is
/// far below it.
pub const MAX_MAPPED: usize = u32::MAX as usize - 1;

#[cfg(test)]
mod tests {
    use super::*;

    /// `ab%40cd` with `%40` decoded.
    fn pct() -> Mapped {
        let mut b = Builder::new(8);
        b.copy("ab", 0);
        b.push('@', 2..5);
        b.copy("cd", 5);
        b.finish().unwrap()
    }

    #[test]
    fn ranges_cover_whole_units() {
        let m = pct();
        assert_eq!(m.text, "ab@cd");
        assert_eq!(m.raw_range(2..3), 2..5);
        assert_eq!(m.raw_range(1..4), 1..6);
        assert_eq!(m.raw_range(0..5), 0..7);
        assert_eq!(m.raw_range(3..3), 5..5);
        assert_eq!(m.raw_at(5), 7);
    }

    #[test]
    fn dropped_units_belong_to_no_byte() {
        // `ab<ZWSP>cd`: the zero-width space (3 bytes) is dropped.
        let src = "ab\u{200b}cd";
        let mut b = Builder::new(8);
        b.copy("ab", 0);
        b.drop_unit();
        b.copy("cd", 5);
        let m = b.finish().unwrap();
        assert_eq!(m.text, "abcd");
        assert_eq!(&src[m.raw_range(0..2)], "ab");
        assert_eq!(&src[m.raw_range(1..3)], "b\u{200b}c");
    }

    #[test]
    fn composition_maps_to_the_first_source() {
        // Source `x%2540y` → `x%40y` → `x@y`.
        let mut b = Builder::new(8);
        b.copy("x", 0);
        b.push('%', 1..4);
        b.copy("40y", 4);
        let first = b.finish().unwrap();
        assert_eq!(first.text, "x%40y");
        let mut b = Builder::new(8);
        b.copy("x", 0);
        b.push('@', 1..4);
        b.copy("y", 4);
        let second = b.finish().unwrap().over(&first);
        assert_eq!(second.text, "x@y");
        assert_eq!(second.raw_range(1..2), 1..6);
        assert_eq!(second.raw_range(0..3), 0..7);
    }

    #[test]
    fn multibyte_chars_map_whole() {
        let src = "é!";
        let mut b = Builder::new(4);
        b.push('e', 0..2);
        b.copy("!", 2);
        let m = b.finish().unwrap();
        assert_eq!(m.raw_range(0..1), 0..2);
        assert_eq!(&src[m.raw_range(0..2)], "é!");
    }
}
