//! Span attributes spanward writes on the spans it forwards, read back by other parts (the
//! audit log reads the fingerprint stage's).

/// Span attribute holding the digest of the raw input fields.
pub const INPUT_HASH: &str = "spanward.input_hash";
/// Span attribute holding the digest of the raw output fields.
pub const OUTPUT_HASH: &str = "spanward.output_hash";
/// Span attribute naming the key the digests were made with (`sha256` when unkeyed).
pub const HASH_KEY_ID: &str = "spanward.hash_key_id";
