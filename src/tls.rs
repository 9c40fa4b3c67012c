//! Transport security: rustls (ring provider) on both receivers and on the OTLP exporter.
//!
//! The receivers run their own accept loop ([`accept_tls`]): TCP accept, then the TLS handshake
//! in its own task (bounded by [`HANDSHAKE_TIMEOUT`]) so a slow or silent client never holds up
//! the next one, then the finished stream is handed to tonic or axum. Owning the loop means one
//! server configuration serves both protocols, failures are counted, and certificates can be
//! swapped on SIGHUP ([`ServerTls::reload`]) without restarting the listeners.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use serde::{Deserialize, Deserializer};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;

/// How long a client may take to finish the TLS handshake after connecting.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// Handshakes in progress per receiver. Beyond it, new connections wait in the kernel's accept
/// backlog: a flood of clients that connect and say nothing costs bounded memory.
pub const MAX_HANDSHAKES: usize = 512;

/// ALPN for gRPC: tonic's client insists on `h2`.
pub const ALPN_GRPC: &[&[u8]] = &[b"h2"];
/// ALPN for OTLP/HTTP: both versions (axum detects which one the client speaks).
pub const ALPN_HTTP: &[&[u8]] = &[b"h2", b"http/1.1"];

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// Deliberately without the parser's detail: it could quote bytes of a key file.
    #[error("{path}: no valid PEM {what} found")]
    Pem { path: String, what: &'static str },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
    #[error("{0}")]
    Config(String),
}

/// Lowest TLS version accepted. rustls speaks nothing below 1.2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MinVersion {
    #[default]
    Tls12,
    Tls13,
}

impl<'de> Deserialize<'de> for MinVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // YAML reads an unquoted 1.2 as a number; accept both spellings.
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            S(String),
            F(f64),
        }
        let s = match Raw::deserialize(d)? {
            Raw::S(s) => s,
            Raw::F(f) => format!("{f}"),
        };
        match s.trim() {
            "1.2" => Ok(MinVersion::Tls12),
            "1.3" => Ok(MinVersion::Tls13),
            other => Err(serde::de::Error::custom(format!(
                "min_version `{other}` is not 1.2 or 1.3"
            ))),
        }
    }
}

/// `receivers.otlp.{grpc,http}.tls`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ServerTlsConfig {
    /// PEM certificate chain presented to clients (leaf first). Required.
    pub cert_file: PathBuf,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the leaf certificate. Required. Its content
    /// never appears in logs or errors.
    pub key_file: PathBuf,
    /// PEM CA certificate(s). Default: none (any client may connect; use bearer tokens). When
    /// set, mutual TLS: a client without a certificate chaining to one of these CAs (or with an
    /// expired one) fails the handshake.
    pub client_ca_file: Option<PathBuf>,
    /// Lowest protocol version, `1.2` (default) or `1.3`. Older clients fail the handshake.
    pub min_version: MinVersion,
}

/// `exporters.otlp.tls`. TLS is on when the endpoint is `https://`.
#[derive(Debug, Clone, Deserialize, Default, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct ClientTlsConfig {
    /// PEM CA certificate(s) the next stage's certificate must chain to. Default: the system's
    /// trust store. When set, only these CAs are trusted.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate for mutual TLS. Default: none. Needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// Name checked against the next stage's certificate. Default: the endpoint's host.
    pub server_name: Option<String>,
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.display().to_string(),
        source,
    })
}

/// Every certificate in a PEM file (at least one).
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let pem = read(path)?;
    let certs: Vec<_> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|_| TlsError::Pem {
            path: path.display().to_string(),
            what: "certificate",
        })?;
    if certs.is_empty() {
        return Err(TlsError::Pem {
            path: path.display().to_string(),
            what: "certificate",
        });
    }
    Ok(certs)
}

/// The first private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let pem = read(path)?;
    PrivateKeyDer::from_pem_slice(&pem).map_err(|_| TlsError::Pem {
        path: path.display().to_string(),
        what: "private key",
    })
}

fn roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let mut store = RootCertStore::empty();
    for c in load_certs(path)? {
        store.add(c).map_err(|e| TlsError::Invalid {
            path: path.display().to_string(),
            message: format!("not a usable CA certificate: {e}"),
        })?;
    }
    Ok(store)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Builds a rustls server configuration from the files `cfg` names.
