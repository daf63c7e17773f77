//! Webhooks: create, list, retrieve, update, enable/disable/archive, rotate the secret, clone,
//! and the delivery log with manual retry. Create, rotate-secret and clone answer Persona's
//! `webhook-with-secret` (`attributes.secret`, `attributes.secrets`, and `meta.secret` as before);
//! retrieve shows the secrets to keys that hold `webhook.write`. Secrets are never part of a
//! stored idempotent response.
//!
//! This file holds the webhook's own endpoints and how they show its secrets; `attributes` what
//! a create or an update reads (and Persona's settings checked from it); `deliveries` the
//! delivery log and retry.

mod attributes;
mod deliveries;

pub use attributes::{NewWebhookAttributes, RotateMeta, WebhookChanges};
use attributes::{inflection, new_settings};
// A glob, so that utoipa's `__path_*` items go with the handlers (`routes!` in lib.rs).
pub use deliveries::*;

use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::{Value, json};
use tessera_core::id::WebhookId;
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::permission::Permission;
use tessera_core::secret::generate_webhook_secret;
use tessera_core::webhook::{
    self as hook, SecretEntry, Webhook, WebhookAttributes, WebhookStatus, parse_enabled_events,
};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::units::webhooks::{self, NewWebhook, WebhookPatch};
use utoipa::ToSchema;

use crate::{
    Body, CommonHeaders, EmptyBody, IdempotencyHeader, PageParams, plain_list, required, single,
};
use tessera_edge::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};
use tessera_edge::inputs::check_url;
use tessera_edge::render::Doc;

/// Persona's `webhook-with-secret` attributes: a webhook's attributes and its signing secrets.
#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct WebhookWithSecretAttributes {
    #[serde(flatten)]
    pub webhook: WebhookAttributes,
    /// The current secret (Persona: deprecated in favour of `secrets`). Absent on retrieve for
    /// keys without `webhook.write`, and in idempotent replays.
    #[schema(required = false)]
    pub secret: String,
    /// The secrets that sign now: the current one (`expires-at: null`) and a rotated-out one
    /// until its `expires-at`. Absent where `secret` is.
    #[schema(required = false)]
    pub secrets: Vec<SecretEntry>,
}

/// The webhook resource with its secrets in `attributes` (for reads, which store nothing).
fn with_secrets(w: &Webhook, now: Timestamp) -> Value {
    let mut r = w.to_resource().to_value();
    if let Some(a) = r.get_mut("attributes").and_then(Value::as_object_mut) {
        a.insert("secret".into(), json!(w.secret));
        a.insert("secrets".into(), json!(w.secret_entries(now)));
    }
    r
}

/// The document of a write that shows the secrets, in `attributes` (Persona's
/// `webhook-with-secret`) and in `meta.secret` (as before): shown in this response only, never
/// stored for a replay.
fn secret_doc(w: &Webhook, now: Timestamp) -> Doc {
    Doc::one(w.to_resource().to_value())
        .with_secret_attribute("secret", w.secret.clone())
        .with_secret_attribute("secrets", json!(w.secret_entries(now)))
        .with_secret("secret", w.secret.clone())
}

