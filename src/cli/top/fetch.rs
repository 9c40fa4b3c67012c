//! Reads `GET /api/v1/status` from a running instance's admin endpoint.

use super::model::Status;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION};
use hyper::StatusCode;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use std::time::Duration;

/// Why a reading failed; said on `top`'s top line while it keeps retrying.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{0}")]
    Connect(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("HTTP 401: a wrong or missing admin token (--token-file, SPANWARD_ADMIN_TOKEN)")]
    Unauthorized,
    #[error("HTTP {0} from {1} (is this spanward's admin endpoint?)")]
    Status(u16, String),
    #[error("reading the answer: {0}")]
    Body(String),
    #[error("not a status document: {0}")]
    Json(String),
}

impl FetchError {
    /// The word `top`'s title shows for it.
    pub fn label(&self) -> &'static str {
        match self {
            FetchError::Unauthorized => "UNAUTHORIZED",
            FetchError::Status(..) | FetchError::Json(_) => "NOT SPANWARD",
            _ => "UNREACHABLE",
        }
    }
}

/// Why the endpoint or token cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("--endpoint {0}: {1}")]
    Endpoint(String, &'static str),
    #[error("--token-file {path}: {message}")]
    TokenFile { path: String, message: String },
    #[error("{0}: not a valid header value")]
    Token(&'static str),
    #[error("starting the HTTP client: {0}")]
    Runtime(std::io::Error),
}

/// Largest status document read (a few KiB in practice; thousands of redaction types would
/// still fit).
const MAX_BODY: usize = 8 << 20;

/// `host:port`, `http://host:port` or `http://host:port/prefix` → the status document's URL.
pub fn status_url(endpoint: &str) -> Result<hyper::Uri, SetupError> {
    let bad = |why| SetupError::Endpoint(endpoint.to_string(), why);
    let e = endpoint.trim();
    if e.starts_with("https://") {
        return Err(bad("the admin endpoint speaks plain HTTP (no https://)"));
    }
    let rest = e.strip_prefix("http://").unwrap_or(e);
    let (authority, prefix) = match rest.split_once('/') {
        Some((a, p)) => (a, p.trim_end_matches('/')),
        None => (rest, ""),
    };
    if authority.is_empty() || !authority.contains(':') {
        return Err(bad("expected host:port, e.g. 127.0.0.1:8888"));
    }
    let path = if prefix.is_empty() {
        "/api/v1/status".to_string()
    } else {
        format!("/{prefix}/api/v1/status")
    };
    format!("http://{authority}{path}")
        .parse()
        .map_err(|_| bad("not a URL"))
}

/// The bearer token: `--token-file`'s first line (as `spanward load` reads it), else
/// `SPANWARD_ADMIN_TOKEN`, else none.
pub fn token(
    file: Option<&std::path::Path>,
    env: Option<String>,
) -> Result<Option<HeaderValue>, SetupError> {
    let raw = match file {
        Some(p) => {
            let err = |message: String| SetupError::TokenFile {
                path: p.display().to_string(),
                message,
            };
            let text = std::fs::read_to_string(p).map_err(|e| err(e.to_string()))?;
            let t = text.lines().next().unwrap_or("").trim().to_string();
            if t.is_empty() {
                return Err(err("is empty".into()));
            }
            t
        }
        None => match env.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
            Some(v) => v,
            None => return Ok(None),
        },
    };
    let what = if file.is_some() {
        "the token file's first line"
    } else {
        "SPANWARD_ADMIN_TOKEN"
    };
    let mut v =
        HeaderValue::from_str(&format!("Bearer {raw}")).map_err(|_| SetupError::Token(what))?;
    v.set_sensitive(true);
    Ok(Some(v))
}

/// A blocking reader of the status document (its own small runtime: `top`'s thread for it).
pub struct Fetcher {
    rt: tokio::runtime::Runtime,
    client: Client<HttpConnector, Empty<Bytes>>,
    url: hyper::Uri,
    token: Option<HeaderValue>,
    timeout: Duration,
}

