//! Events: what happened, to whom, written in the same transaction as the change itself.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::id::EventId;
use crate::jsonapi::{NoRelationships, Resource};
use crate::time::Timestamp;

/// Event names.
pub mod names {
    pub const INQUIRY_CREATED: &str = "inquiry.created";
    pub const INQUIRY_STARTED: &str = "inquiry.started";
    pub const INQUIRY_COMPLETED: &str = "inquiry.completed";
    pub const INQUIRY_APPROVED: &str = "inquiry.approved";
    pub const INQUIRY_DECLINED: &str = "inquiry.declined";
    pub const INQUIRY_MARKED_FOR_REVIEW: &str = "inquiry.marked-for-review";
    pub const INQUIRY_EXPIRED: &str = "inquiry.expired";
    pub const INQUIRY_FAILED: &str = "inquiry.failed";
    pub const INQUIRY_UPDATED: &str = "inquiry.updated";
    pub const INQUIRY_REDACTED: &str = "inquiry.redacted";
    pub const VERIFICATION_PASSED: &str = "verification.passed";
    pub const VERIFICATION_FAILED: &str = "verification.failed";
    pub const DOCUMENT_CREATED: &str = "document.created";

    pub const CONNECTION_OUTBOUND_CREATED: &str = "connect/connection.outbound-created";
    pub const CONNECTION_INBOUND_CREATED: &str = "connect/connection.inbound-created";
    pub const CONNECTION_OUTBOUND_ACTIVATED: &str = "connect/connection.outbound-activated";
    pub const CONNECTION_INBOUND_ACTIVATED: &str = "connect/connection.inbound-activated";
    pub const CONNECTION_OUTBOUND_DEACTIVATED: &str = "connect/connection.outbound-deactivated";
    pub const CONNECTION_INBOUND_DEACTIVATED: &str = "connect/connection.inbound-deactivated";
    pub const CONNECTION_OUTBOUND_REACTIVATED: &str = "connect/connection.outbound-reactivated";
    pub const CONNECTION_INBOUND_REACTIVATED: &str = "connect/connection.inbound-reactivated";

    pub const SHARE_TOKEN_OUTBOUND_CREATED: &str = "connect/share-token.outbound-created";
    pub const SHARE_TOKEN_INBOUND_CREATED: &str = "connect/share-token.inbound-created";
    pub const SHARE_TOKEN_OUTBOUND_REDEEMED: &str = "connect/share-token.outbound-redeemed";
    pub const SHARE_TOKEN_INBOUND_REDEEMED: &str = "connect/share-token.inbound-redeemed";
    pub const SHARE_TOKEN_OUTBOUND_EXPIRED: &str = "connect/share-token.outbound-expired";
    pub const SHARE_TOKEN_INBOUND_EXPIRED: &str = "connect/share-token.inbound-expired";
    pub const SHARE_TOKEN_OUTBOUND_FAILED: &str = "connect/share-token.outbound-failed";
    pub const SHARE_TOKEN_INBOUND_FAILED: &str = "connect/share-token.inbound-failed";

    pub const WORKFLOW_RUN_CREATED: &str = "workflow-run.created";
    pub const WORKFLOW_RUN_COMPLETED: &str = "workflow-run.completed";
    pub const WORKFLOW_RUN_FAILED: &str = "workflow-run.failed";

    /// Persona's: the tags of an inquiry changed (tag endpoints, PATCH of `tags`, workflows).
    pub const INQUIRY_UPDATED_TAGS: &str = "inquiry.updated-tags";
    /// Persona's: an inquiry's status changed (emitted beside the status's own event).
    pub const INQUIRY_TRANSITIONED: &str = "inquiry.transitioned";

    /// Tessera's, to the destination: the source organization redacted what a redeemed copy was
    /// made from (the inquiry, or a verification or document of it). On the copy.
    pub const INQUIRY_SOURCE_REDACTED: &str = "inquiry.source-redacted";
    /// Tessera's, to the destination: the source organization deactivated the connection a
    /// redeemed token came over. On the token, as the destination sees it.
    pub const SHARE_TOKEN_SOURCE_REVOKED: &str = "connect/share-token.source-revoked";

