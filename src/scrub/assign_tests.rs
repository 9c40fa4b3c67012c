use super::*;

fn found(text: &str) -> Vec<&str> {
    let kw = KeyWords::defaults();
    let hits = keyword_hits(text, &kw);
    let mut out = Vec::new();
    find(
        text,
        &hits,
        &kw,
        FamilyRules {
            password: Some(0),
            secret: Some(1),
        },
        &mut out,
    );
    out.iter().map(|m| &text[m.start..m.end]).collect()
}

#[test]
fn test_results_templates_and_bracketed_passwords() {
    // Test-runner output is not a password; `pass=` and `DB_PASS:` are.
    for t in [
        "--- PASS: TestLogin (0.00s)",
        "Tests: pass: 47, fail: 2, skip: 1",
        "curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com",
        "password: {{ .Values.db.password }}",
        "api_key = \"{api_key}\"",
        "Authorization: [REDACTED] under review",
        "PASSWORD=[REDACTED:password_assignment] ./run-migrations.sh --env staging",
        "pass: 3/3",
    ] {
        assert!(found(t).is_empty(), "{t}: {:?}", found(t));
    }
    let cases = [
        ("pass=Hunter2x99", "Hunter2x99"),
        ("DB_PASS: Hunter2x99", "Hunter2x99"),
        ("password={Ww8oES9MV3qc#%}", "{Ww8oES9MV3qc#%}"),
        ("password: <Y0KNK#p2J5iQFM>", "<Y0KNK#p2J5iQFM>"),
        ("password = {ETNKlyCe7%IIvh", "{ETNKlyCe7%IIvh"),
        ("password: [REDACTED] Heron-Thistle-92", "Heron-Thistle-92"),
        ("api_key=5wBIj0fecRPdnT&user=bob", "5wBIj0fecRPdnT"),
        ("x password=as3#*pvz7bWPq*;timeout=30", "as3#*pvz7bWPq*"),
        ("pass=P21S3cn91wwSOe user=bob", "P21S3cn91wwSOe"),
        ("{\"user\": \"ops\", \"pass\": \"pelican\"}", "pelican"),
        ("[REDACTED:password] pass: g1fd!xIiCu+k", "g1fd!xIiCu+k"),
    ];
    for (t, v) in cases {
        assert_eq!(found(t), vec![v], "{t}");
    }
}

#[test]
fn a_line_of_many_refused_values_is_read_once() {
    // Each `Authorization:` value is cut after its one-word credential; reading every one
    // to the line end was quadratic. Past the scan budget the rest of the line is masked.
    let work = |n: usize| {
        let line = "Authorization: Bearer x ".repeat(n);
        let before = crate::scrub::engine::work_meter();
        assert!(!found(&line).is_empty());
        crate::scrub::engine::work_meter() - before
    };
    let (small, large) = (work(2_000), work(8_000));
    assert!(
        large <= 6 * small,
        "work {small} -> {large} for 4x the input"
    );
}

#[test]
fn random_values_are_not_read_as_prose() {
    // Letters between digits are not words: every random hex or alphanumeric value is a
    // value, whatever letters it happens to hold.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for len in [8, 12, 20, 40, 64, 97] {
        for _ in 0..50 {
            let v: String = (0..len)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    b"0123456789abcdef"[(x % 16) as usize] as char
                })
                .collect();
            let text = format!("SECRET_KEY_BASE={v}\nRAILS_ENV=production");
            assert_eq!(found(&text), vec![v.as_str()], "{text}");
        }
    }
    assert!(is_prose("The password for the database."));
    assert!(!is_prose("a24f1325404a"));
}

