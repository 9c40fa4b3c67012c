//! What the fingerprint stage reads of a log record: its event name, and the role of the
//! GenAI events that carry one message in their body.

use super::Role;
use crate::otlp::view::{self, Kv};
use crate::otlp::{num, Msg, WireError};

/// A log record's event name: its `event_name`, else its `event.name` attribute, else "".
pub(super) fn event_name(record: Msg<'_>) -> Result<&str, WireError> {
    let named = view::str_of(record, num::LOG_EVENT_NAME)?;
    if !named.is_empty() {
        return Ok(named);
    }
    for f in view::each(record, num::LOG_ATTRIBUTES) {
        let Some(m) = f?.msg() else { continue };
        let kv = Kv::read(m)?;
        if kv.key == "event.name" {
            return Ok(kv.string()?.unwrap_or(""));
        }
    }
    Ok("")
}

/// The role of the body of the GenAI events that carry one message in their body.
pub(super) fn legacy_event_role(event: &str) -> Option<Role> {
    match event {
        "gen_ai.system.message"
        | "gen_ai.user.message"
        | "gen_ai.assistant.message"
        | "gen_ai.tool.message" => Some(Role::Input),
        "gen_ai.choice" => Some(Role::Output),
        _ => None,
    }
}

/// The key-value list an `AnyValue` holds, if it holds one.
pub(super) fn kvlist_of(av: Option<Msg<'_>>) -> Result<Option<Msg<'_>>, WireError> {
    let Some(av) = av else { return Ok(None) };
    Ok(view::any_member(av)?
        .filter(|m| m.num == num::AV_KVLIST)
        .and_then(|m| m.msg()))
}
