//! What the admin status views say about how this instance is set up, gathered once at start
//! by `service::run`: the effective configuration (secrets masked), the rule packs in force
//! with their rule counts, the memory limiter's limits, and where the log keeps its latest
//! checkpoint. It reads the types of `scrub`, `sink` and `receiver` that `admin` (a lower
//! layer) may not see, and hands `admin` plain figures.

use crate::admin::config_view;
use crate::admin::process::LogSource;
use crate::admin::status::{RulePack, Sources};
use crate::receiver::memlimit::{cgroup_limit, MemoryLimiterConfig};
use crate::scrub::Scrubber;
use crate::sink::log::{checkpoint::LATEST_CHECKPOINT_FILE, LogConfig};

/// The status views' sources. `config_debug` is the resolved configuration's pretty `Debug`
/// text (`format!("{cfg:#?}")`), masked here; `scrubber` is the redaction stage, if on.
pub fn sources(
    config_debug: &str,
    file_sink: Option<&LogConfig>,
    memory_limiter: &MemoryLimiterConfig,
    scrubber: Option<&Scrubber>,
) -> Sources {
    Sources {
        config: config_view::from_debug(config_debug),
        rule_packs: scrubber.map(rule_packs).unwrap_or_default(),
        // What `MemoryLimiter::start` computes from the same configuration and cgroup.
        memory_limits: memory_limiter.limits(cgroup_limit()),
        log: file_sink.map(|f| LogSource {
            checkpoint_file: f.path.join(LATEST_CHECKPOINT_FILE),
            checkpoint_interval: f.checkpoint_interval,
        }),
    }
}

/// The packs of the rules in force, in load order, with their rule and type counts.
fn rule_packs(s: &Scrubber) -> Vec<RulePack> {
    let mut out: Vec<(RulePack, Vec<&str>)> = Vec::new();
    for r in &s.set.rules {
        let i = match out.iter().position(|(p, _)| *p.name == *r.pack) {
            Some(i) => i,
            None => {
                out.push((
                    RulePack {
                        name: r.pack.to_string(),
                        rules: 0,
                        types: 0,
                    },
                    Vec::new(),
                ));
                out.len() - 1
            }
        };
        let (pack, types) = &mut out[i];
        pack.rules += 1;
        if !types.contains(&&*r.typ) {
            types.push(&r.typ);
            pack.types += 1;
        }
    }
    out.into_iter().map(|(p, _)| p).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packs_limits_and_log_of_the_default_configuration() {
        let cfg = crate::config::Config::from_yaml(
            "pipeline: { memory_limiter: { soft_limit_mib: 100, hard_limit_mib: 200 } }\n\
             redaction: { disable_types: [email] }\n",
            "t",
        )
        .unwrap()
        .resolve("t")
        .unwrap();
        let scrub = Scrubber::new(&cfg.stages.redaction, cfg.hmac_key.clone()).unwrap();
        let s = sources(
            &format!("{cfg:#?}"),
            cfg.exporters
                .iter()
                .find_map(|e| e.config::<crate::sink::log::LogConfig>()),
            &cfg.pipeline.memory_limiter,
            Some(&scrub),
        );
        assert_eq!(s.memory_limits, Some((100 << 20, 200 << 20)));
        let log = s.log.unwrap();
        assert!(log.checkpoint_file.ends_with("spanward-data/checkpoint"));
        assert_eq!(log.checkpoint_interval.as_secs(), 10);
        let names: Vec<_> = s.rule_packs.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        let total: usize = s.rule_packs.iter().map(|p| p.rules).sum();
        assert_eq!(total, scrub.set.rules.len());
        assert!(s
            .rule_packs
            .iter()
            .all(|p| p.rules >= p.types && p.types > 0));
        assert!(!scrub.set.rules.iter().any(|r| &*r.typ == "email"));
        let j = serde_json::to_value(&s.config).unwrap();
        assert_eq!(j["pipeline"]["memory_limiter"]["soft_limit_mib"], 100);
    }
}
