//! OTLP/gRPC `Export` of an encoded request to any signal's service: tonic's client with a
//! codec that passes bytes through. The traces go through the exporter's own
//! `sink::otlp::export_raw_with` (which frames the body without copying it); that call knows
//! only the trace service, so logs and metrics come here (the codec copies each body once into
//! tonic's buffer, a cost the generator's CPU figure includes).

use bytes::{Buf, BufMut, Bytes};
use std::time::Duration;
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};

/// Sends bytes as they are; reads the answer only to discard it (an `Export…ServiceResponse`
/// is a few bytes, and its partial-success counts are not part of the report).
#[derive(Debug, Clone, Copy, Default)]
struct RawCodec;

impl Codec for RawCodec {
    type Encode = Bytes;
    type Decode = ();
    type Encoder = RawCodec;
    type Decoder = RawCodec;

    fn encoder(&mut self) -> Self::Encoder {
        RawCodec
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCodec
    }
}

impl Encoder for RawCodec {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCodec {
    type Item = ();
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<()>, Self::Error> {
        let n = src.remaining();
        src.advance(n);
        Ok(Some(()))
    }
}

/// One `Export` call to `path` (`/opentelemetry.proto.collector.logs.v1.LogsService/Export`…).
pub async fn export(
    channel: tonic::transport::Channel,
    path: &'static str,
    body: Bytes,
    gzip: bool,
    timeout: Duration,
    authorization: Option<&tonic::metadata::AsciiMetadataValue>,
) -> Result<(), tonic::Status> {
    let mut grpc = tonic::client::Grpc::new(channel);
    if gzip {
        grpc = grpc.send_compressed(tonic::codec::CompressionEncoding::Gzip);
    }
    grpc.ready()
        .await
        .map_err(|e| tonic::Status::unavailable(format!("target not reachable: {e}")))?;
    let mut req = tonic::Request::new(body);
    req.set_timeout(timeout);
    if let Some(a) = authorization {
        req.metadata_mut().insert("authorization", a.clone());
    }
    let path = tonic::codegen::http::uri::PathAndQuery::from_static(path);
    grpc.unary(req, path, RawCodec).await.map(|_| ())
}
