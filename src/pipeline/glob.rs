//! Minimal glob patterns for config rules (service names, span names, attribute keys).
//!
//! Syntax: `*` matches any run of characters (dots included, so `gen_ai.prompt.*` matches
//! `gen_ai.prompt.0.content`), `?` matches exactly one character, and `\` escapes the next
//! character. Matching is case-sensitive and over whole strings. Patterns are classified when
//! compiled so the common shapes (exact, `prefix*`, `*suffix`) cost one comparison per match:
//! the role map checks every attribute key of every span against these.

/// A compiled glob pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Glob {
    source: String,
    kind: Kind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Any,
    Exact(String),
    Prefix(String),
    Suffix(String),
    /// General case: literal segments and wildcards, matched by backtracking over `*`.
    Tokens(Vec<Token>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Lit(char),
    One,
    Star,
}

/// A pattern that cannot be compiled.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum GlobError {
    #[error("glob pattern is empty")]
    Empty,
    #[error("glob pattern {0:?} ends with a lone escape character")]
    TrailingEscape(String),
}

impl Glob {
    /// Compiles `pattern`.
    pub fn new(pattern: &str) -> Result<Glob, GlobError> {
        if pattern.is_empty() {
            return Err(GlobError::Empty);
        }
        let mut tokens = Vec::with_capacity(pattern.len());
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(e) => tokens.push(Token::Lit(e)),
                    None => return Err(GlobError::TrailingEscape(pattern.to_string())),
                },
                '*' => {
                    // Consecutive stars are one star.
                    if tokens.last() != Some(&Token::Star) {
                        tokens.push(Token::Star)
                    }
                }
                '?' => tokens.push(Token::One),
                c => tokens.push(Token::Lit(c)),
            }
        }
        let lit = |ts: &[Token]| -> Option<String> {
            ts.iter()
                .map(|t| match t {
                    Token::Lit(c) => Some(*c),
                    _ => None,
                })
                .collect()
        };
        let n = tokens.len();
        let kind = if tokens == [Token::Star] {
            Kind::Any
        } else if let Some(s) = lit(&tokens) {
            Kind::Exact(s)
        } else if tokens[n - 1] == Token::Star && lit(&tokens[..n - 1]).is_some() {
            Kind::Prefix(lit(&tokens[..n - 1]).unwrap_or_default())
        } else if tokens[0] == Token::Star && lit(&tokens[1..]).is_some() {
            Kind::Suffix(lit(&tokens[1..]).unwrap_or_default())
        } else {
            Kind::Tokens(tokens)
        };
        Ok(Glob {
            source: pattern.to_string(),
            kind,
        })
    }

    /// The first byte every match starts with, when the pattern begins with a literal: a
    /// one-byte pre-check that lets long rule lists skip most patterns cheaply.
    pub fn first_byte(&self) -> Option<u8> {
        match &self.kind {
            Kind::Any | Kind::Suffix(_) => None,
            Kind::Exact(s) | Kind::Prefix(s) => s.as_bytes().first().copied(),
            Kind::Tokens(t) => match t.first() {
                Some(Token::Lit(c)) => {
                    let mut buf = [0u8; 4];
                    c.encode_utf8(&mut buf).as_bytes().first().copied()
                }
                _ => None,
            },
        }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// True when `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        match &self.kind {
            Kind::Any => true,
            Kind::Exact(s) => text == s,
            Kind::Prefix(p) => text.starts_with(p.as_str()),
            Kind::Suffix(s) => text.ends_with(s.as_str()),
            Kind::Tokens(t) => match_tokens(t, text),
        }
    }
}

/// Iterative wildcard match: on a mismatch, retry from the last `*` consuming one more char.
/// Linear in practice and never exponential.
fn match_tokens(pat: &[Token], text: &str) -> bool {
    let t: Vec<char> = text.chars().collect();
    let (mut p, mut i) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while i < t.len() {
        match pat.get(p) {
            Some(Token::Star) => {
                star = Some((p, i));
                p += 1;
            }
            Some(Token::One) => {
                p += 1;
                i += 1;
            }
            Some(Token::Lit(c)) if *c == t[i] => {
                p += 1;
                i += 1;
            }
            _ => match star {
                Some((sp, si)) => {
                    p = sp + 1;
                    i = si + 1;
                    star = Some((sp, si + 1));
                }
                None => return false,
            },
        }
    }
    pat[p..].iter().all(|t| *t == Token::Star)
}

/// Compiles a list of patterns, naming the offending one on error.
pub fn compile_all(patterns: &[String]) -> Result<Vec<Glob>, GlobError> {
    patterns.iter().map(|p| Glob::new(p)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        Glob::new(p).unwrap().matches(t)
    }

    #[test]
    fn shapes() {
        assert!(m("*", ""));
        assert!(m("*", "anything.at.all"));
        assert!(m("input.value", "input.value"));
        assert!(!m("input.value", "input.values"));
        assert!(m("gen_ai.prompt.*", "gen_ai.prompt.0.content"));
        assert!(!m("gen_ai.prompt.*", "gen_ai.prompt"));
        assert!(m("tool.parameters*", "tool.parameters"));
        assert!(m("tool.parameters*", "tool.parameters.city"));
        assert!(m("*.content", "gen_ai.prompt.0.content"));
        assert!(!m("*.content", "gen_ai.prompt.0.role"));
    }

    #[test]
    fn general() {
        assert!(m("billing-*-eu", "billing-api-eu"));
        assert!(!m("billing-*-eu", "billing-api-us"));
        assert!(m("a*b*c", "aXXbYYc"));
        assert!(m("a*b*c", "abc"));
        assert!(!m("a*b*c", "acb"));
        assert!(m("svc-?", "svc-1"));
        assert!(!m("svc-?", "svc-12"));
        assert!(m("*a*", "banana"));
        assert!(m("?*", "x"));
        assert!(!m("?*", ""));
        assert!(m("ünï*cødé?", "ünïXcødé!"));
    }

    #[test]
    fn escapes_and_errors() {
        assert!(m(r"literal\*", "literal*"));
        assert!(!m(r"literal\*", "literalX"));
        assert!(m(r"\?*", "?x"));
        assert_eq!(Glob::new(""), Err(GlobError::Empty));
        assert!(matches!(
            Glob::new("abc\\"),
            Err(GlobError::TrailingEscape(_))
        ));
        assert!(m("**x", "abx") && !m("**x", "xa"));
    }

    #[test]
    fn first_byte_precheck_is_sound() {
        for (p, t) in [
            ("gen_ai.*", "gen_ai.x"),
            ("é*", "éa"),
            ("a?c*d", "abcxd"),
            ("x", "x"),
        ] {
            let g = Glob::new(p).unwrap();
            assert!(g.matches(t));
            assert_eq!(g.first_byte(), t.as_bytes().first().copied(), "{p}");
        }
        for p in ["*x", "?x", "*"] {
            assert_eq!(Glob::new(p).unwrap().first_byte(), None);
        }
    }

    #[test]
    fn no_blowup_on_pathological_input() {
        let p = Glob::new("*a*a*a*a*a*a*a*b").unwrap();
        let t = "a".repeat(5000);
        assert!(!p.matches(&t));
    }
}
