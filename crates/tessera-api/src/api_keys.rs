//! API keys of the caller's organization and environment.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::id::ApiKeyId;
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::permission::Permissions;
use tessera_core::{Error, Timestamp, codes};
use tessera_store::units::tenancy;
use utoipa::ToSchema;

use crate::{Body, CommonHeaders, IdempotencyHeader, PageParams, plain_list, required, single};
use tessera_edge::extract::{Ctx, JsonBody, Reply, path_id};
use tessera_edge::render::Doc;

/// Attributes of a new API key.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewApiKey {
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    /// A subset of the caller's permissions; default: all of them.
    pub permissions: Option<Vec<String>>,
    /// RFC 3339; the key stops working then.
    pub expires_at: Option<String>,
}

/// Lists the keys (never their secrets).
#[utoipa::path(get, path = "/api/v1/api-keys", tag = "api-keys",
    params(PageParams, CommonHeaders),
    security(("api_key" = ["api_key.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::ApiKeyAttributes, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let now = ctx.state.store.clock().now();
    plain_list(&ctx, "/api/v1/api-keys", tenancy::list_api_keys, |k| {
        k.to_resource(now).to_value()
    })
    .await
}

/// `permissions` of a new key: names of permissions, or 422 naming the first unknown one.
pub(crate) fn parse_permissions(names: &[String]) -> Result<Permissions, Error> {
    Permissions::parse_names(names).map_err(|bad| {
        Error::invalid(
            codes::INVALID_PERMISSIONS,
            format!("unknown permission {bad}"),
        )
        .at("/data/attributes/permissions")
    })
}

/// `expires-at` of a new key: an RFC 3339 time after `now` (the key stops working then).
pub(crate) fn parse_expires_at(
    raw: Option<String>,
    now: Timestamp,
) -> Result<Option<Timestamp>, Error> {
    raw.map(|s| {
        Timestamp::parse_rfc3339(&s)
            .filter(|t| *t > now)
            .ok_or_else(|| {
                Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "expires-at must be an RFC 3339 time in the future",
                )
                .at("/data/attributes/expires-at")
            })
    })
    .transpose()
}

/// Creates a key; its secret is in `meta.secret`, shown once (a replay of the request with the
/// same `Idempotency-Key` answers without it: secrets are not stored).
#[utoipa::path(post, path = "/api/v1/api-keys", tag = "api-keys",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewApiKey>,
    security(("api_key" = ["api_key.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::ApiKeyAttributes, crate::schema::NoRelationships>>), (status = 403, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewApiKey>>) -> Reply {
    single(&ctx, &[])?;
    let a = body.data.attributes;
    let name = tenancy::check_name(&required(a.name, "name")?, "/data/attributes/name")?;
    let permissions = match a.permissions {
        None => ctx.key.permissions,
        Some(names) => parse_permissions(&names)?,
    };
    if !permissions.is_subset_of(ctx.key.permissions) {
        return Err(Error::forbidden(
            codes::PERMISSION_ESCALATION,
            "a key can only grant permissions it holds",
        )
        .at("/data/attributes/permissions")
        .into());
    }
    let now = ctx.state.store.clock().now();
    let expires_at = parse_expires_at(a.expires_at, now)?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::CREATED,
        tenancy::create_api_key(scope, name, permissions, expires_at),
        move |(key, secret)| {
            Doc::one(key.to_resource(now).to_value()).with_secret("secret", secret)
        },
    )
    .await
}

/// Expires a key: it stops working immediately.
#[utoipa::path(post, path = "/api/v1/api-keys/{id}/expire", tag = "api-keys",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    security(("api_key" = ["api_key.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::ApiKeyAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn expire(ctx: Ctx, Path(id): Path<String>) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(ApiKeyId::parse, &id, "api key")?;
    let scope = ctx.scope().clone();
    let store = ctx.state.store.clone();
    ctx.commit(
        StatusCode::OK,
        tenancy::expire_api_key(scope, id),
        move |key| Doc::one(key.to_resource(store.clock().now()).to_value()),
    )
    .await
}
