//! The few `google.rpc` messages OTLP uses for errors: `Status` with `RetryInfo` details. Declared
//! here with prost's derive rather than pulling a crate of generated Google types for two structs.

use prost::Message;
use std::time::Duration;

pub const RETRY_INFO_TYPE: &str = "type.googleapis.com/google.rpc.RetryInfo";

#[derive(Clone, PartialEq, Message)]
pub struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub code: i32,
    #[prost(string, tag = "2")]
    pub message: String,
    #[prost(message, repeated, tag = "3")]
    pub details: Vec<Any>,
}

#[derive(Clone, PartialEq, Message)]
pub struct Any {
    #[prost(string, tag = "1")]
    pub type_url: String,
    #[prost(bytes = "vec", tag = "2")]
    pub value: Vec<u8>,
}

#[derive(Clone, PartialEq, Message)]
pub struct RetryInfo {
    #[prost(message, optional, tag = "1")]
    pub retry_delay: Option<ProtoDuration>,
}

#[derive(Clone, PartialEq, Message)]
pub struct ProtoDuration {
    #[prost(int64, tag = "1")]
    pub seconds: i64,
    #[prost(int32, tag = "2")]
    pub nanos: i32,
}

/// A `google.rpc.Status`, with a `RetryInfo` detail when `retry_after` is given.
pub fn status(code: i32, message: &str, retry_after: Option<Duration>) -> RpcStatus {
    let details = retry_after
        .map(|d| {
            let ri = RetryInfo {
                retry_delay: Some(ProtoDuration {
                    seconds: d.as_secs() as i64,
                    nanos: d.subsec_nanos() as i32,
                }),
            };
            vec![Any {
                type_url: RETRY_INFO_TYPE.into(),
                value: ri.encode_to_vec(),
            }]
        })
        .unwrap_or_default();
    RpcStatus {
        code,
        message: message.into(),
        details,
    }
}

/// A tonic status carrying `RetryInfo` in its details when `retry_after` is given.
pub fn tonic_status(
    code: tonic::Code,
    message: &str,
    retry_after: Option<Duration>,
) -> tonic::Status {
    match retry_after {
        None => tonic::Status::new(code, message.to_string()),
        Some(_) => {
            let st = status(code as i32, message, retry_after);
            tonic::Status::with_details(code, message.to_string(), st.encode_to_vec().into())
        }
    }
}

/// The `RetryInfo` delay in a tonic status's details, if any.
pub fn retry_delay(status: &tonic::Status) -> Option<Duration> {
    let st = RpcStatus::decode(status.details()).ok()?;
    st.details
        .iter()
        .filter(|a| a.type_url == RETRY_INFO_TYPE)
        .find_map(|a| RetryInfo::decode(a.value.as_slice()).ok()?.retry_delay)
        .map(|d| Duration::new(d.seconds.max(0) as u64, d.nanos.max(0) as u32))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_info_round_trips() {
        let s = tonic_status(
            tonic::Code::ResourceExhausted,
            "queue full",
            Some(Duration::from_millis(1500)),
        );
        assert_eq!(retry_delay(&s), Some(Duration::from_millis(1500)));
        let plain = tonic_status(tonic::Code::ResourceExhausted, "too large", None);
        assert_eq!(retry_delay(&plain), None);
    }
}
