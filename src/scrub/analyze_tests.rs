use super::*;

#[test]
fn prefixes() {
    let h = parse(r"(?-u:\b)ghp_[A-Za-z0-9]{30,40}(?-u:\b)").unwrap();
    assert!(starts_with_keyword(&h, &["ghp_".into()]));
    assert!(!starts_with_keyword(&h, &["gho_".into()]));
    let h = parse(r"(?i)[a-z]*secret=").unwrap();
    assert!(!starts_with_keyword(&h, &["secret".into()]));
    let h = parse(r"(?i)bearer\s+x").unwrap();
    assert!(starts_with_keyword(&h, &["bearer".into()]));
    let h = parse(r"(?i)[a-z0-9_]*(?:secret|token)\s*=").unwrap();
    let c = leading_run(&h, &["secret".into(), "token".into()]).unwrap();
    assert!(c.contains(b'_') && c.contains(b'Q') && !c.contains(b'='));
    let h = parse(r"A{22}[a-z]+").unwrap();
    assert!(starts_with_keyword(&h, &["AAAAAAAAAAAAAAAAAAAAA".into()]));
}

#[test]
fn triggers() {
    let h = parse(r"(?:^|[^0-9A-Za-z+])(\+[1-9][0-9]{0,3})").unwrap();
    let t = trigger_bytes(&h).unwrap();
    assert!(t.contains(b'+'));
    assert!(!t.contains(b'1'));
    let h = parse(r"[0-9]{4}(?: [0-9]{4}){2}").unwrap();
    let t = trigger_bytes(&h).unwrap();
    assert!(t.contains(b'7') && !t.contains(b' '));
    assert!(trigger_bytes(&parse(r"[a-z ]+").unwrap()).is_none());
    // Pairs: a digit then a dot for IPv4-like patterns; `+` then a digit for E.164.
    let t = trigger(&parse(r"(?:[0-9]{1,3}\.){3}[0-9]{1,3}").unwrap()).unwrap();
    assert!(t.first.contains(b'7') && t.second.contains(b'.') && !t.second.contains(b'7'));
    let t = trigger(&parse(r"(?:^|[^0-9])(\+[1-9][0-9]{3,})").unwrap()).unwrap();
    assert!(t.first.contains(b'+') && !t.first.contains(b'5') && t.second.contains(b'5'));
    let t =
        trigger(&parse(r"[0-9a-f]{2}(?::[0-9a-f]{2}){5}|[0-9a-f]{2}(?:-[0-9a-f]{2}){5}").unwrap())
            .unwrap();
    let seps = |b: &ByteSet| b.contains(b':') && b.contains(b'-') && !b.contains(b'x');
    assert!(seps(&t.first) || seps(&t.second));
    assert!(trigger_bytes(&parse(r"x?").unwrap()).is_none());
    assert_eq!(max_len(&parse(r"ab{1,3}").unwrap()), Some(4));
    assert_eq!(max_len(&parse(r"ab+").unwrap()), None);
}

#[test]
fn group_splits() {
    let split = |re: &str, g: usize| group_split(&parse(re).unwrap(), &[g]);
    let s = split(r"(?:^|[^0-9A-Za-z+])(\+[1-9][0-9]{4,})(?-u:\b)", 1).unwrap();
    assert!(matches!(s.lead, Edge::Char(_)) && matches!(s.trail, Edge::Flush));
    let t = "call +4420 now";
    assert_eq!(s.apply(t, 4..10), Some(5..10));
    // At the text start `^` may have matched: left to the capture engine.
    assert_eq!(s.apply("+44201", 0..6), None);
    // A lead character outside the class: not this shape after all, no guess.
    assert_eq!(s.apply("x+44201", 0..7), None);
    let s = split(r"(?:^|[^a-z])([a-z]{3}Q~[a-z]{3})(?:$|[^a-z])", 1).unwrap();
    assert_eq!(s.apply("x-abcQ~def-y", 1..11), Some(2..10));
    assert_eq!(s.apply("é abcQ~def", 2..12), None);
    assert_eq!(s.apply("é abcQ~def!z", 2..12), Some(3..11));
    // A multi-byte class character at either edge.
    assert_eq!(s.apply("xéabcQ~defé ", 1..13), Some(3..11));
    let s = split(r"(?:^|[^0-9])é?([0-9]{3})", 1);
    assert!(s.is_none(), "two lead parts");
    assert!(split(r"(?i)\bbearer\s+([a-z]{16,})", 1).is_none());
    assert!(split(r"(?:^|[^0-9])([0-9]{3})(?:%[a-z]+)?(?:[^0-9]|$)", 1).is_none());
    assert!(split(r"(?m)(?:^|[^0-9])([0-9]{3})", 1).is_none());
    assert!(group_split(&parse(r"(a)|(b)").unwrap(), &[1]).is_none());
    assert!(group_split(&parse(r"(?:^|x)(a)(b)").unwrap(), &[1, 2]).is_none());
    // DFA splits: the branch taken is the first that matches the rest, as the backtracker's.
    let d = dfa_split(&parse(r#"x=\s*(?:"([a-z]*)"|([^\n]*))"#).unwrap(), &[1, 2]).unwrap();
    assert_eq!(d.apply(r#"x="ab""#, 0..6), Some(3..5));
    assert_eq!(d.apply(r#"x="ab"c"#, 0..7), Some(2..7));
    // `\s*` may take the space or leave it to `[^\n]*`: two splits, left to captures.
    assert_eq!(d.apply("x= ab", 0..5), None);
    // The same ambiguity with one group.
    let d = dfa_split(&parse(r"x=\s*(\s*[a-z]+)").unwrap(), &[1]).unwrap();
    assert_eq!(d.apply("x= ab", 0..5), None);
    assert!(dfa_split(&parse(r"x=([a-z]+)y").unwrap(), &[1]).is_none());
    assert!(dfa_split(&parse(r"x=(?:([a-z]+)|([0-9]+))").unwrap(), &[1]).is_none());
    // Assertions are zero-width wherever they sit.
    assert!(split(r"(?-u:\b)(?:^|[^0-9])(?-u:\b)([0-9]{3})(?-u:\b)", 1).is_some());
}
