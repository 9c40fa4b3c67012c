//! Transport security and access, against the real service with real certificates generated
//! here (`rcgen`): TLS and mTLS on both receivers, bearer tokens, the admin token, the exporter
//! to a TLS next stage, and certificate reload on SIGHUP.

mod common;

use common::{http_request_on, request, Downstream, Service, PASS_THROUGH};
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_client::TraceServiceClient;
use prost::Message;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SanType,
};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

const TOKEN_A: &str = "fleet-a-0123456789abcdef";
const TOKEN_B: &str = "anon-fedcba9876543210xyz";

/// A CA and the certificates the tests need, as PEM files in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
    ca: String,
}

/// A certificate and its key, PEM.
#[derive(Clone)]
struct Leaf {
    cert: String,
    key: String,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>, server: bool, expired: bool) -> Leaf {
    let mut p = CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    p.subject_alt_names
        .push(SanType::IpAddress([127, 0, 0, 1].into()));
    p.distinguished_name
        .push(DnType::CommonName, if server { "server" } else { "client" });
    p.extended_key_usages = vec![if server {
        ExtendedKeyUsagePurpose::ServerAuth
    } else {
        ExtendedKeyUsagePurpose::ClientAuth
    }];
    if expired {
        p.not_before = rcgen::date_time_ymd(2020, 1, 1);
        p.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    Leaf {
        cert: cert.pem(),
        key: key.serialize_pem(),
    }
}

struct Certs {
    pki: Pki,
    server: Leaf,
    client: Leaf,
    client_other_ca: Leaf,
    client_expired: Leaf,
    /// A second CA and a server certificate from it (for the reload test).
    ca2: String,
    server2: Leaf,
}

fn certs() -> Certs {
    let dir = tempfile::tempdir().unwrap();
    let main = ca("spanward test CA");
    let other = ca("some other CA");
    let c = Certs {
        server: leaf(&main, true, false),
        client: leaf(&main, false, false),
        client_other_ca: leaf(&other, false, false),
        client_expired: leaf(&main, false, true),
        ca2: other.pem(),
        server2: leaf(&other, true, false),
        pki: Pki {
            dir,
            ca: main.pem(),
        },
    };
    c.write("ca.pem", &c.pki.ca);
    c.write("server.pem", &c.server.cert);
    c.write("server.key", &c.server.key);
    c
}

impl Certs {
    fn path(&self, name: &str) -> PathBuf {
        self.pki.dir.path().join(name)
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    /// The `tls:` mapping of a receiver.
    fn server_tls_yaml(&self, mtls: bool) -> String {
        let mut s = format!(
            "{{ cert_file: \"{}\", key_file: \"{}\"",
            self.path("server.pem").display(),
            self.path("server.key").display()
        );
        if mtls {
            s.push_str(&format!(
                ", client_ca_file: \"{}\"",
                self.path("ca.pem").display()
            ));
        }
        s.push_str(" }");
        s
    }
}

/// Starts the service with both receivers on TLS (mTLS when asked), `receivers_extra` lines
/// under `receivers.otlp` and `admin_extra` keys in the admin mapping.
async fn start_tls(c: &Certs, mtls: bool, receivers_extra: &str, admin_extra: &str) -> Service {
    let data_dir = tempfile::tempdir().unwrap();
    let tls = c.server_tls_yaml(mtls);
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\", tls: {tls} }}\n    http: {{ endpoint: \"127.0.0.1:0\", tls: {tls} }}\n{receivers_extra}exporters:\n  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"127.0.0.1:0\"{admin_extra} }}\n{PASS_THROUGH}",
        data_dir.path().display()
    );
    Service::start_yaml(&yaml, data_dir).await
}

/// One gRPC export over TLS trusting `ca`, presenting `identity`, sending `token`. Any failure
/// (connect, handshake, status) comes back as text.
async fn grpc_export(
    addr: SocketAddr,
    ca: &str,
    identity: Option<&Leaf>,
    token: Option<&str>,
    spans: usize,
) -> Result<(), tonic::Status> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca));
    if let Some(id) = identity {
        tls = tls.identity(Identity::from_pem(&id.cert, &id.key));
    }
    let channel: Channel = Endpoint::from_shared(format!("https://{addr}"))
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("connect: {e:?}")))?;
    let mut client = TraceServiceClient::new(channel);
    let mut req = tonic::Request::new(request(spans, 7));
    if let Some(t) = token {
        req.metadata_mut()
            .insert("authorization", format!("Bearer {t}").parse().unwrap());
    }
    client.export(req).await.map(|_| ())
}

