//! Webhooks: where an organization wants its events POSTed, and the log of every delivery and
//! attempt.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::event::names;
use crate::id::{DeliveryId, EventId, WebhookId};
use crate::inflect::Inflection;
use crate::jsonapi::{NoRelationships, Ref, Relationship, Resource};
use crate::time::Timestamp;

/// Attempts per delivery, in all.
pub const MAX_ATTEMPTS: u32 = 8;
/// Most enabled-events entries, and most webhooks per environment.
pub const MAX_ENABLED_EVENTS: usize = 64;
pub const MAX_WEBHOOKS_PER_ENVIRONMENT: i64 = 50;
/// Longest URL.
pub const MAX_URL_LEN: usize = 2048;

/// The status of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    Enabled,
    Disabled,
    Archived,
}

impl WebhookStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Enabled => "enabled",
            WebhookStatus::Disabled => "disabled",
            WebhookStatus::Archived => "archived",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "enabled" => Some(Self::Enabled),
            "disabled" => Some(Self::Disabled),
            "archived" => Some(Self::Archived),
            _ => None,
        }
    }
}

/// Checks `enabled-events`: known event names or `*`, deduplicated.
pub fn parse_enabled_events(list: &[String]) -> Result<Vec<String>, Error> {
    let pointer = "/data/attributes/enabled-events";
    if list.is_empty() || list.len() > MAX_ENABLED_EVENTS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("enabled-events lists 1 to {MAX_ENABLED_EVENTS} event names, or \"*\""),
        )
        .at(pointer));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, name) in list.iter().enumerate() {
        if name != "*" && !names::is_known(name) {
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

/// A webhook (its secrets never leave the store but to sign).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub status: WebhookStatus,
    pub enabled_events: Vec<String>,
    pub inflection: Inflection,
    pub secret: String,
    /// The rotated-out secret and until when it keeps signing.
    pub previous_secret: Option<(String, Timestamp)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Webhook {
    /// The secrets that sign at `now`, newest first.
    pub fn signing_secrets(&self, now: Timestamp) -> Vec<&str> {
        let mut s = vec![self.secret.as_str()];
        if let Some((old, until)) = &self.previous_secret
            && *until > now
        {
            s.push(old.as_str());
        }
        s
    }
}

/// Attributes of a `webhook` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct WebhookAttributes {
    pub url: String,
    pub status: WebhookStatus,
    pub enabled_events: Vec<String>,
    /// `kebab`, `camel` or `snake`: the keys of delivered documents.
    pub api_key_inflection: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

/// A `webhook` resource.
pub type WebhookResource = Resource<WebhookAttributes, NoRelationships>;

impl Webhook {
    pub fn to_resource(&self) -> WebhookResource {
        Resource::new(
            "webhook",
            self.id.as_str(),
            WebhookAttributes {
                url: self.url.clone(),
                status: self.status,
                enabled_events: self.enabled_events.clone(),
                api_key_inflection: self.inflection.as_str(),
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            NoRelationships {},
        )
    }
}

/// The status of a delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Succeeded,
    Failed,
    Canceled,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Succeeded => "succeeded",
            DeliveryStatus::Failed => "failed",
            DeliveryStatus::Canceled => "canceled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(Self::Pending),
            "succeeded" => Some(Self::Succeeded),
            "failed" => Some(Self::Failed),
            "canceled" => Some(Self::Canceled),
            _ => None,
        }
    }
}

/// One attempt of a delivery.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Attempt {
    pub attempt: u32,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    pub duration_ms: i64,
    pub response_status: Option<u16>,
    pub error: Option<String>,
    /// The first 1 KiB of the response body.
    pub response_body: Option<String>,
}

/// A delivery of one event to one webhook.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub id: DeliveryId,
    pub webhook_id: WebhookId,
    pub event_id: EventId,
    pub event_name: String,
    pub status: DeliveryStatus,
    pub attempts_made: u32,
    /// Attempts allowed in all (grows by one with each manual retry).
    pub max_attempts: u32,
    pub next_attempt_at: Option<Timestamp>,
    pub first_attempted_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Filled when one delivery is retrieved.
    pub attempts: Vec<Attempt>,
}

/// Attributes of a `webhook-delivery` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DeliveryAttributes {
    pub status: DeliveryStatus,
    pub event_name: String,
    pub attempts_made: u32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub first_attempted_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// Every attempt (on a single delivery).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempts: Option<Vec<Attempt>>,
}

/// Relationships of a `webhook-delivery` resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryRelationships {
    pub webhook: Relationship,
    pub event: Relationship,
}

/// A `webhook-delivery` resource.
pub type DeliveryResource = Resource<DeliveryAttributes, DeliveryRelationships>;

impl Delivery {
    pub fn to_resource(&self, with_attempts: bool) -> DeliveryResource {
        Resource::new(
            "webhook-delivery",
            self.id.as_str(),
            DeliveryAttributes {
                status: self.status,
                event_name: self.event_name.clone(),
                attempts_made: self.attempts_made,
                next_attempt_at: self.next_attempt_at,
                first_attempted_at: self.first_attempted_at,
                created_at: self.created_at,
                updated_at: self.updated_at,
                attempts: with_attempts.then(|| self.attempts.clone()),
            },
            DeliveryRelationships {
                webhook: Relationship::one(Ref::new("webhook", self.webhook_id.as_str())),
                event: Relationship::one(Ref::new("event", self.event_id.as_str())),
            },
        )
    }
}

/// The document a webhook receives: `{"data": <event resource>}` in its inflection.
pub fn delivery_body(event: &crate::event::Event, inflection: Inflection) -> Vec<u8> {
    let doc = serde_json::json!({ "data": event.to_resource().to_value() });
    serde_json::to_vec(&crate::inflect::inflect_document(doc, inflection)).unwrap_or_default()
}

/// Reads a `Value` as a list of strings (for stored JSON).
pub fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
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
            Some(crate::error::Source::Pointer(
                "/data/attributes/enabled-events/1".into()
            ))
        );
        assert!(parse_enabled_events(&[]).is_err());
        assert!(subscribes(&["*".into()], "x"));
        assert!(!subscribes(&["inquiry.created".into()], "inquiry.approved"));
    }

    #[test]
    fn a_rotated_secret_signs_until_its_overlap_ends() {
        let w = Webhook {
            id: WebhookId::generate(),
            url: "https://x".into(),
            status: WebhookStatus::Enabled,
            enabled_events: vec!["*".into()],
            inflection: Inflection::Kebab,
            secret: "new".into(),
            previous_secret: Some(("old".into(), Timestamp::from_millis(1000))),
            created_at: Timestamp::from_millis(0),
            updated_at: Timestamp::from_millis(0),
        };
        assert_eq!(
            w.signing_secrets(Timestamp::from_millis(999)),
            vec!["new", "old"]
        );
        assert_eq!(w.signing_secrets(Timestamp::from_millis(1000)), vec!["new"]);
    }
}
