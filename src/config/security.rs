//! TLS files and token sets, loaded when the config is resolved.

use super::{Config, OtlpReceiverConfig};

pub(super) struct Security {
    pub(super) grpc_tls: Option<crate::tls::ServerTlsConfig>,
    pub(super) http_tls: Option<crate::tls::ServerTlsConfig>,
    pub(super) receiver_auth: Option<std::sync::Arc<crate::auth::Authenticator>>,
    pub(super) admin_auth: Option<std::sync::Arc<crate::auth::Authenticator>>,
}

/// Checks the receivers' TLS files and loads token sets, so `validate` reports a bad certificate
/// or token file and `run` never starts half-secured (the exporter checks its own TLS files).
/// Errors are (key path, message).
pub(super) fn resolve_security(
    cfg: &Config,
    otlp: &OtlpReceiverConfig,
    env: &dyn crate::keys::Env,
) -> Result<Security, (&'static str, String)> {
    use crate::tls;
    let server = |at: &'static str, t: Option<&tls::ServerTlsConfig>, alpn| match t {
        Some(t) => tls::server_config(t, alpn)
            .map(|_| Some(t.clone()))
            .map_err(|e| (at, e.to_string())),
        None => Ok(None),
    };
    let grpc_tls = server(
        "receivers.otlp.grpc.tls",
        otlp.grpc.as_ref().and_then(|g| g.tls.as_ref()),
        tls::ALPN_GRPC,
    )?;
    let http_tls = server(
        "receivers.otlp.http.tls",
        otlp.http.as_ref().and_then(|h| h.tls.as_ref()),
        tls::ALPN_HTTP,
    )?;
    let load = |at: &'static str, a: Option<&crate::auth::AuthConfig>| match a {
        Some(a) => crate::auth::Authenticator::load(a, env)
            .map(|a| Some(std::sync::Arc::new(a)))
            .map_err(|e| (at, e.to_string())),
        None => Ok(None),
    };
    Ok(Security {
        grpc_tls,
        http_tls,
        receiver_auth: load("receivers.otlp.auth", otlp.auth.as_ref())?,
        admin_auth: load("admin.auth", cfg.admin.auth.as_ref())?,
    })
}
