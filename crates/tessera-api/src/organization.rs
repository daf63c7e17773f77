//! `GET /api/v1/organization`: who am I.

use axum::http::StatusCode;
use serde_json::json;
use tessera_core::jsonapi::Document;
use tessera_store::units::tenancy;

use crate::{CommonHeaders, single};
use tessera_edge::extract::{Ctx, Reply};
use tessera_edge::render::Doc;

/// The caller's organization, with the key's environment and id in `meta`.
#[utoipa::path(get, path = "/api/v1/organization", tag = "organization",
    params(CommonHeaders),
    security(("api_key" = [])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::OrganizationAttributes, crate::schema::OrganizationRelationships>>),
              (status = 401, body = tessera_core::jsonapi::ErrorDocument)))]
pub async fn show(ctx: Ctx) -> Reply {
    let q = single(&ctx, &[])?;
    let org_id = ctx.scope().org.clone();
    let org = ctx.read(tenancy::get_organization(org_id)).await?;
    let doc = Doc::one(org.to_resource().to_value()).with_meta(json!({
        "environment": ctx.scope().kind.as_str(),
        "api-key-id": ctx.key.id.as_str(),
    }));
    ctx.respond(StatusCode::OK, doc, Some(&q))
}
