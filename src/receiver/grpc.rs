//! OTLP/gRPC receiver: `TraceService/Export`, `LogsService/Export` and
//! `MetricsService/Export` of `opentelemetry.proto.collector.*.v1`. A signal that
//! `receivers.otlp.signals` leaves out is answered `UNIMPLEMENTED`, naming the key.
//!
//! A hand-written service over tonic's server machinery (rather than the generated one) so that
//! the body arrives as raw bytes: decoding errors become `INVALID_ARGUMENT` and are counted, and
//! tonic's own size refusals (which happen before any handler runs) are mapped to the OTLP
//! spec's non-retryable `RESOURCE_EXHAUSTED` and counted too.

use super::{Ingest, Refusal};
use crate::auth::{Authenticator, ClientId};
use crate::vocab::{RefuseReason, Signal};
use bytes::{Buf, Bytes};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message;
use std::convert::Infallible;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use tonic::codec::{
    Codec, CompressionEncoding, DecodeBuf, Decoder, EnabledCompressionEncodings, EncodeBuf, Encoder,
};
use tonic::codegen::{http, BoxFuture, Service};
use tonic::server::NamedService;

const TRANSPORT: &str = "grpc";

/// Server codec: request bodies stay raw bytes; responses are prost-encoded. The three
/// signals' `Export…ServiceResponse` without a partial success all encode to zero bytes, so the
/// trace response serves them all.
#[derive(Default)]
struct ServerCodec;
struct RespEncoder;
struct RawDecoder;

impl Encoder for RespEncoder {
    type Item = ExportTraceServiceResponse;
    type Error = tonic::Status;
    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|e| tonic::Status::internal(format!("encoding response: {e}")))
    }
}

impl Decoder for RawDecoder {
    type Item = Bytes;
    type Error = tonic::Status;
    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, Self::Error> {
        let n = src.remaining();
        Ok(Some(src.copy_to_bytes(n)))
    }
}

impl Codec for ServerCodec {
    type Encode = ExportTraceServiceResponse;
    type Decode = Bytes;
    type Encoder = RespEncoder;
    type Decoder = RawDecoder;
    fn encoder(&mut self) -> RespEncoder {
        RespEncoder
    }
    fn decoder(&mut self) -> RawDecoder {
        RawDecoder
    }
}

fn status_of(r: &Refusal) -> tonic::Status {
    let code = match r.reason {
        RefuseReason::QueueFull | RefuseReason::RateLimited | RefuseReason::MemoryLimited => {
            tonic::Code::ResourceExhausted
        }
        RefuseReason::ShuttingDown | RefuseReason::Unready | RefuseReason::NotDurable => {
            tonic::Code::Unavailable
        }
        RefuseReason::TooLarge => tonic::Code::ResourceExhausted,
        RefuseReason::Malformed => tonic::Code::InvalidArgument,
        RefuseReason::Unauthenticated => tonic::Code::Unauthenticated,
    };
    crate::rpc_status::tonic_status(code, &r.message, r.retry_after)
}

struct ExportSvc {
    ingest: Arc<Ingest>,
    signal: Signal,
    client: ClientId,
    handled: Arc<AtomicBool>,
}

impl tonic::server::UnaryService<Bytes> for ExportSvc {
    type Response = ExportTraceServiceResponse;
    type Future = BoxFuture<tonic::Response<Self::Response>, tonic::Status>;

    fn call(&mut self, request: tonic::Request<Bytes>) -> Self::Future {
        let ingest = self.ingest.clone();
        let client = self.client.clone();
        let signal = self.signal;
        self.handled.store(true, Ordering::Release);
        Box::pin(async move {
            let raw = request.into_inner();
            let bytes = raw.len();
            let req = ingest
                .check(TRANSPORT, signal, raw, false)
                .map_err(|r| status_of(&r))?;
            ingest
                .submit_as(TRANSPORT, &client, req, bytes)
                .await
                .map_err(|r| status_of(&r))?;
            Ok(tonic::Response::new(ExportTraceServiceResponse::default()))
        })
    }
}

/// The gRPC service, to be added to a `tonic::transport::Server` with [`OtlpGrpc::add_to`]
/// (once per signal's service name).
#[derive(Clone)]
pub struct OtlpGrpc {
    ingest: Arc<Ingest>,
    /// Bearer tokens; `None` accepts anonymous clients.
    auth: Option<Arc<Authenticator>>,
}

impl OtlpGrpc {
    pub fn new(ingest: Arc<Ingest>) -> Self {
        OtlpGrpc { ingest, auth: None }
    }

    /// Requires a listed bearer token on every call.
    pub fn with_auth(mut self, auth: Option<Arc<Authenticator>>) -> Self {
        self.auth = auth;
        self
    }

    /// Adds the service under the three signals' service names. Every one is routed here, so
    /// a signal that is off gets a clear answer rather than tonic's bare `UNIMPLEMENTED`.
    pub fn add_to(self, server: tonic::transport::Server) -> tonic::transport::server::Router {
        let mut server = server;
        server
            .add_service(self.clone())
            .add_service(LogsGrpc(self.clone()))
            .add_service(MetricsGrpc(self))
    }
}