/// Creates a webhook (`enabled`, unlike Persona's `disabled`), answering `webhook-with-secret`.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewWebhookAttributes>,
    security(("api_key" = ["webhook.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<WebhookWithSecretAttributes, crate::schema::NoRelationships>>), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewWebhookAttributes>>) -> Reply {
    single(&ctx, &[])?;
    let mut a = body.data.attributes;
    let enabled_events =
        parse_enabled_events(&required(a.enabled_events.take(), "enabled-events")?)?;
    let url = check_url(&ctx.state.outbound, required(a.url.take(), "url")?).await?;
    let new = NewWebhook {
        settings: new_settings(&mut a, &url)?,
        url,
        enabled_events,
        inflection: inflection(a.api_key_inflection)?.unwrap_or_default(),
        secret: generate_webhook_secret(),
    };
    let scope = ctx.scope().clone();
    let clock = ctx.state.store.clock().clone();
    ctx.commit(
        StatusCode::CREATED,
        webhooks::create(scope, new),
        move |w| secret_doc(&w, clock.now()),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    params(PageParams, CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::WebhookAttributes, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let writer = ctx.key.permissions.contains(Permission::WebhookWrite);
    plain_list(&ctx, "/api/v1/webhooks", webhooks::list, |w| {
        for_reader(w.to_resource().to_value(), writer)
    })
    .await
}

/// What a key without `webhook.write` sees of a webhook: the values of its custom headers
/// (credentials such as `Authorization`, often) are masked; their names stay.
fn for_reader(mut resource: Value, writer: bool) -> Value {
    if !writer
        && let Some(Value::Object(h)) = resource.pointer_mut("/attributes/custom-http-headers")
    {
        h.values_mut().for_each(|v| *v = json!(MASKED_HEADER_VALUE));
    }
    resource
}

/// The value shown for a custom header to keys that may not write webhooks.
pub const MASKED_HEADER_VALUE: &str = "********";

/// Retrieves a webhook. As Persona's, it includes the secrets (`secret`, `secrets`) — for keys
/// that hold `webhook.write` (which could rotate them anyway); a read-only key gets the webhook
/// without them, and with its custom header values masked.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<WebhookWithSecretAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let scope = ctx.scope().clone();
    let w = ctx.read(webhooks::get(scope, id)).await?;
    let data = if ctx.key.permissions.contains(Permission::WebhookWrite) {
        with_secrets(&w, ctx.state.store.clock().now())
    } else {
        for_reader(w.to_resource().to_value(), false)
    };
    ctx.respond(StatusCode::OK, Doc::one(data), Some(&q))
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders),
    request_body = Body<WebhookChanges>,
    security(("api_key" = ["webhook.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::WebhookAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Body<WebhookChanges>>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let a = body.data.attributes;
    let url = match a.url {
        Some(u) => Some(check_url(&ctx.state.outbound, u).await?),
        None => None,
    };
    let patch = WebhookPatch {
        url,
        enabled_events: a
            .enabled_events
            .map(|e| parse_enabled_events(&e))
            .transpose()?,
        inflection: inflection(a.api_key_inflection)?,
        name: a.name.map(hook::parse_name).transpose()?,
        description: a.description.map(hook::parse_description).transpose()?,
        api_version: a.api_version.map(hook::parse_api_version).transpose()?,
        attributes_blocklist: a
            .api_attributes_blocklist
            .map(hook::parse_blocklist)
            .transpose()?,
        file_access_token_expires_in: a
            .file_access_token_expires_in
            .map(hook::parse_file_access_token_expires_in)
            .transpose()?,
        payload_filter: a
            .payload_filter
            .map(hook::parse_payload_filter)
            .transpose()?,
        included_allowlist: a
            .included_allowlist
            .map(hook::parse_included_allowlist)
            .transpose()?,
        relationship_allowlist: a
            .relationship_allowlist
            .map(hook::parse_relationship_allowlist)
            .transpose()?,
        custom_http_headers: a
            .custom_http_headers
            .map(hook::parse_custom_http_headers)
            .transpose()?,
    };
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::OK, webhooks::update(scope, id, patch), |w| {
        Doc::one(w.to_resource().to_value())
    })
    .await
}

async fn set_status(ctx: Ctx, id: String, to: WebhookStatus) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::OK, webhooks::set_status(scope, id, to), |w| {
        Doc::one(w.to_resource().to_value())
    })
    .await
}

macro_rules! status_endpoint {
    ($name:ident, $path:literal, $to:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "webhooks",
            params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
            request_body(content = EmptyBody, description = "optional"),
            security(("api_key" = ["webhook.write"])),
            responses((status = 200, body = Document<crate::schema::Resource<crate::schema::WebhookAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
        pub async fn $name(ctx: Ctx, Path(id): Path<String>, OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>) -> Reply {
            set_status(ctx, id, $to).await
        }
    };
}

status_endpoint!(
    enable,
    "/api/v1/webhooks/{id}/enable",
    WebhookStatus::Enabled,
    "Enables delivery."
);
status_endpoint!(
    disable,
    "/api/v1/webhooks/{id}/disable",
    WebhookStatus::Disabled,
    "Disables delivery; pending deliveries end `canceled`."
);
status_endpoint!(
    archive,
    "/api/v1/webhooks/{id}/archive",
    WebhookStatus::Archived,
    "Archives for good; pending deliveries end `canceled`."
);

/// A new secret (`attributes.secret`, `attributes.secrets`, `meta.secret`); the previous one
/// keeps signing alongside for `meta.expires-in-seconds` (0–604800; default 24 hours) and is
/// listed in `secrets` with that `expires-at`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body(content = EmptyBody, description = "optional: `{\"meta\": {\"expires-in-seconds\": 7200}}`"),
    security(("api_key" = ["webhook.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<WebhookWithSecretAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn rotate_secret(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let meta: RotateMeta = match body.meta {
        Some(m @ Value::Object(_)) => serde_json::from_value(m).map_err(|e| {
            Error::bad_request(
                codes::INVALID_TYPE,
                format!("meta.expires-in-seconds is an integer: {e}"),
            )
            .at("/meta/expires-in-seconds")
        })?,
        _ => RotateMeta::default(),
    };
    let overlap = match meta.expires_in_seconds {
        Some(s) => hook::parse_rotation_overlap(s)?,
        None => ctx.state.config.webhook_secret_overlap_secs,
    };
    let scope = ctx.scope().clone();
    let secret = generate_webhook_secret();
    let clock = ctx.state.store.clock().clone();
    ctx.commit(
        StatusCode::OK,
        webhooks::rotate_secret(scope, id, secret, overlap),
        move |w| secret_doc(&w, clock.now()),
    )
    .await
}

/// A copy of the webhook with every setting (an archived one's copy is `disabled`) and a new
/// secret; 200 as Persona documents it, answering `webhook-with-secret`.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/clone", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body(content = EmptyBody, description = "optional"),
    security(("api_key" = ["webhook.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<WebhookWithSecretAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn clone(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let scope = ctx.scope().clone();
    let secret = generate_webhook_secret();
    let clock = ctx.state.store.clock().clone();
    ctx.commit(
        StatusCode::OK,
        webhooks::clone(scope, id, secret),
        move |w| secret_doc(&w, clock.now()),
    )
    .await
}
