//! A workflow's definition in the dashboard: read from the form exactly as the API reads it,
//! shown as the editor shows it, the example a new workflow starts from, and the reference of
//! step types beside the editor.

use axum::http::StatusCode;
use serde_json::{Value, json};
use tessera_core::id::OrganizationId;
use tessera_core::workflow::{Step, Workflow};
use tessera_core::{Error, codes};
use tessera_store::units::sessions::Session;

use crate::connections::active_outbound;
use crate::page::{PageError, form_error};
use crate::view::org_names;
use tessera_edge::body::Body;
use tessera_edge::extract::from_document;
use tessera_edge::inputs::{Definition, NewWorkflowAttributes, check_definition};
use tessera_edge::state::AppState;

/// What a step type needs and acts on: the reference beside the editor.
pub struct StepHelp {
    pub kind: &'static str,
    pub members: &'static str,
    pub acts_on: &'static str,
}

const INQUIRY: &str = "the inquiry of an inquiry.* event";

/// Every step type (a test checks this against the core's list).
pub const STEP_HELP: &[StepHelp] = &[
    StepHelp {
        kind: "create-share-token",
        members: "connection-id (an active outbound connection), expires-in-seconds (optional)",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "redeem-share-token",
        members: "inquiry-template-id, field-mappings: [{source-field-name, destination-field-name}] (both optional)",
        acts_on: "the share token of a connect/share-token.inbound-* event",
    },
    StepHelp {
        kind: "activate-connection",
        members: "—",
        acts_on: "the connection of a connect/connection.inbound-* event",
    },
    StepHelp {
        kind: "approve-inquiry",
        members: "—",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "decline-inquiry",
        members: "—",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "mark-inquiry-for-review",
        members: "—",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "tag-inquiry",
        members: "tag",
        acts_on: INQUIRY,
    },
    StepHelp {
        kind: "http-request",
        members: "url (the same address rules as webhooks)",
        acts_on: "the event, POSTed and signed with the workflow's secret",
    },
];

/// Why a definition was refused: the message, and where in the definition (a JSON pointer into
/// the object typed in the form).
pub struct DefinitionError {
    pub message: String,
    pub pointer: Option<String>,
}

/// The form holds the attributes themselves: the pointer into it is the part of the request
/// pointer below `/data/attributes`.
pub(super) fn form_pointer(e: &Error) -> Option<String> {
    let pointer = tessera_edge::error::pointer_of(e.location.as_ref()?)?;
    let inside = pointer.strip_prefix("/data/attributes").unwrap_or(&pointer);
    (!inside.is_empty()).then(|| inside.to_owned())
}

pub(super) fn definition_error(e: Error) -> Result<(StatusCode, DefinitionError), PageError> {
    let pointer = form_pointer(&e);
    let (code, message) = form_error(e)?;
    Ok((code, DefinitionError { message, pointer }))
}

/// Reads a definition typed in the form exactly as the API reads the attributes of
/// `POST /api/v1/workflows`: the same document reader, then the same check.
pub(super) async fn parse_definition(state: &AppState, text: &str) -> Result<Definition, Error> {
    if text.trim().is_empty() {
        return Err(Error::invalid(
            codes::MISSING_ATTRIBUTE,
            "type the workflow's definition: a JSON object with a name, a trigger and steps",
        ));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| {
        Error::invalid(
            codes::MALFORMED_JSON,
            format!("the definition is not valid JSON: {e}"),
        )
    })?;
    if !value.is_object() {
        return Err(Error::invalid(
            codes::MALFORMED_JSON,
            "the definition is a JSON object with a name, a trigger and steps",
        ));
    }
    let body: Body<NewWorkflowAttributes> = from_document(json!({"data": {"attributes": value}}))?;
    check_definition(&state.outbound, body.data.attributes).await
}

/// A definition as the editor shows it.
fn definition_text(name: Option<&str>, trigger: Value, steps: Value) -> String {
    let mut doc = serde_json::Map::new();
    if let Some(name) = name {
        doc.insert("name".into(), Value::String(name.to_owned()));
    }
    doc.insert("trigger".into(), trigger);
    doc.insert("steps".into(), steps);
    serde_json::to_string_pretty(&Value::Object(doc)).unwrap_or_default()
}

pub(super) fn current_definition(w: &Workflow) -> String {
    definition_text(
        w.name.as_deref(),
        serde_json::to_value(&w.trigger).unwrap_or(Value::Null),
        Value::Array(w.steps.iter().map(Step::to_value).collect()),
    )
}

/// The definition a new workflow starts from: share approved inquiries tagged `share` over the
/// first active outbound connection (or a placeholder to replace when there is none).
pub(super) async fn example(
    state: &AppState,
    session: &Session,
) -> Result<(String, bool), PageError> {
    let scope = session.scope.clone();
    let outbound = active_outbound(&state.store, scope, 1).await?;
    let partners: Vec<OrganizationId> = outbound
        .items
        .iter()
        .map(|c| c.destination_org.clone())
        .collect();
    let names = org_names(&state.store, partners).await?;
    let first = outbound.items.first();
    let (connection, partner) = match first {
        Some(c) => (
            c.id.to_string(),
            names
                .get(&c.destination_org)
                .cloned()
                .unwrap_or_else(|| c.destination_org.to_string()),
        ),
        None => (String::from("cxn_…"), String::from("a partner")),
    };
    let text = definition_text(
        Some(&format!("Share approved inquiries with {partner}")),
        json!({"event": "inquiry.approved",
            "conditions": [{"path": "/data/attributes/tags", "op": "contains", "value": "share"}]}),
        json!([{"type": "create-share-token", "connection-id": connection, "expires-in-seconds": 86400}]),
    );
    Ok((text, first.is_some()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_names_every_step_type() {
        let kinds: Vec<&str> = STEP_HELP.iter().map(|s| s.kind).collect();
        assert_eq!(kinds, tessera_core::workflow::STEP_TYPES);
    }

    #[test]
    fn pointers_are_shown_inside_the_definition() {
        let at = |p: &str| form_pointer(&Error::invalid(codes::INVALID_ATTRIBUTE, "x").at(p));
        assert_eq!(
            at("/data/attributes/steps/0/connection-id").as_deref(),
            Some("/steps/0/connection-id")
        );
        assert_eq!(at("/data/attributes"), None);
    }
}
