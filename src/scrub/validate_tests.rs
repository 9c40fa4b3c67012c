use super::*;

#[test]
fn templates_and_masks_stand_for_a_secret_random_runs_do_not() {
    for t in [
        "${OPENAI_API_KEY}",
        "{{ .Values.db.password }}",
        "${{ secrets.DEPLOY_KEY }}",
        "<your-client-secret>",
        "********",
        "$TOKEN",
        "%(password)s",
    ] {
        assert!(is_template_or_mask(t), "{t}");
        assert!(is_placeholder(t), "{t}");
    }
    for t in [
        "test",
        "secret",
        "<Y0KNK#p2J5iQFM>",
        "{Ww8oES9MV3qc}",
        "$cIz%9qeOD",
        "x1",
    ] {
        assert!(!is_template_or_mask(t), "{t}");
    }
    for t in ["<Y0KNK#p2J5iQFM>", "{Ww8oES9MV3qc#%}", "{Ww8oES9MV3qc}"] {
        assert!(!is_placeholder(t), "{t}");
    }
    for t in ["(hidden)", "[hidden]", "<password>", "{password}"] {
        assert!(is_placeholder(t), "{t}");
    }
}

#[test]
fn luhn_and_cards() {
    assert!(luhn_card("4111 1111 1111 1111"));
    assert!(luhn_card("5500-0000-0000-0004"));
    assert!(luhn_card("378282246310005"));
    assert!(!luhn_card("4111 1111 1111 1112"));
    // Epoch milliseconds pass Luhn sometimes but no issuer starts with 1.
    assert!(!luhn_card("1748123483118"));
    // 19 digits is the most a card has; a 20th refuses it, wherever it sits.
    assert!(luhn_card("6011 0009 9013 9424"));
    assert!(!luhn_card("6011 0009 9013 9424 0"));
    assert!(!luhn("") && !luhn("- -") && luhn("0"));
}

/// The digit-collecting Luhn check as it was written before it stopped allocating.
fn luhn_reference(s: &str) -> bool {
    let d: Vec<u32> = s
        .bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| u32::from(b - b'0'))
        .collect();
    let sum: u32 = d
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            if i % 2 == 1 {
                if x * 2 > 9 {
                    x * 2 - 9
                } else {
                    x * 2
                }
            } else {
                x
            }
        })
        .sum();
    !d.is_empty() && sum.is_multiple_of(10)
}

proptest::proptest! {
    #[test]
    fn luhn_matches_the_reference(s in "[0-9 -]{0,24}|[0-9a-z٣ -]{0,30}") {
        proptest::prop_assert_eq!(luhn(&s), luhn_reference(&s));
    }
}

#[test]
fn iban_mod97_and_length() {
    let t = "GB82 WEST 1234 5698 7654 32 NEXT";
    let r = iban(t, 0..t.len()).unwrap();
    assert_eq!(&t[r], "GB82 WEST 1234 5698 7654 32");
    assert!(iban("GB82WEST12345698765433", 0..22).is_none());
    assert!(iban("DE89370400440532013000", 0..22).is_some());
    assert!(iban("XX89370400440532013000", 0..22).is_none());
}

#[test]
fn ssn_rules() {
    assert!(us_ssn("123-45-6789"));
    assert!(!us_ssn("000-45-6789"));
    assert!(!us_ssn("666-45-6789"));
    assert!(!us_ssn("923-45-6789"));
    assert!(!us_ssn("123-00-6789"));
    assert!(!us_ssn("123-45-0000"));
}

#[test]
fn ip_versions_rejected() {
    let t = "v1.2.3.4 and 8.8.4.4";
    assert!(!ipv4(t, 1..8));
    assert!(ipv4(t, 13..20));
    assert!(!ipv4("127.0.0.1", 0..9));
    assert!(ipv6("2001:db8:85a3::8a2e:370:7334"));
    assert!(!ipv6("::1"));
    assert!(!ipv6("d::ec"));
}

#[test]
fn jwt_header() {
    assert!(jwt("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"));
    assert!(!jwt("eyJub3QganNvbg.eyJzdWIiOiIxIn0.sig"));
}

#[test]
fn github_crc() {
    // Checksum computed independently of the validator: CRC32 of the 30 random chars, base62.
    let rand = "abcdefghijklmnopqrstuvwxyz0123";
    let mut n = crc32(rand.as_bytes()) as u64;
    const A: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut enc = vec![b'0'; 6];
    for s in enc.iter_mut().rev() {
        *s = A[(n % 62) as usize];
        n /= 62;
    }
    let tok = format!("ghp_{rand}{}", String::from_utf8(enc).unwrap());
    assert!(github_checksum(&tok));
    assert!(!github_checksum("ghp_abcdefghijklmnopqrstuvwxyz0123000000"));
    assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
}

#[test]
fn placeholders() {
    for p in [
        "xxxx",
        "${DB_PASS}",
        "{{ secret }}",
        "<token>",
        "****",
        "null",
        "[REDACTED:x]",
    ] {
        assert!(is_placeholder(p), "{p}");
    }
    assert!(!is_placeholder("hunter2"));
    assert!(password_like("Tr0ub4dor&3"));
    assert!(!password_like("because"));
}
