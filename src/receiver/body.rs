//! Request bodies: decompression under size and ratio limits, and decoding of OTLP protobuf and
//! OTLP/JSON. Pure functions, so they are easy to fuzz.

use crate::config::LimitsConfig;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use prost::Message;
use std::io::Read;

/// Bodies smaller than this may inflate by any ratio: they cannot hurt.
const RATIO_FLOOR: usize = 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BodyError {
    #[error("request body over {limit} bytes")]
    TooLarge { limit: usize },
    #[error("compressed body inflates more than {ratio}x")]
    Bomb { ratio: u32 },
    #[error("invalid gzip data")]
    BadGzip,
    #[error("unsupported content encoding")]
    UnsupportedEncoding,
    #[error("invalid protobuf: {0}")]
    Protobuf(String),
    #[error("invalid OTLP JSON: {0}")]
    Json(String),
}

/// Inflates a gzip body, stopping as soon as it passes the size or ratio limit, so a bomb costs
/// at most `max_body_bytes` of memory.
pub fn gunzip(compressed: &[u8], limits: &LimitsConfig) -> Result<Vec<u8>, BodyError> {
    let by_ratio = compressed
        .len()
        .saturating_mul(limits.max_decompression_ratio as usize)
        .max(RATIO_FLOOR);
    let cap = limits.max_body_bytes.min(by_ratio);
    let mut out = Vec::with_capacity((compressed.len() * 4).min(cap));
    let mut dec = flate2::read::MultiGzDecoder::new(compressed).take(cap as u64 + 1);
    dec.read_to_end(&mut out).map_err(|_| BodyError::BadGzip)?;
    if out.len() > cap {
        return Err(if cap == limits.max_body_bytes {
            BodyError::TooLarge {
                limit: limits.max_body_bytes,
            }
        } else {
            BodyError::Bomb {
                ratio: limits.max_decompression_ratio,
            }
        });
    }
    Ok(out)
}

/// Decodes an OTLP protobuf request.
pub fn decode_protobuf(body: &[u8]) -> Result<ExportTraceServiceRequest, BodyError> {
    ExportTraceServiceRequest::decode(body).map_err(|e| BodyError::Protobuf(short(&e.to_string())))
}

/// Decodes an OTLP/JSON request (hex ids, lowerCamelCase names, enums as integers, unknown
/// fields ignored), the mapping of the OTLP specification.
pub fn decode_json(body: &[u8]) -> Result<ExportTraceServiceRequest, BodyError> {
    // JSON text is UTF-8; serde_json does not check bytes inside values it skips.
    let text = std::str::from_utf8(body)
        .map_err(|e| BodyError::Json(format!("invalid UTF-8 at byte {}", e.valid_up_to())))?;
    serde_json::from_str(text).map_err(|e| {
        // serde_json messages name positions and types, never the offending value.
        BodyError::Json(short(&e.to_string()))
    })
}

/// Keeps error messages short; they are sent back to clients and logged.
fn short(s: &str) -> String {
    s.chars().take(160).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn gunzip_roundtrip() {
        let l = LimitsConfig::default();
        assert_eq!(gunzip(&gz(b"hello"), &l).unwrap(), b"hello");
    }

    #[test]
    fn gzip_bomb_stops_at_ratio() {
        let l = LimitsConfig::default();
        let bomb = gz(&vec![0u8; 50 * 1024 * 1024]);
        assert!(bomb.len() < 100 * 1024);
        assert_eq!(
            gunzip(&bomb, &l),
            Err(BodyError::Bomb {
                ratio: l.max_decompression_ratio
            })
        );
    }

    #[test]
    fn over_size_limit() {
        let l = LimitsConfig {
            max_body_bytes: 2 * 1024 * 1024,
            max_decompression_ratio: 100_000,
        };
        let big = gz(&vec![1u8; 3 * 1024 * 1024]);
        assert_eq!(
            gunzip(&big, &l),
            Err(BodyError::TooLarge {
                limit: 2 * 1024 * 1024
            })
        );
    }

    #[test]
    fn bad_gzip() {
        assert_eq!(
            gunzip(b"not gzip at all", &LimitsConfig::default()),
            Err(BodyError::BadGzip)
        );
    }

    #[test]
    fn otlp_json_mapping() {
        let json = br#"{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"agent"}}]},
          "scopeSpans":[{"scope":{"name":"s"},"spans":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174",
          "parentSpanId":"","name":"chat","kind":3,"startTimeUnixNano":"1544712660000000000","endTimeUnixNano":1544712661000000000,
          "attributes":[{"key":"n","value":{"intValue":"42"}},{"key":"f","value":{"doubleValue":1.5}},
          {"key":"b","value":{"boolValue":true}},{"key":"arr","value":{"arrayValue":{"values":[{"stringValue":"x"}]}}},
          {"key":"kv","value":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}}],
          "status":{"code":2,"message":"boom"},"someFutureField":{"x":1}}]}]}]}"#;
        let req = decode_json(json).unwrap();
        let span = &req.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(
            hex::encode(&span.trace_id),
            "5b8efff798038103d269b633813fc60c"
        );
        assert_eq!(hex::encode(&span.span_id), "eee19b7ec3c1b174");
        assert_eq!(span.kind, 3);
        assert_eq!(span.start_time_unix_nano, 1544712660000000000);
        assert_eq!(span.end_time_unix_nano, 1544712661000000000);
        assert_eq!(span.attributes.len(), 5);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
    }

    #[test]
    fn malformed_inputs_are_errors() {
        assert!(decode_json(b"{not json").is_err());
        assert!(decode_json(b"\xff\xfe").is_err());
        assert!(decode_protobuf(&[0x0a, 0xff, 0xff, 0xff]).is_err());
    }
}
