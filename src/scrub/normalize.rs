//! The normalised view rules match on: characters that only change how a secret looks are
//! mapped to the ASCII a rule expects, and characters nobody sees are dropped, so neither hides
//! a secret. Matches map back to the original bytes (see [`super::mapped`]), so what is masked
//! is the whole original run, invisible characters and look-alikes included.
//!
//! - dropped: zero-width and format characters (U+200B–U+200F, U+202A–U+202E, U+2060–U+206F,
//!   U+FEFF, soft hyphen U+00AD, U+034F, U+180E, variation selectors, tag characters);
//! - to a space: no-break and other Unicode spaces (U+00A0, U+1680, U+2000–U+200A, U+202F,
//!   U+205F, U+3000); to a line feed: U+0085, U+2028, U+2029;
//! - to `-`: Unicode hyphens, dashes and minus signs; to `"`/`'`: typographic quotes;
//! - to ASCII: fullwidth forms (U+FF01–U+FF5E), decimal digits of other scripts, the
//!   mathematical alphanumerics, and, inside a word that also holds ASCII letters or digits,
//!   Cyrillic, Greek and other letters that look like Latin ones (`а` U+0430 for `a` in
//!   `sk_live_`, `Ο` U+039F for `O` in `ΑΚΙΑ…`; a word written wholly in Cyrillic or Greek,
//!   `пароль`, stays as it is, so rules for those languages still see it).
//!
//! ASCII text (nearly all of it) is left alone without a pass over its characters beyond the
//! ASCII check; other text costs one table lookup per non-ASCII character.

use super::mapped::Sink;

/// What a character becomes in the view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Norm {
    Keep,
    Drop,
    To(char),
    /// A look-alike of this ASCII letter: mapped only inside a word that holds ASCII.
    Like(char),
}

fn norm(c: char) -> Norm {
    let cp = u32::from(c);
    if cp < 0x80 {
        return Norm::Keep;
    }
    let to = |b: u8| Norm::To(char::from(b));
    match cp {
        // Invisible: soft hyphen, combining grapheme joiner, Mongolian vowel separator,
        // zero-width space/joiners and direction marks, embeddings and isolates, word joiner
        // and invisible operators, BOM, variation selectors, tag characters.
        0xAD
        | 0x34F
        | 0x180E
        | 0x200B..=0x200F
        | 0x202A..=0x202E
        | 0x2060..=0x206F
        | 0xFEFF
        | 0xFE00..=0xFE0F
        | 0xE0000..=0xE007F
        | 0xE0100..=0xE01EF => Norm::Drop,
        0xA0 | 0x1680 | 0x2000..=0x200A | 0x202F | 0x205F | 0x3000 => to(b' '),
        0x85 | 0x2028 | 0x2029 => to(b'\n'),
        0x2010..=0x2015 | 0x2212 | 0x2043 | 0xFE58 | 0xFE63 => to(b'-'),
        0x2018..=0x201B | 0x2032 => to(b'\''),
        0x201C..=0x201F | 0x2033 => to(b'"'),
        // Fullwidth ASCII.
        0xFF01..=0xFF5E => Norm::To(char::from_u32(cp - 0xFEE0).unwrap_or(c)),
        // Mathematical alphanumerics: 13 alphabets of 52 letters, then 5 sets of 10 digits.
        0x1D400..=0x1D6A3 => {
            let k = (cp - 0x1D400) % 52;
            to(if k < 26 {
                b'A' + k as u8
            } else {
                b'a' + (k - 26) as u8
            })
        }
        0x1D7CE..=0x1D7FF => to(b'0' + ((cp - 0x1D7CE) % 10) as u8),
        _ => match digit_of(cp) {
            Some(d) => to(b'0' + d),
            None => match look_alike(cp) {
                Some(b) => Norm::Like(char::from(b)),
                None => Norm::Keep,
            },
        },
    }
}

