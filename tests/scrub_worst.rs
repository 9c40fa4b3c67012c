//! The worst inputs found for the scrubber's cost (the generators of `benches/scrub_worst.rs`:
//! every keyword repeated, runs of every character class the rules react to, shapes that
//! stress one layer) grow its work linearly. The measure is the bytes handed to its passes and
//! regex searches (`engine::work_meter`, deterministic). It counts a keyword hit's whole search
//! window even where the automaton stops early, and at these sizes a window can be cut by the
//! end of the text, so a linear input can show up to twice the input's growth (a ratio up to
//! eight for four times the input); quadratic behaviour (a hit rescanning a window that the
//! next hit rescans again, as `PuTTY-User-Key-File-2: ` repeated did) shows as sixteen. Not a
//! timing: absolute speed is measured by the bench.

#[path = "../benches/worst_inputs.rs"]
mod worst_inputs;

use spanward::keys::{HmacKey, KeySource};
use spanward::scrub::engine::work_meter;
use spanward::scrub::{RedactionConfig, Scrubber};

fn work(sc: &Scrubber, text: &str) -> u64 {
    let before = work_meter();
    std::hint::black_box(sc.scrub_str(text));
    work_meter() - before
}

#[test]
fn worst_inputs_grow_the_work_linearly() {
    let sc = Scrubber::new(
        &RedactionConfig::default(),
        HmacKey::from_bytes(vec![5; 32], None, KeySource::File),
    )
    .unwrap();
    // Small enough to keep the suite quick in a debug build; the bench runs every generator.
    let (small, large) = (8 << 10, 32 << 10);
    let seps = ["", "=", ": ", " "];
    let smalls = worst_inputs::generators(&sc, small, &seps);
    let larges = worst_inputs::generators(&sc, large, &seps);
    let mut worst: Vec<(f64, String)> = Vec::new();
    for ((name, s), (_, l)) in smalls.iter().zip(larges.iter()) {
        let (ws, wl) = (work(&sc, s).max(1), work(&sc, l));
        worst.push((wl as f64 / ws as f64, name.clone()));
    }
    worst.sort_by(|a, b| b.0.total_cmp(&a.0));
    println!("highest growth of work for 4x the input: {:?}", &worst[..5]);
    let over: Vec<&(f64, String)> = worst.iter().filter(|(r, _)| *r > 10.0).collect();
    assert!(
        over.is_empty(),
        "work grows faster than the input: {over:?}"
    );
}
