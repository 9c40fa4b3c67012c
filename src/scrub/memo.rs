//! A per-thread memo of short strings a scrubber found nothing in, and of the key-rule decisions
//! for attribute keys.
//!
//! Spans repeat the same short strings all the time: attribute keys (`gen_ai.input.messages`),
//! span and event names, model names, operation names. Scanning one costs a full engine call
//! (a fixed cost that dominates for short text); looking it up costs one hash. Only strings the
//! engine left unchanged are remembered, so a memo hit is exactly what a scan would have said.
//!
//! The memo is per worker thread (no lock on the hot path) and per [`super::Scrubber`] (a reload
//! builds a new scrubber with other rules; its id differs, so the old entries are discarded).
//! It is bounded: strings longer than [`MAX_BYTES`] are never remembered, and a full memo is
//! emptied, so high-cardinality values (ids, timestamps) cost at most a hash and an insert each.
//!
//! Hasher: foldhash, not the standard SipHash. Every attribute key and short value of every
//! span is hashed here, and SipHash showed as 3 % of the full pipeline's CPU in perf. SipHash's
//! flooding resistance buys nothing here: the memo holds at most [`MAX_ENTRIES`] entries and is
//! emptied when full, so crafted colliding keys cost a bounded number of comparisons per
//! lookup, and foldhash's per-process random seed still keeps them from being precomputed.

use std::cell::RefCell;
use std::collections::HashMap;

type Map = HashMap<Box<str>, u8, foldhash::fast::RandomState>;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest string remembered, in bytes.
pub(crate) const MAX_BYTES: usize = 96;
/// Entries per thread before the memo is emptied (at most ~150 KB per worker thread).
const MAX_ENTRIES: usize = 1024;

/// Key-rule decisions are computed (set), and their results.
const KEY_DONE: u8 = 1;
const KEY_DROPPED: u8 = 2;
const KEY_BLOCKED: u8 = 4;
const KEY_ALLOWED: u8 = 8;

/// The key rules that apply to an attribute key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyClass {
    pub dropped: bool,
    pub blocked: bool,
    pub allowed: bool,
}

impl KeyClass {
    fn bits(self) -> u8 {
        KEY_DONE
            | if self.dropped { KEY_DROPPED } else { 0 }
            | if self.blocked { KEY_BLOCKED } else { 0 }
            | if self.allowed { KEY_ALLOWED } else { 0 }
    }

    fn from_bits(b: u8) -> Option<KeyClass> {
        (b & KEY_DONE != 0).then_some(KeyClass {
            dropped: b & KEY_DROPPED != 0,
            blocked: b & KEY_BLOCKED != 0,
            allowed: b & KEY_ALLOWED != 0,
        })
    }
}

/// A fresh id for each scrubber.
pub(crate) fn next_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

struct Memo {
    owner: u64,
    /// Clean strings → key-rule bits (0 until asked as a key).
    clean: Map,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo {
        owner: 0,
        clean: Map::default(),
    });
}

fn with<R>(owner: u64, f: impl FnOnce(&mut Map) -> R) -> R {
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.owner != owner {
            m.owner = owner;
            m.clean.clear();
        }
        f(&mut m.clean)
    })
}

/// Whether `text` is known to scan clean under scrubber `owner`.
pub(crate) fn is_clean(owner: u64, text: &str) -> bool {
    text.len() <= MAX_BYTES && with(owner, |c| c.contains_key(text))
}

/// Remembers that `text` scanned clean under scrubber `owner`.
pub(crate) fn note_clean(owner: u64, text: &str) {
    if text.len() > MAX_BYTES {
        return;
    }
    with(owner, |c| {
        if c.len() >= MAX_ENTRIES {
            c.clear();
        }
        c.entry(text.into()).or_insert(0);
    })
}

/// The key rules for `key`, computed by `classify` unless remembered. Only keys already known
/// clean are remembered (they are the ones that repeat; the decision for a rewritten key is
/// computed each time).
pub(crate) fn key_class(owner: u64, key: &str, classify: impl FnOnce() -> KeyClass) -> KeyClass {
    if key.len() > MAX_BYTES {
        return classify();
    }
    let known = with(owner, |c| c.get(key).copied());
    match known {
        Some(bits) => match KeyClass::from_bits(bits) {
            Some(k) => k,
            None => {
                let k = classify();
                with(owner, |c| {
                    if let Some(b) = c.get_mut(key) {
                        *b = k.bits();
                    }
                });
                k
            }
        },
        None => classify(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_per_owner_and_bounds_itself() {
        let (a, b) = (next_id(), next_id());
        assert!(!is_clean(a, "gen_ai.request.model"));
        note_clean(a, "gen_ai.request.model");
        assert!(is_clean(a, "gen_ai.request.model"));
        // Another scrubber (other rules) starts from nothing.
        assert!(!is_clean(b, "gen_ai.request.model"));
        assert!(!is_clean(a, "gen_ai.request.model"));
        // Long strings are never remembered.
        let long = "x".repeat(MAX_BYTES + 1);
        note_clean(a, &long);
        assert!(!is_clean(a, &long));
        // A full memo empties itself instead of growing.
        for i in 0..MAX_ENTRIES + 10 {
            note_clean(a, &format!("k{i}"));
        }
        let n = with(a, |c| c.len());
        assert!(n > 0 && n <= MAX_ENTRIES, "{n}");
    }

    #[test]
    fn key_classes_are_remembered_only_for_clean_keys() {
        let a = next_id();
        let yes = KeyClass {
            dropped: false,
            blocked: true,
            allowed: false,
        };
        let calls = std::cell::Cell::new(0);
        let ask = |k: &str| {
            key_class(a, k, || {
                calls.set(calls.get() + 1);
                yes
            })
        };
        assert_eq!(ask("db.password"), yes);
        assert_eq!(ask("db.password"), yes);
        // Not known clean: computed each time.
        assert_eq!(calls.get(), 2);
        note_clean(a, "db.password");
        assert_eq!(ask("db.password"), yes);
        assert_eq!(ask("db.password"), yes);
        // Known clean: computed once more, then remembered.
        assert_eq!(calls.get(), 3);
    }
}
