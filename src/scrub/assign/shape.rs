//! What a value under a secret-naming key looks like, and where it ends: markers, templates,
//! placeholders, expressions and names (code that names a secret without holding it), prose,
//! type annotations, cookie values, and the end of a spaced value on its line.
/// The length of one of our replacement forms at the start of `b` (`[REDACTED:…]`,
/// `<type:0123456789>`), or of an upstream `[REDACTED]`.
pub(super) fn marker_len(b: &[u8]) -> Option<usize> {
    if b.starts_with(b"[REDACTED") {
        let e = b.iter().take(64).position(|&c| c == b']')?;
        return Some(e + 1);
    }
    if b.first() == Some(&b'<') {
        let e = b.iter().take(48).position(|&c| c == b'>')?;
        let inner = &b[1..e];
        let colon = inner.iter().position(|&c| c == b':')?;
        let (typ, hex) = (&inner[..colon], &inner[colon + 1..]);
        let ok = !typ.is_empty()
            && typ
                .iter()
                .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
            && hex.len() == 10
            && hex.iter().all(|c| c.is_ascii_hexdigit());
        return ok.then_some(e + 1);
    }
    None
}

/// A JSON object or array starts here (its members are keys of their own), as opposed to a
/// value that merely begins with a bracket (`[REDACTED]x`).
/// Whether `b[i..]` starts an assignment of a parameter list: a name of 1 to 32 identifier
/// characters, then `=` and something other than `=` (`user=bob`, not `==` or a lone `x`).
pub(super) fn assignment_at(b: &[u8], i: usize) -> bool {
    let n = b[i.min(b.len())..]
        .iter()
        .take(33)
        .take_while(|&&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
        .count();
    (1..=32).contains(&n)
        && b.get(i + n) == Some(&b'=')
        && b.get(i + n + 1).is_some_and(|&c| c != b'=')
}

/// What follows `PASS: ` in a test runner's output: a test name or a count (`TestLogin (0.00s)`,
/// `47, fail: 2`, `renders login form`), unquoted, letters, digits and `_ . / :` only.
pub(super) fn test_result(rest: &[u8]) -> bool {
    let word = rest
        .iter()
        .position(|c| c.is_ascii_whitespace() || *c == b',')
        .map_or(rest, |k| &rest[..k]);
    !word.is_empty()
        && word
            .iter()
            .all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'/' | b':'))
        && (word.iter().all(u8::is_ascii_digit)
            || !(word.iter().any(u8::is_ascii_digit) && word.iter().any(u8::is_ascii_alphabetic))
            || word[0].is_ascii_uppercase() && word[1..].iter().any(u8::is_ascii_uppercase))
}

pub(super) fn structure(b: &[u8]) -> bool {
    match b.first() {
        // An object opens with a member, a template with a name or a space; a password that
        // happens to start with a brace (`{Ww8oES9MV3qc#%}`) does neither.
        Some(b'{') => {
            matches!(
                b.get(1),
                None | Some(
                    b'"' | b'\'' | b'{' | b'}' | b' ' | b'\n' | b'\r' | b'\t' | b'%' | b'$'
                )
            ) || b[1..]
                .iter()
                .take_while(|&&c| c != b'}' && c != b'\n')
                .all(|&c| {
                    c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-' | b' ' | b':')
                })
        }
        Some(b'[') => matches!(
            b.get(1),
            None | Some(
                b'"' | b'\'' | b'{' | b'[' | b']' | b' ' | b'\n' | b'\r' | b'\t' | b'-' | b'0'
                    ..=b'9'
            )
        ),
        _ => false,
    }
}

