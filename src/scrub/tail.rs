//! The class a secret's value ends in, read off a rule's regex: `Bearer ([A-Za-z0-9._~+/-]{16,}=*)`
//! ends in a run of `[A-Za-z0-9._~+/-]` and then `=`. The engine confirms a rule inside a
//! bounded window after its keyword (so that a text full of keywords costs a bounded amount per
//! keyword); a value longer than the window would keep its tail in clear. When a match ends at
//! the window's end, the engine carries it on through this class, to where the value really
//! ends, in one pass over the rest of the value.

use super::analyze::{class_set, ByteSet};
use regex_syntax::hir::{Hir, HirKind};

/// The bytes a match of `h` (or of its secret group) may go on with at its end: the union of
/// the trailing optional parts and the last unbounded repetition of a class. `None` when the
/// match cannot end in an unbounded run (fixed-length tokens: a window never cuts them).
pub fn tail_class(h: &Hir, secret_group: &[usize]) -> Option<ByteSet> {
    let target = match secret_group {
        [] => h,
        groups => {
            let mut found = None;
            for &g in groups {
                found = find_group(h, g);
                if found.is_some() {
                    break;
                }
            }
            found?
        }
    };
    let mut set = ByteSet::default();
    tail(target, &mut set).then_some(set)
}

fn find_group(h: &Hir, g: usize) -> Option<&Hir> {
    match h.kind() {
        HirKind::Capture(c) if c.index as usize == g => Some(&c.sub),
        HirKind::Capture(c) => find_group(&c.sub, g),
        HirKind::Repetition(r) => find_group(&r.sub, g),
        HirKind::Concat(xs) | HirKind::Alternation(xs) => xs.iter().find_map(|x| find_group(x, g)),
        _ => None,
    }
}

/// Adds to `set` what `h` may end with; true when `h` ends in an unbounded class run (possibly
/// followed by optional parts).
fn tail(h: &Hir, set: &mut ByteSet) -> bool {
    match h.kind() {
        HirKind::Capture(c) => tail(&c.sub, set),
        HirKind::Repetition(r) if r.max.is_none() => match r.sub.kind() {
            HirKind::Class(c) => {
                set.union(&class_set(c));
                true
            }
            HirKind::Literal(l) => {
                for &b in l.0.iter() {
                    set.add(b);
                }
                true
            }
            _ => false,
        },
        HirKind::Concat(xs) => {
            // Optional parts at the end (`=*`, `={0,2}`) add their bytes; an unbounded one is a
            // tail even when what precedes it has a fixed length (`\.[A-Za-z0-9_-]*`).
            let mut unbounded = false;
            for x in xs.iter().rev() {
                match x.kind() {
                    // Assertions at the end (`\b`, `$`) do not consume.
                    HirKind::Look(_) => continue,
                    HirKind::Repetition(r) if r.min == 0 => {
                        if !optional_bytes(&r.sub, set) {
                            return false;
                        }
                        unbounded |= r.max.is_none();
                    }
                    _ => {
                        let mut with = *set;
                        if tail(x, &mut with) {
                            *set = with;
                            return true;
                        }
                        return unbounded;
                    }
                }
            }
            unbounded
        }
        HirKind::Alternation(xs) => {
            let mut all = true;
            for x in xs.iter() {
                all &= tail(x, set);
            }
            all
        }
        _ => false,
    }
}

/// The bytes an optional trailing part can hold (literals and classes only).
fn optional_bytes(h: &Hir, set: &mut ByteSet) -> bool {
    match h.kind() {
        HirKind::Literal(l) => {
            for &b in l.0.iter() {
                set.add(b);
            }
            true
        }
        HirKind::Class(c) => {
            set.union(&class_set(c));
            true
        }
        HirKind::Capture(c) => optional_bytes(&c.sub, set),
        HirKind::Concat(xs) | HirKind::Alternation(xs) => xs.iter().all(|x| optional_bytes(x, set)),
        HirKind::Repetition(r) => optional_bytes(&r.sub, set),
        HirKind::Empty | HirKind::Look(_) => true,
    }
}

#[cfg(test)]
mod tests {
    use super::super::analyze::parse;
    use super::super::rules::ascii_boundaries;
    use super::*;

    fn tail_of(re: &str, g: &[usize]) -> Option<String> {
        let h = parse(&ascii_boundaries(re)).unwrap();
        tail_class(&h, g).map(|s| {
            (0u8..128)
                .filter(|&b| s.contains(b))
                .map(char::from)
                .filter(|c| c.is_ascii_graphic())
                .collect()
        })
    }

    #[test]
    fn tails_of_pack_shapes() {
        assert_eq!(
            tail_of(r"(?i)\bbearer\s+([A-Za-z0-9\-._~+/]{16,}=*)", &[1]).as_deref(),
            Some("+-./0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz~")
        );
        assert_eq!(tail_of(r"\bghp_[A-Za-z0-9]{30,40}\b", &[]), None);
        assert_eq!(
            tail_of(r"\bya29\.[0-9A-Za-z_\-]{20,}", &[]).map(|s| s.len()),
            Some(64)
        );
        assert_eq!(
            tail_of(
                r"\bey[A-Za-z0-9_\-]{10,}\.ey[A-Za-z0-9_\-]{2,}\.[A-Za-z0-9_\-]*",
                &[]
            )
            .map(|s| s.len()),
            Some(64)
        );
        // Alternatives must all end in a run.
        assert_eq!(
            tail_of(r"(?:a[0-9]+|b[a-z]+)", &[]).map(|s| s.len()),
            Some(36)
        );
        assert_eq!(tail_of(r"(?:a[0-9]+|b)", &[]), None);
    }
}
