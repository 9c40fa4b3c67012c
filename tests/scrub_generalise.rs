//! Payload kinds and formats the development corpus does not contain: secrets must go, benign
//! look-alikes must stay byte-identical. All values are made up here, following vendor formats.

use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::{RedactionConfig, Scrubber};

fn scrubber() -> Scrubber {
    Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![9; 32], None, KeySource::File),
    )
    .unwrap()
}

/// (text, secret that must not survive)
const SECRETS: &[(&str, &str)] = &[
    ("db: postgres://orders:Zq8!vR2kLm@10.0.3.7:5432/orders", "Zq8!vR2kLm"),
    ("DATABASE_URL=mysql://root:pa55w0rd123@db.internal/app", "pa55w0rd123"),
    ("curl -H \"Authorization: Bearer 8f1c0e7d6b5a49c3b2a1f0e9d8c7b6a5f4e3d2c1\" https://api", "8f1c0e7d6b5a49c3b2a1f0e9d8c7b6a5f4e3d2c1"),
    ("headers: {'Authorization': 'Basic YWRtaW46czNjcjN0UGFzcw=='}", "YWRtaW46czNjcjN0UGFzcw=="),
    ("{\"messages\":[{\"role\":\"user\",\"content\":\"my email is maria.garcia\\u0040example.org\"}]}", "maria.garcia"),
    ("{\"args\":\"{\\\"api_key\\\":\\\"Zt5mQ8rW2xY7nB4vC1kL9pS3\\\"}\"}", "Zt5mQ8rW2xY7nB4vC1kL9pS3"),
    ("export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"),
    ("client 2001:db8:4f2a:9c10::17 connected", "2001:db8:4f2a:9c10::17"),
    ("device 3C:22:FB:7A:10:9E joined", "3C:22:FB:7A:10:9E"),
    ("IBAN DE44 5001 0517 5407 3249 31 please", "DE44 5001 0517 5407 3249 31"),
    ("Rufnummer: +49 30 901820", "+49 30 901820"),
    ("call me on 020 7946 0018 after 5", "020 7946 0018"),
    ("card_number: 4532015112830366", "4532015112830366"),
    // 19-digit cards grouped 4-4-4-4-3: the whole number, not just its first 16 digits.
    ("pay with 6011 0000 0000 0000 126 today", "6011 0000 0000 0000 126"),
    ("card 4012-8888-8888-1881-128 ok", "128 ok"),
    ("card 4012 8888 8888 1881 128 ok", "128 ok"),
    ("amex 3714 496353 98431 on file", "3714 496353 98431"),
    ("token=ghs_16C7e42F292c6912E7710c838347Ae178B4a and more", "ghs_16C7e42F292c6912E7710c838347Ae178B4a"),
    ("HF_TOKEN=hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh", "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
    ("ANTHROPIC_API_KEY=sk-ant-api03-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789AbCdEfGhIjKlMnOpQrStUvAA", "sk-ant-api03-AbCdEfGhIj"),
    ("webhook https://hooks.slack.com/services/T0A1B2C3D/B4E5F6G7H/abcdEFGHijklMNOPqrstUVWX", "abcdEFGHijklMNOPqrstUVWX"),
    ("ssh key: -----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\\nQyNTUxOQAAACBk0nF8qAq3Yt7Yw4rN5pQ2L6", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUA"),
    ("the password is Tr0ub4dor&3", "Tr0ub4dor&3"),
    ("{\"user\":\"bob\",\"passwd\":\"kj2#Lm9!qz\"}", "kj2#Lm9!qz"),
    ("npm config set //registry.npmjs.org/:_authToken=npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", "npm_a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
    ("SSN: 078 05 1121x and 219-09-9998", "nothing-to-check"),
    ("x-api-key: 4kP9sQ2wE7rT1yU6iO3pA8sD5fG0hJ2k", "4kP9sQ2wE7rT1yU6iO3pA8sD5fG0hJ2k"),
    ("Telegram https://api.telegram.org/bot7123456789:AAH3k9Xq2LmZp8RtYv4Wn6Bc1Df5Gh7Jk0Q/sendMessage", "AAH3k9Xq2LmZp8RtYv4Wn6Bc1Df5Gh7Jk0Q"),
    ("User: jean.dupont@mairie-paris.fr, tel 01 42 76 40 40", "01 42 76 40 40"),
    ("traceback: ConnectionError('redis://:s3cr3tRedisPw@cache:6379')", "s3cr3tRedisPw"),
    ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJlLWJ5dGVzLWhlcmUtZm9yLXRlc3Q", "c2lnbmF0dXJlLWJ5dGVzLWhlcmUtZm9yLXRlc3Q"),
    ("card 4111-1111-1111-1111 exp 12/27", "4111-1111-1111-1111"),
    ("ip6 fe80::a00:27ff:fe4e:66a1%eth0 link-local", "fe80::a00:27ff:fe4e:66a1"),
    ("connection: Server=tcp:acme.database.windows.net;Database=app;User ID=sa;Password=Wq9$zX2!mN;", "Wq9$zX2!mN"),
];

/// Strings that must come out byte-identical.
const BENIGN: &[&str] = &[
    "trace 4bf92f3577b34da6a3ce929d0e0e4736 span 00f067aa0ba902b7",
    "request_id 3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "commit 9bbc37778d621e50813957530e8836c825f7e4a0",
    "at 2026-04-19T19:33:44.857Z",
    "ts 1748123483111 (epoch ms), 1748123483 (s)",
    "order ORD-7127684268465631 and invoice INV-2024-000123",
    "upgraded to v1.2.3.4 and 10.0.19041.1",
    "model gpt-4o-2024-08-06, claude-3-5-sonnet-20241022, text-embedding-3-large",
    "pip install scikit-learn (sk-learn) done",
    "see password-reset flow; token_count=512; max_tokens: 4096",
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
    "price $3817.31, qty 12, total 45807.72",
    "listening on 127.0.0.1:8080 and 0.0.0.0:4317",
    "std::collections::HashMap and a::b::c",
    "time 12:34:56 on 2024-01-15",
    "{\"usage\":{\"input_tokens\":1532,\"output_tokens\":211},\"finish_reason\":\"stop\"}",
    "api_key_rotation_policy and access_token_ttl are config names",
    "secret-santa party; the secret is out",
    "Bearer tokens expire after an hour",
    "password: ${DB_PASSWORD}",
    "AWS region us-east-1, aws sdk 2.20.0",
    "ISBN 978-3-16-148410-0",
    "span_id=00f067aa0ba902b7 trace_flags=01",
    "key: user-profile-cache",
    "phone: n/a",
    "https://github.com/open-telemetry/opentelemetry-rust/pull/1234",
    "Use the sk- prefix for keys; e.g. sk-... (redacted)",
    "{\"role\":\"assistant\",\"content\":\"The capital of France is Paris.\"}",
];

#[test]
fn unseen_secret_kinds_are_removed() {
    let s = scrubber();
    let mut leaks = Vec::new();
    for (text, secret) in SECRETS {
        let out = s.scrub_str(text);
        if out.contains(secret) {
            leaks.push(format!("{text}\n   -> {out}"));
        }
    }
    assert!(
        leaks.is_empty(),
        "{} leaks:\n{}",
        leaks.len(),
        leaks.join("\n")
    );
}

#[test]
fn benign_look_alikes_are_untouched() {
    let s = scrubber();
    let mut changed = Vec::new();
    for text in BENIGN {
        let out = s.scrub_str(text);
        if out != *text {
            changed.push(format!("{text}\n   -> {out}"));
        }
    }
    assert!(
        changed.is_empty(),
        "{} changed:\n{}",
        changed.len(),
        changed.join("\n")
    );
}