/// A value made only of template expressions and auth-scheme words (`Bearer {token}`,
/// `Token ${API_TOKEN}`, `%s`): it names where the secret comes from.
pub(super) fn templated(v: &str) -> bool {
    let mut rest = String::with_capacity(v.len());
    let b = v.as_bytes();
    let mut i = 0;
    let mut any = false;
    while i < b.len() {
        let close = match (b[i], b.get(i + 1)) {
            (b'$', Some(b'{')) => Some(b'}'),
            (b'{', _) => Some(b'}'),
            (b'%', Some(b'(')) => Some(b')'),
            (b'<', _) => Some(b'>'),
            _ => None,
        };
        if let Some(c) = close {
            let found = b[i + 1..].iter().position(|&x| x == c);
            // `{name}` and `<name>` are templates; a random run in braces is a value.
            let named = |k: usize| {
                let inner = &v[i + 1..i + 1 + k];
                let inner = inner.trim_start_matches(['{', '$', '%', '(']);
                let inner = inner.trim_end_matches(['}', ')']);
                super::super::validate::placeholder_name(inner) || inner.trim().starts_with('.')
            };
            if let Some(k) = found.filter(|&k| c == b')' || named(k)) {
                i += k + 2;
                // `%(name)s`
                if c == b')' && b.get(i) == Some(&b's') {
                    i += 1;
                }
                any = true;
                continue;
            }
        }
        // A shell variable (`$TOKEN`, `$API_KEY`): the name in capitals.
        if b[i] == b'$'
            && b.get(i + 1)
                .is_some_and(|c| c.is_ascii_uppercase() || *c == b'_')
        {
            let mut j = i + 1;
            while j < b.len()
                && (b[j].is_ascii_uppercase() || b[j].is_ascii_digit() || b[j] == b'_')
            {
                j += 1;
            }
            if b.get(j).is_none_or(|c| !c.is_ascii_alphanumeric()) {
                i = j;
                any = true;
                continue;
            }
        }
        // printf-style specifiers: `%s`, `%r`, `%d`, `%-10s`, `%.2f`.
        if b[i] == b'%' {
            let mut j = i + 1;
            while j < b.len()
                && (b[j].is_ascii_digit() || matches!(b[j], b'-' | b'+' | b' ' | b'#' | b'.'))
            {
                j += 1;
            }
            if j < b.len()
                && matches!(
                    b[j],
                    b's' | b'r'
                        | b'd'
                        | b'i'
                        | b'f'
                        | b'x'
                        | b'X'
                        | b'c'
                        | b'u'
                        | b'o'
                        | b'e'
                        | b'g'
                        | b'a'
                )
            {
                i = j + 1;
                any = true;
                continue;
            }
        }
        rest.push(char::from(b[i]));
        i += 1;
    }
    if !any {
        return false;
    }
    let words = ["bearer", "basic", "token", "digest", "bot", "apikey", "key"];
    if !rest.bytes().any(|c| c.is_ascii_alphanumeric()) {
        return true;
    }
    rest.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .all(|w| words.contains(&w.to_ascii_lowercase().as_str()))
}

/// End of a `key: value` value: the end of the line, a string literal's closing quote, or a
/// sentence end (`. ` followed by a capital). Inside brackets a quote opens a string of the
/// expression (`os.environ["KEY"]`), not the end of the value.
pub(super) fn spaced_end(b: &[u8], vs: usize, budget: &mut usize) -> usize {
    let end = spaced_end_unmetered(b, vs, budget);
    // Counted as engine work, so the growth tests see a value read once per key.
    super::super::engine::add_work(end.saturating_sub(vs));
    end
}

