//! The rule ids, types and action keys a config names, checked where they are written.

/// Rule ids, types and action keys named in `redaction` must exist: each unknown one is named
/// by its exact key path (`redaction.disable_rules[0]`), so `validate` can give its line. The
/// scrubber checks the same when it is built; this only adds where.
pub(super) fn check_redaction(cfg: &crate::scrub::RedactionConfig) -> Result<(), (String, String)> {
    // Nothing named: nothing to check (and no second compilation of the packs at start).
    if cfg.disable_rules.is_empty() && cfg.disable_types.is_empty() && cfg.actions.is_empty() {
        return Ok(());
    }
    let files = crate::scrub::read_pattern_files(&cfg.pattern_files)
        .map_err(|e| ("redaction.pattern_files".to_string(), e.to_string()))?;
    let mut sources = crate::scrub::rules::RuleSet::default_sources();
    for (origin, text) in &files {
        sources.push(crate::scrub::rules::PackSource {
            origin: origin.clone(),
            text,
        });
    }
    let all = crate::scrub::rules::RuleSet::from_packs(&sources, &[], &[], false)
        .map_err(|e| ("redaction.pattern_files".to_string(), e.to_string()))?;
    for (i, id) in cfg.disable_rules.iter().enumerate() {
        if !all.rules.iter().any(|r| *r.id == **id) {
            return Err((
                format!("redaction.disable_rules[{i}]"),
                format!("no rule `{id}` (`spanward patterns list` prints them)"),
            ));
        }
    }
    for (i, t) in cfg.disable_types.iter().enumerate() {
        if !all.types.iter().any(|x| **x == **t) {
            return Err((
                format!("redaction.disable_types[{i}]"),
                format!("no type `{t}` (`spanward patterns list` prints them)"),
            ));
        }
    }
    for k in cfg.actions.keys() {
        let known =
            k == "secret" || k == "pii" || all.rules.iter().any(|r| *r.id == **k || *r.typ == **k);
        if !known {
            return Err((
                format!("redaction.actions.{k}"),
                "is no rule id, type or category (`secret`, `pii`)".into(),
            ));
        }
    }
    Ok(())
}
