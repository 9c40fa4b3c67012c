//! Adversarial inputs for the scrubber's worst case, shared by `benches/scrub_worst.rs` (which
//! times them) and `tests/scrub_worst.rs` (which pins how their work grows).

use spanward::scrub::keyname::KeyWords;
use spanward::scrub::Scrubber;

/// `unit` repeated to `size` bytes (cut on a char boundary).
pub fn fill(unit: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + unit.len());
    while s.len() < size {
        s.push_str(unit);
    }
    let mut cut = size.min(s.len());
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    s.truncate(cut);
    s
}

/// Every separator tried after each keyword by the bench; the growth test takes the ones that
/// stressed the engine most (a keyword glued to itself, and followed by an assignment).
#[allow(dead_code)] // the growth test takes a subset
pub const ALL_SEPS: &[&str] = &["", " ", "=", ": ", "1", "x"];

pub fn generators(sc: &Scrubber, size: usize, seps: &[&str]) -> Vec<(String, String)> {
    let mut g: Vec<(String, String)> = Vec::new();
    let mut keywords: Vec<String> = sc
        .rules()
        .rules
        .iter()
        .flat_map(|r| r.keywords.iter().cloned())
        .collect();
    keywords.extend(KeyWords::defaults().first_pieces().iter().cloned());
    keywords.sort();
    keywords.dedup();
    for k in &keywords {
        for sep in seps {
            g.push((
                format!("kw {k:?}+{sep:?}"),
                fill(&format!("{k}{sep}"), size),
            ));
        }
    }
    for c in [
        "a", "A", "0", "f", "=", "@", ".", ":", "/", "-", "_", "+", " ", "\n", "\\", "\"", "%",
        "&", "#", "<", "{", "[", "é", "\u{200b}", "а", "Ａ", "１", "~", "'", "`", "*", "?", "$",
    ] {
        g.push((format!("run {c:?}"), fill(c, size)));
    }
    let shapes: &[(&str, &str)] = &[
        ("pem begin", "-----BEGIN PRIVATE KEY-----"),
        (
            "pem begin nl",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n",
        ),
        ("pem end", "-----END PRIVATE KEY-----"),
        ("putty", "PuTTY-User-Key-File-2: "),
        (
            "putty lines",
            "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n",
        ),
        ("pct25", "%25"),
        ("pct40", "a%40b"),
        ("pct u", "%u0040"),
        ("entities", "&#64;&#x40;&commat;"),
        ("qp", "ab=3D=\r\n"),
        ("qp words", "=?utf-8?Q?a=40b?= "),
        ("octal", "\\101\\113"),
        ("hex esc", "\\x41\\x4b"),
        ("json esc", "\\\\\\\""),
        ("json u", "\\u0040"),
        ("password=", "password="),
        ("token= value", "token=abc123XYZ "),
        ("bearer", "Bearer "),
        ("bearer tok", "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9."),
        ("url", "://"),
        ("url creds", "postgres://u:p@"),
        ("email-ish", "a@b."),
        ("email local", "a.b+c-"),
        ("eyJ", "eyJ"),
        ("eyJ dot", "eyJabcdefghijk."),
        ("digits dash", "12-"),
        ("digits dot", "1."),
        ("digits space", "4111 "),
        ("phone", "+1 "),
        ("iban", "DE89 "),
        ("ipv6", "fe80::"),
        ("key value json", "\"api_key\": \""),
        ("key value pairs", "key=\"password\" value=\""),
        (
            "otlp pair",
            "{\"key\":\"db.password\",\"value\":{\"stringValue\":\"",
        ),
        ("assign chain", "a_password = b_password = "),
        ("wrapped token", "ghp_abcdefghijklmnop\n"),
        ("wrapped b64", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n"),
        ("lookalike", "ѕk_lіve_"),
        ("zero width", "sk_\u{200b}live_"),
        ("glued cards", "4111111111111111"),
        ("cli", "mysql -p"),
        ("prompt", "password for x: "),
        ("kty", "\"kty\":\"RSA\",\"d\":\""),
        ("digest", "Digest response=\""),
        ("colon", "a:b:c:d:"),
    ];
    for (name, unit) in shapes {
        g.push(((*name).to_string(), fill(unit, size)));
    }
    // base64 of base64 of a text holding a secret, repeated.
    {
        use base64::Engine as _;
        let e = base64::engine::general_purpose::STANDARD;
        let inner = e.encode("DB_PASSWORD=Zq8vR2kLm0x hunter2hunter2\n".repeat(4));
        let outer = e.encode(&inner);
        g.push(("b64 of b64".into(), fill(&format!("{outer} "), size)));
        g.push((
            "b64 random".into(),
            fill(&e.encode((0u8..=255).collect::<Vec<_>>()), size),
        ));
    }
    // JSON nested eight levels deep.
    {
        let mut v = serde_json::json!("password=hunter2hunter2 ");
        for _ in 0..8 {
            v = serde_json::json!({ "k": v.to_string() });
        }
        g.push(("json nested 8".into(), fill(&v.to_string(), size)));
    }
    g
}
