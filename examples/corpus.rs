//! Prints the project's own evaluation corpus (`tests/corpus`) as JSONL, in the format of the
//! shared development corpus: `cargo run --example corpus > own-corpus.jsonl`, then e.g.
//! `SPANWARD_CORPUS=own-corpus.jsonl` for the benches or a black-box check.
//! Optional arguments: record count and seed (decimal or 0x-hex).

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::io::Write;

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let n = match args.next().map(|a| a.parse::<usize>()) {
        None => corpus::SIZE,
        Some(Ok(n)) => n,
        Some(Err(e)) => {
            eprintln!("corpus: record count: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let seed = match args.next() {
        None => Ok(corpus::SEED),
        Some(a) => match a.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => a.parse::<u64>(),
        },
    };
    let seed = match seed {
        Ok(s) => s,
        Err(e) => {
            eprintln!("corpus: seed: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let mut out = std::io::stdout().lock();
    for r in corpus::generate(n, seed) {
        if writeln!(out, "{}", r.to_json()).is_err() {
            // A closed pipe (`| head`): stop quietly.
            break;
        }
    }
    std::process::ExitCode::SUCCESS
}
