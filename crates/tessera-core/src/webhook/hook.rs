//! The webhook itself: its status, the record the store keeps and its `webhook` resource.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::WebhookSettings;
use crate::id::WebhookId;
use crate::inflect::Inflection;
use crate::jsonapi::{NoRelationships, Resource};
use crate::time::Timestamp;

/// Most webhooks per environment.
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

/// A webhook (its secrets never leave the store but to sign).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: WebhookId,
    pub url: String,
    pub status: WebhookStatus,
    pub enabled_events: Vec<String>,
    pub inflection: Inflection,
    /// Persona's other settings (name, description, blocklist, custom headers…).
    pub settings: WebhookSettings,
    pub secret: String,
    /// The rotated-out secret and until when it keeps signing.
    pub previous_secret: Option<(String, Timestamp)>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Attributes of a `webhook` resource (Persona's `webhook`; `webhook-with-secret` adds `secret`
/// and `secrets` where the caller may see them).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct WebhookAttributes {
    pub url: String,
    pub status: WebhookStatus,
    /// A name for remembering the webhook (null only for webhooks made before names existed).
    pub name: Option<String>,
    pub description: Option<String>,
    pub enabled_events: Vec<String>,
    /// `kebab`, `camel` or `snake`: the keys of delivered documents.
    pub api_key_inflection: &'static str,
    /// Stored and returned; deliveries are always in the 2025-12-08 shape.
    pub api_version: String,
    /// Attribute names (`name-*`) or pointers (`/data/attributes/fields/*-number`) removed from
    /// delivered payloads.
    pub api_attributes_blocklist: Vec<String>,
    /// Stored and returned (Tessera's payloads carry no file access tokens).
    pub file_access_token_expires_in: i64,
    /// Delivers an event only when its payload contains this document (a subset match).
    #[schema(value_type = Option<Object>)]
    pub payload_filter: Option<Value>,
    /// Stored and returned; Tessera's payloads carry no `included` objects.
    #[schema(value_type = Option<Object>)]
    pub included_allowlist: Option<Value>,
    /// `{"state": "include_all"}` (default) or `{"state": "include_none"}` (relationships are
    /// removed from delivered payloads).
    #[schema(value_type = Object)]
    pub relationship_allowlist: Value,
    /// Sent with every delivery (a Tessera extension in responses: Persona does not return them).
    pub custom_http_headers: BTreeMap<String, String>,
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
                name: self.settings.name.clone(),
                description: self.settings.description.clone(),
                enabled_events: self.enabled_events.clone(),
                api_key_inflection: self.inflection.as_str(),
                api_version: self.settings.api_version.clone(),
                api_attributes_blocklist: self.settings.attributes_blocklist.clone(),
                file_access_token_expires_in: self.settings.file_access_token_expires_in,
                payload_filter: self.settings.payload_filter.clone(),
                included_allowlist: self.settings.included_allowlist.clone(),
                relationship_allowlist: self.settings.relationship_allowlist.clone(),
                custom_http_headers: self.settings.custom_http_headers.clone(),
                created_at: self.created_at,
                updated_at: self.updated_at,
            },
            NoRelationships {},
        )
    }
}
