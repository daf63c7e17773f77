//! Webhooks: create (secret shown once), list, retrieve, update, enable/disable/archive, rotate
//! the secret, and the delivery log with manual retry.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::json;
use tessera_core::id::{DeliveryId, WebhookId};
use tessera_core::inflect::Inflection;
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::secret::generate_webhook_secret;
use tessera_core::webhook::{MAX_URL_LEN, WebhookStatus, parse_enabled_events};
use tessera_core::{Error, codes};
use tessera_store::ops::webhooks::{self, NewWebhook, WebhookPatch};
use utoipa::ToSchema;

use crate::api::connections::EmptyBody;
use crate::api::{Body, CommonHeaders, IdempotencyHeader, PageParams, page_doc, required, single};
use crate::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};
use crate::query::Accepts;
use crate::render::Doc;

/// Attributes of a new webhook.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewWebhookAttributes {
    /// `https://…` (plain http only to networks the operator allows).
    #[schema(required = true, value_type = String)]
    pub url: Option<String>,
    /// Event names, or `["*"]` for all.
    #[schema(required = true, value_type = Vec<String>)]
    pub enabled_events: Option<Vec<String>>,
    /// `kebab` (default), `camel` or `snake`.
    pub api_key_inflection: Option<String>,
}

/// A change to a webhook.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WebhookChanges {
    pub url: Option<String>,
    pub enabled_events: Option<Vec<String>>,
    pub api_key_inflection: Option<String>,
}

/// Checks a webhook URL: its length, and that the outbound client may reach it (the dashboard
/// checks with this too).
pub async fn check_url(
    outbound: &crate::outbound::OutboundClient,
    url: String,
) -> Result<String, Error> {
    let pointer = "/data/attributes/url";
    if url.len() > MAX_URL_LEN {
        return Err(Error::invalid(
            codes::INVALID_URL,
            format!("a URL is at most {MAX_URL_LEN} characters"),
        )
        .at(pointer));
    }
    outbound
        .check_url(&url)
        .await
        .map_err(|e| Error::invalid(codes::INVALID_URL, e.to_string()).at(pointer))?;
    Ok(url)
}

fn inflection(raw: Option<String>) -> Result<Option<Inflection>, Error> {
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

#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewWebhookAttributes>,
    security(("api_key" = ["webhook.write"])),
    responses((status = 201, body = Document<crate::api::schema::Resource<crate::api::schema::WebhookAttributes, crate::api::schema::NoRelationships>>), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewWebhookAttributes>>) -> Reply {
    let a = body.data.attributes;
    let enabled_events = parse_enabled_events(&required(a.enabled_events, "enabled-events")?)?;
    let new = NewWebhook {
        url: check_url(&ctx.state.outbound, required(a.url, "url")?).await?,
        enabled_events,
        inflection: inflection(a.api_key_inflection)?.unwrap_or_default(),
        secret: generate_webhook_secret(),
    };
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::CREATED,
        move |tx| Box::pin(async move { webhooks::create(tx, &scope, new).await }),
        |w| Doc::one(w.to_resource().to_value()).with_meta(json!({ "secret": w.secret })),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    params(PageParams, CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = ListDocument<crate::api::schema::Resource<crate::api::schema::WebhookAttributes, crate::api::schema::NoRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        ..Default::default()
    })?;
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx
        .read(move |tx| Box::pin(async move { webhooks::list(tx, &scope, &page).await }))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/webhooks", &q, |w| w.to_resource().to_value()),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::WebhookAttributes, crate::api::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let scope = ctx.scope().clone();
    let w = ctx
        .read(move |tx| Box::pin(async move { webhooks::get(tx, &scope, &id).await }))
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(w.to_resource().to_value()),
        Some(&q),
    )
}

#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders),
    request_body = Body<WebhookChanges>,
    security(("api_key" = ["webhook.write"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::WebhookAttributes, crate::api::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
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
    };
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { webhooks::update(tx, &scope, &id, patch).await }),
        |w| Doc::one(w.to_resource().to_value()),
    )
    .await
}

async fn set_status(ctx: Ctx, id: String, to: WebhookStatus) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { webhooks::set_status(tx, &scope, &id, to).await }),
        |w| Doc::one(w.to_resource().to_value()),
    )
    .await
}

macro_rules! status_endpoint {
    ($name:ident, $path:literal, $to:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "webhooks",
            params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
            request_body(content = EmptyBody, description = "optional"),
            security(("api_key" = ["webhook.write"])),
            responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::WebhookAttributes, crate::api::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
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

/// A new secret in `meta.secret`; the previous one keeps signing alongside for the overlap.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate-secret", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body(content = EmptyBody, description = "optional"),
    security(("api_key" = ["webhook.write"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::WebhookAttributes, crate::api::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn rotate_secret(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let scope = ctx.scope().clone();
    let overlap = ctx.state.config.webhook_secret_overlap_secs;
    let secret = generate_webhook_secret();
    ctx.commit(
        StatusCode::OK,
        move |tx| {
            Box::pin(async move { webhooks::rotate_secret(tx, &scope, &id, secret, overlap).await })
        },
        |w| Doc::one(w.to_resource().to_value()).with_meta(json!({ "secret": w.secret })),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), PageParams, CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = ListDocument<crate::api::schema::Resource<crate::api::schema::DeliveryAttributes, crate::api::schema::DeliveryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn deliveries(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        ..Default::default()
    })?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let path = format!("/api/v1/webhooks/{id}/deliveries");
    let list = ctx
        .read(move |tx| Box::pin(async move { webhooks::deliveries(tx, &scope, &id, &page).await }))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, &path, &q, |d| d.to_resource(false).to_value()),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/webhook-deliveries/{id}", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::DeliveryAttributes, crate::api::schema::DeliveryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn delivery(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(DeliveryId::parse, &id, "webhook delivery")?;
    let scope = ctx.scope().clone();
    let d = ctx
        .read(move |tx| Box::pin(async move { webhooks::delivery(tx, &scope, &id).await }))
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(d.to_resource(true).to_value()),
        Some(&q),
    )
}

/// A new attempt now for a `failed` or `canceled` delivery.
#[utoipa::path(post, path = "/api/v1/webhook-deliveries/{id}/retry", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body(content = EmptyBody, description = "optional"),
    security(("api_key" = ["webhook.write"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::DeliveryAttributes, crate::api::schema::DeliveryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn retry(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(DeliveryId::parse, &id, "webhook delivery")?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { webhooks::retry(tx, &scope, &id).await }),
        |d| Doc::one(d.to_resource(true).to_value()),
    )
    .await
}
