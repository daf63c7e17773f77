//! Share tokens: create (source), list and retrieve (both sides, with an optional masked peek
//! for the destination), redeem (destination), expire (either side).

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use tessera_core::connection::Direction;
use tessera_core::id::{ConnectionId, InquiryId, ShareTokenId, TemplateId};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::mask::mask_field;
use tessera_core::share_token::{
    DEFAULT_EXPIRES_IN, FieldMapping, RedeemParams, ShareToken, ShareTokenStatus, check_expires_in,
    check_field_mappings,
};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::Tx;
use tessera_store::ops::share_tokens::{self, ShareTokenFilter};
use tessera_store::ops::{inquiries, verifications};
use utoipa::ToSchema;

use crate::api::connections::{EmptyBody, direction_filter};
use crate::api::{
    Body, CommonHeaders, IdempotencyHeader, PageParams, id_attribute, page_doc, required,
};
use crate::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, deserialize, path_id};
use crate::query::Accepts;
use crate::render::Doc;

/// Attributes of a new share token.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewShareToken {
    /// An active outbound connection of the caller.
    #[schema(required = true, value_type = String)]
    pub connection_id: Option<String>,
    /// The inquiry to share (completed or approved, not redacted).
    #[schema(required = true, value_type = String)]
    pub source_id: Option<String>,
    /// 60–1814400; default 1209600 (14 days).
    pub expires_in_seconds: Option<i64>,
}

/// Attributes of a redemption.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RedeemAttributes {
    /// Hydrate this inquiry (status created or pending) instead of creating a new one.
    pub destination_id: Option<String>,
    /// Verify the copy against this template (default: the destination inquiry's own).
    pub inquiry_template_id: Option<String>,
}

/// `meta` of a redemption.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RedeemMeta {
    #[serde(default)]
    pub field_mappings: Vec<FieldMapping>,
}

/// Filters of the share token list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareTokenFilters {
    /// `created`, `pending`, `redeemed`, `expired`, `failed` (comma-separated).
    #[param(
        rename = "filter[status]",
        max_length = 1000,
        pattern = "^\\s*(created|pending|redeemed|expired|failed)?\\s*(,\\s*(created|pending|redeemed|expired|failed)?\\s*)*$"
    )]
    #[serde(rename = "filter[status]")]
    pub status: Option<String>,
    /// `outbound` or `inbound`.
    #[param(rename = "filter[direction]", pattern = "^(outbound|inbound)$")]
    #[serde(rename = "filter[direction]")]
    pub direction: Option<String>,
    #[param(rename = "filter[connection-id]", pattern = "^cxn_[0-9A-Za-z]{16,64}$")]
    #[serde(rename = "filter[connection-id]")]
    pub connection_id: Option<String>,
}

/// The `peek-source-data` parameter.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeekParams {
    /// Destination only, status `created`: adds the masked `source-data`.
    #[param(rename = "peek-source-data")]
    #[serde(rename = "peek-source-data")]
    pub peek_source_data: Option<bool>,
}

fn view(t: &ShareToken, ctx: &Ctx, now: Timestamp, source_data: Option<Value>) -> Value {
    t.to_resource(t.direction_for(ctx.scope()), now, source_data)
        .to_value()
}

