use super::*;

#[test]
fn echo_hits_finds_overlapping_occurrences_with_few_or_many_values() {
    let t = "x abcdefgh12XYZW99 y abcdefgh12 z";
    for extra in [0usize, 10] {
        let mut echoes = vec![("abcdefgh12".to_string(), 1), ("gh12XYZW99".to_string(), 2)];
        echoes.extend((0..extra).map(|i| (format!("unrelated{i:04}"), 3)));
        let mut found = Vec::new();
        echo_hits(t, &echoes, &mut found);
        let mut got: Vec<(usize, usize, u32)> =
            found.iter().map(|h| (h.start, h.end, h.rule)).collect();
        got.sort_unstable();
        assert_eq!(
            got,
            vec![(2, 12, 1), (8, 18, 2), (21, 31, 1)],
            "{extra} extra values"
        );
    }
}

#[test]
fn chains_join_wrapped_runs() {
    let t = "jwt: eyJhbGciOiJIUzI1NiJ9.eyJzdWIi\nOiIxMjM0NTY3ODkwIn0.sig\nnext line here";
    let mut out = Vec::new();
    join_chains(t, &mut out);
    assert_eq!(out.len(), 1);
    let joined: String = out[0].iter().map(|r| &t[r.clone()]).collect();
    assert_eq!(
        joined,
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.sig"
    );
    // Short word pairs, a next line's first word, a header or an assignment: no chain.
    for t in [
        "a b\nc d\n",
        "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.sig\nNext step",
        "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.sig\nContent-Type: application/json",
        "PASSWORD=hunter2hunter2\nUSER=bob",
        "key = 0123456789abcdef\nregion = us-east-2",
    ] {
        let mut out = Vec::new();
        join_chains(t, &mut out);
        assert!(out.is_empty(), "{t:?}");
    }
}

#[test]
fn wrapped_values_continue_over_whole_lines_of_material() {
    let t = "secret = RjBMxT6rEOpBozZ/oLrs\n0PqCD8/1QJSTK6NMpQdi\nregion = us-east-2";
    let end = t.find("\nregion").unwrap();
    assert_eq!(
        continue_lines(
            t.as_bytes(),
            t.find("\n0Pq").unwrap(),
            &mut Default::default()
        ),
        end
    );
    let t = "Authorization: Basic\r\n ZXRsLXJ1bm5lcjp3OFB0aW5m\r\n Content-Type: x";
    let end = t.find("\r\n Content").unwrap();
    assert_eq!(
        continue_lines(t.as_bytes(), 20, &mut Default::default()),
        end
    );
    for (t, at) in [
        (&b"pw=hunter2hunter2\nUSER=bob"[..], 17),
        (b"t=abc\nDone.", 5),
        (b"t=abc\n2024-06-01", 5),
        (b"t=abc\nok", 5),
    ] {
        assert_eq!(
            continue_lines(t, at, &mut Default::default()),
            at,
            "{:?}",
            std::str::from_utf8(t)
        );
    }
}