pub fn server_config(
    cfg: &ServerTlsConfig,
    alpn: &[&[u8]],
) -> Result<rustls::ServerConfig, TlsError> {
    if cfg.cert_file.as_os_str().is_empty() || cfg.key_file.as_os_str().is_empty() {
        return Err(TlsError::Config(
            "tls needs both cert_file and key_file".into(),
        ));
    }
    let certs = load_certs(&cfg.cert_file)?;
    let key = load_key(&cfg.key_file)?;
    let versions: &[&rustls::SupportedProtocolVersion] = match cfg.min_version {
        MinVersion::Tls12 => &[&rustls::version::TLS13, &rustls::version::TLS12],
        MinVersion::Tls13 => &[&rustls::version::TLS13],
    };
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(versions)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match &cfg.client_ca_file {
        Some(ca) => {
            let verifier =
                WebPkiClientVerifier::builder_with_provider(Arc::new(roots(ca)?), provider())
                    .build()
                    .map_err(|e| TlsError::Invalid {
                        path: ca.display().to_string(),
                        message: e.to_string(),
                    })?;
            builder.with_client_cert_verifier(verifier)
        }
        None => builder.with_no_client_auth(),
    };
    let mut sc = builder
        .with_single_cert(certs, key)
        .map_err(|e| TlsError::Invalid {
            path: cfg.cert_file.display().to_string(),
            message: format!("certificate and key do not form a usable pair: {e}"),
        })?;
    sc.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(sc)
}

/// A receiver's TLS settings, reloadable: every new connection uses the configuration current
/// at its accept, so a reload never disturbs established connections.
pub struct ServerTls {
    cfg: ServerTlsConfig,
    alpn: &'static [&'static [u8]],
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl ServerTls {
    pub fn load(cfg: &ServerTlsConfig, alpn: &'static [&'static [u8]]) -> Result<Self, TlsError> {
        Ok(ServerTls {
            cfg: cfg.clone(),
            alpn,
            current: RwLock::new(Arc::new(server_config(cfg, alpn)?)),
        })
    }

    /// Re-reads the certificate, key and client CA. On error the previous configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = Arc::new(server_config(&self.cfg, self.alpn)?);
        match self.current.write() {
            Ok(mut g) => *g = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }

    fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        let cfg = match self.current.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        tokio_rustls::TlsAcceptor::from(cfg)
    }
}

/// A finished TLS connection and its peer's address.
pub type TlsConn = (TlsStream<TcpStream>, SocketAddr);

/// Accepts TCP connections on `listener` and hands TLS connections whose handshake succeeded to
/// the returned channel. Failed or timed-out handshakes call `on_failure` (a counter) and are
/// logged at debug only: a client must not be able to flood the log. The loop ends when the
/// receiving side is dropped (the server stopped accepting).
pub fn accept_tls(
    listener: TcpListener,
    tls: Arc<ServerTls>,
    on_failure: impl Fn() + Send + Sync + 'static,
) -> tokio::sync::mpsc::Receiver<TlsConn> {
    // Small: finished connections are picked up at once; this only smooths bursts.
    let (tx, rx) = tokio::sync::mpsc::channel::<TlsConn>(64);
    let on_failure = Arc::new(on_failure);
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_HANDSHAKES));
    tokio::spawn(async move {
        loop {
            let slot = tokio::select! {
                _ = tx.closed() => return,
                s = slots.clone().acquire_owned() => match s {
                    Ok(s) => s,
                    Err(_) => return,
                },
            };
            let (tcp, peer) = tokio::select! {
                _ = tx.closed() => return,
                r = listener.accept() => match r {
                    Ok(c) => c,
                    // The peer gave up before we accepted: nothing to report.
                    Err(e) if is_connection_error(&e) => continue,
                    Err(e) => {
                        // Out of file descriptors and the like: back off instead of spinning
                        // (and at most one line a second).
                        tracing::warn!(error = %e, "accepting a connection failed");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let acceptor = tls.acceptor();
            let tx = tx.clone();
            let on_failure = on_failure.clone();
            tokio::spawn(async move {
                let _slot = slot;
                match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                    Ok(Ok(stream)) => {
                        let _ = tx.send((stream, peer)).await;
                    }
                    Ok(Err(e)) => {
                        on_failure();
                        tracing::debug!(%peer, error = %e, "TLS handshake failed");
                    }
                    Err(_) => {
                        on_failure();
                        tracing::debug!(%peer, "TLS handshake timed out");
                    }
                }
            });
        }
    });
    rx
}

fn is_connection_error(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionRefused | ConnectionAborted | ConnectionReset
    )
}

/// The accepted TLS connections as an axum listener.
pub struct TlsListener {
    pub rx: tokio::sync::mpsc::Receiver<TlsConn>,
    pub local: SocketAddr,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.rx.recv().await {
            Some(c) => c,
            // The accept loop only ends once this side is dropped; never reached in practice.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<SocketAddr> {
        Ok(self.local)
    }
}

