//! The W3C `tracestate` of a span and the OpenTelemetry `ot` member in it: the `th`
//! (rejection threshold) and `rv` (randomness) sub-keys of TraceState probability sampling
//! (OTEP 235), read, encoded and rewritten. What to keep is the sampler's decision
//! (`pipeline::sample`); the scrubber reads these values to leave them alone.

/// 2^56: one more than the largest threshold or randomness value.
pub const MAX_ADJUSTED_COUNT: u64 = 1 << 56;
/// Mask of the 56 randomness bits.
pub(crate) const RANDOMNESS_MASK: u64 = MAX_ADJUSTED_COUNT - 1;
/// Digits of a full 56-bit `th` / `rv` value.
pub(crate) const HEX_DIGITS: u32 = 14;
/// W3C: at most 32 list members in `tracestate`.
const MAX_TRACESTATE_MEMBERS: usize = 32;
/// OTel / W3C: the `ot` member's value stays within 256 characters.
const MAX_OT_VALUE_LEN: usize = 256;

/// Randomness from a trace id: its least-significant 56 bits (W3C Trace Context Level 2).
/// `None` for an invalid id (not 16 bytes, or all zero).
pub fn trace_id_randomness(trace_id: &[u8]) -> Option<u64> {
    let id: &[u8; 16] = trace_id.try_into().ok()?;
    if id.iter().all(|b| *b == 0) {
        return None;
    }
    let mut low = [0u8; 8];
    low.copy_from_slice(&id[8..]);
    Some(u64::from_be_bytes(low) & RANDOMNESS_MASK)
}

/// Encodes a threshold as a `th` value: lower-case hex, trailing zeros removed, `0` for zero.
pub fn encode_threshold(th: u64) -> String {
    if th == 0 {
        return "0".to_string();
    }
    let full = format!("{:014x}", th & RANDOMNESS_MASK);
    full.trim_end_matches('0').to_string()
}

/// Parses a `th` value: 1 to 14 lower-case hex digits, implicitly padded with trailing zeros.
pub fn parse_threshold(s: &str) -> Option<u64> {
    if s.is_empty() || s.len() > HEX_DIGITS as usize || !is_lower_hex(s) {
        return None;
    }
    let v = u64::from_str_radix(s, 16).ok()?;
    Some(v << (4 * (HEX_DIGITS as usize - s.len())))
}

/// Parses an `rv` value: exactly 14 lower-case hex digits.
pub fn parse_randomness(s: &str) -> Option<u64> {
    if s.len() != HEX_DIGITS as usize || !is_lower_hex(s) {
        return None;
    }
    u64::from_str_radix(s, 16).ok()
}

fn is_lower_hex(s: &str) -> bool {
    s.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The sampling-relevant part of a tracestate's `ot` member.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct OtState {
    /// Valid `th`, if any.
    pub(crate) th: Option<u64>,
    /// A `th` sub-key was present (valid or not).
    pub(crate) th_present: bool,
    /// Valid `rv`, if any.
    pub(crate) rv: Option<u64>,
}

impl OtState {
    pub(crate) fn parse(tracestate: &str) -> OtState {
        let mut st = OtState::default();
        let Some(ot) = ot_value(tracestate) else {
            return st;
        };
        for sub in ot.split(';') {
            match sub.split_once(':') {
                Some(("th", v)) if !st.th_present => {
                    st.th_present = true;
                    st.th = parse_threshold(v);
                }
                Some(("rv", v)) if st.rv.is_none() => st.rv = parse_randomness(v),
                _ => {}
            }
        }
        st
    }
}

/// Non-empty list members of a W3C tracestate, trimmed of optional whitespace.
fn members(tracestate: &str) -> impl Iterator<Item = &str> {
    tracestate
        .split(',')
        .map(|m| m.trim_matches([' ', '\t']))
        .filter(|m| !m.is_empty())
}

/// The value of the first `ot` member.
fn ot_value(tracestate: &str) -> Option<&str> {
    members(tracestate).find_map(|m| m.strip_prefix("ot="))
}

/// Sets (`Some`) or erases (`None`) the `th` sub-key of the `ot` member and moves that member
/// to the front, per W3C. Other `ot` sub-keys keep their order; `th` replaces an old `th` in
/// place or comes first. Returns `None` when the result would break the 256-character limit
/// on the `ot` value (the tracestate is then left as it was).
pub fn rewrite_tracestate(tracestate: &str, th: Option<u64>) -> Option<String> {
    let old_ot = ot_value(tracestate).unwrap_or("");
    let new_th = th.map(|t| format!("th:{}", encode_threshold(t)));
    let mut subs: Vec<&str> = Vec::new();
    let mut placed = false;
    for sub in old_ot.split(';').filter(|s| !s.is_empty()) {
        if sub.starts_with("th:") || sub == "th" {
            if !placed {
                if let Some(t) = &new_th {
                    subs.push(t);
                }
                placed = true;
            }
        } else {
            subs.push(sub);
        }
    }
    if !placed {
        if let Some(t) = &new_th {
            subs.insert(0, t);
        }
    }
    let ot = subs.join(";");
    if ot.len() > MAX_OT_VALUE_LEN {
        return None;
    }
    let mut out = String::with_capacity(tracestate.len() + 24);
    let mut count = 0;
    if !ot.is_empty() {
        out.push_str("ot=");
        out.push_str(&ot);
        count = 1;
    }
    for m in members(tracestate).filter(|m| !m.starts_with("ot=")) {
        if count == MAX_TRACESTATE_MEMBERS {
            break;
        }
        if count > 0 {
            out.push(',');
        }
        out.push_str(m);
        count += 1;
    }
    Some(out)
}