pub(super) fn spaced_end_unmetered(b: &[u8], vs: usize, budget: &mut usize) -> usize {
    let mut i = vs;
    let mut depth = 0usize;
    while i < b.len() {
        if *budget == 0 {
            // Out of budget (see `find`): the rest of the line, unread.
            return memchr::memchr2(b'\n', b'\r', &b[i..]).map_or(b.len(), |k| i + k);
        }
        *budget -= 1;
        match b[i] {
            b'\n' | b'\r' => return i,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            q @ (b'"' | b'\'' | b'`') if depth > 0 => {
                // Skip the quoted string inside the expression.
                match b[i + 1..].iter().position(|&c| c == q || c == b'\n') {
                    Some(k) if b[i + 1 + k] == q => i += k + 1,
                    _ => return i,
                }
            }
            b'"' | b'`' => return i,
            b'\'' if i > vs && !b[i - 1].is_ascii_alphabetic() => return i,
            b'\'' if !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) => return i,
            b'.' | b'!' | b'?'
                if b.get(i + 1) == Some(&b' ')
                    && b.get(i + 2).is_some_and(u8::is_ascii_uppercase) =>
            {
                return i
            }
            // The next clause of an SQL statement (`SET password = 0x… WHERE id = 42`).
            b' ' if depth == 0 && sql_clause(&b[i + 1..]) => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// Whether `rest` (after an environment assignment's first word) is a command: its first word
/// is a path (`./run.sh`, `/usr/bin/x`) or another word is a flag (`--env`, `-v`).
pub(super) fn command_follows(rest: &[u8]) -> bool {
    let mut words = rest
        .split(u8::is_ascii_whitespace)
        .filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return false;
    };
    first.contains(&b'/')
        || words.any(|w| {
            w.len() >= 2 && w[0] == b'-' && w[1].is_ascii_alphabetic() || w.starts_with(b"--")
        })
}

/// An upper-case SQL keyword that starts a clause, then a blank.
pub(super) fn sql_clause(b: &[u8]) -> bool {
    const CLAUSES: &[&[u8]] = &[
        b"WHERE",
        b"AND",
        b"OR",
        b"FROM",
        b"LIMIT",
        b"ORDER",
        b"GROUP",
        b"RETURNING",
        b"VALUES",
        b"HAVING",
        b"ON",
        b"USING",
        b"WITH",
    ];
    CLAUSES
        .iter()
        .any(|k| b.starts_with(k) && matches!(b.get(k.len()), Some(b' ' | b'\n' | b'\t')))
}

/// Where a trailing comment starts in a code value (`4   # auth messages`, `x // note`).
pub(super) fn comment_start(v: &[u8]) -> Option<usize> {
    let hash = v.windows(2).position(|w| w == b" #");
    let slashes = v.windows(3).position(|w| w == b" //");
    match (hash, slashes) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Drops trailing blanks, trailing sentence punctuation and closing brackets the value did not
/// open (`f(password=pw)`, `pw.`).
pub(super) fn trim_end(b: &[u8], s: usize, mut e: usize) -> usize {
    loop {
        if e <= s {
            return e;
        }
        let c = b[e - 1];
        let unopened = |open: u8, close: u8| {
            c == close && {
                let v = &b[s..e];
                v.iter().filter(|&&x| x == open).count() < v.iter().filter(|&&x| x == close).count()
            }
        };
        if c.is_ascii_whitespace()
            || matches!(c, b',' | b';' | b'.' | b'!' | b'?' | b':')
            || unopened(b'(', b')')
            || unopened(b'[', b']')
            || unopened(b'{', b'}')
        {
            e -= 1;
        } else {
            return e;
        }
    }
}

pub(super) fn ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_' || c == b'$'
}

/// Code that reads a secret from somewhere: a chain of names, calls and indexes with at least
/// one `.`, `::`, `->`, call or index (`os.environ["KEY"]`, `getpass.getpass()`,
/// `req.headers.authorization`, `process.current_process().authkey`, `$(cat f)`), also when the
/// line cuts it off inside a call (`re.compile(r"…".format(`); or a language literal.
pub(crate) fn is_expression(v: &str) -> bool {
    // A line continued after it (`x.decode(a).\`) is cut, not ended.
    let v = v.trim().trim_end_matches([';', ',', '\\', '.', ' ']);
    if matches!(
        v,
        "None"
            | "null"
            | "nil"
            | "NULL"
            | "Nil"
            | "true"
            | "false"
            | "True"
            | "False"
            | "undefined"
    ) {
        return true;
    }
    if v.starts_with("$(") && v.ends_with(')') {
        return true;
    }
    let b = v.as_bytes();
    if b.is_empty() || !ident_start(b[0]) {
        return false;
    }
    let mut i = 0;
    let mut structured = false;
    loop {
        // A name (one that reads like a random token, `eyJhbGciOiJIUzI1NiJ9`, is not code).
        if i >= b.len() || !ident_start(b[i]) {
            return false;
        }
        let name_start = i;
        while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_' || b[i] == b'$') {
            i += 1;
        }
        if random_name(&b[name_start..i]) {
            return false;
        }
        // Calls and indexes after it.
        while i < b.len() && matches!(b[i], b'(' | b'[') {
            let (open, close) = if b[i] == b'(' {
                (b'(', b')')
            } else {
                (b'[', b']')
            };
            let mut depth = 0usize;
            let mut j = i;
            while j < b.len() {
                if b[j] == open {
                    depth += 1;
                } else if b[j] == close {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                j += 1;
            }
            structured = true;
            if j >= b.len() {
                // Cut off by the line inside the call: code all the same.
                return true;
            }
            i = j + 1;
        }
        if i >= b.len() {
            return structured;
        }
        // `.`, `::` or `->` and the next name.
        let step = if b[i] == b'.' {
            1
        } else if b[i..].starts_with(b"::") || b[i..].starts_with(b"->") {
            2
        } else {
            return false;
        };
        i += step;
        structured = true;
    }
}

/// A name of 12 or more characters that mixes capitals, small letters and digits, as base64
/// does and code identifiers do not.
pub(super) fn random_name(n: &[u8]) -> bool {
    n.len() >= 12
        && n.iter().any(u8::is_ascii_uppercase)
        && n.iter().any(u8::is_ascii_lowercase)
        && n.iter().any(u8::is_ascii_digit)
}

/// An expression of several operands (`TSPECIALS | WSP`, `a + b`, `[CFWS] 1*ttext [CFWS]`,
/// `x if y else z`): blanks and an operator or bracket between names, and no quotes. A
/// password with symbols has no blanks between its parts.
pub(super) fn is_compound(v: &str) -> bool {
    let b = v.as_bytes();
    b.contains(&b' ')
        && !b.iter().any(|&c| matches!(c, b'"' | b'\'' | b'`'))
        && (b.iter().any(|&c| {
            matches!(
                c,
                b'|' | b'+' | b'*' | b'(' | b'[' | b'<' | b'>' | b'&' | b'%'
            )
        }) || v.split(' ').any(|w| {
            matches!(
                w,
                "if" | "else" | "and" | "or" | "not" | "in" | "is" | "for"
            )
        }))
}

/// Common words of English prose: a value holding two of them is a sentence, not a passphrase
/// (`- password:  The password for the authentication.`).
pub(super) const STOPWORDS: &[&str] = &[
    "the", "a", "an", "of", "for", "to", "is", "are", "was", "be", "in", "on", "with", "by",
    "this", "that", "it", "and", "or", "not", "from", "as", "at", "if", "your", "you", "will",
    "can", "must", "should", "when", "which", "used", "use",
];

pub(super) fn is_prose(v: &str) -> bool {
    let mut n = 0;
    // Whole blank-separated words only: the letters between a random value's digits
    // (`a24f1325404a`) are not words.
    for w in v.split_ascii_whitespace() {
        let w =
            w.trim_matches(|c: char| matches!(c, ',' | '.' | ';' | ':' | '(' | ')' | '"' | '\''));
        if w.len() <= 6 && STOPWORDS.iter().any(|s| s.eq_ignore_ascii_case(w)) {
            n += 1;
            if n >= 2 {
                return true;
            }
        }
    }
    false
}

/// Auth schemes whose credential is one word after them (RFC 7235 `token68` schemes).
pub(super) const SCHEMES: &[&str] = &[
    "bearer",
    "basic",
    "token",
    "bot",
    "apikey",
    "api-key",
    "sso-key",
    "otoken",
    "negotiate",
    "ntlm",
    "key",
];

/// For a value `<scheme> <credential> …`, where the credential ends.
pub(super) fn scheme_credential_end(v: &[u8]) -> Option<usize> {
    let first_end = v.iter().position(|&c| c == b' ' || c == b'\t')?;
    let scheme = std::str::from_utf8(&v[..first_end])
        .ok()?
        .to_ascii_lowercase();
    if !SCHEMES.contains(&scheme.as_str()) {
        return None;
    }
    // The credential: the next word that is not a marker left by an earlier redaction.
    let mut at = first_end;
    loop {
        let cred = at + v[at..].iter().position(|&c| c != b' ' && c != b'\t')?;
        let end = cred
            + v[cred..]
                .iter()
                .position(|&c| c == b' ' || c == b'\t')
                .unwrap_or(v.len() - cred);
        if marker_len(&v[cred..end]).is_some_and(|n| n == end - cred) && end < v.len() {
            at = end;
            continue;
        }
        return Some(end);
    }
}

/// Whether a cookie header value carries something secret-looking: a `name=value` pair whose
/// value holds a digit or a run of 16 or more token characters.
pub(crate) fn cookie_like(v: &str) -> bool {
    v.split(';').any(|pair| {
        let Some((_, val)) = pair.split_once('=') else {
            return false;
        };
        val.bytes().any(|c| c.is_ascii_digit())
            || val
                .split(|c: char| {
                    !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '%' | '+' | '/'))
                })
                .any(|w| w.len() >= 16)
    })
}