    /// Every event name Tessera emits.
    pub const ALL: &[&str] = &[
        INQUIRY_CREATED,
        INQUIRY_STARTED,
        INQUIRY_COMPLETED,
        INQUIRY_APPROVED,
        INQUIRY_DECLINED,
        INQUIRY_MARKED_FOR_REVIEW,
        INQUIRY_EXPIRED,
        INQUIRY_FAILED,
        INQUIRY_UPDATED,
        INQUIRY_REDACTED,
        VERIFICATION_PASSED,
        VERIFICATION_FAILED,
        DOCUMENT_CREATED,
        CONNECTION_OUTBOUND_CREATED,
        CONNECTION_INBOUND_CREATED,
        CONNECTION_OUTBOUND_ACTIVATED,
        CONNECTION_INBOUND_ACTIVATED,
        CONNECTION_OUTBOUND_DEACTIVATED,
        CONNECTION_INBOUND_DEACTIVATED,
        CONNECTION_OUTBOUND_REACTIVATED,
        CONNECTION_INBOUND_REACTIVATED,
        SHARE_TOKEN_OUTBOUND_CREATED,
        SHARE_TOKEN_INBOUND_CREATED,
        SHARE_TOKEN_OUTBOUND_REDEEMED,
        SHARE_TOKEN_INBOUND_REDEEMED,
        SHARE_TOKEN_OUTBOUND_EXPIRED,
        SHARE_TOKEN_INBOUND_EXPIRED,
        SHARE_TOKEN_OUTBOUND_FAILED,
        SHARE_TOKEN_INBOUND_FAILED,
        WORKFLOW_RUN_CREATED,
        WORKFLOW_RUN_COMPLETED,
        WORKFLOW_RUN_FAILED,
        INQUIRY_UPDATED_TAGS,
        INQUIRY_TRANSITIONED,
        INQUIRY_SOURCE_REDACTED,
        SHARE_TOKEN_SOURCE_REVOKED,
    ];

    pub fn is_known(name: &str) -> bool {
        ALL.contains(&name)
    }
}

/// A stored event.
#[derive(Debug, Clone)]
pub struct Event {
    pub id: EventId,
    pub name: String,
    /// The object the event is about.
    pub object_id: String,
    /// `{"data": <the object as the receiving organization sees it>}`, kebab-case.
    pub payload: Value,
    pub created_at: Timestamp,
}

/// Attributes of an `event` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct EventAttributes {
    pub name: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An `event` resource.
pub type EventResource = Resource<EventAttributes, NoRelationships>;

impl Event {
    pub fn to_resource(&self) -> EventResource {
        Resource::new(
            "event",
            self.id.as_str(),
            EventAttributes {
                name: self.name.clone(),
                payload: self.payload.clone(),
                created_at: self.created_at,
            },
            NoRelationships {},
        )
    }
}

