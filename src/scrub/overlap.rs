//! Overlap resolution shared by every engine and by the scan layers: matches of different
//! rules (and of the same rule in different views of a string) that overlap are merged into
//! one masked range, labelled with the most specific rule.

use super::engine::Match;
use super::rules::RuleSet;

/// Something with a byte range and a rule, as [`resolve`] merges them.
pub trait Spanned: Clone {
    fn start(&self) -> usize;
    fn end(&self) -> usize;
    fn rule(&self) -> u32;
    fn set_end(&mut self, end: usize);
    /// Takes the winner's label (its rule, and whatever else it carries) keeping own range.
    fn label_as(&mut self, winner: &Self);
}

impl Spanned for Match {
    fn start(&self) -> usize {
        self.start
    }
    fn end(&self) -> usize {
        self.end
    }
    fn rule(&self) -> u32 {
        self.rule
    }
    fn set_end(&mut self, end: usize) {
        self.end = end;
    }
    fn label_as(&mut self, winner: &Self) {
        self.rule = winner.rule;
    }
}

/// Resolves overlaps in place: overlapping matches merge into their union (so no partial
/// leftover survives), labelled with the winner (highest priority, then longest, then first
/// rule). The result is sorted and disjoint, whatever order the rules are listed in.
pub fn resolve<T: Spanned>(set: &RuleSet, ms: &mut Vec<T>) {
    if ms.len() < 2 {
        return;
    }
    // Stable (adaptive) sort: matches arrive as one sorted run per rule and layer, which it
    // merges instead of sorting from scratch.
    ms.sort_by(|a, b| {
        a.start()
            .cmp(&b.start())
            .then(b.end().cmp(&a.end()))
            .then(a.rule().cmp(&b.rule()))
    });
    let key = |m: &T| {
        let r = &set.rules[m.rule() as usize];
        (r.priority, m.end() - m.start(), std::cmp::Reverse(m.rule()))
    };
    let mut out: Vec<T> = Vec::with_capacity(ms.len());
    // The best of the group of overlapping matches ending at `out.last()` (as first found);
    // the group takes its label once, when it closes (a label can carry a long value:
    // relabelling at every overlap copied it once per match).
    let mut win: Option<T> = None;
    let close = |last: Option<&mut T>, win: &mut Option<T>| {
        if let (Some(last), Some(w)) = (last, win.take()) {
            last.label_as(&w);
        }
    };
    for m in ms.drain(..) {
        match out.last_mut() {
            Some(last) if m.start() < last.end() => {
                let end = last.end().max(m.end());
                let w = win.get_or_insert_with(|| last.clone());
                if key(&m) > key(w) {
                    *w = m;
                }
                last.set_end(end);
            }
            _ => {
                close(out.last_mut(), &mut win);
                out.push(m);
            }
        }
    }
    close(out.last_mut(), &mut win);
    *ms = out;
}
