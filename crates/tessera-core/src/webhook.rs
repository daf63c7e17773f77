//! Webhooks: where an organization wants its events POSTed, and the log of every delivery and
//! attempt.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::event::names;
use crate::id::{DeliveryId, EventId, WebhookId};
use crate::inflect::Inflection;
use crate::jsonapi::{NoRelationships, Ref, Relationship, Resource};
use crate::time::Timestamp;

/// Attempts per delivery, in all.
pub const MAX_ATTEMPTS: u32 = crate::retry::WEBHOOK_DELIVERY.max_attempts;
/// Most enabled-events entries (room for every Persona and Tessera name), and most webhooks per
/// environment.
pub const MAX_ENABLED_EVENTS: usize = 300;
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

/// One signing secret of a webhook (`webhook-with-secret`'s `secrets[]`).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SecretEntry {
    pub value: String,
    /// When it stops signing; `null` for the current secret.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
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

    /// The secrets that sign at `now` as `webhook-with-secret` lists them: the current one
    /// (`expires-at: null`) first, then a rotated-out one still in its overlap.
    pub fn secret_entries(&self, now: Timestamp) -> Vec<SecretEntry> {
        let mut out = vec![SecretEntry {
            value: self.secret.clone(),
            expires_at: None,
        }];
        if let Some((old, until)) = &self.previous_secret
            && *until > now
        {
            out.push(SecretEntry {
                value: old.clone(),
                expires_at: Some(*until),
            });
        }
        out
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

/// The document one webhook receives: [`delivery_body`] after the webhook's payload settings
/// (relationship allowlist, attribute blocklist) are applied to the event's payload.
pub fn webhook_delivery_body(event: &crate::event::Event, webhook: &Webhook) -> Vec<u8> {
    let mut resource = event.to_resource().to_value();
    if let Some(payload) = resource.pointer_mut("/attributes/payload") {
        webhook.settings.shape_payload(payload);
    }
    let doc = json!({ "data": resource });
    serde_json::to_vec(&crate::inflect::inflect_document(doc, webhook.inflection))
        .unwrap_or_default()
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

/// Persona's API versions a webhook may name (`api-version`). Deliveries are always in the
/// 2025-12-08 shape; the value is stored and returned.
pub const API_VERSIONS: &[&str] = &[
    "2025-12-08",
    "2025-10-27",
    "2023-01-05",
    "2022-09-01",
    "2021-08-18",
    "2021-07-05",
    "2021-02-21",
    "2020-05-18",
];
/// The `api-version` of a webhook that names none.
pub const DEFAULT_API_VERSION: &str = "2025-12-08";
/// Persona's default `file-access-token-expires-in` (6 hours), and its bounds here.
pub const DEFAULT_FILE_ACCESS_TOKEN_EXPIRES_IN: i64 = 21_600;
pub const MAX_FILE_ACCESS_TOKEN_EXPIRES_IN: i64 = 7 * 24 * 3600;
/// Longest name and description.
pub const MAX_NAME_LEN: usize = 255;
pub const MAX_DESCRIPTION_LEN: usize = 1024;
/// Most blocklist entries, and their longest.
pub const MAX_BLOCKLIST: usize = 100;
pub const MAX_BLOCKLIST_ENTRY_LEN: usize = 255;
/// Most custom headers, the longest name and value.
pub const MAX_CUSTOM_HEADERS: usize = 20;
pub const MAX_HEADER_NAME_LEN: usize = 64;
pub const MAX_HEADER_VALUE_LEN: usize = 1024;
/// Largest `payload-filter`, as JSON.
pub const MAX_PAYLOAD_FILTER_BYTES: usize = 8 * 1024;
/// `rotate-secret`'s `meta.expires-in-seconds`: how long the old secret may keep signing.
pub const MAX_ROTATION_OVERLAP_SECS: i64 = 7 * 24 * 3600;

/// Headers a webhook's `custom-http-headers` may not set: the ones Tessera writes on every
/// delivery (content, signatures, attempt counters) and the ones HTTP itself manages.
const RESERVED_HEADERS: &[&str] = &[
    "content-type",
    "content-length",
    "content-encoding",
    "transfer-encoding",
    "host",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "expect",
    "user-agent",
    "persona-signature",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
];

/// Whether `name` is a header a webhook may not set.
pub fn is_reserved_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    RESERVED_HEADERS.contains(&n.as_str())
        || n.starts_with("persona-webhook-")
        || n.starts_with("proxy-")
}

/// A webhook's Persona settings besides its URL, events and inflection.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookSettings {
    pub name: Option<String>,
    pub description: Option<String>,
    pub api_version: String,
    pub attributes_blocklist: Vec<String>,
    pub file_access_token_expires_in: i64,
    pub payload_filter: Option<Value>,
    pub included_allowlist: Option<Value>,
    pub relationship_allowlist: Value,
    /// Lower-case names.
    pub custom_http_headers: BTreeMap<String, String>,
}