/// Removes personal data from a stored document (an event payload or a stored response) for the
/// resources whose ids are given, as redaction leaves the objects themselves: inquiry `fields`
/// keep their names with `value: null`, `tags` are emptied, `note` and `reviewer-comment` become
/// null; a verification keeps only its own attributes (status, checks without reasons or
/// metadata, times), so its extracted data goes, flat and nested; a document loses `filename`,
/// `sha256` and `files`. Keys are matched in every inflection.
pub fn scrub_document(doc: &mut Value, ids: &[String]) -> bool {
    use crate::inflect::to_kebab;
    let mut changed = false;
    let mut scrub = |r: &mut Value| {
        let hit = r
            .get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| ids.iter().any(|i| i == id));
        if !hit {
            return;
        }
        let kind = r
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned();
        let Some(attrs) = r.get_mut("attributes").and_then(Value::as_object_mut) else {
            return;
        };
        if kind.starts_with("verification/") {
            let before = attrs.len();
            attrs
                .retain(|k, _| crate::verification::OWN_ATTRIBUTES.contains(&to_kebab(k).as_str()));
            changed |= attrs.len() != before;
        }
        for (key, v) in attrs.iter_mut() {
            match to_kebab(key).as_str() {
                "fields" => {
                    let kept = match v {
                        Value::Object(fields) => fields
                            .iter()
                            .map(|(name, f)| {
                                let mut f = f.as_object().cloned().unwrap_or_default();
                                f.insert("value".into(), Value::Null);
                                (name.clone(), Value::Object(f))
                            })
                            .collect(),
                        _ => Map::new(),
                    };
                    *v = Value::Object(kept);
                    changed = true;
                }
                "attributes" => {
                    *v = Value::Object(Map::new());
                    changed = true;
                }
                "tags" if kind == "inquiry" => {
                    *v = Value::Array(vec![]);
                    changed = true;
                }
                "files" => {
                    *v = Value::Array(vec![]);
                    changed = true;
                }
                "note" | "reviewer-comment" | "filename" | "sha256" => {
                    *v = Value::Null;
                    changed = true;
                }
                "checks" => {
                    if let Value::Array(checks) = v {
                        for c in checks.iter_mut().filter_map(Value::as_object_mut) {
                            c.insert("reasons".into(), Value::Array(vec![]));
                            c.insert("metadata".into(), Value::Object(Default::default()));
                        }
                        changed = true;
                    }
                }
                _ => {}
            }
        }
    };
    match doc.get_mut("data") {
        Some(Value::Array(items)) => items.iter_mut().for_each(&mut scrub),
        Some(d @ Value::Object(_)) => scrub(d),
        _ => {}
    }
    if let Some(Value::Array(items)) = doc.get_mut("included") {
        items.iter_mut().for_each(&mut scrub);
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scrub_removes_personal_data_of_named_resources_only() {
        let mut doc = json!({"data": {"type": "inquiry", "id": "inq_1", "attributes": {
            "fields": {"name-first": {"type": "string", "value": "Jane"}}, "note": "n", "status": "created",
            "tags": ["Jane's"], "reviewerComment": "Jane looks fine"}},
            "included": [{"type": "verification/selfie", "id": "ver_1", "attributes": {"attributes": {"x": 1},
              "nameFirst": "Jane", "status": "passed", "completedAt": "2020-01-01T00:00:00.000Z",
              "checks": [{"name": "c", "reasons": ["Jane"], "metadata": {"a": 1}}]}},
              {"type": "document/generic", "id": "doc_other", "attributes": {"filename": "keep.png"}}]});
        assert!(scrub_document(&mut doc, &["inq_1".into(), "ver_1".into()]));
        assert_eq!(
            doc["data"]["attributes"]["fields"],
            json!({"name-first": {"type": "string", "value": null}})
        );
        assert_eq!(doc["data"]["attributes"]["tags"], json!([]));
        assert_eq!(doc["data"]["attributes"]["reviewerComment"], Value::Null);
        assert_eq!(doc["included"][0]["attributes"]["status"], json!("passed"));
        assert!(doc["included"][0]["attributes"]["completedAt"].is_string());
        assert!(doc["included"][0]["attributes"].get("nameFirst").is_none());
        assert_eq!(doc["data"]["attributes"]["note"], Value::Null);
        assert_eq!(doc["data"]["attributes"]["status"], json!("created"));
        assert_eq!(doc["included"][0]["attributes"]["attributes"], json!({}));
        assert_eq!(
            doc["included"][0]["attributes"]["checks"][0]["reasons"],
            json!([])
        );
        assert_eq!(
            doc["included"][1]["attributes"]["filename"],
            json!("keep.png")
        );
        assert!(!doc.to_string().contains("Jane"));
    }

    #[test]
    fn names_are_unique() {
        let mut v = names::ALL.to_vec();
        v.sort_unstable();
        v.dedup();
        assert_eq!(v.len(), names::ALL.len());
    }
}