/// A small integer (a flag, a count, a port) rather than a PIN or a secret: fewer than four
/// digits.
pub(super) fn small_number(v: &str) -> bool {
    let d = v.strip_prefix('-').unwrap_or(v);
    !d.is_empty() && d.len() < 4 && d.bytes().all(|c| c.is_ascii_digit())
}

/// A plain variable name on the right of `key = …` in code (`api_key = key`,
/// `password = user_password`, `token = v`, `SECRET = DJANGO_SECRET`): an identifier without
/// digits (one with digits, `hunter2`, is taken as the value itself).
pub(super) fn is_variable(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty() && ident_start(b[0]) && b.iter().all(|&c| c.is_ascii_alphabetic() || c == b'_')
}

/// A value that reads as random characters rather than words: mixed case with digits over 12
/// characters ([`random_name`]), or digits in two or more places between letters
/// (`Zq4AQMrQ6a`; a name has at most one number, `oauth2Token`, `DB2_PASSWORD`).
pub(super) fn random_like(v: &str) -> bool {
    let b = v.as_bytes();
    let digit_runs = b
        .iter()
        .enumerate()
        .filter(|&(i, c)| c.is_ascii_digit() && (i == 0 || !b[i - 1].is_ascii_digit()))
        .count();
    random_name(b) || digit_runs >= 2
}