impl WebhookSettings {
    /// Persona's defaults, with a name made from the URL.
    pub fn defaults(url: &str) -> Self {
        Self {
            name: Some(default_name(url)),
            description: None,
            api_version: DEFAULT_API_VERSION.to_owned(),
            attributes_blocklist: Vec::new(),
            file_access_token_expires_in: DEFAULT_FILE_ACCESS_TOKEN_EXPIRES_IN,
            payload_filter: None,
            included_allowlist: Some(json!({"state": "include_none"})),
            relationship_allowlist: json!({"state": "include_all"}),
            custom_http_headers: BTreeMap::new(),
        }
    }

    /// Whether relationships are removed from delivered payloads.
    pub fn omits_relationships(&self) -> bool {
        self.relationship_allowlist
            .get("state")
            .and_then(Value::as_str)
            == Some("include_none")
    }

    /// Applies the relationship allowlist and the attribute blocklist to an event payload
    /// (`{"data": …, "included"?: […]}`, kebab-case).
    pub fn shape_payload(&self, payload: &mut Value) {
        if self.omits_relationships() {
            if let Some(d) = payload.get_mut("data").and_then(Value::as_object_mut) {
                d.remove("relationships");
            }
            if let Some(items) = payload.get_mut("included").and_then(Value::as_array_mut) {
                for i in items.iter_mut().filter_map(Value::as_object_mut) {
                    i.remove("relationships");
                }
            }
        }
        for entry in &self.attributes_blocklist {
            if let Some(pointer) = entry.strip_prefix('/') {
                let segments: Vec<&str> = pointer.split('/').collect();
                remove_path(payload, &segments);
            } else {
                let pattern = normalize_pattern(entry);
                remove_in_attributes(payload, &pattern, false);
            }
        }
    }

    /// Whether an event payload passes the webhook's `payload-filter` (no filter: every event).
    pub fn accepts_payload(&self, payload: &Value) -> bool {
        self.payload_filter
            .as_ref()
            .is_none_or(|f| contains(payload, f))
    }
}

/// A name for a webhook created without one: `Webhook to <host>`.
pub fn default_name(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let name = format!("Webhook to {host}");
    name.chars().take(MAX_NAME_LEN).collect()
}

/// `a` contains `b`: every member of an object `b` is in `a` and contains `b`'s value; arrays
/// and scalars are equal (numbers by value).
fn contains(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => b
            .iter()
            .all(|(k, v)| a.get(k).is_some_and(|av| contains(av, v))),
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (a, b) => a == b,
    }
}

/// Blocklist names are case-convention insensitive: compared in kebab-case, lower-case.
fn normalize_pattern(p: &str) -> String {
    if p.contains('*') {
        p.to_ascii_lowercase().replace('_', "-")
    } else {
        crate::inflect::to_kebab(p)
    }
}

/// `*` matches any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || text.len() < first.len() + last.len() || !text.ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for mid in &parts[1..parts.len() - 1] {
        match rest.find(mid) {
            Some(i) => rest = &rest[i + mid.len()..],
            None => return false,
        }
    }
    true
}