fn rustls_client(ca: &str, identity: Option<&Leaf>) -> tokio_rustls::TlsConnector {
    rustls_client_versions(ca, identity, rustls::DEFAULT_VERSIONS)
}

fn rustls_client_versions(
    ca: &str,
    identity: Option<&Leaf>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> tokio_rustls::TlsConnector {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
        .unwrap();
    let b = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_protocol_versions(versions)
    .unwrap()
    .with_root_certificates(roots);
    let mut cfg = match identity {
        Some(id) => b
            .with_client_auth_cert(
                vec![CertificateDer::from_pem_slice(id.cert.as_bytes()).unwrap()],
                PrivateKeyDer::from_pem_slice(id.key.as_bytes()).unwrap(),
            )
            .unwrap(),
        None => b.with_no_client_auth(),
    };
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    tokio_rustls::TlsConnector::from(Arc::new(cfg))
}

/// One OTLP/HTTP protobuf POST over TLS. Err: the handshake or the connection failed.
async fn https_export(
    addr: SocketAddr,
    ca: &str,
    identity: Option<&Leaf>,
    headers: &[(&str, &str)],
    spans: usize,
) -> std::io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let tcp = tokio::net::TcpStream::connect(addr).await?;
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = rustls_client(ca, identity).connect(name, tcp).await?;
    let mut h = vec![("content-type", "application/x-protobuf")];
    h.extend_from_slice(headers);
    let body = request(spans, 9).encode_to_vec();
    http_request_on(tls, "localhost", "POST", "/v1/traces", &h, &body).await
}