/// Decimal digits of other scripts (the zero of each block; each block runs to nine).
const DIGIT_ZEROS: &[u32] = &[
    0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66, 0xDE6,
    0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50,
    0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xAA50, 0xABF0,
];

fn digit_of(cp: u32) -> Option<u8> {
    DIGIT_ZEROS
        .iter()
        .find(|&&z| (z..z + 10).contains(&cp))
        .map(|&z| (cp - z) as u8)
}

/// Letters that render like a Latin letter (Unicode's confusables for the Latin alphabet, the
/// ones that occur in practice: Cyrillic, Greek, Armenian, dotless i and j).
fn look_alike(cp: u32) -> Option<u8> {
    Some(match cp {
        // Cyrillic capitals.
        0x410 => b'A',
        0x412 => b'B',
        0x415 | 0x400 | 0x401 => b'E',
        0x41A | 0x40C => b'K',
        0x41C => b'M',
        0x41D => b'H',
        0x41E => b'O',
        0x420 => b'P',
        0x421 => b'C',
        0x422 => b'T',
        0x425 => b'X',
        0x423 | 0x4AE => b'Y',
        0x406 | 0x4C0 => b'I',
        0x408 => b'J',
        0x405 => b'S',
        0x51A => b'Q',
        0x51C => b'W',
        0x4BA => b'H',
        // Cyrillic small letters.
        0x430 => b'a',
        0x435 | 0x450 | 0x451 => b'e',
        0x456 | 0x457 => b'i',
        0x458 => b'j',
        0x43E => b'o',
        0x440 => b'p',
        0x441 => b'c',
        0x443 => b'y',
        0x445 => b'x',
        0x455 => b's',
        0x501 => b'd',
        0x4BB => b'h',
        0x51B => b'q',
        0x51D => b'w',
        0x4CF => b'l',
        0x43A => b'k',
        0x432 => b'b',
        // Greek capitals.
        0x391 | 0x386 => b'A',
        0x392 => b'B',
        0x395 | 0x388 => b'E',
        0x396 => b'Z',
        0x397 | 0x389 => b'H',
        0x399 | 0x38A | 0x3AA => b'I',
        0x39A => b'K',
        0x39C => b'M',
        0x39D => b'N',
        0x39F | 0x38C => b'O',
        0x3A1 => b'P',
        0x3A4 => b'T',
        0x3A5 | 0x38E | 0x3AB => b'Y',
        0x3A7 => b'X',
        // Greek small letters.
        0x3B1 => b'a',
        0x3BF | 0x3CC => b'o',
        0x3BD => b'v',
        0x3B9 | 0x3AF | 0x3CA => b'i',
        0x3BA => b'k',
        0x3C1 => b'p',
        0x3C5 | 0x3CD => b'u',
        0x3C7 => b'x',
        0x3F2 => b'c',
        0x3F3 => b'j',
        // Armenian, Latin dotless i/j, long s, script small l.
        0x585 => b'o',
        0x578 => b'n',
        0x57D => b'u',
        0x131 => b'i',
        0x237 => b'j',
        0x17F => b's',
        0x261 => b'g',
        0x2113 => b'l',
        0x212A => b'K',
        0x212B => b'A',
        _ => return None,
    })
}

/// Characters that belong to a word for the look-alike rule.
fn wordish(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// The end of the word that holds byte `i` of `text`, and whether that word also holds an
/// ASCII letter or digit. Each word is read once by its callers (they remember the answer up
/// to its end), so the look-alike rule costs one pass however long the word.
fn word_at(text: &str, i: usize) -> (usize, bool) {
    let inside = |c: char| wordish(c) || norm(c) == Norm::Drop;
    let before = text[..i].chars().rev().take_while(|&c| inside(c));
    let mut ascii = before.clone().any(|c| c.is_ascii_alphanumeric());
    let mut end = text.len();
    for (k, c) in text[i..].char_indices() {
        if !inside(c) {
            end = i + k;
            break;
        }
        ascii |= c.is_ascii_alphanumeric();
    }
    (end, ascii)
}

/// Whether [`normalize`] would change `text`.
pub fn needed(text: &str) -> bool {
    if text.is_ascii() {
        return false;
    }
    let mut word: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        match norm(c) {
            Norm::Keep => {}
            Norm::Like(_) => {
                let ascii = match word {
                    Some((end, a)) if i < end => a,
                    _ => {
                        let w = word_at(text, i);
                        word = Some(w);
                        w.1
                    }
                };
                if ascii {
                    return true;
                }
            }
            _ => return true,
        }
    }
    false
}

