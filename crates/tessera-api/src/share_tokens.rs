//! Share tokens: create (source), list and retrieve (both sides, with an optional peek for the
//! destination), redeem (destination), expire (either side). Each side sees its own view of a
//! token (see `ShareToken::to_resource`); `include` names its related objects
//! (`connection`, `source`, `destination`, `creator`) and `included` carries those the caller
//! may see.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::connection::Direction;
use tessera_core::id::{ConnectionId, InquiryId, ShareTokenId, TemplateId};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::share_token::{
    DEFAULT_EXPIRES_IN, Disclosure, DisclosureInput, FieldMapping, RedeemParams, ShareToken,
    ShareTokenStatus, SourceId, TokenSpec, check_expires_in, check_field_mappings,
};
use tessera_core::{Error, codes};
use tessera_store::Write;
use tessera_store::units::related::ShareTokenIncludes;
use tessera_store::units::share_tokens::{self, ShareTokenFilter};
use utoipa::ToSchema;

use crate::connections::direction_filter;
use crate::{
    Body, CommonHeaders, EmptyBody, IdempotencyHeader, PageParams, id_attribute, included,
    page_doc, required,
};
use tessera_edge::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, deserialize, path_id};
use tessera_edge::query::Accepts;
use tessera_edge::render::Doc;

/// Attributes of a new share token.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewShareToken {
    /// An active outbound connection of the caller.
    #[schema(required = true, value_type = String)]
    pub connection_id: Option<String>,
    /// The inquiry (`inq_…`, completed or approved, not redacted) or verification (`ver_…`,
    /// passed, its inquiry not redacted) to share. Accounts and transactions do not exist in
    /// Tessera: `act_…`/`txn_…` are 422 `invalid_source_type`.
    #[schema(required = true, value_type = String)]
    pub source_id: Option<String>,
    /// 60–1814400; default 1209600 (14 days).
    pub expires_in_seconds: Option<i64>,
    /// Tessera extension (selective disclosure): share only these fields of the inquiry
    /// (field names; left out: all, `[]`: none).
    pub allowed_fields: Option<Vec<String>>,
    /// Tessera extension: share only verifications of these types (left out: all).
    pub allowed_verifications: Option<Vec<String>>,
    /// Tessera extension: share only documents of these kinds (`government-id-front`,
    /// `government-id-back`, `selfie`, `proof-of-address`, `other`; left out: all).
    pub allowed_documents: Option<Vec<String>>,
}

impl NewShareToken {
    /// The token a create (or a batch item, merged over the batch's attributes) asks for,
    /// checked: the one parser of a create's body.
    pub fn spec(self) -> Result<TokenSpec, Error> {
        let connection_id = id_attribute(
            &required(self.connection_id, "connection-id")?,
            "connection-id",
            ConnectionId::parse,
            codes::INVALID_ID,
        )?;
        let source_id = SourceId::parse(&required(self.source_id, "source-id")?)?;
        let expires_in_seconds =
            check_expires_in(self.expires_in_seconds.unwrap_or(DEFAULT_EXPIRES_IN))?;
        let disclosure = Disclosure::parse(DisclosureInput {
            fields: self.allowed_fields,
            verifications: self.allowed_verifications,
            documents: self.allowed_documents,
        })?;
        Ok(TokenSpec {
            connection_id,
            source_id,
            expires_in_seconds,
            disclosure,
        })
    }
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
    /// Tessera extension: the `digest` of the manifest the destination previewed; the token then
    /// records in `manifest-matched` whether the copy was exactly that data.
    pub manifest_digest: Option<String>,
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
    /// Adds `source-data` (and Tessera's `manifest`, see `…/manifest`) when the caller is the
    /// destination and the token is still `created`; otherwise both are omitted (no error).
    #[param(rename = "peek-source-data")]
    #[serde(rename = "peek-source-data")]
    pub peek_source_data: Option<bool>,
}