/// Completes the client side of the handshake and reads: what the server sends first. With a
/// certificate the server rejects, that is its fatal alert (TLS 1.3 sends it after the
/// client's Finished), returned as rustls's error text.
async fn server_alert(addr: SocketAddr, ca: &str, identity: Option<&Leaf>) -> String {
    use tokio::io::AsyncReadExt;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = match rustls_client(ca, identity).connect(name, tcp).await {
        Ok(t) => t,
        Err(e) => return e.to_string(),
    };
    let mut buf = [0u8; 64];
    let r = tokio::time::timeout(std::time::Duration::from_secs(5), tls.read(&mut buf))
        .await
        .expect("the server neither answered nor closed");
    match r {
        Err(e) => e.to_string(),
        Ok(n) => panic!("the server sent {n} bytes instead of an alert"),
    }
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> Option<&'a str> {
    h.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_receivers_accept_tls_clients_and_refuse_plaintext() {
    let c = certs();
    let svc = start_tls(&c, false, "", "").await;

    grpc_export(svc.grpc, &c.pki.ca, None, None, 3)
        .await
        .unwrap();
    let (st, _, _) = https_export(svc.http, &c.pki.ca, None, &[], 2)
        .await
        .unwrap();
    assert_eq!(st, 200);
    svc.wait_metric("spanward_receiver_accepted_spans_total", &[], 5.0)
        .await;

    // Plaintext on a TLS port: nothing is accepted, the failed handshake is counted.
    let plain = common::http_request(
        svc.http,
        "POST",
        "/v1/traces",
        &[("content-type", "application/x-protobuf")],
        &request(1, 1).encode_to_vec(),
    )
    .await;
    assert!(!matches!(plain, Ok((200, _, _))), "{plain:?}");
    let plain_grpc = common::http_request(svc.grpc, "GET", "/", &[], &[]).await;
    assert!(!matches!(plain_grpc, Ok((200, _, _))), "{plain_grpc:?}");
    // A client that does not trust the server's CA refuses it.
    let e = https_export(svc.http, &c.ca2, None, &[], 1)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("UnknownIssuer") || e.contains("invalid peer certificate"),
        "{e}"
    );
    svc.wait_metric("spanward_receiver_tls_handshake_failures_total", &[], 3.0)
        .await;
    assert_eq!(
        svc.metric("spanward_receiver_accepted_spans_total", &[])
            .await,
        5.0
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_accepts_only_clients_with_a_valid_certificate_from_the_ca() {
    let c = certs();
    let svc = start_tls(&c, true, "", "").await;

    // Good client: both protocols.
    grpc_export(svc.grpc, &c.pki.ca, Some(&c.client), None, 4)
        .await
        .unwrap();
    let (st, _, _) = https_export(svc.http, &c.pki.ca, Some(&c.client), &[], 1)
        .await
        .unwrap();
    assert_eq!(st, 200);
    svc.wait_metric("spanward_receiver_accepted_spans_total", &[], 5.0)
        .await;

    // No certificate, another CA's, an expired one: the handshake fails, on both protocols.
    let bad: [(&str, Option<&Leaf>); 3] = [
        ("no client certificate", None),
        ("other CA", Some(&c.client_other_ca)),
        ("expired", Some(&c.client_expired)),
    ];
    for (what, id) in bad {
        // rustls reports the server's alert (TLS 1.3 sends it after the client's Finished, so
        // the client learns at its first request).
        let want = match id {
            None => "CertificateRequired",
            Some(l) if l.cert == c.client_expired.cert => "CertificateExpired",
            Some(_) => "UnknownCA",
        };
        let st = grpc_export(svc.grpc, &c.pki.ca, id, None, 1)
            .await
            .expect_err(what);
        // tonic sees either the alert or the connection closing, depending on timing; either
        // way the call fails in the transport, not with a status from our service.
        assert!(
            std::error::Error::source(&st).is_some()
                && matches!(
                    st.code(),
                    tonic::Code::Unknown | tonic::Code::Cancelled | tonic::Code::Unavailable
                ),
            "{what}: {st:?}"
        );
        let e = server_alert(svc.http, &c.pki.ca, id).await;
        assert!(e.contains(want), "{what}: {e}");
        // And the request itself is never answered.
        assert!(https_export(svc.http, &c.pki.ca, id, &[], 1).await.is_err());
    }
    // At least one failure per refused client and protocol (tonic may reconnect and fail again).
    for (transport, n) in [("transport=\"grpc\"", 3.0), ("transport=\"http\"", 6.0)] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let v = svc
                .metric(
                    "spanward_receiver_tls_handshake_failures_total",
                    &[transport],
                )
                .await;
            if v >= n {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{transport}: {v} < {n}"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    assert_eq!(
        svc.metric("spanward_receiver_accepted_spans_total", &[])
            .await,
        5.0
    );
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_tokens_are_required_and_counted_and_never_shown() {
    let c = certs();
    let tokens = c.write("tokens", &format!("# agents\nfleet-a:{TOKEN_A}\n"));
    let auth = format!("    auth: {{ tokens_file: \"{}\" }}\n", tokens.display());
    let admin_tokens = c.write("admin-tokens", "prometheus:scrape-0123456789abcdef\n");
    let svc = start_tls(
        &c,
        false,
        &auth,
        &format!(", auth: {{ tokens_file: \"{}\" }}", admin_tokens.display()),
    )
    .await;
    let scrape = ("authorization", "Bearer scrape-0123456789abcdef");
    let metric = |name: &'static str, labels: &'static [&'static str]| {
        let admin = svc.admin;
        async move {
            let (st, _, body) = common::http_request(admin, "GET", "/metrics", &[scrape], &[])
                .await
                .unwrap();
            assert_eq!(st, 200);
            common::metric_value(&String::from_utf8(body).unwrap(), name, labels)
        }
    };

    // Good token on both protocols.
    grpc_export(svc.grpc, &c.pki.ca, None, Some(TOKEN_A), 2)
        .await
        .unwrap();
    let bearer_a = format!("Bearer {TOKEN_A}");
    let (st, _, _) = https_export(
        svc.http,
        &c.pki.ca,
        None,
        &[("authorization", &bearer_a)],
        3,
    )
    .await
    .unwrap();
    assert_eq!(st, 200);

    // Missing and wrong tokens: UNAUTHENTICATED / 401 with a Bearer challenge.
    for token in [None, Some(TOKEN_B), Some(&TOKEN_A[..TOKEN_A.len() - 1])] {
        let st = grpc_export(svc.grpc, &c.pki.ca, None, token, 1)
            .await
            .unwrap_err();
        assert_eq!(st.code(), tonic::Code::Unauthenticated, "{st:?}");
        assert!(!st.message().contains(TOKEN_B));
        let auth_header = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth_header
            .as_deref()
            .map(|h| vec![("authorization", h)])
            .unwrap_or_default();
        let (st, h, body) = https_export(svc.http, &c.pki.ca, None, &headers, 1)
            .await
            .unwrap();
        assert_eq!(st, 401);
        let challenge = header(&h, "www-authenticate").unwrap();
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert_eq!(challenge.contains("invalid_token"), token.is_some());
        let status = spanward::rpc_status::RpcStatus::decode(&body[..]).unwrap();
        assert_eq!(status.code, tonic::Code::Unauthenticated as i32);
    }
    // A wrong token on a request that is not protobuf still gets the 401 (before any parsing).
    let (st, _, _) = https_export(
        svc.http,
        &c.pki.ca,
        None,
        &[("authorization", "Bearer nope"), ("content-encoding", "br")],
        1,
    )
    .await
    .unwrap();
    assert_eq!(st, 401);

    assert_eq!(
        metric("spanward_receiver_accepted_spans_total", &[]).await,
        5.0
    );
    assert_eq!(
        metric(
            "spanward_receiver_refused_requests_total",
            &["reason=\"unauthenticated\"", "transport=\"grpc\""]
        )
        .await,
        3.0
    );
    assert_eq!(
        metric(
            "spanward_receiver_refused_requests_total",
            &["reason=\"unauthenticated\"", "transport=\"http\""]
        )
        .await,
        4.0
    );

    // Admin: /metrics needs its own token (a receiver token is not one); probes stay open.
    for h in [vec![], vec![("authorization", bearer_a.as_str())]] {
        let (st, hs, body) = common::http_request(svc.admin, "GET", "/metrics", &h, &[])
            .await
            .unwrap();
        assert_eq!(st, 401);
        assert!(header(&hs, "www-authenticate")
            .unwrap()
            .starts_with("Bearer"));
        assert!(!String::from_utf8_lossy(&body).contains("spanward_"));
    }
    assert_eq!(
        common::http_get(svc.admin, "/healthz").await.unwrap().0,
        200
    );
    assert_eq!(common::http_get(svc.admin, "/readyz").await.unwrap().0, 200);

    // No token value in the metrics text.
    let (_, _, body) = common::http_request(svc.admin, "GET", "/metrics", &[scrape], &[])
        .await
        .unwrap();
    let text = String::from_utf8(body).unwrap();
    for t in [TOKEN_A, TOKEN_B, "scrape-0123456789abcdef"] {
        assert!(!text.contains(t));
    }
    let dir = svc.stop().await;
    // Nor in what was stored.
    let stored = common::log_dir_bytes(dir.path());
    assert!(!stored
        .windows(TOKEN_A.len())
        .any(|w| w == TOKEN_A.as_bytes()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_forwards_to_a_tls_next_stage_with_a_client_certificate() {
    let c = certs();
    // The next stage demands a client certificate from our CA.
    let tls = tonic::transport::ServerTlsConfig::new()
        .identity(Identity::from_pem(&c.server.cert, &c.server.key))
        .client_ca_root(Certificate::from_pem(&c.pki.ca));
    let (down, daddr) = Downstream::start_tls(tls).await;
    c.write("client.pem", &c.client.cert);
    c.write("client.key", &c.client.key);
    let data_dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  otlp:\n    endpoint: \"https://{daddr}\"\n    tls: {{ ca_file: \"{}\", cert_file: \"{}\", key_file: \"{}\" }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\n{PASS_THROUGH}",
        c.path("ca.pem").display(),
        c.path("client.pem").display(),
        c.path("client.key").display(),
    );
    let svc = Service::start_yaml(&yaml, data_dir).await;
    let mut client = common::grpc_client(svc.grpc).await;
    client.export(request(25, 3)).await.unwrap();
    down.wait_spans(25, 10).await;
    svc.wait_metric(
        "spanward_exporter_sent_spans_total",
        &["exporter=\"otlp\""],
        25.0,
    )
    .await;
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_refuses_a_next_stage_it_does_not_trust() {
    let c = certs();
    let (down, daddr) = Downstream::start_tls(
        tonic::transport::ServerTlsConfig::new()
            .identity(Identity::from_pem(&c.server2.cert, &c.server2.key)),
    )
    .await;
    let data_dir = tempfile::tempdir().unwrap();
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\" }}\nexporters:\n  otlp:\n    endpoint: \"https://{daddr}\"\n    tls: {{ ca_file: \"{}\" }}\n    retry: {{ initial_interval: 50ms, max_elapsed_time: 500ms }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\n{PASS_THROUGH}",
        c.path("ca.pem").display(),
    );
    let svc = Service::start_yaml(&yaml, data_dir).await;
    let mut client = common::grpc_client(svc.grpc).await;
    client.export(request(4, 3)).await.unwrap();
    svc.wait_metric(
        "spanward_pipeline_dropped_spans_total",
        &["reason=\"export_failed\""],
        4.0,
    )
    .await;
    assert_eq!(down.span_count(), 0);
    svc.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn certificates_reload_on_sighup() {
    let c = certs();
    let svc = start_tls(&c, false, "", "").await;
    grpc_export(svc.grpc, &c.pki.ca, None, None, 1)
        .await
        .unwrap();
    assert!(grpc_export(svc.grpc, &c.ca2, None, None, 1).await.is_err());

    // Swap in a certificate from the second CA and signal; the listener keeps running.
    c.write("server.pem", &c.server2.cert);
    c.write("server.key", &c.server2.key);
    let st = std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while grpc_export(svc.grpc, &c.ca2, None, None, 1).await.is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "certificate not reloaded"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let (st, _, _) = https_export(svc.http, &c.ca2, None, &[], 1).await.unwrap();
    assert_eq!(st, 200);
    assert!(grpc_export(svc.grpc, &c.pki.ca, None, None, 1)
        .await
        .is_err());

    // A broken key on the next reload keeps the working certificate.
    c.write("server.key", "garbage");
    std::process::Command::new("kill")
        .args(["-HUP", &std::process::id().to_string()])
        .status()
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    grpc_export(svc.grpc, &c.ca2, None, None, 1).await.unwrap();
    svc.stop().await;
}

#[test]
fn bad_security_config_is_refused_at_resolve() {
    let c = certs();
    let resolve = |yaml: &str| {
        spanward::config::Config::from_yaml(yaml, "t")
            .unwrap()
            .resolve_with_env("t", &std::collections::HashMap::<String, String>::new())
            .map(|_| ())
            .map_err(|e| e.to_string())
    };
    let key = c.path("server.key").display().to_string();
    let cert = c.path("server.pem").display().to_string();
    // Key of another certificate.
    let other_key = c.write("other.key", &c.client.key).display().to_string();
    let e = resolve(&format!(
        "receivers: {{ otlp: {{ grpc: {{ tls: {{ cert_file: \"{cert}\", key_file: \"{other_key}\" }} }} }} }}"
    ))
    .unwrap_err();
    assert!(e.contains("receivers.otlp.grpc.tls"), "{e}");
    assert!(!e.contains("PRIVATE KEY"), "{e}");
    // Missing key file.
    let e = resolve(&format!(
        "receivers: {{ otlp: {{ http: {{ tls: {{ cert_file: \"{cert}\" }} }} }} }}"
    ))
    .unwrap_err();
    assert!(e.contains("receivers.otlp.http.tls"), "{e}");
    // TLS settings on a plaintext exporter endpoint.
    let e = resolve(&format!(
        "exporters: {{ otlp: {{ endpoint: \"http://127.0.0.1:1\", tls: {{ ca_file: \"{cert}\" }} }} }}"
    ))
    .unwrap_err();
    assert!(e.contains("exporters.otlp.tls"), "{e}");
    // Named but empty: an error, never plaintext or anonymous by accident.
    for yaml in [
        "receivers: { otlp: { grpc: { tls: ~ } } }",
        "receivers: { otlp: { grpc: {}, auth: ~ } }",
        "admin: { auth: {} }",
    ] {
        assert!(resolve(yaml).is_err(), "{yaml}");
    }
    // A good one resolves.
    resolve(&format!(
        "receivers: {{ otlp: {{ grpc: {{ tls: {{ cert_file: \"{cert}\", key_file: \"{key}\", min_version: 1.3 }} }} }} }}"
    ))
    .unwrap();
}

/// The service at trace level (so tonic, h2 and hyper log their internals too) sees good and
/// bad tokens on every endpoint; none of them appears in its log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_never_reach_the_service_log_even_at_trace_level() {
    let dir = tempfile::tempdir().unwrap();
    let (pg, ph, pa) = (
        common::free_port(),
        common::free_port(),
        common::free_port(),
    );
    let admin_tokens = dir.path().join("admin-tokens");
    std::fs::write(&admin_tokens, "scraper:scrape-0123456789abcdef\n").unwrap();
    let cfg = dir.path().join("spanward.yaml");
    std::fs::write(
        &cfg,
        format!(
            "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:{pg}\" }}\n    http: {{ endpoint: \"127.0.0.1:{ph}\" }}\n    auth: {{ tokens_env: SPANWARD_TEST_TOKENS }}\nexporters:\n  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"127.0.0.1:{pa}\", auth: {{ tokens_file: \"{}\" }} }}\nlogging: {{ level: trace }}\n{PASS_THROUGH}",
            dir.path().join("data").display(),
            admin_tokens.display()
        ),
    )
    .unwrap();
    let log_path = dir.path().join("spanward.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let admin: SocketAddr = format!("127.0.0.1:{pa}").parse().unwrap();
    let grpc: SocketAddr = format!("127.0.0.1:{pg}").parse().unwrap();
    let http: SocketAddr = format!("127.0.0.1:{ph}").parse().unwrap();
    let env_tokens = format!("fleet-a:{TOKEN_A}");
    let child = common::start_binary(
        &cfg,
        admin,
        &[("SPANWARD_TEST_TOKENS", &env_tokens)],
        log.into(),
    )
    .await;

    for (token, ok) in [(TOKEN_A, true), (TOKEN_B, false)] {
        let mut client = common::grpc_client(grpc).await;
        let mut req = tonic::Request::new(request(2, 4));
        req.metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
        assert_eq!(client.export(req).await.is_ok(), ok);
        let bearer = format!("Bearer {token}");
        let (st, _, body) = common::http_request(
            http,
            "POST",
            "/v1/traces",
            &[
                ("content-type", "application/json"),
                ("authorization", &bearer),
            ],
            b"{}",
        )
        .await
        .unwrap();
        assert_eq!(st, if ok { 200 } else { 401 });
        assert!(!String::from_utf8_lossy(&body).contains(token));
    }
    for t in ["scrape-0123456789abcdef", "wrong-0123456789abcdef"] {
        let bearer = format!("Bearer {t}");
        common::http_request(admin, "GET", "/metrics", &[("authorization", &bearer)], &[])
            .await
            .unwrap();
    }
    common::stop_binary(child).await;
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("OTLP/gRPC receiver listening"), "{text}");
    // The filter really reached the transport crates' internals.
    assert!(text.contains("h2::"), "no h2 trace lines: {text}");
    for t in [
        TOKEN_A,
        TOKEN_B,
        "scrape-0123456789abcdef",
        "wrong-0123456789abcdef",
    ] {
        assert!(!text.contains(t), "a token is in the service log");
    }
}

/// TLS 1.2 clients work by default (and a bad client certificate already fails their
/// handshake); `min_version: 1.3` refuses them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls12_clients_work_unless_min_version_is_13() {
    let c = certs();
    let tls12 = [&rustls::version::TLS12];
    let post = |addr: SocketAddr, id: Option<Leaf>| {
        let ca = c.pki.ca.clone();
        async move {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
            let s = rustls_client_versions(&ca, id.as_ref(), &tls12)
                .connect(name, tcp)
                .await?;
            let body = request(1, 2).encode_to_vec();
            let h = [("content-type", "application/x-protobuf")];
            http_request_on(s, "localhost", "POST", "/v1/traces", &h, &body).await
        }
    };
    let svc = start_tls(&c, true, "", "").await;
    assert_eq!(post(svc.http, Some(c.client.clone())).await.unwrap().0, 200);
    let e = post(svc.http, Some(c.client_expired.clone()))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("CertificateExpired"), "{e}");
    svc.stop().await;

    let data_dir = tempfile::tempdir().unwrap();
    let tls = c
        .server_tls_yaml(false)
        .replace(" }", ", min_version: \"1.3\" }");
    let yaml = format!(
        "receivers:\n  otlp:\n    grpc: {{ endpoint: \"127.0.0.1:0\" }}\n    http: {{ endpoint: \"127.0.0.1:0\", tls: {tls} }}\nexporters:\n  file: {{ path: \"{}\" }}\nadmin: {{ endpoint: \"127.0.0.1:0\" }}\n{PASS_THROUGH}",
        data_dir.path().display()
    );
    let svc = Service::start_yaml(&yaml, data_dir).await;
    let e = post(svc.http, None).await.unwrap_err().to_string();
    assert!(e.contains("ProtocolVersion"), "{e}");
    let (st, _, _) = https_export(svc.http, &c.pki.ca, None, &[], 1)
        .await
        .unwrap();
    assert_eq!(st, 200);
    svc.stop().await;
}

/// `spanward load --ca-file --token-file` drives a TLS receiver that wants tokens (gRPC and
/// HTTP tokens; TLS is gRPC only); with a wrong token every request is UNAUTHENTICATED / 401.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_generator_speaks_tls_and_tokens() {
    let c = certs();
    let tokens = c.write("tokens", &format!("loadgen:{TOKEN_A}\n"));
    let svc = start_tls(
        &c,
        false,
        &format!("    auth: {{ tokens_file: \"{}\" }}\n", tokens.display()),
        "",
    )
    .await;
    let good = c.write("good-token", &format!("{TOKEN_A}\n"));
    let bad = c.write("bad-token", &format!("{TOKEN_B}\n"));
    let args = |token: &PathBuf| spanward::load::LoadArgs {
        endpoint: Some(svc.grpc.to_string()),
        protocol: spanward::load::Protocol::Grpc,
        duration: std::time::Duration::from_millis(500),
        rate: 0,
        concurrency: 2,
        spans_per_request: 10,
        payload_bytes: 300,
        pii_fraction: 0.0,
        seed: 1,
        distinct_requests: 2,
        gzip: false,
        json: false,
        token_file: Some(token.clone()),
        ca_file: Some(c.path("ca.pem")),
    };
    let r = spanward::load::run(&args(&good)).await.unwrap();
    assert!(r.spans_ok > 0 && r.spans_failed == 0, "{r:?}");
    let r = spanward::load::run(&args(&bad)).await.unwrap();
    assert_eq!(r.spans_ok, 0);
    assert!(r.failures.contains_key("grpc:Unauthenticated"), "{r:?}");
    svc.stop().await;
}

/// OTLP/HTTP over TLS with ALPN `h2` (what Go's HTTP client, and so the collector's `otlphttp`
/// exporter, negotiates by default) works too.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_receiver_speaks_http2_over_tls() {
    use rustls::pki_types::pem::PemObject;
    let c = certs();
    let svc = start_tls(&c, false, "", "").await;
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from_pem_slice(c.pki.ca.as_bytes()).unwrap())
        .unwrap();
    let mut cfg = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    cfg.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(svc.http).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(cfg))
        .connect(name, tcp)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    let (mut send, conn) = hyper::client::conn::http2::handshake(
        hyper_util::rt::TokioExecutor::new(),
        hyper_util::rt::TokioIo::new(tls),
    )
    .await
    .unwrap();
    tokio::spawn(conn);
    let req = hyper::Request::post("https://localhost/v1/traces")
        .header("content-type", "application/x-protobuf")
        .body(http_body_util::Full::new(bytes::Bytes::from(
            request(6, 5).encode_to_vec(),
        )))
        .unwrap();
    let resp = send.send_request(req).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.version(), hyper::Version::HTTP_2);
    svc.wait_metric(
        "spanward_receiver_accepted_spans_total",
        &["transport=\"http\""],
        6.0,
    )
    .await;
    svc.stop().await;
}
