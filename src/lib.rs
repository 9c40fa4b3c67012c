//! spanward: an OTLP trace gateway for AI agents.
//!
//! Agents export OTLP spans to spanward; it samples them early, fingerprints tool and LLM inputs
//! and outputs with a keyed hash, scrubs PII and secrets, and hands them to an append-only local
//! log and/or the next collector stage.
//!
//! # Layout
//! - [`config`]: the typed YAML configuration, defaults and validation.
//! - [`receiver`]: OTLP/gRPC and OTLP/HTTP servers, body limits, decoding, refusals.
//! - [`otlp`]: encoded requests read in place and edited without decoding (the data path), their
//!   limits, tracestate.
//! - [`pipeline`]: the [`pipeline::Batch`] type, the bounded [`pipeline::queue`], the worker pool
//!   and its stages.
//! - [`sink`]: the [`sink::Sink`] trait and its implementations (local log, OTLP forward,
//!   Kafka), and the registry of the exporters a config can name ([`sink::registry`]).
//! - [`vocab`]: the shared vocabulary at the bottom of the module graph: drop and refuse
//!   reasons, health, the metrics handles, the span attributes spanward writes.
//! - [`admin`]: `/metrics`, `/healthz`, `/readyz`, the status page and its JSON, the summary
//!   log line; [`introspect`] gathers what the status page says of the setup.
//! - [`scrub`]: the redaction engine: pattern packs, prefilter + regex engine, validators,
//!   JSON-aware text walk, span walk, replacement actions.
//! - [`audit`]: JSON audit records of agent operations.
//! - [`keys`]: the HMAC key shared by pseudonyms and fingerprints.
//! - [`tls`], [`auth`]: rustls for receivers and exporter, bearer tokens.
//! - [`yaml`]: serde helpers for the config sections that modules own.
//! - [`load`]: the load generator (`spanward load`).
//! - [`cli`]: subcommands; `main.rs` only calls [`cli::main`].
//! - [`service`]: [`service::run`], the one entry point that wires everything.
//!
//! The modules form layers and import only downwards: `otlp` and `scrub` know nothing of the
//! service, stages and sinks build on them and on `vocab`, `config` gathers every module's
//! settings, `service` assembles, `cli` is on top. `tests/module_graph.rs` holds the table and
//! fails on an edge against it; `docs/architecture.md` draws the graph.
#![forbid(unsafe_code)]

pub mod admin;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod introspect;
pub mod keys;
pub mod load;
pub mod otlp;
pub mod pipeline;
pub mod receiver;
pub mod rpc_status;
pub mod scrub;
pub mod service;
pub mod sink;
pub mod tls;
pub mod vocab;
pub mod yaml;

pub use service::{run, Listeners, RunError};
