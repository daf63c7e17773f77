//! Webhooks: where an organization wants its events POSTed, and the log of every delivery and
//! attempt.
//!
//! One idea a file: `hook` (the webhook, its status and resource), `secrets` (signing secrets
//! and their rotation), `settings` (Persona's other settings and their defaults), `events`
//! (`enabled-events`), `attributes` (the scalar settings attributes and `payload-filter`),
//! `allowlists` (`included-allowlist`, `relationship-allowlist`), `headers`
//! (`custom-http-headers`), `payload` (filtering and shaping an event payload by the settings),
//! `delivery` (deliveries, attempts and their resource) and `body` (the document POSTed).

mod allowlists;
mod attributes;
mod body;
mod delivery;
mod events;
mod headers;
mod hook;
mod payload;
mod secrets;
mod settings;

pub use allowlists::{parse_included_allowlist, parse_relationship_allowlist};
pub use attributes::{
    API_VERSIONS, DEFAULT_API_VERSION, DEFAULT_FILE_ACCESS_TOKEN_EXPIRES_IN, MAX_BLOCKLIST,
    MAX_BLOCKLIST_ENTRY_LEN, MAX_DESCRIPTION_LEN, MAX_FILE_ACCESS_TOKEN_EXPIRES_IN, MAX_NAME_LEN,
    MAX_PAYLOAD_FILTER_BYTES, parse_api_version, parse_blocklist, parse_description,
    parse_file_access_token_expires_in, parse_name, parse_payload_filter,
};
pub use body::{delivery_body, webhook_delivery_body};
pub use delivery::{
    Attempt, Delivery, DeliveryAttributes, DeliveryRelationships, DeliveryResource, DeliveryStatus,
    MAX_ATTEMPTS,
};
pub use events::{MAX_ENABLED_EVENTS, parse_enabled_events, subscribes};
pub use headers::{
    MAX_CUSTOM_HEADERS, MAX_HEADER_NAME_LEN, MAX_HEADER_VALUE_LEN, is_reserved_header,
    parse_custom_http_headers,
};
pub use hook::{
    MAX_URL_LEN, MAX_WEBHOOKS_PER_ENVIRONMENT, Webhook, WebhookAttributes, WebhookResource,
    WebhookStatus,
};
pub use secrets::{MAX_ROTATION_OVERLAP_SECS, SecretEntry, parse_rotation_overlap};
pub use settings::{WebhookSettings, default_name};
