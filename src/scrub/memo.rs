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
//! It is bounded: a full memo is emptied, so high-cardinality values (ids, timestamps) cost at
//! most a hash and an insert each.
//!
//! Long strings (over [`MAX_BYTES`]) are remembered by a 128-bit keyed digest of their bytes,
//! never by their text: agents repeat their system prompt, tool schemas and few-shot examples in
//! every call, and scanning a 4 KB prompt costs tens of microseconds where the digest costs one
//! or two. The digest is SipHash-1-3 with 128-bit output under a key drawn at random once per
//! process and never written anywhere: without the key nobody can craft a string that collides
//! with a remembered clean one (which would then pass unscanned); with it, a collision still
//! needs about 2^64 tries. At most `redaction.memo_long_strings` digests (default 4096, 16 bytes
//! each) are kept per worker thread; `0` turns this memo off.
//!
//! Hasher: foldhash, not the standard SipHash. Every attribute key and short value of every
//! span is hashed here, and SipHash showed as 3 % of the full pipeline's CPU in perf. SipHash's
//! flooding resistance buys nothing here: the memo holds at most [`MAX_ENTRIES`] entries and is
//! emptied when full, so crafted colliding keys cost a bounded number of comparisons per
//! lookup, and foldhash's per-process random seed still keeps them from being precomputed.

use std::cell::RefCell;
use std::collections::HashMap;

type Map = HashMap<Box<str>, u8, foldhash::fast::RandomState>;
type Digests = std::collections::HashSet<u128, foldhash::fast::RandomState>;
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
    /// Digests of clean long strings.
    long: Digests,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo {
        owner: 0,
        clean: Map::default(),
        long: Digests::default(),
    });
}

fn with_memo<R>(owner: u64, f: impl FnOnce(&mut Memo) -> R) -> R {
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        if m.owner != owner {
            m.owner = owner;
            m.clean.clear();
            m.long.clear();
        }
        f(&mut m)
    })
}

fn with<R>(owner: u64, f: impl FnOnce(&mut Map) -> R) -> R {
    with_memo(owner, |m| f(&mut m.clean))
}

/// The per-process key of the long-string digests.
fn digest_key() -> (u64, u64) {
    static KEY: std::sync::OnceLock<(u64, u64)> = std::sync::OnceLock::new();
    *KEY.get_or_init(rand::random)
}

fn digest(text: &str) -> u128 {
    use siphasher::sip128::Hasher128;
    let (k0, k1) = digest_key();
    let mut h = siphasher::sip128::SipHasher13::new_with_keys(k0, k1);
    std::hash::Hasher::write(&mut h, text.as_bytes());
    h.finish128().as_u128()
}

/// What the memo knows of a string: clean, or not known (with what [`note_clean`] needs to
/// remember it, so a long string is hashed once).
pub(crate) enum Seen {
    Clean,
    New(Option<u128>),
}

/// Whether `text` is known to scan clean under scrubber `owner`; `long_entries`: the
/// long-string memo's size (`0`: off).
pub(crate) fn seen(owner: u64, text: &str, long_entries: usize) -> Seen {
    if text.len() <= MAX_BYTES {
        return match with(owner, |c| c.contains_key(text)) {
            true => Seen::Clean,
            false => Seen::New(None),
        };
    }
    if long_entries == 0 {
        return Seen::New(None);
    }
    let d = digest(text);
    match with_memo(owner, |m| m.long.contains(&d)) {
        true => Seen::Clean,
        false => Seen::New(Some(d)),
    }
}

/// Whether `text` is known to scan clean under scrubber `owner` (short strings only).
#[cfg(test)]
pub(crate) fn is_clean(owner: u64, text: &str) -> bool {
    matches!(seen(owner, text, 0), Seen::Clean)
}

/// Remembers that `text` scanned clean under scrubber `owner` (`seen`: what [`seen`] said of
/// it).
pub(crate) fn note_clean_seen(owner: u64, text: &str, seen: Seen, long_entries: usize) {
    match seen {
        Seen::Clean => {}
        Seen::New(None) => note_clean(owner, text),
        Seen::New(Some(d)) => with_memo(owner, |m| {
            if m.long.len() >= long_entries {
                m.long.clear();
            }
            m.long.insert(d);
        }),
    }
}

/// Remembers that short `text` scanned clean under scrubber `owner`.
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
    fn long_strings_are_remembered_by_digest_bounded_and_off_at_zero() {
        let a = next_id();
        let prompt = "You are a careful travel agent. ".repeat(20);
        let Seen::New(d) = seen(a, &prompt, 8) else {
            panic!("not seen yet")
        };
        assert!(d.is_some());
        note_clean_seen(a, &prompt, Seen::New(d), 8);
        assert!(matches!(seen(a, &prompt, 8), Seen::Clean));
        // One byte more is another string.
        assert!(matches!(seen(a, &format!("{prompt}."), 8), Seen::New(_)));
        // Off: never clean, never remembered.
        assert!(matches!(seen(a, &prompt, 0), Seen::New(None)));
        // Another scrubber starts from nothing.
        assert!(matches!(seen(next_id(), &prompt, 8), Seen::New(_)));
        // Bounded: a full memo empties itself.
        let b = next_id();
        for i in 0..20 {
            let t = format!("{prompt}{i}");
            let s = seen(b, &t, 8);
            note_clean_seen(b, &t, s, 8);
        }
        let n = with_memo(b, |m| m.long.len());
        assert!(n > 0 && n <= 8, "{n}");
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
