//! The limits one export request is held to: size and decompression of its body (checked by
//! the receivers), and its structure ([`check`](fn@super::check)). The config file's
//! `receivers.otlp.limits` section deserializes straight into [`Limits`].

use serde::Deserialize;

/// `receivers.otlp.limits`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Largest request body after decompression, in bytes. Default 20 MiB. Over it: HTTP 413,
    /// gRPC `RESOURCE_EXHAUSTED` without `RetryInfo` (not retryable); counted as
    /// `reason="too_large"`. Also the gRPC maximum decoded message size.
    pub max_body_bytes: usize,
    /// Largest accepted ratio of decompressed to compressed size. Default 100. A body that
    /// inflates further is a compression bomb: refused like an oversized body, and decoding stops
    /// at the limit so memory never grows past `max_body_bytes`.
    pub max_decompression_ratio: u32,
    /// Most spans in one request. Default 65,536 (the default queue capacity). Over it: refused
    /// whole like an oversized body (`reason="too_large"`, not retryable).
    pub max_spans_per_request: usize,
    /// Most attributes in one span, counting its events' and links' attributes and every
    /// key-value and array element nested in their values; the same bound applies to each
    /// resource's and scope's attributes. Default 10,000. Over it: the request is refused whole
    /// (`reason="too_large"`, not retryable).
    pub max_attributes_per_span: usize,
    /// Deepest nesting of attribute values (array and kvlist values inside each other; a plain
    /// attribute value is level 1). Default 32, at most 100 (prost's decoding recursion limit;
    /// serde_json's is 128). Deeper: the request is refused whole (`reason="malformed"`).
    pub max_attribute_depth: usize,
    /// Largest string or bytes attribute value, in bytes. Default 4 MiB. A larger value is
    /// replaced by `[REDACTED:oversize]` before the request is queued and counted in
    /// `spanward_redactions_total{type="oversize"}`: it is never forwarded unscanned.
    pub max_attribute_value_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 20 * 1024 * 1024,
            max_decompression_ratio: 100,
            max_spans_per_request: 65_536,
            max_attributes_per_span: 10_000,
            max_attribute_depth: 32,
            max_attribute_value_bytes: 4 << 20,
        }
    }
}
