//! Private-key blocks, found by code rather than by one regex, so that a key of any length is
//! masked whole and a text full of `BEGIN` lines costs one pass:
//!
//! - PEM (`-----BEGIN … PRIVATE KEY-----` … `-----END … PRIVATE KEY-----`, any label with
//!   `PRIVATE KEY`: PKCS#1/#8, EC, DSA, OpenSSH, encrypted, PGP `PRIVATE KEY BLOCK`; any case,
//!   look-alike letters are normalised before): the block through its `END` line. Without an
//!   `END` before the next `BEGIN` (a key cut off), the `BEGIN` line and every following line
//!   that is key material (base64, or a `Name: value` header such as `Proc-Type:`).
//! - PuTTY (`PuTTY-User-Key-File-N:` … `Private-MAC: …`): through the MAC line, or, cut off,
//!   the header and the key lines after it.
//!
//! The `END`/`Private-MAC` search moves forward only: each hit resumes where the previous one
//! left, so `n` hits and one text of `m` bytes cost `O(n + m)`.

use super::engine::Match;

/// Which rule each case of a block is reported as (`None`: that rule is disabled).
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockRules {
    pub complete: Option<u32>,
    pub truncated: Option<u32>,
}

fn find_ci(hay: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    // The needles start with a byte that has no case (`-`, `P` handled by the caller), so the
    // first byte is searched exactly and the rest compared without case.
    let first = needle[0];
    let mut i = from;
    while i < hay.len() {
        let k = if first.is_ascii_alphabetic() {
            memchr::memchr2(
                first.to_ascii_lowercase(),
                first.to_ascii_uppercase(),
                &hay[i..],
            )?
        } else {
            memchr::memchr(first, &hay[i..])?
        };
        let at = i + k;
        if hay.len() - at >= needle.len() && hay[at..at + needle.len()].eq_ignore_ascii_case(needle)
        {
            return Some(at);
        }
        i = at + 1;
    }
    None
}

/// A forward-only search for one needle: the answer for `from` is reused while it lies ahead.
struct Cursor {
    needle: &'static [u8],
    /// Last answer and the position it was searched from.
    last: Option<(usize, Option<usize>)>,
}

impl Cursor {
    fn new(needle: &'static [u8]) -> Cursor {
        Cursor { needle, last: None }
    }

    fn next_from(&mut self, hay: &[u8], from: usize) -> Option<usize> {
        if let Some((searched, found)) = self.last {
            match found {
                Some(at) if at >= from && searched <= from => return Some(at),
                None if searched <= from => return None,
                _ => {}
            }
        }
        let found = find_ci(hay, from, self.needle);
        self.last = Some((from, found));
        found
    }
}

/// End of the line holding `i` (the `\n`, or the text's end).
fn line_end(b: &[u8], i: usize) -> usize {
    i + memchr::memchr(b'\n', &b[i.min(b.len())..]).unwrap_or(b.len().saturating_sub(i))
}

fn b64(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=')
}

/// The end of the key material that starts at `from` (the end of a header line), line by line:
/// base64 runs and `Name: value` headers continue it; blank lines inside are kept; anything else
/// ends it. A line that starts with key material and then holds something else (a closing quote)
/// ends the block after its key material.
fn material_end(b: &[u8], from: usize, limit: usize) -> usize {
    let mut end = from;
    let mut i = from;
    while i < limit {
        // Skip the line break and indentation.
        let mut p = i;
        while p < limit && matches!(b[p], b'\n' | b'\r' | b' ' | b'\t') {
            p += 1;
        }
        if p >= limit {
            break;
        }
        let le = line_end(b, p).min(limit);
        let line = &b[p..le];
        let run = line.iter().position(|&c| !b64(c)).unwrap_or(line.len());
        let header = line.iter().position(|&c| c == b':').is_some_and(|k| {
            k > 0
                && line[..k]
                    .iter()
                    .all(|&c| c.is_ascii_alphanumeric() || c == b'-')
        });
        if header && run < line.len() {
            end = le;
        } else if run >= 4 {
            end = p + run;
            let rest_blank = line[run..].iter().all(|c| c.is_ascii_whitespace());
            if !rest_blank {
                // Spaces inside one line (a key pasted on one line): more base64 words.
                let mut q = p + run;
                while q < le {
                    while q < le && b[q] == b' ' {
                        q += 1;
                    }
                    let w = b[q..le].iter().position(|&c| !b64(c)).unwrap_or(le - q);
                    if w < 4 {
                        break;
                    }
                    q += w;
                    end = q;
                }
                if end < le && !b[end..le].iter().all(|c| c.is_ascii_whitespace()) {
                    break;
                }
            }
        } else {
            break;
        }
        i = le;
    }
    end
}