/// Writes the normalised form of `text` into `out`, runs of kept characters in one go.
pub fn normalize<S: Sink>(text: &str, out: &mut S) {
    let mut run = 0;
    // Whether the current word holds ASCII (computed once per word that needs it).
    let mut word: Option<(usize, bool)> = None;
    for (i, c) in text.char_indices() {
        let mut n = norm(c);
        if let Norm::Like(t) = n {
            let ascii = match word {
                Some((end, a)) if i < end => a,
                _ => {
                    let w = word_at(text, i);
                    word = Some(w);
                    w.1
                }
            };
            n = if ascii { Norm::To(t) } else { Norm::Keep };
        }
        if n == Norm::Keep {
            continue;
        }
        if run < i {
            out.copy(&text[run..i], run);
        }
        let end = i + c.len_utf8();
        match n {
            Norm::Drop => out.drop_unit(),
            Norm::To(t) => out.push(t, i..end),
            Norm::Keep | Norm::Like(_) => {}
        }
        run = end;
    }
    if run < text.len() {
        out.copy(&text[run..], run);
    }
}

#[cfg(test)]
mod tests {
    use super::super::mapped::{Builder, TextOnly};
    use super::*;

    fn view(s: &str) -> Option<String> {
        let mut t = TextOnly::new(s.len());
        normalize(s, &mut t);
        t.finish()
    }

    #[test]
    fn hidden_and_look_alike_forms_become_ascii() {
        let cases = [
            ("sk_\u{200b}live_abc", "sk_live_abc"),
            ("gh\u{00ad}p_x", "ghp_x"),
            ("\u{feff}AKIA", "AKIA"),
            ("s\u{043a}_live", "sk_live"),
            ("-----\u{0412}\u{0415}GIN", "-----BEGIN"),
            ("\u{0391}KIA", "AKIA"),
            ("\u{ff14}\u{ff11}\u{ff11}\u{ff11}", "4111"),
            ("4111\u{a0}1111\u{202f}1111", "4111 1111 1111"),
            ("٤١١١", "4111"),
            ("a\u{2013}b\u{2212}c", "a-b-c"),
            ("\u{201c}x\u{201d}", "\"x\""),
            ("\u{1d42c}\u{1d41e}\u{1d432}", "sey"),
            ("\u{1d7d2}", "4"),
        ];
        for (input, want) in cases {
            assert_eq!(view(input).as_deref(), Some(want), "{input:?}");
            assert!(needed(input), "{input:?}");
        }
    }

    #[test]
    fn ordinary_text_is_left_alone() {
        for s in [
            "plain ascii",
            "café déjà vu",
            "日本語のテキスト",
            "emoji 🎉 ok",
            "Пароль от почты",
            "Καλημέρα κόσμε",
            "",
        ] {
            assert_eq!(view(s), None, "{s:?}");
            assert!(!needed(s), "{s:?}");
        }
    }

    #[test]
    fn matches_map_back_over_the_whole_original_run() {
        let src = "key s\u{043a}_\u{200b}live_Xy9 end";
        let mut b = Builder::new(src.len());
        normalize(src, &mut b);
        let m = b.finish().unwrap();
        assert_eq!(m.text, "key sk_live_Xy9 end");
        let s = m.text.find("sk_").unwrap();
        let e = m.text.find(" end").unwrap();
        assert_eq!(&src[m.raw_range(s..e)], "s\u{043a}_\u{200b}live_Xy9");
    }
}
