//! A webhook's delivery log: the deliveries of a webhook, one delivery with its attempts, and a
//! new attempt of a failed or canceled one.

use axum::extract::Path;
use axum::http::StatusCode;
use tessera_core::id::{DeliveryId, WebhookId};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_store::units::webhooks;

use crate::{CommonHeaders, EmptyBody, IdempotencyHeader, PageParams, page_doc, single};
use tessera_edge::extract::{Ctx, OptionalJsonBody, Reply, path_id};
use tessera_edge::query::Accepts;
use tessera_edge::render::Doc;

#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks",
    params(("id" = String, Path), PageParams, CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::DeliveryAttributes, crate::schema::DeliveryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn deliveries(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        ..Default::default()
    })?;
    let id = path_id(WebhookId::parse, &id, "webhook")?;
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let path = format!("/api/v1/webhooks/{id}/deliveries");
    let list = ctx.read(webhooks::deliveries(scope, id, page)).await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, &path, &q, |d| d.to_resource(false).to_value()),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/webhook-deliveries/{id}", tag = "webhooks",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["webhook.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::DeliveryAttributes, crate::schema::DeliveryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn delivery(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(DeliveryId::parse, &id, "webhook delivery")?;
    let scope = ctx.scope().clone();
    let d = ctx.read(webhooks::delivery(scope, id)).await?;
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
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::DeliveryAttributes, crate::schema::DeliveryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn retry(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(DeliveryId::parse, &id, "webhook delivery")?;
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::OK, webhooks::retry(scope, id), |d| {
        Doc::one(d.to_resource(true).to_value())
    })
    .await
}
