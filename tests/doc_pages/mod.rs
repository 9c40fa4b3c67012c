//! The pages a reader is sent to: README.md and every `docs/*.md`, for the tests that check what
//! they show (commands parse, curl examples are accepted, config keys are documented).
//!
//! `docs/bench/` is left out on purpose: it keeps dated benchmark reports, whose commands are a
//! record of what was run then, not instructions that must keep working.

use std::path::Path;

/// `(path relative to the repository, text)` of README.md, then `docs/*.md` in name order.
pub fn pages() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<String> = std::fs::read_dir(root.join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "md"))
        .map(|p| format!("docs/{}", p.file_name().unwrap().to_string_lossy()))
        .collect();
    names.sort();
    names.insert(0, "README.md".to_string());
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(root.join(&n)).unwrap();
            (n, text)
        })
        .collect()
}