impl NamedService for OtlpGrpc {
    const NAME: &'static str = "opentelemetry.proto.collector.trace.v1.TraceService";
}

/// [`OtlpGrpc`] under the logs and the metrics service names (tonic routes by name).
macro_rules! named_service {
    ($ty:ident, $signal:expr) => {
        #[derive(Clone)]
        pub struct $ty(pub OtlpGrpc);

        impl NamedService for $ty {
            const NAME: &'static str = match $signal {
                Signal::Logs => "opentelemetry.proto.collector.logs.v1.LogsService",
                _ => "opentelemetry.proto.collector.metrics.v1.MetricsService",
            };
        }

        impl<B> Service<http::Request<B>> for $ty
        where
            B: tonic::codegen::Body + Send + 'static,
            B::Error: Into<tonic::codegen::StdError> + Send + 'static,
        {
            type Response = http::Response<tonic::body::Body>;
            type Error = Infallible;
            type Future = BoxFuture<Self::Response, Self::Error>;

            fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
                Service::<http::Request<B>>::poll_ready(&mut self.0, cx)
            }

            fn call(&mut self, req: http::Request<B>) -> Self::Future {
                self.0.call(req)
            }
        }
    };
}

named_service!(LogsGrpc, Signal::Logs);
named_service!(MetricsGrpc, Signal::Metrics);

/// Maps a refusal tonic made before our handler ran (size limit, decompression limit or error).
fn classify_early(code: i32) -> Option<(RefuseReason, tonic::Code)> {
    match tonic::Code::from_i32(code) {
        // Over max_decoding_message_size.
        tonic::Code::OutOfRange => Some((RefuseReason::TooLarge, tonic::Code::ResourceExhausted)),
        // Decompression passed the size limit (a bomb).
        tonic::Code::ResourceExhausted => {
            Some((RefuseReason::TooLarge, tonic::Code::ResourceExhausted))
        }
        // Undecompressable body or unsupported encoding.
        tonic::Code::Internal | tonic::Code::Unimplemented => {
            Some((RefuseReason::Malformed, tonic::Code::InvalidArgument))
        }
        _ => None,
    }
}

impl<B> Service<http::Request<B>> for OtlpGrpc
where
    B: tonic::codegen::Body + Send + 'static,
    B::Error: Into<tonic::codegen::StdError> + Send + 'static,
{
    type Response = http::Response<tonic::body::Body>;
    type Error = Infallible;
    type Future = BoxFuture<Self::Response, Self::Error>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let ingest = self.ingest.clone();
        // Before anything else, so an unauthenticated client learns nothing about the service.
        let client = match &self.auth {
            None => ClientId::default(),
            Some(a) => {
                let h = req.headers().get(http::header::AUTHORIZATION);
                match a.check(h.map(|v| v.as_bytes())) {
                    Ok(c) => c,
                    Err(_) => {
                        let r = ingest.reject(
                            TRANSPORT,
                            RefuseReason::Unauthenticated,
                            "missing or invalid bearer token",
                        );
                        return Box::pin(async move { Ok(status_of(&r).into_http()) });
                    }
                }
            }
        };
        let signal = match Signal::of_grpc_path(req.uri().path()) {
            Some(s) if ingest.serves(s) => s,
            Some(s) => {
                let r = ingest.reject_as(
                    s,
                    TRANSPORT,
                    RefuseReason::Malformed,
                    &Ingest::not_served(s),
                );
                return Box::pin(
                    async move { Ok(tonic::Status::unimplemented(r.message).into_http()) },
                );
            }
            None => {
                return Box::pin(async move {
                    let st = tonic::Status::unimplemented(
                        "only the OTLP Export methods of TraceService, LogsService and \
                         MetricsService are served here",
                    );
                    Ok(st.into_http())
                });
            }
        };
        Box::pin(async move {
            let mut enc = EnabledCompressionEncodings::default();
            enc.enable(CompressionEncoding::Gzip);
            let max = ingest.limits.max_body_bytes;
            let mut grpc = tonic::server::Grpc::new(ServerCodec)
                .apply_compression_config(enc, EnabledCompressionEncodings::default())
                .apply_max_message_size_config(Some(max), None);
            let handled = Arc::new(AtomicBool::new(false));
            let svc = ExportSvc {
                ingest: ingest.clone(),
                signal,
                client,
                handled: handled.clone(),
            };
            let mut res = grpc.unary(svc, req).await;
            if !handled.load(Ordering::Acquire) {
                let code = res
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|s| s.parse::<i32>().ok());
                if let Some((reason, code)) = code.and_then(classify_early) {
                    ingest.metrics.refused_as(signal, TRANSPORT, reason, 0);
                    let msg = match reason {
                        RefuseReason::TooLarge => {
                            format!("request over {max} bytes after decompression")
                        }
                        _ => "undecodable request body".to_string(),
                    };
                    res = tonic::Status::new(code, msg).into_http();
                }
            }
            Ok(res)
        })
    }
}