/// The `-----` that closes a PEM marker line opened at `at` (within 80 bytes), and whether the
/// label says `PRIVATE KEY`.
fn marker_close(b: &[u8], label_from: usize) -> Option<(usize, bool)> {
    let limit = (label_from + 80).min(b.len());
    let close = find_ci(&b[..limit], label_from, b"-----")?;
    let label = &b[label_from..close];
    if !label
        .iter()
        .all(|&c| c.is_ascii_alphanumeric() || c == b' ')
    {
        return None;
    }
    let private = label
        .windows(11)
        .any(|w| w.eq_ignore_ascii_case(b"PRIVATE KEY"));
    Some((close + 5, private))
}

/// PEM private keys at the `-----BEGIN` hits `starts` (sorted).
pub fn pem(text: &str, starts: &[usize], rules: BlockRules, out: &mut Vec<Match>) {
    let b = text.as_bytes();
    let mut end_cursor = Cursor::new(b"-----END");
    let mut done = 0;
    for (k, &s) in starts.iter().enumerate() {
        if s < done || !b[s..].starts_with(b"-----") {
            continue;
        }
        let label_from = s + "-----BEGIN ".len();
        let Some((header_end, private)) = marker_close(b, label_from.min(b.len())) else {
            continue;
        };
        if !private {
            continue;
        }
        let next_begin = starts[k + 1..]
            .iter()
            .copied()
            .find(|&n| n >= header_end)
            .unwrap_or(b.len());
        let end = end_cursor
            .next_from(b, header_end)
            .filter(|&e| e < next_begin)
            .and_then(|e| marker_close(b, e + "-----END ".len()).map(|(c, _)| c));
        let (e, rule) = match end {
            Some(e) => (e, rules.complete),
            None => (material_end(b, header_end, next_begin), rules.truncated),
        };
        done = e;
        if let Some(rule) = rule {
            out.push(Match {
                start: s,
                end: e,
                rule,
            });
        }
    }
}