fn key_matches(pattern: &str, key: &str) -> bool {
    glob(pattern, &crate::inflect::to_kebab(key)) || glob(pattern, key)
}

/// Removes every key matching `pattern` inside an `attributes` member of any object (at any
/// depth below it too), never ids, types or relationships.
fn remove_in_attributes(v: &mut Value, pattern: &str, inside: bool) {
    match v {
        Value::Object(map) => {
            if inside {
                map.retain(|k, _| !key_matches(pattern, k));
            }
            for (k, child) in map.iter_mut() {
                remove_in_attributes(child, pattern, inside || k == "attributes");
            }
        }
        Value::Array(items) => items
            .iter_mut()
            .for_each(|i| remove_in_attributes(i, pattern, inside)),
        _ => {}
    }
}

/// Removes what a pointer with `*` wildcards in its segments names (array items by index).
fn remove_path(v: &mut Value, segments: &[&str]) {
    let Some((head, tail)) = segments.split_first() else {
        return;
    };
    let head = head.replace("~1", "/").replace("~0", "~");
    match v {
        Value::Object(map) => {
            if tail.is_empty() {
                map.retain(|k, _| !key_matches(&head, k));
            } else {
                for (k, child) in map.iter_mut() {
                    if key_matches(&head, k) {
                        remove_path(child, tail);
                    }
                }
            }
        }
        Value::Array(items) => {
            if tail.is_empty() {
                let mut i = 0;
                items.retain(|_| {
                    let keep = !glob(&head, &i.to_string());
                    i += 1;
                    keep
                });
            } else {
                for (i, child) in items.iter_mut().enumerate() {
                    if glob(&head, &i.to_string()) {
                        remove_path(child, tail);
                    }
                }
            }
        }
        _ => {}
    }
}

fn attr_error(name: &str, detail: impl Into<String>) -> Error {
    Error::invalid(codes::INVALID_ATTRIBUTE, detail).at(name)
}

