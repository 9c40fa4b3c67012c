use super::*;
use proptest::prelude::*;

#[test]
fn word_boundary_is_ascii_and_sees_both_sides() {
    let b = "ab cé_1".as_bytes();
    // Bytes: a b ' ' c 0xC3 0xA9 _ 1. Start and end of the text, inside a word, next to
    // a space, and on both sides of and inside a non-ASCII character.
    let want = [
        (0, true),
        (1, false),
        (2, true),
        (3, true),
        (4, true),
        (5, false),
        (6, true),
        (7, false),
        (b.len(), true),
    ];
    for (i, w) in want {
        assert_eq!(word_boundary(b, i), w, "at {i}");
    }
    assert!(!word_boundary(b"", 0));
    assert!(word_boundary(b"x", 1));
}

#[test]
fn regexes_opening_with_a_word_boundary() {
    let starts = |re: &str| {
        let h = analyze::parse(&ascii_boundaries(re)).unwrap();
        analyze::starts_at_word_boundary(&h)
    };
    assert!(starts(r"\b(?:tel|phone)\b[0-9]+"));
    assert!(starts(r"(?i)\bkey"));
    assert!(starts(r"\b"));
    assert!(!starts(r"tel\b"));
    assert!(!starts(r"(?:\btel|fax)"));
    assert!(!starts(r"\Btel"));
    assert!(!starts(r"(\btel)"));
}

fn engine() -> &'static FastEngine {
    static E: std::sync::OnceLock<FastEngine> = std::sync::OnceLock::new();
    E.get_or_init(|| {
        let set = RuleSet::from_packs(&RuleSet::default_sources(), &[], &[], false).unwrap();
        FastEngine::new(Arc::new(set)).unwrap()
    })
}

proptest! {
    /// The block-wise gate search finds the same first and last gate hit as testing every
    /// position, wherever the hits fall relative to the blocks.
    #[test]
    fn block_gate_search_finds_the_first_and_last_hit(text in "[a-z +.:(0-9-]{0,80}") {
        let e = engine();
        let b = text.as_bytes();
        let hit = |p: usize| e.gate_hit(b, p);
        let lo = (0..b.len()).find(|&p| hit(p));
        prop_assert_eq!(e.first_gate(b, hit), lo);
        if let Some(lo) = lo {
            prop_assert_eq!(e.last_gate(b, lo, hit), (lo..b.len()).rev().find(|&p| hit(p)));
        }
    }
}

#[test]
fn a_lone_gate_at_every_block_offset() {
    let e = engine();
    for n in [1usize, 15, 16, 17, 31, 32, 33, 50] {
        for at in 0..n {
            let mut t = vec![b'x'; n];
            t[at] = b'+';
            if at + 1 < n {
                t[at + 1] = b'4';
            }
            let hit = |p: usize| e.gate_hit(&t, p);
            let want = (0..n).find(|&p| hit(p));
            assert_eq!(e.first_gate(&t, hit), want, "n {n} at {at}");
            if let Some(lo) = want {
                assert_eq!(e.last_gate(&t, lo, hit), (lo..n).rev().find(|&p| hit(p)));
            }
        }
    }
}
