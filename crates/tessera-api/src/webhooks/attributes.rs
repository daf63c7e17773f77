//! What the webhook endpoints read: the attributes of a create and of an update, the meta of
//! `rotate-secret`, and Persona's settings of a create checked over the defaults.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::inflect::Inflection;
use tessera_core::webhook::{self as hook, WebhookSettings};
use tessera_core::{Error, codes};
use utoipa::ToSchema;

use crate::double;

/// Attributes of a new webhook (Persona's `webhook-request-attributes`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewWebhookAttributes {
    /// A name for remembering the webhook. Persona requires it; Tessera defaults it to
    /// `Webhook to <host of the URL>`.
    pub name: Option<String>,
    pub description: Option<String>,
    /// `https://…` (plain http only to networks the operator allows).
    #[schema(required = true, value_type = String)]
    pub url: Option<String>,
    /// Event names (Tessera's and Persona's), or `["*"]` for all.
    #[schema(required = true, value_type = Vec<String>)]
    pub enabled_events: Option<Vec<String>>,
    /// `kebab` (default), `camel` or `snake`.
    pub api_key_inflection: Option<String>,
    /// One of Persona's API versions (default `2025-12-08`); stored, deliveries are in the
    /// 2025-12-08 shape.
    pub api_version: Option<String>,
    /// Attribute names (`name-*`) or pointers (`/data/attributes/fields/*-number`) removed from
    /// delivered payloads.
    pub api_attributes_blocklist: Option<Vec<String>>,
    /// Stored (Tessera's payloads carry no file access tokens). Default 21600.
    pub file_access_token_expires_in: Option<i64>,
    /// `{"data": {…}}`: only events whose payload contains it are delivered.
    #[schema(value_type = Option<Object>)]
    pub payload_filter: Option<Map<String, Value>>,
    /// Stored (Tessera's payloads carry no `included`). Default `{"state": "include_none"}`.
    #[schema(value_type = Option<Object>)]
    pub included_allowlist: Option<Value>,
    /// `{"state": "include_all"}` (default) or `{"state": "include_none"}`.
    #[schema(value_type = Option<Object>)]
    pub relationship_allowlist: Option<Value>,
    /// Headers sent with every delivery (never replacing the content and signature headers).
    pub custom_http_headers: Option<BTreeMap<String, String>>,
}

/// A change to a webhook (any of the create attributes; `null` clears `description`,
/// `payload-filter` and `included-allowlist`).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WebhookChanges {
    pub name: Option<String>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub description: Option<Option<String>>,
    pub url: Option<String>,
    pub enabled_events: Option<Vec<String>>,
    pub api_key_inflection: Option<String>,
    pub api_version: Option<String>,
    pub api_attributes_blocklist: Option<Vec<String>>,
    pub file_access_token_expires_in: Option<i64>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<Object>)]
    pub payload_filter: Option<Option<Map<String, Value>>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<Object>)]
    pub included_allowlist: Option<Option<Value>>,
    #[schema(value_type = Option<Object>)]
    pub relationship_allowlist: Option<Value>,
    pub custom_http_headers: Option<BTreeMap<String, String>>,
}

/// The body of `rotate-secret`: `{"meta": {"expires-in-seconds": N}}` (optional).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct RotateMeta {
    /// How long the previous secret keeps signing, 0 to 604800 seconds (default: the server's
    /// overlap, 24 hours).
    pub expires_in_seconds: Option<i64>,
}

/// Checks Persona's settings of a create, over the defaults.
pub(super) fn new_settings(
    a: &mut NewWebhookAttributes,
    url: &str,
) -> Result<WebhookSettings, Error> {
    let mut s = WebhookSettings::defaults(url);
    if let Some(n) = a.name.take() {
        s.name = Some(hook::parse_name(n)?);
    }
    s.description = hook::parse_description(a.description.take())?;
    if let Some(v) = a.api_version.take() {
        s.api_version = hook::parse_api_version(v)?;
    }
    if let Some(v) = a.api_attributes_blocklist.take() {
        s.attributes_blocklist = hook::parse_blocklist(v)?;
    }
    if let Some(v) = a.file_access_token_expires_in {
        s.file_access_token_expires_in = hook::parse_file_access_token_expires_in(v)?;
    }
    s.payload_filter = hook::parse_payload_filter(a.payload_filter.take())?;
    if let Some(v) = a.included_allowlist.take() {
        s.included_allowlist = hook::parse_included_allowlist(Some(v))?;
    }
    if let Some(v) = a.relationship_allowlist.take() {
        s.relationship_allowlist = hook::parse_relationship_allowlist(v)?;
    }
    if let Some(v) = a.custom_http_headers.take() {
        s.custom_http_headers = hook::parse_custom_http_headers(v)?;
    }
    Ok(s)
}

pub(super) fn inflection(raw: Option<String>) -> Result<Option<Inflection>, Error> {
    raw.map(|s| {
        Inflection::parse(&s).ok_or_else(|| {
            Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "api-key-inflection is kebab, camel or snake",
            )
            .at("/data/attributes/api-key-inflection")
        })
    })
    .transpose()
}
