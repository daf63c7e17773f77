//! Deliveries: one event to one webhook, every attempt, and the `webhook-delivery` resource.

use serde::Serialize;
use utoipa::ToSchema;

use crate::id::{DeliveryId, EventId, WebhookId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::time::Timestamp;

/// Attempts per delivery, in all.
pub const MAX_ATTEMPTS: u32 = crate::retry::WEBHOOK_DELIVERY.max_attempts;

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