#[utoipa::path(post, path = "/api/v1/connect/share-tokens", tag = "share-tokens",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewShareToken>,
    security(("api_key" = ["share_token.write"])),
    responses((status = 201, body = Document<crate::api::schema::Resource<crate::api::schema::ShareTokenAttributes, crate::api::schema::ShareTokenRelationships>>), (status = 403, body = ErrorDocument), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewShareToken>>) -> Reply {
    let a = body.data.attributes;
    let connection = id_attribute(
        &required(a.connection_id, "connection-id")?,
        "connection-id",
        ConnectionId::parse,
        codes::INVALID_ID,
    )?;
    let source = id_attribute(
        &required(a.source_id, "source-id")?,
        "source-id",
        InquiryId::parse,
        codes::INVALID_SOURCE_TYPE,
    )?;
    let expires_in = check_expires_in(a.expires_in_seconds.unwrap_or(DEFAULT_EXPIRES_IN))?;
    let (scope, actor) = (ctx.scope().clone(), ctx.actor());
    ctx.commit(
        StatusCode::CREATED,
        move |tx| {
            Box::pin(async move {
                share_tokens::create(tx, &scope, &connection, &source, expires_in, actor).await
            })
        },
        |t| {
            let now = t.created_at;
            Doc::one(t.to_resource(Direction::Outbound, now, None).to_value())
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/connect/share-tokens", tag = "share-tokens",
    params(PageParams, ShareTokenFilters, CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = ListDocument<crate::api::schema::Resource<crate::api::schema::ShareTokenAttributes, crate::api::schema::ShareTokenRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &["status", "direction", "connection-id"],
        ..Default::default()
    })?;
    let statuses = q
        .filter_list("status")
        .iter()
        .map(|s| {
            ShareTokenStatus::parse(s).ok_or_else(|| {
                Error::bad_request(
                    codes::INVALID_QUERY_PARAMETER,
                    format!("unknown share token status {s}"),
                )
                .at_parameter("filter[status]")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let connection_id = q
        .filters
        .get("connection-id")
        .map(|c| {
            ConnectionId::parse(c).map_err(|_| {
                Error::bad_request(
                    codes::INVALID_QUERY_PARAMETER,
                    "filter[connection-id] is a connection id",
                )
                .at_parameter("filter[connection-id]")
            })
        })
        .transpose()?;
    let direction = direction_filter(&q)?;
    let filter = ShareTokenFilter {
        statuses,
        direction,
        connection_id,
    };
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx
        .read(move |tx| {
            Box::pin(async move { share_tokens::list(tx, &scope, &filter, &page).await })
        })
        .await?;
    let now = ctx.state.store.clock().now();
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/connect/share-tokens", &q, |t| {
            // A token on a connection to oneself is both: listed by direction, it shows the one
            // asked for.
            let shown = direction.unwrap_or_else(|| t.direction_for(ctx.scope()));
            t.to_resource(shown, now, None).to_value()
        }),
        Some(&q),
    )
}

/// The masked peek at a token's source: field names and statuses, personal values masked. (The
/// dashboard shows the same peek on an inbound token's page.)
pub async fn peek(tx: &mut Tx, t: &ShareToken) -> Result<Value, Error> {
    let scope = t.source_scope();
    let inquiry = inquiries::get(tx, &scope, &t.source_inquiry_id).await?;
    let fields: serde_json::Map<String, Value> = inquiry
        .fields
        .iter()
        .map(|(name, f)| (name.clone(), mask_field(name, f)))
        .collect();
    let related: Vec<Value> = verifications::for_inquiry(tx, &scope, &inquiry.id)
        .await?
        .iter()
        .map(|v| {
            json!({"type": v.kind.resource_type(), "id": v.id,
                   "peekable-attributes": {"status": v.status, "completed-at": v.completed_at}})
        })
        .collect();
    Ok(json!({
        "type": "inquiry",
        "id": inquiry.id,
        "peekable-attributes": {"fields": fields, "status": inquiry.status},
        "related-objects": related,
    }))
}

#[utoipa::path(get, path = "/api/v1/connect/share-tokens/{id}", tag = "share-tokens",
    params(("id" = String, Path), PeekParams, CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::ShareTokenAttributes, crate::api::schema::ShareTokenRelationships>>), (status = 403, body = ErrorDocument), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = ctx.query(Accepts {
        extra: &["peek-source-data"],
        ..Default::default()
    })?;
    let want_peek = q.flag("peek-source-data")?;
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    let scope = ctx.scope().clone();
    let (token, source_data) = ctx
        .read(move |tx| {
            Box::pin(async move {
                let t = share_tokens::get(tx, &scope, &id).await?;
                if !want_peek {
                    return Ok((t, None));
                }
                if !t.is_destination(&scope) {
                    return Err(Error::forbidden(
                        codes::WRONG_SIDE,
                        "only the destination organization can peek at the source data",
                    ));
                }
                if t.status_at(tx.now()) != ShareTokenStatus::Created {
                    return Err(Error::conflict(
                        codes::SHARE_TOKEN_NOT_PEEKABLE,
                        "only a share token that is still redeemable can be peeked at",
                    ));
                }
                let data = peek(tx, &t).await?;
                Ok((t, Some(data)))
            })
        })
        .await?;
    let now = ctx.state.store.clock().now();
    ctx.respond(
        StatusCode::OK,
        Doc::one(view(&token, &ctx, now, source_data)),
        Some(&q),
    )
}

fn redeem_params(body: Body<RedeemAttributes>) -> Result<RedeemParams, Error> {
    let a = body.data.attributes;
    let destination_id = a
        .destination_id
        .map(|d| id_attribute(&d, "destination-id", InquiryId::parse, codes::INVALID_ID))
        .transpose()?;
    let inquiry_template_id = a
        .inquiry_template_id
        .map(|t| {
            id_attribute(
                &t,
                "inquiry-template-id",
                TemplateId::parse,
                codes::INVALID_ID,
            )
        })
        .transpose()?;
    let meta: RedeemMeta = match body.meta {
        None => RedeemMeta::default(),
        Some(m) => deserialize(m).map_err(|mut e| {
            if let Some(tessera_core::error::Source::Pointer(p)) = &e.location {
                e.location = Some(tessera_core::error::Source::Pointer(format!("/meta{p}")));
            }
            e
        })?,
    };
    let field_mappings = check_field_mappings(meta.field_mappings, "/meta/field-mappings")?;
    Ok(RedeemParams {
        destination_id,
        inquiry_template_id,
        field_mappings,
    })
}

/// Starts the redemption (destination only): the token moves to `pending` at once and the copy
/// runs in the background; the token then ends `redeemed` (or `failed`).
#[utoipa::path(post, path = "/api/v1/connect/share-tokens/{id}/redeem", tag = "share-tokens",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body(content = Body<RedeemAttributes>, description = "optional; `meta.field-mappings`: [{source-field-name, destination-field-name}]"),
    security(("api_key" = ["share_token.redeem"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::ShareTokenAttributes, crate::api::schema::ShareTokenRelationships>>), (status = 403, body = ErrorDocument), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn redeem(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<Body<RedeemAttributes>>,
) -> Reply {
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    ctx.query(Accepts::default())?;
    let params = redeem_params(body)?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { share_tokens::redeem(tx, &scope, &id, params).await }),
        |t| {
            let now = t.updated_at;
            Doc::one(t.to_resource(Direction::Inbound, now, None).to_value())
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/connect/share-tokens/{id}/expire", tag = "share-tokens",
    params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
    request_body(content = EmptyBody, description = "optional"),
    security(("api_key" = ["share_token.write"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::ShareTokenAttributes, crate::api::schema::ShareTokenRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn expire(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    ctx.query(Accepts::default())?;
    let scope = ctx.scope().clone();
    let viewer = scope.clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { share_tokens::expire(tx, &scope, &id).await }),
        move |t| {
            let now = t.updated_at;
            Doc::one(
                t.to_resource(t.direction_for(&viewer), now, None)
                    .to_value(),
            )
        },
    )
    .await
}
