//! The rules confirmed by code ([`Detector`]): which rule each detector reports as, and one run
//! of every detector over a text, given the keyword hits that trigger them. Both engines use
//! it (the fast one hands over the hits of its keyword pass, the naive one finds them by plain
//! search), so they agree on these rules by construction.

use super::assign::{self, FamilyRules};
use super::blocks::{self, BlockRules};
use super::engine::Match;
use super::keyname::KeyWords;
use super::rules::{Detector, RuleSet};
use std::ops::Range;

/// What a keyword triggers when it belongs to a detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    Assign,
    Pem,
    Putty,
}

/// The detectors of a rule set.
#[derive(Debug, Clone, Default)]
pub struct Code {
    pub key_words: KeyWords,
    pub assign: FamilyRules,
    pub pem: BlockRules,
    pub putty: Option<u32>,
    /// Keywords that trigger the PEM and PuTTY detectors (their rules' keywords).
    pem_keywords: Vec<String>,
    putty_keywords: Vec<String>,
}

/// Keyword hits per detector, filled by an engine's keyword pass.
#[derive(Debug, Default)]
pub struct Hits {
    pub assign: Vec<(usize, usize)>,
    pub pem: Vec<usize>,
    pub putty: Vec<usize>,
}

impl Hits {
    pub fn is_empty(&self) -> bool {
        self.assign.is_empty() && self.pem.is_empty() && self.putty.is_empty()
    }

    pub fn push(&mut self, g: Group, start: usize, end: usize) {
        match g {
            Group::Assign => self.assign.push((start, end)),
            Group::Pem => self.pem.push(start),
            Group::Putty => self.putty.push(start),
        }
    }
}

impl Code {
    /// Finds the detector rules of `set`; `key_words` drives the assignment detector.
    pub fn new(set: &RuleSet, key_words: KeyWords) -> Code {
        let mut c = Code {
            key_words,
            ..Code::default()
        };
        for (i, r) in set.rules.iter().enumerate() {
            let i = i as u32;
            let kws = || r.keywords.iter().map(|k| k.to_ascii_lowercase());
            match r.detector {
                Some(Detector::PasswordAssignment) => c.assign.password = Some(i),
                Some(Detector::SecretAssignment) => c.assign.secret = Some(i),
                Some(Detector::Pem) => {
                    c.pem.complete = Some(i);
                    c.pem_keywords.extend(kws());
                }
                Some(Detector::PemTruncated) => {
                    c.pem.truncated = Some(i);
                    c.pem_keywords.extend(kws());
                }
                Some(Detector::Putty) => {
                    c.putty = Some(i);
                    c.putty_keywords.extend(kws());
                }
                None => {}
            }
        }
        for v in [&mut c.pem_keywords, &mut c.putty_keywords] {
            v.sort();
            v.dedup();
        }
        c
    }

    /// Every keyword that triggers a detector, with its detector.
    pub fn keywords(&self) -> Vec<(String, Group)> {
        let mut out = Vec::new();
        if self.assign.password.is_some() || self.assign.secret.is_some() {
            out.extend(
                self.key_words
                    .first_pieces()
                    .iter()
                    .map(|w| (w.clone(), Group::Assign)),
            );
        }
        out.extend(self.pem_keywords.iter().map(|k| (k.clone(), Group::Pem)));
        out.extend(
            self.putty_keywords
                .iter()
                .map(|k| (k.clone(), Group::Putty)),
        );
        out
    }

    /// Runs the detectors on their keyword hits (any order; sorted here).
    pub fn run(&self, text: &str, hits: &mut Hits, out: &mut Vec<Match>) {
        // Each detector reads an identifier, a value or a block once (see their docs).
        super::engine::add_work(text.len());
        if !hits.assign.is_empty() {
            hits.assign.sort_unstable();
            hits.assign.dedup();
            assign::find(text, &hits.assign, &self.key_words, self.assign, out);
        }
        if !hits.pem.is_empty() {
            hits.pem.sort_unstable();
            hits.pem.dedup();
            blocks::pem(text, &hits.pem, self.pem, out);
        }
        if !hits.putty.is_empty() {
            hits.putty.sort_unstable();
            hits.putty.dedup();
            blocks::putty(text, &hits.putty, self.putty, out);
        }
    }

    /// Runs the detectors with hits found by plain search (the naive engine).
    pub fn run_naive(&self, text: &str, out: &mut Vec<Match>) {
        let mut hits = Hits::default();
        if self.assign.password.is_some() || self.assign.secret.is_some() {
            hits.assign = assign::keyword_hits(text, &self.key_words);
        }
        for k in &self.pem_keywords {
            hits.pem.extend(blocks::starts_of(text, k.as_bytes()));
        }
        for k in &self.putty_keywords {
            hits.putty.extend(blocks::starts_of(text, k.as_bytes()));
        }
        self.run(text, &mut hits, out);
    }
}

/// The matches of one detector rule alone, with the built-in key words (pack self-tests).
pub fn find_one(d: Detector, text: &str) -> Vec<Range<usize>> {
    let mut c = Code {
        key_words: KeyWords::defaults(),
        ..Code::default()
    };
    match d {
        Detector::PasswordAssignment => c.assign.password = Some(0),
        Detector::SecretAssignment => c.assign.secret = Some(0),
        Detector::Pem => {
            c.pem.complete = Some(0);
            c.pem_keywords.push("-----begin ".into());
        }
        Detector::PemTruncated => {
            c.pem.truncated = Some(0);
            c.pem_keywords.push("-----begin ".into());
        }
        Detector::Putty => {
            c.putty = Some(0);
            c.putty_keywords.push("putty-user-key-file-".into());
        }
    }
    let mut out = Vec::new();
    c.run_naive(text, &mut out);
    out.iter().map(|m| m.start..m.end).collect()
}