/// What `include` may name on a share token.
const INCLUDES: &[&str] = &["connection", "source", "destination", "creator"];

/// The `include` parameter of share-token reads and writes.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ShareTokenIncludeParams {
    /// `connection`, `source`, `destination`, `creator` (comma-separated). `included` then holds
    /// the connection (either side), the source inquiry or verification (source side) and the
    /// destination inquiry or verification (destination side, once there is one); `creator` is
    /// accepted and adds nothing.
    #[param(
        pattern = "^\\s*(connection|source|destination|creator)?\\s*(,\\s*(connection|source|destination|creator)?\\s*)*$"
    )]
    pub include: Option<String>,
}

/// What the names of `include` (checked against [`INCLUDES`]) ask for; `creator` adds nothing.
fn includes(names: &[String]) -> ShareTokenIncludes {
    let wants = |name: &str| names.iter().any(|i| i == name);
    ShareTokenIncludes {
        connection: wants("connection"),
        source: wants("source"),
        destination: wants("destination"),
    }
}

/// The relationships a write's `include` names (checked against [`INCLUDES`]).
fn write_includes(ctx: &Ctx) -> Result<ShareTokenIncludes, tessera_edge::error::ApiError> {
    Ok(includes(
        &ctx.query(Accepts {
            includes: INCLUDES,
            ..Default::default()
        })?
        .include,
    ))
}

