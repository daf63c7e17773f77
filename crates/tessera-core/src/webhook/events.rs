//! `enabled-events`: which events a webhook receives.

use crate::error::{Error, codes};
use crate::event::names;

/// Most enabled-events entries (room for every Persona and Tessera name).
pub const MAX_ENABLED_EVENTS: usize = 300;

/// Checks `enabled-events`: `*`, Tessera's event names or Persona's subscribable ones
/// ([`crate::persona_events`]), deduplicated.
pub fn parse_enabled_events(list: &[String]) -> Result<Vec<String>, Error> {
    let pointer = "enabled-events";
    if list.is_empty() || list.len() > MAX_ENABLED_EVENTS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("enabled-events lists 1 to {MAX_ENABLED_EVENTS} event names, or \"*\""),
        )
        .at(pointer));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, name) in list.iter().enumerate() {
        if name != "*" && !names::is_known(name) && !crate::persona_events::is_persona_event(name) {
            return Err(
                Error::invalid(codes::UNKNOWN_EVENT, format!("unknown event name {name}"))
                    .at(format!("{pointer}/{i}")),
            );
        }
        if !out.contains(name) {
            out.push(name.clone());
        }
    }
    Ok(out)
}

/// Whether a webhook subscribed to `enabled` receives an event named `name`.
pub fn subscribes(enabled: &[String], name: &str) -> bool {
    enabled.iter().any(|e| e == "*" || e == name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enabled_events_are_known_names_or_star() {
        assert!(parse_enabled_events(&["*".into()]).is_ok());
        assert_eq!(
            parse_enabled_events(&["inquiry.created".into(), "inquiry.created".into()]).ok(),
            Some(vec!["inquiry.created".to_owned()])
        );
        let e = parse_enabled_events(&["inquiry.created".into(), "inquiry.nope".into()]).err();
        assert_eq!(
            e.and_then(|e| e.location),
            Some(crate::error::Source::Attribute("enabled-events/1".into()))
        );
        assert!(parse_enabled_events(&[]).is_err());
        assert!(subscribes(&["*".into()], "x"));
        assert!(!subscribes(&["inquiry.created".into()], "inquiry.approved"));
    }

    #[test]
    fn persona_event_names_are_accepted_and_others_refused() {
        assert!(
            parse_enabled_events(&[
                "connect/share-token.inbound-created".into(),
                "inquiry.transitioned".into(),
                "workflow-run.errored".into(),
            ])
            .is_ok()
        );
        let e = parse_enabled_events(&["inquiry.created".into(), "account.nope".into()]).err();
        assert_eq!(
            e.map(|e| e.code.into_owned()).as_deref(),
            Some(codes::UNKNOWN_EVENT)
        );
    }
}
