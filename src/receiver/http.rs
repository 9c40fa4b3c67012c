//! OTLP/HTTP receiver: `POST /v1/traces` with `application/x-protobuf` or `application/json`,
//! optionally `Content-Encoding: gzip`. Responses use the request's encoding; failures carry a
//! `google.rpc.Status` body as the OTLP spec asks, and `Retry-After` when retryable.

use super::{body, Ingest, Refusal};
use crate::auth::{bearer_challenge, Authenticator, ClientId};
use crate::vocab::{RefuseReason, Signal};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Extension;
use axum::Router;
use http_body_util::BodyExt;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use std::sync::Arc;

const TRANSPORT: &str = "http";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Protobuf,
    Json,
}

impl Encoding {
    fn content_type(self) -> &'static str {
        match self {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        }
    }
}

fn encoding_of(headers: &HeaderMap) -> Option<Encoding> {
    let ct = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mime = ct.split(';').next()?.trim().to_ascii_lowercase();
    match mime.as_str() {
        "application/x-protobuf" | "application/protobuf" => Some(Encoding::Protobuf),
        "application/json" => Some(Encoding::Json),
        _ => None,
    }
}

fn http_status(reason: RefuseReason) -> StatusCode {
    match reason {
        RefuseReason::QueueFull | RefuseReason::RateLimited | RefuseReason::MemoryLimited => {
            StatusCode::TOO_MANY_REQUESTS
        }
        RefuseReason::ShuttingDown | RefuseReason::Unready | RefuseReason::NotDurable => {
            StatusCode::SERVICE_UNAVAILABLE
        }
        RefuseReason::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        RefuseReason::Malformed => StatusCode::BAD_REQUEST,
        RefuseReason::Unauthenticated => StatusCode::UNAUTHORIZED,
    }
}

fn error_response(status: StatusCode, r: &Refusal, enc: Encoding) -> Response {
    let grpc_code = match r.reason {
        RefuseReason::QueueFull
        | RefuseReason::TooLarge
        | RefuseReason::RateLimited
        | RefuseReason::MemoryLimited => tonic::Code::ResourceExhausted,
        RefuseReason::Malformed => tonic::Code::InvalidArgument,
        RefuseReason::Unauthenticated => tonic::Code::Unauthenticated,
        _ => tonic::Code::Unavailable,
    };
    let st = crate::rpc_status::status(grpc_code as i32, &r.message, None);
    let body = match enc {
        Encoding::Protobuf => st.encode_to_vec(),
        Encoding::Json => serde_json::json!({"code": st.code, "message": st.message})
            .to_string()
            .into_bytes(),
    };
    let mut resp = (status, body).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(enc.content_type()),
    );
    if let Some(d) = r.retry_after {
        // Retry-After takes whole seconds; round up so clients never come back early.
        let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        if let Ok(v) = HeaderValue::from_str(&secs.max(1).to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    resp
}

/// How much of an unauthenticated request's body is read before the 401, and for how long:
/// enough for an ordinary client to see the answer rather than a reset (see
/// [`DRAIN_MAX_BYTES`]), little enough that a client without a token cannot make us read more.
const AUTH_DRAIN_MAX_BYTES: usize = 256 * 1024;
const AUTH_DRAIN_MAX_TIME: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Clone)]
struct AuthState {
    ingest: Arc<Ingest>,
    auth: Arc<Authenticator>,
}

/// Runs before routing: a request without a listed bearer token gets 401 with a
/// `WWW-Authenticate: Bearer` challenge (RFC 6750); an accepted one carries its [`ClientId`].
async fn authenticate(State(st): State<AuthState>, mut req: Request, next: Next) -> Response {
    let h = req.headers().get(header::AUTHORIZATION);
    match st.auth.check(h.map(|v| v.as_bytes())) {
        Ok(client) => {
            req.extensions_mut().insert(client);
            next.run(req).await
        }
        Err(denied) => {
            let enc = encoding_of(req.headers()).unwrap_or(Encoding::Protobuf);
            let r = st.ingest.reject(
                TRANSPORT,
                RefuseReason::Unauthenticated,
                "missing or invalid bearer token",
            );
            drain(req.into_body(), AUTH_DRAIN_MAX_BYTES, AUTH_DRAIN_MAX_TIME).await;
            let mut resp = error_response(StatusCode::UNAUTHORIZED, &r, enc);
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, bearer_challenge(denied));
            resp
        }
    }
}

async fn export_traces(
    state: State<Arc<Ingest>>,
    client: Option<Extension<ClientId>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    export(Signal::Traces, state, client, headers, body).await
}

async fn export_logs(
    state: State<Arc<Ingest>>,
    client: Option<Extension<ClientId>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    export(Signal::Logs, state, client, headers, body).await
}

async fn export_metrics(
    state: State<Arc<Ingest>>,
    client: Option<Extension<ClientId>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    export(Signal::Metrics, state, client, headers, body).await
}

