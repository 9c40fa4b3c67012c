use super::*;

#[test]
fn the_redaction_docs_list_every_built_in_word() {
    // docs/redaction.md is where operators read what the key rule does: it must not drift.
    let doc = include_str!("../../docs/redaction.md");
    for list in [
        DEFAULT_SECRET_WORDS,
        AFTER,
        BEFORE,
        ORDINARY_KEYS,
        SUFFIX_WORDS,
        DEFAULT_BENIGN_KEYS,
    ] {
        for w in list {
            assert!(
                doc.contains(&format!("`{w}`")),
                "docs/redaction.md misses `{w}`"
            );
        }
    }
}

#[test]
fn pieces_split_on_separators_humps_and_digits() {
    let cases: &[(&str, &[&str])] = &[
        ("dbPassword", &["db", "password"]),
        ("DB_PASS", &["db", "pass"]),
        ("stripe.secretKey", &["stripe", "secret", "key"]),
        ("HTTPHeader", &["http", "header"]),
        ("x-api-key", &["x", "api", "key"]),
        ("oauth2Token", &["oauth", "2", "token"]),
        (
            "http.request.header.x-auth-token",
            &["http", "request", "header", "x", "auth", "token"],
        ),
        ("", &[]),
    ];
    for (key, want) in cases {
        assert_eq!(pieces(key), *want, "{key}");
    }
}

#[test]
fn keys_that_name_secrets() {
    let kw = KeyWords::defaults();
    for key in [
        "api_key",
        "apiKey",
        "x-api-key",
        "X-API-KEY",
        "access_token",
        "refresh_token",
        "client_secret",
        "private_key",
        "credentials",
        "db_pass",
        "dbPassword",
        "DB_PASS",
        "stripe.secretKey",
        "passphrase",
        "session_id",
        "sessionId",
        "user.ssn",
        "http.request.header.x-auth-token",
        "http.request.header.cookie",
        "Set-Cookie",
        "authorization",
        "Proxy-Authorization",
        "new_password",
        "password_hash",
        "SECRET_KEY_BASE",
        "APP_KEY",
        "STRIPE_KEY",
        "_auth",
        "auth",
        "client-key-data",
        "--password",
        "pwd",
        "password_reset_token",
        "MYSQL_ROOT_PASSWORD",
        "github_token",
        "GITHUB_TOKEN",
        "bearerToken",
        "card.cvv",
        "pin",
        "identitytoken",
        "refreshtoken",
        "PGPASSWORD",
        "X-Amz-Signature",
        "pfx",
        "passwort",
        "Пароль",
        "密码",
        "contraseña",
        "lösenord",
        "user.passord",
        "salasana",
        "geheimnis",
        "securityCode",
        "DBPASS",
        "wifi.psk",
        "токен",
        "סיסמה",
    ] {
        assert!(kw.classify(key).is_some(), "{key} should name a secret");
    }
    assert_eq!(kw.classify("db_pass"), Some(Family::Password));
    assert_eq!(kw.classify("api_key"), Some(Family::Secret));
}

#[test]
fn keys_that_do_not() {
    let kw = KeyWords::defaults();
    for key in [
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "max_tokens",
        "token_count",
        "tokenizer",
        "password_reset_url",
        "secret_santa",
        "llm.token_count.prompt",
        "llm.token_count.total",
        "token_type",
        "secret_name",
        "secret_id",
        "api_key_id",
        "passenger",
        "bypass",
        "compass",
        "passport_number",
        "primary_key",
        "public_key",
        "cache_key",
        "sort_key",
        "key",
        "keyboard",
        "monkey",
        "PWD",
        "OLDPWD",
        "PRIMARY_KEY",
        "PUBLIC_KEY",
        "SSH_PUBLIC_KEY",
        "auth_method",
        "auth.enabled",
        "oauth",
        "author",
        "password_policy",
        "token_expires_at",
        "max_token",
        "has_password",
        "is_secret",
        "gen_ai.request.model",
        "http.method",
        "service.name",
        "session.duration_ms",
        "authentication",
        "pinned",
        "spinner",
        "credential_type",
        "cookie_name",
        "PasswordValidator.java",
        "TokenManager",
        "db.connection_string",
        "signature_algorithm",
        "tokens",
        "fortunecookie",
        "keypass_file",
    ] {
        assert_eq!(kw.classify(key), None, "{key} should not name a secret");
    }
}

#[test]
fn configuration_adds_words_benign_keys_and_patterns() {
    let kw = KeyWords::new(
        &["password".into(), "ticket".into()],
        &["*.ticket_count".into(), "password_hint_text".into()],
        &["^internal\\.sig$".into()],
    )
    .unwrap();
    assert!(kw.classify("jira_ticket").is_some());
    assert!(kw.classify("x.ticket_count").is_none());
    assert!(kw.classify("password_hint_text").is_none());
    assert!(kw.classify("INTERNAL.SIG").is_some());
    assert!(kw.classify("api_key").is_none(), "not in this list");
    assert!(KeyWords::new(&["--".into()], &[], &[]).is_err());
    assert!(KeyWords::new(&[], &[], &["(".into()]).is_err());
}

#[test]
fn first_pieces_cover_every_word() {
    let kw = KeyWords::defaults();
    for w in DEFAULT_SECRET_WORDS {
        let p = pieces(w);
        let lower = w.to_lowercase();
        assert!(
            kw.first_pieces().iter().any(|f| lower.contains(f.as_str())),
            "{w}"
        );
        assert!(
            p[0].chars().count() >= 2 || kw.first_pieces().contains(&p.concat()),
            "{w}"
        );
    }
    assert!(kw.first_pieces().iter().all(|f| f.chars().count() >= 2));
    assert!(kw.first_pieces().contains(&"Пароль".to_string()));
}