/// An identifier written as a name: with `_`, a camelCase hump, or in capitals.
pub(super) fn looks_like_name(v: &str) -> bool {
    let b = v.as_bytes();
    !b.is_empty()
        && ident_start(b[0])
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_')
        && (b.contains(&b'_')
            || b.windows(2)
                .any(|w| w[0].is_ascii_lowercase() && w[1].is_ascii_uppercase())
            || (b.iter().all(|c| !c.is_ascii_lowercase()) && b.iter().any(u8::is_ascii_uppercase)))
}

/// Built-in type names of common languages.
pub(super) const TYPES: &[&str] = &[
    "str",
    "string",
    "String",
    "int",
    "bytes",
    "bool",
    "boolean",
    "float",
    "double",
    "dict",
    "list",
    "object",
    "Any",
    "any",
    "Optional",
    "Union",
    "SecretStr",
    "SecretBytes",
    "Secret",
    "char",
    "number",
    "unknown",
    "never",
    "void",
    "Vec",
    "Option",
    "u8",
    "i64",
    "u64",
    "i32",
    "usize",
    "Password",
    "Token",
    "Credentials",
];

/// A type annotation rather than a value: `str`, `Optional[str] = None`, `SecretStr | None`,
/// `string;`, `Field(...)`.
pub(super) fn type_annotation(v: &str) -> bool {
    let v = v.trim();
    // A Rust reference or pointer type (`key: &Key`, `token: &'a str`, `pw: &mut [u8]`,
    // `*const Secret`): code, whatever follows the sigil, when a type does.
    let deref = v
        .strip_prefix("&mut ")
        .or_else(|| v.strip_prefix('&'))
        .or_else(|| v.strip_prefix("*const "))
        .or_else(|| v.strip_prefix("*mut "));
    if let Some(inner) = deref {
        let inner = match inner.strip_prefix('\'') {
            Some(l) => l
                .split_once(' ')
                .map_or("", |(_, t)| t)
                .trim_start_matches("mut "),
            None => inner,
        };
        let slice = inner.starts_with('[')
            && inner.find(']').is_some_and(|k| {
                inner[1..k]
                    .bytes()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b';' | b' '))
            });
        let name_end = inner
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '_' && c != ':')
            .unwrap_or(inner.len());
        let name = &inner[..name_end];
        let camel_name = name.bytes().next().is_some_and(|c| c.is_ascii_uppercase())
            && name.bytes().all(|c| c.is_ascii_alphabetic() || c == b':')
            && name.bytes().any(|c| c.is_ascii_lowercase());
        return slice || camel_name || type_annotation(inner);
    }
    let head_end = v
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(v.len());
    let head = &v[..head_end];
    let rest = v[head_end..].trim_start();
    let head_last = head.rsplit('.').next().unwrap_or(head);
    if head.is_empty() {
        return false;
    }
    let known = TYPES.contains(&head_last) || head.starts_with("typing.");
    let bracketed = rest.starts_with('[')
        && rest.find(']').is_some_and(|k| {
            rest[1..k].bytes().all(|c| {
                c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b',' | b' ' | b'[' | b'|')
            })
        });
    let typeish_rest = rest.is_empty()
        || bracketed
        || rest.starts_with('|')
        || (rest.starts_with('=') && !rest.starts_with("=="))
        || rest.starts_with(',')
        || rest.starts_with(')')
        || rest.starts_with('<')
        || rest.starts_with(';');
    // A CamelCase name (letters only, a lower-case letter after the capital) followed by type
    // syntax: `Optional[str]`, `SecretStr | None`, `Field(...)` is left to `is_expression`.
    let camel = head_last
        .bytes()
        .next()
        .is_some_and(|c| c.is_ascii_uppercase())
        && head_last.bytes().all(|c| c.is_ascii_alphabetic())
        && head_last.bytes().any(|c| c.is_ascii_lowercase());
    (known && typeish_rest) || (camel && !rest.is_empty() && typeish_rest)
}