async fn export(
    signal: Signal,
    State(ingest): State<Arc<Ingest>>,
    client: Option<Extension<ClientId>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let client = client.map(|Extension(c)| c).unwrap_or_default();
    if !ingest.serves(signal) {
        let enc = encoding_of(&headers).unwrap_or(Encoding::Protobuf);
        let r = ingest.reject_as(
            signal,
            TRANSPORT,
            RefuseReason::Malformed,
            &Ingest::not_served(signal),
        );
        drain(body, AUTH_DRAIN_MAX_BYTES, AUTH_DRAIN_MAX_TIME).await;
        return error_response(StatusCode::NOT_FOUND, &r, enc);
    }
    let Some(enc) = encoding_of(&headers) else {
        let r = ingest.reject_as(
            signal,
            TRANSPORT,
            RefuseReason::Malformed,
            "content-type must be application/x-protobuf or application/json",
        );
        return error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, &r, Encoding::Protobuf);
    };
    let fail = |reason: RefuseReason, msg: &str| {
        let r = ingest.reject_as(signal, TRANSPORT, reason, msg);
        error_response(http_status(reason), &r, enc)
    };
    let max = ingest.limits.max_body_bytes;
    let raw = match read_body(body, max).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => {
            return fail(
                RefuseReason::TooLarge,
                &format!("request body over {max} bytes"),
            )
        }
        Err(ReadError::Broken) => {
            return fail(RefuseReason::Malformed, "could not read request body")
        }
    };
    let content_encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|s| s.trim().to_ascii_lowercase());
    let plain: bytes::Bytes = match content_encoding.as_deref() {
        None | Some("") | Some("identity") => raw,
        Some("gzip") => match body::gunzip(&raw, &ingest.limits) {
            Ok(v) => v.into(),
            Err(e @ (body::BodyError::TooLarge { .. } | body::BodyError::Bomb { .. })) => {
                return fail(RefuseReason::TooLarge, &e.to_string())
            }
            Err(e) => return fail(RefuseReason::Malformed, &e.to_string()),
        },
        Some(_) => {
            let r = ingest.reject_as(
                signal,
                TRANSPORT,
                RefuseReason::Malformed,
                "unsupported content-encoding",
            );
            return error_response(StatusCode::UNSUPPORTED_MEDIA_TYPE, &r, enc);
        }
    };
    let bytes = plain.len();
    let checked = ingest.check(TRANSPORT, signal, plain, enc == Encoding::Json);
    let req = match checked {
        Ok(r) => r,
        Err(r) => return error_response(http_status(r.reason), &r, enc),
    };
    match ingest.submit_as(TRANSPORT, &client, req, bytes).await {
        Ok(()) => {
            let body = match enc {
                Encoding::Protobuf => ExportTraceServiceResponse::default().encode_to_vec(),
                Encoding::Json => b"{}".to_vec(),
            };
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, enc.content_type())],
                body,
            )
                .into_response()
        }
        Err(r) => error_response(http_status(r.reason), &r, enc),
    }
}

enum ReadError {
    TooLarge,
    Broken,
}

/// How much of an oversized body is read and thrown away before the 413 goes out, and for how
/// long. Closing a socket with unread data makes the kernel send RST, which can destroy the
/// response in the client's receive buffer: the client then sees "connection reset" instead of
/// a non-retryable 413 and retries the same body forever. Draining a bounded amount (like
/// nginx's lingering close) lets ordinary oversized requests get their answer; a body beyond
/// the cap still gets the reset, so a hostile client cannot make us read without end.
const DRAIN_MAX_BYTES: usize = 64 * 1024 * 1024;
const DRAIN_MAX_TIME: std::time::Duration = std::time::Duration::from_secs(5);

/// Collects at most `max` bytes; on overflow drains (bounded, see above) and reports TooLarge.
async fn read_body(body: Body, max: usize) -> Result<bytes::Bytes, ReadError> {
    let mut body = body;
    // A declared length over the limit is refused before a single byte is buffered.
    let declared_too_large = axum::body::HttpBody::size_hint(&body)
        .exact()
        .is_some_and(|n| n > max as u64);
    let mut buf = bytes::BytesMut::new();
    if !declared_too_large {
        loop {
            match body.frame().await {
                None => return Ok(buf.freeze()),
                Some(Err(_)) => return Err(ReadError::Broken),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        if buf.len() + data.len() > max {
                            break;
                        }
                        buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
    drop(buf);
    drain(body, DRAIN_MAX_BYTES, DRAIN_MAX_TIME).await;
    Err(ReadError::TooLarge)
}

/// Reads and discards at most `max_bytes` of a body, for at most `max_time`.
async fn drain(mut body: Body, max_bytes: usize, max_time: std::time::Duration) {
    let drain = async {
        let mut seen = 0usize;
        while let Some(Ok(frame)) = body.frame().await {
            if let Ok(data) = frame.into_data() {
                seen += data.len();
                if seen > max_bytes {
                    break;
                }
            }
        }
    };
    let _ = tokio::time::timeout(max_time, drain).await;
}

/// The OTLP/HTTP router.
pub fn router(ingest: Arc<Ingest>) -> Router {
    router_with_auth(ingest, None)
}

/// The OTLP/HTTP router; with `auth`, every request needs a listed bearer token.
pub fn router_with_auth(ingest: Arc<Ingest>, auth: Option<Arc<Authenticator>>) -> Router {
    // Axum's default body limit is replaced by our own, applied after decompression.
    let r = Router::new()
        .route(Signal::Traces.http_path(), post(export_traces))
        .route(Signal::Logs.http_path(), post(export_logs))
        .route(Signal::Metrics.http_path(), post(export_metrics))
        .layer(axum::extract::DefaultBodyLimit::disable());
    let r = match auth {
        Some(auth) => r.layer(axum::middleware::from_fn_with_state(
            AuthState {
                ingest: ingest.clone(),
                auth,
            },
            authenticate,
        )),
        None => r,
    };
    r.with_state(ingest)
}