/// PuTTY private keys at the `PuTTY-User-Key-File-` hits `starts` (sorted).
pub fn putty(text: &str, starts: &[usize], rule: Option<u32>, out: &mut Vec<Match>) {
    let Some(rule) = rule else { return };
    let b = text.as_bytes();
    let mut mac = Cursor::new(b"Private-MAC:");
    let mut done = 0;
    for (k, &s) in starts.iter().enumerate() {
        if s < done {
            continue;
        }
        // `PuTTY-User-Key-File-<version>:`, nothing else.
        let v = s + "PuTTY-User-Key-File-".len();
        let digits = b[v.min(b.len())..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if digits == 0 || b.get(v + digits) != Some(&b':') {
            continue;
        }
        let header_end = line_end(b, s);
        let next = starts[k + 1..]
            .iter()
            .copied()
            .find(|&n| n >= header_end)
            .unwrap_or(b.len());
        let e = match mac.next_from(b, s).filter(|&m| m < next) {
            Some(m) => {
                // The MAC's hex digits; the line may go on (a closing quote).
                let mut e = m + "Private-MAC:".len();
                while e < b.len() && b[e] == b' ' {
                    e += 1;
                }
                while e < b.len() && b[e].is_ascii_hexdigit() {
                    e += 1;
                }
                e
            }
            None => material_end(b, header_end, next),
        };
        done = e;
        out.push(Match {
            start: s,
            end: e,
            rule,
        });
    }
}

/// Every (ASCII case-insensitive) occurrence of `needle`, for callers without the engine's
/// keyword pass.
pub fn starts_of(text: &str, needle: &[u8]) -> Vec<usize> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(at) = find_ci(b, i, needle) {
        out.push(at);
        i = at + 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: BlockRules = BlockRules {
        complete: Some(1),
        truncated: Some(2),
    };

    fn pem_found(text: &str) -> Vec<(&str, u32)> {
        let mut out = Vec::new();
        pem(text, &starts_of(text, b"-----BEGIN "), RULES, &mut out);
        out.iter()
            .map(|m| (&text[m.start..m.end], m.rule))
            .collect()
    }

    fn body(lines: usize) -> String {
        (0..lines)
            .map(|i| {
                format!(
                    "{}\n",
                    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7"
                        .replace('7', &(i % 10).to_string())
                )
            })
            .collect()
    }

    #[test]
    fn complete_blocks_are_masked_through_the_end_line() {
        let key = format!(
            "-----BEGIN RSA PRIVATE KEY-----\n{}-----END RSA PRIVATE KEY-----",
            body(80)
        );
        let text = format!("cfg: {key}\nnext line");
        assert_eq!(pem_found(&text), vec![(key.as_str(), 1)]);
        let lower = key.to_lowercase();
        assert_eq!(pem_found(&lower), vec![(lower.as_str(), 1)]);
        // Certificates and public keys are not secrets.
        let cert = format!(
            "-----BEGIN CERTIFICATE-----\n{}-----END CERTIFICATE-----",
            body(3)
        );
        assert!(pem_found(&cert).is_empty());
    }

    #[test]
    fn cut_off_keys_are_masked_to_the_end_of_their_material() {
        let text = format!(
            "-----BEGIN PRIVATE KEY-----\n{}The key above was cut.",
            body(5)
        );
        let found = pem_found(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].1, 2);
        assert!(found[0].0.ends_with("QC4"), "{}", found[0].0);
        // In a JSON string: the material stops at the closing quote.
        let text = format!(
            "{{\"k\":\"-----BEGIN EC PRIVATE KEY-----\n{}MIIEvQIBADAN\"}}",
            body(2)
        );
        let found = pem_found(&text);
        assert!(found[0].0.ends_with("MIIEvQIBADAN"), "{}", found[0].0);
        // Encrypted PEM headers are key material too.
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,AB12\n\nMIIEvQIBADANBgkq\n";
        assert!(pem_found(text)[0].0.ends_with("MIIEvQIBADANBgkq"));
    }

    #[test]
    fn repeated_begin_lines_cost_one_pass() {
        let text = "-----BEGIN PRIVATE KEY-----".repeat(100_000);
        let found = pem_found(&text);
        // Each marker is its own cut-off block with no material.
        assert_eq!(found.len(), 100_000);
    }

    #[test]
    fn putty_keys_through_the_mac() {
        let key = "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 2\nAAAAC3NzaC1lZDI1NTE5AAAAIC\nPrivate-Lines: 1\nAAAAIBkQ3x\nPrivate-MAC: 0a1b2c3d4e5f";
        let text = format!("{key}\nthanks");
        let mut out = Vec::new();
        putty(
            &text,
            &starts_of(&text, b"PuTTY-User-Key-File-"),
            Some(7),
            &mut out,
        );
        assert_eq!(&text[out[0].start..out[0].end], key);
        let cut = "PuTTY-User-Key-File-2: ssh-rsa\nEncryption: none\nAAAAB3NzaC1yc2E\nnot key material here";
        let mut out = Vec::new();
        putty(
            cut,
            &starts_of(cut, b"PuTTY-User-Key-File-"),
            Some(7),
            &mut out,
        );
        assert!(cut[out[0].start..out[0].end].ends_with("AAAAB3NzaC1yc2E"));
        let many = "PuTTY-User-Key-File-2: ".repeat(100_000);
        let mut out = Vec::new();
        putty(
            &many,
            &starts_of(&many, b"PuTTY-User-Key-File-"),
            Some(7),
            &mut out,
        );
        assert!(!out.is_empty());
    }
}