impl Fetcher {
    pub fn new(
        url: hyper::Uri,
        token: Option<HeaderValue>,
        timeout: Duration,
    ) -> Result<Self, SetupError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SetupError::Runtime)?;
        let mut conn = HttpConnector::new();
        conn.set_connect_timeout(Some(timeout));
        conn.set_nodelay(true);
        let client = {
            let _g = rt.enter();
            Client::builder(hyper_util::rt::TokioExecutor::new()).build(conn)
        };
        Ok(Fetcher {
            rt,
            client,
            url,
            token,
            timeout,
        })
    }

    pub fn fetch(&self) -> Result<Status, FetchError> {
        self.rt
            .block_on(async { tokio::time::timeout(self.timeout, self.get()).await })
            .unwrap_or(Err(FetchError::Timeout(self.timeout)))
    }

    async fn get(&self) -> Result<Status, FetchError> {
        let mut req = hyper::Request::get(self.url.clone())
            .header(ACCEPT, "application/json")
            .body(Empty::<Bytes>::new())
            .map_err(|e| FetchError::Connect(e.to_string()))?;
        if let Some(t) = &self.token {
            req.headers_mut().insert(AUTHORIZATION, t.clone());
        }
        let resp = self.client.request(req).await.map_err(|e| {
            // The legacy client's own message is generic; its source says what happened.
            let mut msg = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                msg = s.to_string();
                src = s.source();
            }
            FetchError::Connect(msg)
        })?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => return Err(FetchError::Unauthorized),
            s => return Err(FetchError::Status(s.as_u16(), self.url.path().to_string())),
        }
        let body = Limited::new(resp.into_body(), MAX_BODY)
            .collect()
            .await
            .map_err(|e| FetchError::Body(e.to_string()))?
            .to_bytes();
        serde_json::from_slice(&body).map_err(|e| FetchError::Json(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints() {
        let u = |e: &str| status_url(e).map(|u| u.to_string());
        assert_eq!(
            u("127.0.0.1:8888").unwrap(),
            "http://127.0.0.1:8888/api/v1/status"
        );
        assert_eq!(
            u("http://[::1]:9/").unwrap(),
            "http://[::1]:9/api/v1/status"
        );
        assert_eq!(
            u("http://h:1/spanward/").unwrap(),
            "http://h:1/spanward/api/v1/status"
        );
        assert!(u("https://h:1").is_err());
        assert!(u("localhost").is_err());
        assert!(u("").is_err());
    }

    #[test]
    fn tokens() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t");
        std::fs::write(&f, "tok-0123456789abcdef\nignored\n").unwrap();
        let t = token(Some(&f), Some("env-token".into())).unwrap().unwrap();
        assert_eq!(t.to_str().unwrap(), "Bearer tok-0123456789abcdef");
        assert!(t.is_sensitive());
        let t = token(None, Some(" env-token \n".into())).unwrap().unwrap();
        assert_eq!(t.to_str().unwrap(), "Bearer env-token");
        assert!(token(None, Some("  ".into())).unwrap().is_none());
        assert!(token(None, None).unwrap().is_none());
        std::fs::write(&f, "\n").unwrap();
        assert!(token(Some(&f), None).is_err());
        let e = token(Some(&dir.path().join("none")), None).unwrap_err();
        assert!(e.to_string().contains("--token-file"), "{e}");
        let e = token(None, Some("bad\u{1}token".into())).unwrap_err();
        assert!(
            !e.to_string().contains("bad"),
            "the token is never echoed: {e}"
        );
    }

    #[test]
    fn a_closed_port_is_a_connect_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let f = Fetcher::new(
            status_url(&format!("127.0.0.1:{port}")).unwrap(),
            None,
            Duration::from_secs(2),
        )
        .unwrap();
        match f.fetch() {
            Err(FetchError::Connect(m)) => assert!(m.to_lowercase().contains("refused"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
}
