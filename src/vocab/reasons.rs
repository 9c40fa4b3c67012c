//! Why spans did not get through: refused before they were accepted, or dropped after.

/// Why spans did not reach every sink. One enum for metrics labels and log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Intentional: consistent probability sampling decided against the trace.
    Sampled,
    /// Scrubbing failed or panicked on the span (or on its resource or scope), or a processed
    /// request could not be read back; it was dropped rather than forwarded raw.
    ScrubError,
    /// The fingerprint stage failed or panicked on the span; it was dropped rather than
    /// forwarded without its fingerprints (and unscrubbed).
    FingerprintError,
    /// A sink gave up on the batch (retries exhausted, permanent rejection, disk error).
    ExportFailed,
    /// Still queued when `shutdown_timeout` ran out.
    Shutdown,
}

impl DropReason {
    pub const ALL: [DropReason; 5] = [
        DropReason::Sampled,
        DropReason::ScrubError,
        DropReason::FingerprintError,
        DropReason::ExportFailed,
        DropReason::Shutdown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DropReason::Sampled => "sampled",
            DropReason::ScrubError => "scrub_error",
            DropReason::FingerprintError => "fingerprint_error",
            DropReason::ExportFailed => "export_failed",
            DropReason::Shutdown => "shutdown",
        }
    }
}

/// Why a request was refused before its spans were accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefuseReason {
    /// The queue had no room within `max_wait` (or at once with `when_full: refuse`). Retryable.
    QueueFull,
    /// The service is shutting down. Retryable (another replica, or this one after restart).
    ShuttingDown,
    /// A sink reported a fatal error and the service is unready. Retryable.
    Unready,
    /// With `ack: durable`, a sink could not confirm the batch. Retryable.
    NotDurable,
    /// Body over the size limit, or a compression bomb. Not retryable.
    TooLarge,
    /// Undecodable protobuf/JSON, bad gzip, wrong content type. Not retryable.
    Malformed,
    /// The client is over its `receivers.otlp.rate_limit`. Retryable after the bucket refills.
    RateLimited,
    /// Memory is over the `pipeline.memory_limiter` limits. Retryable.
    MemoryLimited,
    /// Missing or unknown bearer token. Not retryable (the same token would fail again).
    Unauthenticated,
}

impl RefuseReason {
    pub const ALL: [RefuseReason; 9] = [
        RefuseReason::QueueFull,
        RefuseReason::ShuttingDown,
        RefuseReason::Unready,
        RefuseReason::NotDurable,
        RefuseReason::TooLarge,
        RefuseReason::Malformed,
        RefuseReason::RateLimited,
        RefuseReason::MemoryLimited,
        RefuseReason::Unauthenticated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefuseReason::QueueFull => "queue_full",
            RefuseReason::ShuttingDown => "shutting_down",
            RefuseReason::Unready => "unready",
            RefuseReason::NotDurable => "not_durable",
            RefuseReason::TooLarge => "too_large",
            RefuseReason::Malformed => "malformed",
            RefuseReason::RateLimited => "rate_limited",
            RefuseReason::MemoryLimited => "memory_limited",
            RefuseReason::Unauthenticated => "unauthenticated",
        }
    }

    /// Whether the client should retry (and is told when, with `RetryInfo` / `Retry-After`).
    pub fn retryable(self) -> bool {
        !matches!(
            self,
            RefuseReason::TooLarge | RefuseReason::Malformed | RefuseReason::Unauthenticated
        )
    }
}
