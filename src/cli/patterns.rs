//! `spanward patterns test [FILE…]` and `spanward patterns list [FILE…]`.

use crate::scrub::rules::{Category, PackSource, RuleSet};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct PatternsArgs {
    #[command(subcommand)]
    pub cmd: PatternsCmd,
}

#[derive(Debug, Subcommand)]
pub enum PatternsCmd {
    /// Compile each rule and run its tp/fp examples; exits 1 naming every failing rule.
    /// Without FILE, checks the built-in packs.
    Test {
        /// Pattern pack TOML files.
        files: Vec<PathBuf>,
    },
    /// Print the rules (built-in packs, then FILEs, later ids overriding earlier ones).
    List {
        /// Extra pattern pack TOML files.
        files: Vec<PathBuf>,
    },
}

fn load(files: &[PathBuf]) -> anyhow::Result<Vec<(String, String)>> {
    files
        .iter()
        .map(|p| {
            std::fs::read_to_string(p)
                .map(|t| (p.display().to_string(), t))
                .map_err(|e| anyhow::anyhow!("reading {}: {e}", p.display()))
        })
        .collect()
}

pub fn run(args: PatternsArgs) -> anyhow::Result<ExitCode> {
    match args.cmd {
        PatternsCmd::Test { files } => {
            let texts = load(&files)?;
            let mut sources: Vec<PackSource<'_>> = texts
                .iter()
                .map(|(o, t)| PackSource {
                    origin: o.clone(),
                    text: t,
                })
                .collect();
            if sources.is_empty() {
                sources = RuleSet::default_sources();
            }
            let (mut rules, mut failed) = (0, 0);
            for src in &sources {
                let checks = match RuleSet::check_pack(src) {
                    Ok(c) => c,
                    Err(e) => {
                        println!("FAIL {e}");
                        failed += 1;
                        continue;
                    }
                };
                for c in checks {
                    rules += 1;
                    match c.error {
                        None => println!("ok   {:32} {} tp, {} fp", c.id, c.tp, c.fp),
                        Some(e) => {
                            failed += 1;
                            println!("FAIL {e}");
                        }
                    }
                }
            }
            println!("{rules} rules checked, {failed} failed");
            Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        PatternsCmd::List { files } => {
            let texts = load(&files)?;
            let mut sources = RuleSet::default_sources();
            sources.extend(texts.iter().map(|(o, t)| PackSource {
                origin: o.clone(),
                text: t,
            }));
            let set = RuleSet::from_packs(&sources, &[], &[], false)?;
            println!(
                "{:32} {:24} {:7} {:8} {:>4}  description",
                "id", "type", "cat", "action", "prio"
            );
            for r in &set.rules {
                let cat = match r.category {
                    Category::Secret => "secret",
                    Category::Pii => "pii",
                };
                let action = format!("{:?}", r.action).to_lowercase();
                println!(
                    "{:32} {:24} {:7} {:8} {:>4}  {}",
                    r.id, r.typ, cat, action, r.priority, r.description
                );
            }
            println!("{} rules, {} types", set.rules.len(), set.types.len());
            Ok(ExitCode::SUCCESS)
        }
    }
}
