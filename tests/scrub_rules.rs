//! Every rule's inline tp/fp examples, through the rule alone and through the production engine.

use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::engine::{Engine, FastEngine};
use spanward::scrub::rules::{Category, PackSource, RuleSet};
use spanward::scrub::{RedactionConfig, Scrubber};
use std::sync::Arc;

fn default_set() -> Arc<RuleSet> {
    Arc::new(RuleSet::from_packs(&RuleSet::default_sources(), &[], &[], false).unwrap())
}

#[test]
fn every_rule_examples_pass() {
    let set = default_set();
    let mut failures = Vec::new();
    for r in &set.rules {
        if let Err(e) = r.self_test() {
            failures.push(e.to_string());
        }
        assert!(!r.tp.is_empty(), "rule {} has no tp example", r.id);
        assert!(!r.fp.is_empty(), "rule {} has no fp example", r.id);
    }
    assert!(
        failures.is_empty(),
        "{} rules fail their examples:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn engine_finds_every_tp() {
    let set = default_set();
    let eng = FastEngine::new(set.clone()).unwrap();
    let mut missed = Vec::new();
    for (i, r) in set.rules.iter().enumerate() {
        for (k, tp) in r.tp.iter().enumerate() {
            let mut out = Vec::new();
            eng.find(tp, &mut out);
            if !out.iter().any(|m| m.rule as usize == i) {
                missed.push(format!("{} tp #{}", r.id, k + 1));
            }
        }
    }
    assert!(missed.is_empty(), "engine missed: {missed:?}");
}

#[test]
fn pack_coverage() {
    let set = default_set();
    let secrets = set
        .rules
        .iter()
        .filter(|r| r.category == Category::Secret)
        .count();
    assert!(secrets >= 60, "only {secrets} secret rules");
    for t in [
        "email",
        "phone",
        "credit_card",
        "iban",
        "us_ssn",
        "ipv4",
        "ipv6",
        "mac_address",
    ] {
        assert!(set.types.iter().any(|x| &**x == t), "no {t} rule");
    }
}

#[test]
fn scrubber_new_runs_checks() {
    let key = HmacKey::from_bytes(vec![1; 32], None, KeySource::File);
    Scrubber::new(&RedactionConfig::default(), key).unwrap();
}

fn load_err(pack: &str) -> String {
    let src = [PackSource {
        origin: "test.toml".into(),
        text: pack,
    }];
    RuleSet::from_packs(&src, &[], &[], true)
        .unwrap_err()
        .to_string()
}

#[test]
fn bad_packs_name_the_rule() {
    let head = "[pack]\nname = \"t\"\n";
    let e = load_err(&format!(
        "{head}[[rules]]\nid = \"broken\"\ntype = \"x\"\nregex = 'a(b'\ntp = [\"ab\"]\n"
    ));
    assert!(e.contains("broken") && e.contains("regex"), "{e}");
    let e = load_err(&format!(
        "{head}[[rules]]\nid = \"misses\"\ntype = \"x\"\nregex = 'abc'\ntp = [\"xyz\"]\n"
    ));
    assert!(e.contains("misses") && e.contains("tp example #1"), "{e}");
    let e = load_err(&format!("{head}[[rules]]\nid = \"greedy\"\ntype = \"x\"\nregex = 'abc'\ntp = [\"abc\"]\nfp = [\"ok\", \"xabcx\"]\n"));
    assert!(e.contains("greedy") && e.contains("fp example #2"), "{e}");
    let e = load_err(&format!(
        "{head}[[rules]]\nid = \"val\"\ntype = \"x\"\nregex = 'abc'\nvalidator = \"nope\"\n"
    ));
    assert!(e.contains("val") && e.contains("nope"), "{e}");
}

#[test]
fn user_pack_overrides_by_id() {
    let user = "[pack]\nname = \"u\"\ncategory = \"pii\"\n[[rules]]\nid = \"email\"\ntype = \"email\"\nregex = 'zz@zz'\nkeywords = [\"@\"]\ntp = [\"zz@zz\"]\n\
                [[rules]]\nid = \"employee_id\"\ntype = \"employee_id\"\nregex = '\\bEMP-[0-9]{6}\\b'\nkeywords = [\"EMP-\"]\ntp = [\"EMP-123456\"]\nfp = [\"EMP-12\"]\n";
    let mut srcs = RuleSet::default_sources();
    srcs.push(PackSource {
        origin: "user.toml".into(),
        text: user,
    });
    let set = RuleSet::from_packs(&srcs, &[], &[], true).unwrap();
    let email = set.rules.iter().find(|r| &*r.id == "email").unwrap();
    assert_eq!(&*email.pack, "u");
    assert!(set.rules.iter().any(|r| &*r.id == "employee_id"));
}

/// Found by the `scrub` fuzz target: a token recognised by its `Bearer` context in one place
/// survived where the same text appeared without that context.
#[test]
fn a_found_secret_is_redacted_wherever_it_recurs() {
    let s = Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![3; 32], None, KeySource::File),
    )
    .unwrap();
    let token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl";
    for text in [
        format!("retrying with {token} after Authorization: Bearer {token}"),
        format!("Authorization: Bearer {token}; echo {token}|base64 -d"),
        format!("{{\"a\":\"{token}\",\"h\":\"Bearer {token}\"}}"),
    ] {
        let out = s.scrub_str(&text);
        assert!(!out.contains(token), "{text:?} -> {out:?}");
        assert!(!out.contains("eyJhbGciOiJIUzI1NiJ9"), "{out:?}");
        assert_eq!(s.scrub_str(&out), out, "not idempotent");
    }
    // The fuzzer's input itself (context broken by invalid UTF-8, lossily decoded).
    let raw = b"Authoriz)ation8 Bear\x9b\x8a eyJhbGciOiJIUzI1NiJ9.eyJ:dW\xb8\x96OiIxMjM0In0.c2ln/bmF0dXJlL\x01Authoriz)ation8 Bearer eyJhbGciOiJIUzI1NiJ9.eyJ:dW\xb8\x96OiIxMjM0In0.c2lnbmF0dXJlLMZha2UMZha2U";
    let text = String::from_utf8_lossy(raw);
    let out = s.scrub_str(&text);
    assert!(!out.contains("eyJhbGciOiJIUzI1NiJ9.eyJ"), "{out:?}");
    // Second fuzz find: the value was part of a longer merged match (`token=ghp_…`) and recurred
    // on its own after an unknown key.
    let text = "poqtn=ghp_0123456789abcdefgh\u{fffd}\u{3} gres:a/p/ps \u{1}token=ghp_0123456789abcdefgh\u{fffd}\u{3},interna345l:5432/x";
    let out = s.scrub_str(text);
    assert!(!out.contains("ghp_0123456789abcdefgh"), "{out:?}");
}

