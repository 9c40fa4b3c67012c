//! The production engine's shortcuts (anchored confirmation at keyword hits, gated keywordless
//! pass) must redact exactly the bytes the naive engine (every rule's regex over the whole
//! string) redacts, on the project's own corpus (and the shared one when present), on every
//! rule's examples, and on generated text.

use proptest::prelude::*;
use spanward::scrub::engine::{resolve, Engine, FastEngine, NaiveEngine};
use spanward::scrub::rules::RuleSet;
use std::sync::{Arc, OnceLock};

mod corpus;

fn engines() -> &'static (Arc<RuleSet>, FastEngine, NaiveEngine) {
    static E: OnceLock<(Arc<RuleSet>, FastEngine, NaiveEngine)> = OnceLock::new();
    E.get_or_init(|| {
        let set =
            Arc::new(RuleSet::from_packs(&RuleSet::default_sources(), &[], &[], false).unwrap());
        let fast = FastEngine::new(set.clone()).unwrap();
        let naive = NaiveEngine::new(set.clone());
        (set, fast, naive)
    })
}

/// Redacted byte ranges (labels may differ where two rules cover the same bytes).
fn covered(e: &dyn Engine, set: &RuleSet, text: &str) -> Vec<(usize, usize)> {
    let mut ms = Vec::new();
    e.find(text, &mut ms);
    resolve(set, &mut ms);
    ms.iter().map(|m| (m.start, m.end)).collect()
}

fn same(text: &str) -> Result<(), String> {
    let (set, fast, naive) = engines();
    let (a, b) = (covered(fast, set, text), covered(naive, set, text));
    if a == b {
        Ok(())
    } else {
        Err(format!(
            "fast {a:?} != naive {b:?} (text of {} bytes)",
            text.len()
        ))
    }
}

#[test]
fn corpus_and_examples_match_naive() {
    let (set, _, _) = engines();
    let mut texts: Vec<String> = set
        .rules
        .iter()
        .flat_map(|r| r.tp.iter().chain(r.fp.iter()).cloned())
        .collect();
    texts.extend(corpus::own().1.into_iter().map(|r| r.text));
    if let Some((_, shared)) = corpus::shared("scrub_engine_diff") {
        texts.extend(shared.into_iter().map(|r| r.text));
    }
    let bad: Vec<String> = texts.iter().filter_map(|t| same(t).err()).collect();
    assert!(
        bad.is_empty(),
        "{} of {} differ: {:?}",
        bad.len(),
        texts.len(),
        &bad[..bad.len().min(5)]
    );
}

#[test]
fn hot_rules_are_confirmed_at_the_hit() {
    let (_, fast, _) = engines();
    let plans = fast.strategies();
    for id in ["secret_assignment", "password_assignment", "private_key"] {
        let how = &plans.iter().find(|(r, _)| r == id).unwrap().1;
        assert!(how.starts_with("built-in detector"), "{id}: {how}");
    }
    for id in [
        "generic_secret_near_keyword",
        "authorization_bearer",
        "jwt",
        "github_pat",
    ] {
        let how = &plans.iter().find(|(r, _)| r == id).unwrap().1;
        assert!(how.starts_with("anchored"), "{id}: {how}");
    }
    for (id, how) in &plans {
        assert!(
            !how.contains("whole-string"),
            "{id} scans whole strings: {how}"
        );
    }
}

/// The keywordless gates are searched in blocks of bytes: a value whose gate pair sits at or
/// straddles a block edge, at the start or the end of the string, with one or two values per
/// string (first and last gate), is found exactly as the naive engine finds it.
#[test]
fn keywordless_values_at_every_offset() {
    let (set, fast, _) = engines();
    let mut found = 0;
    for v in [
        "+44 20 7946 0958",
        "10.1.2.3",
        "4111 1111 1111 1111",
        "078-05-1120",
    ] {
        for pad in 0..40 {
            let lead = "word ".repeat(8);
            for text in [
                format!("{} {v} and more words here", &lead[..pad]),
                format!("{} {v}", &lead[..pad]),
                format!("{} {v} then {v} again {}", &lead[..pad], &lead[..pad / 2]),
            ] {
                same(&text).unwrap();
                found += usize::from(!covered(fast, set, &text).is_empty());
            }
        }
    }
    // Every string holds a value the packs redact, so every one must have a match.
    assert_eq!(found, 4 * 40 * 3);
}

/// The keyword automaton of the default packs fits in 16-bit entries with case-folded classes
/// (the `aho-corasick` crate's own table for the same keywords is 508 KiB): the scan's table
/// loads stay close to the core. Not a timing: a size the table layout guarantees.
#[test]
fn default_keyword_table_is_compact() {
    let (_, fast, _) = engines();
    let bytes = fast.keyword_table_bytes();
    println!("keyword table: {bytes} bytes");
    assert!(bytes > 0 && bytes <= 128 * 1024, "{bytes} bytes");
}

fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z ]{0,12}",
        "[0-9 .:+()-]{1,24}",
        "[A-Z]{2}[0-9]{2}[A-Z0-9 ]{10,30}",
        "[0-9a-f:]{2,40}",
        Just("api_key=".to_string()),
        Just(" token: ".to_string()),
        Just("password=".to_string()),
        Just("Authorization: Bearer ".to_string()),
        Just("@example.com ".to_string()),
        Just("ghp_".to_string()),
        Just("sk-".to_string()),
        Just("\"secret\": \"".to_string()),
        "[A-Za-z0-9_+/=.-]{8,48}",
    ]
}

proptest! {
    #[test]
    fn generated_text_matches_naive(parts in prop::collection::vec(piece(), 1..12)) {
        let text: String = parts.concat();
        prop_assert!(same(&text).is_ok(), "{}", same(&text).unwrap_err());
    }
}

/// Rules whose matches start at a word boundary skip keyword hits without one (`hotel` holds
/// `tel`): every rule's examples behind each kind of neighbouring byte (word byte, digit,
/// underscore, space, punctuation, non-ASCII, none), and the keyword glued to a word, are
/// redacted exactly as the naive engine redacts them.
#[test]
fn word_boundary_starts_match_naive() {
    let (set, fast, _) = engines();
    let mut found = 0;
    for r in &set.rules {
        for ex in &r.tp {
            for lead in ["", "x", "Q", "7", "_", " ", "-", "é", "hotel ", "ho"] {
                let text = format!("{lead}{ex}");
                same(&text).unwrap();
                found += usize::from(!covered(fast, set, &text).is_empty());
            }
        }
    }
    for text in [
        "hotel 4155552671",
        "the hotel: 4155552671",
        "motel tel 4155552671",
        "cellphone 07700900123",
        "excellent call me at 5551234567",
        "recall 5551234567",
        "tel:4155552671",
        "Tel 4155552671",
    ] {
        same(text).unwrap();
    }
    // With no prefix or a separating one, the examples must still be found.
    assert!(found > set.rules.len(), "{found} matched examples");
    // The phone rule's context words must still work at a boundary and nowhere else.
    assert!(!covered(fast, set, "tel 4155552671").is_empty());
    assert!(covered(fast, set, "hotel 4155552671").is_empty());
}