#[test]
fn values_are_masked_to_their_real_end() {
    let long = "A".repeat(3000);
    let cases: Vec<(String, &str)> = vec![
        (
            "passphrase: correct horse battery staple".into(),
            "correct horse battery staple",
        ),
        ("run PASSWORD=ab;cd,ef&gh next".into(), "ab;cd,ef&gh"),
        ("PASSWORD=ab;cd,ef&gh next".into(), "ab;cd,ef&gh next"),
        (
            "PASSWORD=fk;sj,ip&X!64 ./run-migrations.sh --env staging".into(),
            "fk;sj,ip&X!64",
        ),
        (
            "  - ADMIN_PASSWORD=beacon hazel 811\nnext: 1".into(),
            "beacon hazel 811",
        ),
        (
            "pass=<password:f4905dcf68>G9x-SjF#ye=8_".into(),
            "G9x-SjF#ye=8_",
        ),
        (
            "DB_PASSWORD=[REDACTED]JnoHEo-v+aO3LB".into(),
            "JnoHEo-v+aO3LB",
        ),
        (
            "{\"secret\": \"[REDACTED:generic_secret]tMlKpD\"}".into(),
            "[REDACTED:generic_secret]tMlKpD",
        ),
        (
            "Authorization: Bearer [REDACTED:x] tbddbXwF".into(),
            "Bearer [REDACTED:x] tbddbXwF",
        ),
        ("export X_PASS=\"s3 cr3t\"".into(), "s3 cr3t"),
        ("{\"api_key\": \"abc def\", \"n\": 1}".into(), "abc def"),
        (
            "https://h/login?user=bob&password=hunter2&next=/home".into(),
            "hunter2",
        ),
        ("mysql --password hunter2 -h db".into(), "hunter2"),
        ("<password>hunter2</password>".into(), "hunter2"),
        (
            "Authorization: Bearer abc.def.ghi".into(),
            "Bearer abc.def.ghi",
        ),
        (
            "details are Authorization: Bearer abc.def; ticket 42".into(),
            "Bearer abc.def",
        ),
        (
            "Stored Authorization: Bearer abc.def.ghi under policy_x.".into(),
            "Bearer abc.def.ghi",
        ),
        (
            "The contact on file is password=AkdFMvUvzwseVM.".into(),
            "AkdFMvUvzwseVM",
        ),
        (
            "Cookie: a=1; sid=8f2k1LmQz0x".into(),
            "a=1; sid=8f2k1LmQz0x",
        ),
        ("db_pwd=Zx81kkq;".into(), "Zx81kkq"),
        ("f(password=pw1)".into(), "pw1"),
        (format!("token={long}"), long.as_str()),
        ("'token': 'x\ny'".into(), "x\ny"),
        ("password=`abc def".into(), "abc"),
        ("API key: 8f3k2j9s".into(), "8f3k2j9s"),
        ("password: hunter2. Please rotate it.".into(), "hunter2"),
        (
            "SECRET_KEY = \"django-insecure-x\"".into(),
            "django-insecure-x",
        ),
        (
            "client-key-data: LS0tLS1CRUdJTg==".into(),
            "LS0tLS1CRUdJTg==",
        ),
        ("pin: 1234".into(), "1234"),
        (
            "UPDATE users SET password_plain = 0x384e63 WHERE id = 42".into(),
            "0x384e63",
        ),
        (
            "<add key=\"ApiSecret\" value=\"EaMxTe2I8KCr\" />".into(),
            "EaMxTe2I8KCr",
        ),
        (
            "{\"key\":\"db.password\",\"value\":{\"stringValue\":\"hunter2x\"}}".into(),
            "hunter2x",
        ),
        (
            "<entry key=\"password\">hunter2x</entry>".into(),
            "hunter2x",
        ),
        (
            "[{\"name\": \"X-Api-Key\", \"value\": \"k3y-v4lue\"}]".into(),
            "k3y-v4lue",
        ),
    ];
    for (text, want) in &cases {
        assert_eq!(found(text), vec![*want], "{text}");
    }
}

#[test]
fn code_prose_and_placeholders_are_not_values() {
    for text in [
        "api_key = os.environ[\"OPENAI_API_KEY\"]",
        "password = getpass.getpass()",
        "token = req.headers.authorization",
        "return settings.SECRET_KEY",
        "client = OpenAI(api_key=api_key)",
        "connect(password=DB_PASSWORD)",
        "password = user_password",
        "def login(password: str, token: Optional[str] = None):",
        "password: SecretStr | None = None",
        "Login failed: the password is incorrect.",
        "Your password was reset.",
        "if password == expected:",
        "password: ${DB_PASSWORD}",
        "password=\"\"",
        "password: null",
        "token_count: 512",
        "max token: 4096",
        "\"credentials\": {\"user\": \"bob\"}",
        "password: [REDACTED:password_assignment]",
        "Password::new(x)",
        "passwords: 3",
        "PWD=/home/user/project",
        "password-reset link sent",
        "PASSWORD=$(cat /run/secrets/db)",
        "the primary key is order_line_id",
        "const token: string = getToken();",
        "headers = {\"Authorization\": f\"Bearer {token}\"}",
        "auth = `Token ${API_TOKEN}`",
        "gpg --export-secret-keys --armor",
        "token = req.headers.authorization",
        "(PasswordValidator.java:42)",
        "{\"key\":\"gen_ai.usage.input_tokens\",\"value\":{\"intValue\":\"12\"}}",
        "{\"key\":\"password\"}, {\"value\": \"unrelated\"}",
        "private_key:1,blocked_key:1",
    ] {
        assert_eq!(found(text), Vec::<&str>::new(), "{text}");
    }
}

#[test]
fn dense_keywords_stay_linear() {
    // Every hit is inside one identifier or value already read: each byte is looked at a
    // bounded number of times.
    let text = "password".repeat(50_000);
    assert!(found(&text).is_empty());
    let text = "token=".repeat(50_000);
    assert_eq!(found(&text).len(), 1);
}

#[test]
fn random_values_holding_a_secret_word_are_secrets_and_rust_references_are_types() {
    for text in [
        "password=ZqN1aE6PwZPf1Qh6",
        "export DB_PASSWORD=Zq4AQMrQ6a0E55pw",
        "secret: aB3dEf9hPassXy7z",
        "password=Xy7Pw9ab",
    ] {
        assert_eq!(found(text).len(), 1, "{text}");
    }
    for text in [
        "password=DB_PASSWORD",
        "token=authToken",
        "fn f(key: &Key) {}",
        "    key: &Key,",
        "pw: &mut [u8]",
        "secret: *const Secret",
    ] {
        assert!(found(text).is_empty(), "{text}: {:?}", found(text));
    }
}