/// The group a rule's secret is taken from, by the capture engine, for match `m`.
fn captured_group(
    r: &spanward::scrub::rules::Rule,
    text: &str,
    m: std::ops::Range<usize>,
) -> std::ops::Range<usize> {
    use regex_automata::{Anchored, Input};
    let mut caps = r.regex.create_captures();
    r.regex.search_captures(
        &Input::new(text).span(m.clone()).anchored(Anchored::Yes),
        &mut caps,
    );
    assert_eq!(
        caps.get_match().map(|x| x.range()),
        Some(m.clone()),
        "{}",
        r.id
    );
    r.secret_group
        .iter()
        .find_map(|&g| caps.get_group(g))
        .map_or(m.start..m.start, |g| g.range())
}

/// Every match of every rule with a group split in `text`: the split's group, where it gives
/// one, is the capture engine's. Returns how many matches the split answered.
fn splits_agree(set: &RuleSet, text: &str) -> Result<usize, String> {
    let mut answered = 0;
    for r in set.rules.iter() {
        if r.split.is_none() && r.dfa_split.is_none() {
            continue;
        }
        for m in r.regex.find_iter(text) {
            if let Some(g) = r.derived_group(text, m.range()) {
                answered += 1;
                let want = captured_group(r, text, m.range());
                if g != want {
                    return Err(format!(
                        "{}: split {g:?} != captures {want:?} in {text:?}",
                        r.id
                    ));
                }
            }
        }
    }
    Ok(answered)
}

#[test]
fn group_splits_agree_with_the_capture_engine() {
    let set = default_set();
    // The shortcut must keep covering the frequent keywordless rules, or it silently stops
    // paying for itself.
    let ids = |p: fn(&spanward::scrub::rules::Rule) -> bool| -> Vec<&str> {
        set.rules.iter().filter(|r| p(r)).map(|r| &*r.id).collect()
    };
    let with = ids(|r| r.split.is_some());
    for id in ["phone_e164", "phone_national", "credit_card", "us_ssn"] {
        assert!(with.contains(&id), "{id} has no group split: {with:?}");
    }
    let with_dfa = ids(|r| r.dfa_split.is_some());
    for id in [
        "generic_secret_near_keyword",
        "authorization_bearer",
        "authorization_header",
    ] {
        assert!(
            with_dfa.contains(&id),
            "{id} has no DFA split: {with_dfa:?}"
        );
    }
    for r in set
        .rules
        .iter()
        .filter(|r| r.split.is_some() || r.dfa_split.is_some())
    {
        let mut answered = 0;
        for ex in r.tp.iter().chain(r.fp.iter()) {
            for t in [
                ex.clone(),
                format!("x{ex}"),
                format!("{ex}x"),
                format!(" {ex} "),
                format!("é{ex}é"),
                format!("a-{ex}-b"),
                format!("\n{ex}\n"),
                format!("({ex}), {ex}"),
            ] {
                answered += splits_agree(&set, &t).unwrap();
            }
        }
        assert!(
            answered > 0,
            "{}: the split never answered on its examples",
            r.id
        );
    }
}

proptest::proptest! {
    #[test]
    fn group_splits_agree_on_generated_text(
        t in "[0-9 +().:~Qa-fA-F/é\n-]{0,60}|(api|key|token|secret|auth|bearer |basic |authorization|password|pwd| is |=|:|=>|;|&|\\(|\\)|\"|'|`| |abcd|XYZ0123456789|_|-|\\.|/|\\+|\n|é){0,40}"
    ) {
        static SET: std::sync::OnceLock<Arc<RuleSet>> = std::sync::OnceLock::new();
        let set = SET.get_or_init(default_set);
        let r = splits_agree(set, &t);
        proptest::prop_assert!(r.is_ok(), "{:?}", r);
    }
}