/// A name: 1 to [`MAX_NAME_LEN`] characters, not blank.
pub fn parse_name(name: String) -> Result<String, Error> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.chars().count() > MAX_NAME_LEN {
        return Err(attr_error(
            "name",
            format!("name is 1 to {MAX_NAME_LEN} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// A description of at most [`MAX_DESCRIPTION_LEN`] characters; empty reads as none.
pub fn parse_description(d: Option<String>) -> Result<Option<String>, Error> {
    match d {
        Some(d) if d.chars().count() > MAX_DESCRIPTION_LEN => Err(attr_error(
            "description",
            format!("description is at most {MAX_DESCRIPTION_LEN} characters"),
        )),
        Some(d) if d.trim().is_empty() => Ok(None),
        d => Ok(d),
    }
}

/// One of Persona's [`API_VERSIONS`].
pub fn parse_api_version(v: String) -> Result<String, Error> {
    if API_VERSIONS.contains(&v.as_str()) {
        Ok(v)
    } else {
        Err(attr_error(
            "api-version",
            format!("api-version is one of {}", API_VERSIONS.join(", ")),
        ))
    }
}

/// Blocklist entries: attribute names or `/`-pointers, `*` as a wildcard.
pub fn parse_blocklist(list: Vec<String>) -> Result<Vec<String>, Error> {
    if list.len() > MAX_BLOCKLIST {
        return Err(attr_error(
            "api-attributes-blocklist",
            format!("api-attributes-blocklist has at most {MAX_BLOCKLIST} entries"),
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, e) in list.into_iter().enumerate() {
        let e = e.trim().to_owned();
        if e.is_empty() || e == "/" || e.len() > MAX_BLOCKLIST_ENTRY_LEN {
            return Err(attr_error(
                &format!("api-attributes-blocklist/{i}"),
                format!(
                    "a blocklist entry is an attribute name or a pointer of 1 to {MAX_BLOCKLIST_ENTRY_LEN} characters"
                ),
            ));
        }
        if !out.contains(&e) {
            out.push(e);
        }
    }
    Ok(out)
}

/// Seconds, 1 to [`MAX_FILE_ACCESS_TOKEN_EXPIRES_IN`].
pub fn parse_file_access_token_expires_in(secs: i64) -> Result<i64, Error> {
    if (1..=MAX_FILE_ACCESS_TOKEN_EXPIRES_IN).contains(&secs) {
        Ok(secs)
    } else {
        Err(attr_error(
            "file-access-token-expires-in",
            format!(
                "file-access-token-expires-in is 1 to {MAX_FILE_ACCESS_TOKEN_EXPIRES_IN} seconds"
            ),
        ))
    }
}

/// `{"data": {…}}` (Persona's only member) or null; an empty object means no filter.
pub fn parse_payload_filter(f: Option<Map<String, Value>>) -> Result<Option<Value>, Error> {
    let Some(f) = f else { return Ok(None) };
    if let Some(k) = f.keys().find(|k| *k != "data") {
        return Err(
            Error::bad_request(codes::UNKNOWN_ATTRIBUTE, format!("unknown attribute {k}"))
                .at(format!("payload-filter/{k}")),
        );
    }
    match f.get("data") {
        None => return Ok(None),
        Some(Value::Object(d)) if d.is_empty() => return Ok(None),
        Some(Value::Object(_)) => {}
        Some(_) => {
            return Err(Error::bad_request(
                codes::INVALID_TYPE,
                "payload-filter.data is an object",
            )
            .at("payload-filter/data"));
        }
    }
    let v = Value::Object(f);
    if v.to_string().len() > MAX_PAYLOAD_FILTER_BYTES {
        return Err(attr_error(
            "payload-filter",
            format!("payload-filter is at most {MAX_PAYLOAD_FILTER_BYTES} bytes of JSON"),
        ));
    }
    Ok(Some(v))
}

fn state_of(v: &Value, name: &str, allowed: &[&str]) -> Result<String, Error> {
    let pointer = name.to_owned();
    let Some(obj) = v.as_object() else {
        return Err(
            Error::bad_request(codes::INVALID_TYPE, format!("{name} is an object")).at(pointer),
        );
    };
    let state = obj.get("state").and_then(Value::as_str).unwrap_or("");
    if !allowed.contains(&state) {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("{name}.state is one of {}", allowed.join(", ")),
        )
        .at(format!("{pointer}/state")));
    }
    let extra = |k: &String| k != "state" && !(state == "custom" && k == "event-types");
    if let Some(k) = obj.keys().find(|k| extra(k)) {
        return Err(
            Error::bad_request(codes::UNKNOWN_ATTRIBUTE, format!("unknown attribute {k}"))
                .at(format!("{pointer}/{k}")),
        );
    }
    Ok(state.to_owned())
}

/// `{"state": "include_all" | "include_none"}`, or `custom` with `event-types` (1 to 200
/// entries `{event-type, relationships: [1+ names or "*"]}`), or null. A `custom` whose every
/// entry is `["*"]` is stored as `include_all`, as Persona normalises it.
pub fn parse_included_allowlist(v: Option<Value>) -> Result<Option<Value>, Error> {
    let Some(v) = v else { return Ok(None) };
    let state = state_of(
        &v,
        "included-allowlist",
        &["include_all", "include_none", "custom"],
    )?;
    if state != "custom" {
        return Ok(Some(json!({ "state": state })));
    }
    let pointer = "included-allowlist/event-types";
    let bad = |p: String, d: &str| Error::invalid(codes::INVALID_ATTRIBUTE, d.to_owned()).at(p);
    let Some(types) = v.get("event-types").and_then(Value::as_array) else {
        return Err(bad(
            pointer.into(),
            "a custom included-allowlist lists event-types",
        ));
    };
    if types.is_empty() || types.len() > 200 {
        return Err(bad(pointer.into(), "event-types has 1 to 200 entries"));
    }
    let mut seen: Vec<&str> = Vec::new();
    let mut all_star = true;
    for (i, t) in types.iter().enumerate() {
        let here = format!("{pointer}/{i}");
        let (Some(et), Some(rels)) = (
            t.get("event-type").and_then(Value::as_str),
            t.get("relationships").and_then(Value::as_array),
        ) else {
            return Err(bad(here, "an entry is {event-type, relationships}"));
        };
        if t.as_object().is_some_and(|o| o.len() != 2) {
            return Err(bad(here, "an entry is {event-type, relationships}"));
        }
        if et.is_empty() || seen.contains(&et) {
            return Err(bad(format!("{here}/event-type"), "each event-type once"));
        }
        seen.push(et);
        let names: Vec<&str> = rels.iter().filter_map(Value::as_str).collect();
        if names.is_empty()
            || names.len() != rels.len()
            || (names.contains(&"*") && names.len() > 1)
        {
            return Err(bad(
                format!("{here}/relationships"),
                "relationships lists names, or is [\"*\"]",
            ));
        }
        all_star &= names == ["*"];
    }
    if all_star {
        return Ok(Some(json!({"state": "include_all"})));
    }
    Ok(Some(v))
}

/// `{"state": "include_all" | "include_none"}`.
pub fn parse_relationship_allowlist(v: Value) -> Result<Value, Error> {
    let state = state_of(
        &v,
        "relationship-allowlist",
        &["include_all", "include_none"],
    )?;
    Ok(json!({ "state": state }))
}

/// Header names are HTTP tokens (stored lower-case), values visible ASCII with inner spaces; the
/// headers Tessera sets itself are refused.
pub fn parse_custom_http_headers(
    h: BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    let pointer = "custom-http-headers";
    if h.len() > MAX_CUSTOM_HEADERS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("custom-http-headers has at most {MAX_CUSTOM_HEADERS} headers"),
        )
        .at(pointer));
    }
    let token = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
    let mut out = BTreeMap::new();
    for (name, value) in h {
        let here = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
        if name.is_empty() || name.len() > MAX_HEADER_NAME_LEN || !name.chars().all(token) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!(
                    "{name:?} is not a header name (1 to {MAX_HEADER_NAME_LEN} token characters)"
                ),
            )
            .at(here));
        }
        if is_reserved_header(&name) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!("{name} is set by Tessera on every delivery and cannot be replaced"),
            )
            .at(here));
        }
        let v = value.trim();
        if v.len() > MAX_HEADER_VALUE_LEN
            || !v
                .chars()
                .all(|c| c == ' ' || c == '\t' || c.is_ascii_graphic())
        {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!(
                    "the value of {name} is at most {MAX_HEADER_VALUE_LEN} visible ASCII characters"
                ),
            )
            .at(here));
        }
        let lower = name.to_ascii_lowercase();
        if out.insert(lower, v.to_owned()).is_some() {
            return Err(
                Error::invalid(codes::INVALID_ATTRIBUTE, format!("{name} is given twice")).at(here),
            );
        }
    }
    Ok(out)
}

