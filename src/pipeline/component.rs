//! The stages as components: each stage's config (`sampling`, `fingerprint`, `redaction`,
//! `audit`) checks its own values ([`StageConfig::validate`]), says what `spanward validate`
//! checks before start ([`StageConfig::check`]: by default, building the stage and dropping it)
//! and builds the stage ([`StageConfig::build`]) once, when the service starts. [`StagesConfig`]
//! holds the four and builds them together, into the receivers' sampler and the workers'
//! [`Stages`].

use super::fingerprint::{FingerprintConfig, Fingerprinter};
use super::sample::{Sampler, SamplingConfig};
use super::stages::Stages;
use crate::audit::{AuditConfig, AuditLog};
use crate::keys::HmacKey;
use crate::scrub::{RedactionConfig, Scrubber};
use crate::yaml::ComponentError;

/// What building a stage needs.
#[derive(Clone, Copy)]
pub struct StageContext<'a> {
    /// The key of fingerprints and pseudonyms.
    pub key: &'a HmacKey,
}

/// The config of one stage.
pub trait StageConfig {
    /// The built stage.
    type Stage;

    /// Checks what can be checked without building the stage. Errors name the exact key.
    /// Default: nothing (building it is the check).
    fn validate(&self) -> Result<(), ComponentError> {
        Ok(())
    }

    /// What `spanward validate` checks beyond [`StageConfig::validate`], creating nothing.
    /// Default: builds the stage and drops it.
    fn check(&self, ctx: StageContext<'_>) -> Result<(), ComponentError> {
        self.build(ctx).map(drop)
    }

    /// Builds the stage; `None` when it is switched off (or would change nothing).
    fn build(&self, ctx: StageContext<'_>) -> Result<Option<Self::Stage>, ComponentError>;
}

impl StageConfig for SamplingConfig {
    type Stage = Sampler;

    fn build(&self, _ctx: StageContext<'_>) -> Result<Option<Sampler>, ComponentError> {
        let s = Sampler::new(self).map_err(|e| ComponentError::new("sampling", e))?;
        Ok((!s.is_pass_through()).then_some(s))
    }
}

impl StageConfig for FingerprintConfig {
    type Stage = Fingerprinter;

    fn build(&self, ctx: StageContext<'_>) -> Result<Option<Fingerprinter>, ComponentError> {
        // Built even when off, so a bad glob is reported whether or not the stage runs.
        let f = Fingerprinter::new(self, ctx.key.clone())
            .map_err(|e| ComponentError::new("fingerprint", e))?;
        Ok(self.enabled.then_some(f))
    }
}

impl StageConfig for RedactionConfig {
    type Stage = Scrubber;

    /// Rule ids, types and action keys the section names must exist: each unknown one is
    /// named by its exact key path (`redaction.disable_rules[0]`), so `validate` can give its
    /// line. The scrubber checks the same when it is built; this only adds where.
    fn validate(&self) -> Result<(), ComponentError> {
        // Nothing named: nothing to check (and no compilation of the packs here).
        if !self.enabled
            || (self.disable_rules.is_empty()
                && self.disable_types.is_empty()
                && self.actions.is_empty())
        {
            return Ok(());
        }
        let files = crate::scrub::read_pattern_files(&self.pattern_files)
            .map_err(|e| ComponentError::new("redaction.pattern_files", e))?;
        let mut sources = crate::scrub::rules::RuleSet::default_sources();
        for (origin, text) in &files {
            sources.push(crate::scrub::rules::PackSource {
                origin: origin.clone(),
                text,
            });
        }
        let all = crate::scrub::rules::RuleSet::from_packs(&sources, &[], &[], false)
            .map_err(|e| ComponentError::new("redaction.pattern_files", e))?;
        for (i, id) in self.disable_rules.iter().enumerate() {
            if !all.rules.iter().any(|r| *r.id == **id) {
                return Err(ComponentError::new(
                    format!("redaction.disable_rules[{i}]"),
                    format!("no rule `{id}` (`spanward patterns list` prints them)"),
                ));
            }
        }
        for (i, t) in self.disable_types.iter().enumerate() {
            if !all.types.iter().any(|x| **x == **t) {
                return Err(ComponentError::new(
                    format!("redaction.disable_types[{i}]"),
                    format!("no type `{t}` (`spanward patterns list` prints them)"),
                ));
            }
        }
        for k in self.actions.keys() {
            let known = k == "secret"
                || k == "pii"
                || all.rules.iter().any(|r| *r.id == **k || *r.typ == **k);
            if !known {
                return Err(ComponentError::new(
                    format!("redaction.actions.{k}"),
                    "is no rule id, type or category (`secret`, `pii`)",
                ));
            }
        }
        Ok(())
    }

    /// The pattern packs compiled and their examples run.
    fn build(&self, ctx: StageContext<'_>) -> Result<Option<Scrubber>, ComponentError> {
        if !self.enabled {
            return Ok(None);
        }
        Scrubber::new(self, ctx.key.clone())
            .map(Some)
            .map_err(|e| ComponentError::new("redaction", e))
    }
}

impl StageConfig for AuditConfig {
    type Stage = AuditLog;

    /// Building would create the file: only its directory is checked.
    fn check(&self, _ctx: StageContext<'_>) -> Result<(), ComponentError> {
        let Some(a) = self.file.as_ref().filter(|_| self.enabled) else {
            return Ok(());
        };
        let dir = a
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        crate::sink::registry::check_writable_dir("audit.file.path", dir)
    }

    fn build(&self, _ctx: StageContext<'_>) -> Result<Option<AuditLog>, ComponentError> {
        if !self.enabled {
            return Ok(None);
        }
        AuditLog::new(self)
            .map(Some)
            .map_err(|e| ComponentError::new("audit", e))
    }
}

/// The stage sections of the config, in the order the stages run.
#[derive(Debug, Clone, Default)]
pub struct StagesConfig {
    /// On the receivers, before the queue.
    pub sampling: SamplingConfig,
    /// The rest on the workers.
    pub fingerprint: FingerprintConfig,
    pub redaction: RedactionConfig,
    pub audit: AuditConfig,
}

/// The stages, built.
pub struct BuiltStages {
    /// Early sampling on the receivers; `None` when it would keep everything.
    pub sampler: Option<Sampler>,
    /// What the workers run.
    pub stages: Stages,
}

impl StagesConfig {
    /// [`StageConfig::validate`] of each stage.
    pub fn validate(&self) -> Result<(), ComponentError> {
        self.sampling.validate()?;
        self.fingerprint.validate()?;
        self.redaction.validate()?;
        self.audit.validate()
    }

    /// [`StageConfig::check`] of each stage: what `spanward validate` adds.
    pub fn check(&self, ctx: StageContext<'_>) -> Result<(), ComponentError> {
        self.sampling.check(ctx)?;
        self.fingerprint.check(ctx)?;
        self.redaction.check(ctx)?;
        self.audit.check(ctx)
    }

    /// Builds every stage, once.
    pub fn build(&self, ctx: StageContext<'_>) -> Result<BuiltStages, ComponentError> {
        let sampler = self.sampling.build(ctx)?;
        let fingerprint = self.fingerprint.build(ctx)?;
        let scrub = self.redaction.build(ctx)?;
        if scrub.is_none() {
            tracing::warn!("redaction is disabled: spans are stored and forwarded unscrubbed");
        }
        let audit = self.audit.build(ctx)?;
        Ok(BuiltStages {
            sampler,
            stages: Stages {
                fingerprint,
                scrub,
                audit,
            },
        })
    }
}