/// Runs a unit of work that changes one token and answers with the token as the caller sees it
/// (from `direction`, or from the caller's side when `None`) and what `include` names.
async fn commit_token(
    ctx: &Ctx,
    status: StatusCode,
    direction: Option<Direction>,
    include: ShareTokenIncludes,
    unit: Write<ShareToken>,
) -> Reply {
    let viewer = ctx.scope().clone();
    ctx.commit(
        status,
        share_tokens::with_related(unit, viewer.clone(), include),
        move |(t, inc)| {
            let direction = direction.unwrap_or_else(|| t.direction_for(&viewer));
            Doc::one(
                t.view_for(&viewer, direction, t.updated_at, None)
                    .to_value(),
            )
            .with_included(included(inc, &viewer))
        },
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/connect/share-tokens", tag = "share-tokens",
    params(ShareTokenIncludeParams, CommonHeaders, IdempotencyHeader),
    request_body = Body<NewShareToken>,
    security(("api_key" = ["share_token.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::ShareTokenAttributes, crate::schema::ShareTokenRelationships>>), (status = 403, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, description = "invalid attributes; also a `connection-id` or `source-id` the caller cannot see (`reference_not_found`, with its pointer)", body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewShareToken>>) -> Reply {
    let include = write_includes(&ctx)?;
    let spec = body.data.attributes.spec()?;
    let actor = ctx.actor();
    commit_token(
        &ctx,
        StatusCode::CREATED,
        Some(Direction::Outbound),
        include,
        share_tokens::create(ctx.scope().clone(), spec, actor),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/connect/share-tokens", tag = "share-tokens",
    params(PageParams, ShareTokenFilters, CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::ShareTokenAttributes, crate::schema::ShareTokenRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &["status", "direction", "connection-id"],
        ..Default::default()
    })?;
    let statuses = q.filter_values("status", "share token status", ShareTokenStatus::parse)?;
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
    let list = ctx.read(share_tokens::list(scope, filter, page)).await?;
    let now = ctx.state.store.clock().now();
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/connect/share-tokens", &q, |t| {
            // A token on a connection to oneself is both: listed by direction, it shows the one
            // asked for.
            let shown = direction.unwrap_or_else(|| t.direction_for(ctx.scope()));
            t.view_for(ctx.scope(), shown, now, None).to_value()
        }),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/connect/share-tokens/{id}", tag = "share-tokens",
    params(("id" = String, Path), PeekParams, crate::share_token_manifest::ManifestParams, ShareTokenIncludeParams, CommonHeaders),
    security(("api_key" = ["share_token.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::ShareTokenAttributes, crate::schema::ShareTokenRelationships>>), (status = 400, body = ErrorDocument), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = ctx.query(Accepts {
        includes: INCLUDES,
        extra: &[
            "peek-source-data",
            "inquiry-template-id",
            "destination-id",
            "field-mappings",
        ],
        ..Default::default()
    })?;
    let request = crate::share_token_manifest::request(&q)?;
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    let peek = match q.flag("peek-source-data")? {
        true => Some(
            crate::federation::preview(&ctx.state, ctx.scope(), &id, request)
                .await
                .map_err(|e| crate::share_token_manifest::at_parameter(e.into()))?,
        ),
        false => None,
    };
    // Persona: `source-data` is present only for the destination (and, in Tessera, only while
    // the token can still be redeemed); otherwise it is omitted. The store decides.
    let shown = ctx
        .read(share_tokens::show(
            ctx.scope().clone(),
            id,
            includes(&q.include),
            peek,
        ))
        .await
        .map_err(crate::share_token_manifest::at_parameter)?;
    let now = ctx.state.store.clock().now();
    let scope = ctx.scope();
    let mut resource = shown.token.view_for(
        scope,
        shown.token.direction_for(scope),
        now,
        shown.source_data,
    );
    resource.attributes.manifest = shown.manifest;
    ctx.respond(
        StatusCode::OK,
        Doc::one(resource.to_value()).with_included(included(shown.included, ctx.scope())),
        Some(&q),
    )
}

pub(crate) fn redeem_params(body: Body<RedeemAttributes>) -> Result<RedeemParams, Error> {
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
    let manifest_digest = meta
        .manifest_digest
        .map(|d| crate::share_token_manifest::check_digest(d, "/meta/manifest-digest"))
        .transpose()?;
    Ok(RedeemParams {
        destination_id,
        inquiry_template_id,
        field_mappings,
        manifest_digest,
    })
}

/// Starts the redemption (destination only): 202, the token `pending` with its `redeem-mode`
/// (and, for a hydrate, its `destination`); the copy runs in the background and the token then
/// ends `redeemed` (or `failed`).
#[utoipa::path(post, path = "/api/v1/connect/share-tokens/{id}/redeem", tag = "share-tokens",
    params(("id" = String, Path), ShareTokenIncludeParams, CommonHeaders, IdempotencyHeader),
    request_body(content = Body<RedeemAttributes>, description = "optional; `meta.field-mappings`: [{source-field-name, destination-field-name}] (hydrate or clone: every source field is copied under its own name, and a mapped field also under the mapped name)"),
    security(("api_key" = ["share_token.redeem"])),
    responses((status = 202, body = Document<crate::schema::Resource<crate::schema::ShareTokenAttributes, crate::schema::ShareTokenRelationships>>), (status = 403, body = ErrorDocument), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn redeem(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<Body<RedeemAttributes>>,
) -> Reply {
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    let include = write_includes(&ctx)?;
    let params = redeem_params(body)?;
    commit_token(
        &ctx,
        StatusCode::ACCEPTED,
        Some(Direction::Inbound),
        include,
        share_tokens::redeem(ctx.scope().clone(), id, params),
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/connect/share-tokens/{id}/expire", tag = "share-tokens",
    params(("id" = String, Path), ShareTokenIncludeParams, CommonHeaders, IdempotencyHeader),
    request_body(content = EmptyBody, description = "optional"),
    security(("api_key" = ["share_token.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::ShareTokenAttributes, crate::schema::ShareTokenRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
pub async fn expire(
    ctx: Ctx,
    Path(id): Path<String>,
    OptionalJsonBody(_body): OptionalJsonBody<EmptyBody>,
) -> Reply {
    let id = path_id(ShareTokenId::parse, &id, "share token")?;
    let include = write_includes(&ctx)?;
    commit_token(
        &ctx,
        StatusCode::OK,
        None,
        include,
        share_tokens::expire(ctx.scope().clone(), id),
    )
    .await
}