/// `rotate-secret`'s `meta.expires-in-seconds`: 0 (the old secret stops at once) to
/// [`MAX_ROTATION_OVERLAP_SECS`].
pub fn parse_rotation_overlap(secs: i64) -> Result<i64, Error> {
    if (0..=MAX_ROTATION_OVERLAP_SECS).contains(&secs) {
        Ok(secs)
    } else {
        Err(Error::invalid(
            codes::EXPIRES_IN_OUT_OF_RANGE,
            format!("expires-in-seconds is 0 to {MAX_ROTATION_OVERLAP_SECS}"),
        )
        .at("/meta/expires-in-seconds"))
    }
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
    fn a_rotated_secret_signs_until_its_overlap_ends() {
        let w = Webhook {
            id: WebhookId::generate(),
            url: "https://x".into(),
            status: WebhookStatus::Enabled,
            enabled_events: vec!["*".into()],
            inflection: Inflection::Kebab,
            settings: WebhookSettings::defaults("https://x"),
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

    #[test]
    fn a_default_name_comes_from_the_host() {
        assert_eq!(
            default_name("https://user:pw@hooks.example.com:8443/p?q"),
            "Webhook to hooks.example.com:8443"
        );
        assert_eq!(default_name("nonsense"), "Webhook to nonsense");
    }

    #[test]
    fn globs() {
        for (p, t, m) in [
            ("name-*", "name-first", true),
            ("name-*", "name", false),
            ("*-number", "identification-number", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxc", false),
            ("*", "", true),
            ("x", "x", true),
        ] {
            assert_eq!(glob(p, t), m, "{p} {t}");
        }
    }

    #[test]
    fn the_blocklist_and_relationship_allowlist_shape_payloads() {
        let mut s = WebhookSettings::defaults("https://x");
        s.attributes_blocklist = vec![
            "name-*".into(),
            "birthdate".into(),
            "/data/attributes/fields/*-number".into(),
            "/data/attributes/note".into(),
        ];
        s.relationship_allowlist = json!({"state": "include_none"});
        let mut p = json!({"data": {"type": "inquiry", "id": "inq_1",
            "attributes": {"status": "approved", "note": "n", "name-first": "top",
                "fields": {"name-first": {"type": "string", "value": "J"},
                    "identification-number": {"type": "string", "value": "1"},
                    "phone-number": {"type": "string", "value": "2"},
                    "birthdate": {"type": "date", "value": "1990-01-01"},
                    "address-city": {"type": "string", "value": "B"}}},
            "relationships": {"inquiry-template": {"data": null}}}});
        s.shape_payload(&mut p);
        assert_eq!(
            p,
            json!({"data": {"type": "inquiry", "id": "inq_1",
                "attributes": {"status": "approved",
                    "fields": {"address-city": {"type": "string", "value": "B"}}}}})
        );
    }

    #[test]
    fn payload_filters_are_subset_matches() {
        let mut s = WebhookSettings::defaults("https://x");
        let payload = json!({"data": {"type": "inquiry", "attributes": {"status": "approved", "n": 1},
            "relationships": {"inquiry-template": {"data": {"type": "inquiry-template", "id": "itmpl_1"}}}}});
        assert!(s.accepts_payload(&payload));
        s.payload_filter = Some(
            json!({"data": {"relationships": {"inquiry-template": {"data": {"id": "itmpl_1"}}}}}),
        );
        assert!(s.accepts_payload(&payload));
        s.payload_filter = Some(json!({"data": {"attributes": {"n": 1.0}}}));
        assert!(s.accepts_payload(&payload));
        s.payload_filter = Some(json!({"data": {"attributes": {"status": "declined"}}}));
        assert!(!s.accepts_payload(&payload));
    }

    #[test]
    fn custom_headers_are_validated() {
        let h = |pairs: &[(&str, &str)]| {
            parse_custom_http_headers(
                pairs
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            )
        };
        let ok = h(&[("X-API-Key", "abc"), ("Authorization", "Bearer t")]).unwrap();
        assert_eq!(ok.get("x-api-key").map(String::as_str), Some("abc"));
        for bad in [
            &[("Persona-Signature", "x")][..],
            &[("content-type", "x")],
            &[("Persona-Webhook-Attempts-Made", "1")],
            &[("bad name", "x")],
            &[("x-ok", "line\nbreak")],
            &[("", "x")],
        ] {
            assert!(h(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn allowlists_are_validated() {
        assert_eq!(
            parse_included_allowlist(Some(json!({"state": "custom",
                "event-types": [{"event-type": "inquiry", "relationships": ["*"]}]})))
            .unwrap(),
            Some(json!({"state": "include_all"}))
        );
        assert!(parse_included_allowlist(Some(json!({"state": "custom"}))).is_err());
        assert!(parse_included_allowlist(Some(json!({"state": "nope"}))).is_err());
        assert!(parse_relationship_allowlist(json!({"state": "include_none"})).is_ok());
        assert!(parse_relationship_allowlist(json!({"state": "custom"})).is_err());
        assert!(parse_rotation_overlap(-1).is_err());
        assert!(parse_rotation_overlap(MAX_ROTATION_OVERLAP_SECS + 1).is_err());
    }
}