/// The tonic client TLS settings of the OTLP exporter.
pub fn client_config(
    cfg: Option<&ClientTlsConfig>,
) -> Result<tonic::transport::ClientTlsConfig, TlsError> {
    let mut t = tonic::transport::ClientTlsConfig::new();
    let Some(cfg) = cfg else {
        return Ok(t.with_native_roots());
    };
    match &cfg.ca_file {
        Some(ca) => {
            // Parsed here so a bad file is reported at start, not at the first export.
            roots(ca)?;
            t = t.ca_certificate(tonic::transport::Certificate::from_pem(read(ca)?));
        }
        None => t = t.with_native_roots(),
    }
    match (&cfg.cert_file, &cfg.key_file) {
        (Some(c), Some(k)) => {
            load_certs(c)?;
            load_key(k)?;
            t = t.identity(tonic::transport::Identity::from_pem(read(c)?, read(k)?));
        }
        (None, None) => {}
        _ => {
            return Err(TlsError::Config(
                "cert_file and key_file go together".into(),
            ))
        }
    }
    if let Some(n) = &cfg.server_name {
        t = t.domain_name(n.clone());
    }
    Ok(t)
}

/// The one WARN line for receivers reachable beyond this host without TLS, or `None`.
pub fn exposure_warning(receivers: &[(&str, Option<SocketAddr>, bool)]) -> Option<String> {
    let exposed: Vec<String> = receivers
        .iter()
        .filter_map(|(what, addr, tls)| match addr {
            Some(a) if !a.ip().is_loopback() && !tls => Some(format!("{what} on {a}")),
            _ => None,
        })
        .collect();
    (!exposed.is_empty()).then(|| {
        format!(
            "receivers listen beyond loopback without TLS ({}): spans (and any bearer tokens) cross the network in clear text",
            exposed.join(", ")
        )
    })
}

/// One WARN line when the admin endpoint (plain HTTP only) listens beyond loopback while it
/// asks for bearer tokens: scrapers then send those tokens in clear text.
pub fn admin_exposure_warning(admin: SocketAddr, protected: bool) -> Option<String> {
    (protected && !admin.ip().is_loopback()).then(|| {
        format!(
            "admin endpoint on {admin} takes bearer tokens over plain HTTP: scrape it over a private network or bind it to loopback"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_for_a_token_protected_admin_beyond_loopback() {
        let lo: SocketAddr = "127.0.0.1:8888".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:8888".parse().unwrap();
        assert!(admin_exposure_warning(lo, true).is_none());
        assert!(admin_exposure_warning(any, false).is_none());
        let w = admin_exposure_warning(any, true).unwrap();
        assert!(
            w.contains("0.0.0.0:8888") && w.contains("plain HTTP"),
            "{w}"
        );
    }

    #[test]
    fn warns_once_for_every_exposed_plaintext_receiver() {
        let lo: SocketAddr = "127.0.0.1:4317".parse().unwrap();
        let any: SocketAddr = "0.0.0.0:4317".parse().unwrap();
        let lan: SocketAddr = "[::]:4318".parse().unwrap();
        assert_eq!(
            exposure_warning(&[("grpc", Some(lo), false), ("http", None, false)]),
            None
        );
        assert_eq!(
            exposure_warning(&[("grpc", Some(any), true), ("http", Some(lo), false)]),
            None
        );
        let w =
            exposure_warning(&[("grpc", Some(any), false), ("http", Some(lan), false)]).unwrap();
        assert!(w.contains("grpc on 0.0.0.0:4317") && w.contains("http on [::]:4318"));
        assert!(!w.contains('\n'));
    }

    #[test]
    fn min_version_accepts_numbers_and_strings() {
        #[derive(Deserialize)]
        struct T {
            v: MinVersion,
        }
        let p = |s: &str| serde_norway::from_str::<T>(s).map(|t| t.v);
        assert_eq!(p("v: 1.2").unwrap(), MinVersion::Tls12);
        assert_eq!(p("v: \"1.3\"").unwrap(), MinVersion::Tls13);
        assert!(p("v: 1.1").is_err());
    }

    #[test]
    fn unreadable_or_non_pem_files_are_named_without_content() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "not a key: hunter2-secret-material").unwrap();
        let e = load_key(&key).unwrap_err().to_string();
        assert!(e.contains("key.pem") && !e.contains("hunter2"), "{e}");
        let e = load_certs(&dir.path().join("missing.pem"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.pem"), "{e}");
        let cfg = ServerTlsConfig::default();
        assert!(server_config(&cfg, ALPN_HTTP).is_err());
    }
}
