//! Verifications recorded on inquiries.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value};
use tessera_core::id::{InquiryId, VerificationId};
use tessera_core::jsonapi::{Document, ErrorDocument};
use tessera_core::verification::{
    Check, VerificationKind, VerificationStatus, validate_attributes, validate_checks,
};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::units::verifications::{self, NewVerification};
use utoipa::ToSchema;

use crate::inquiries::{inquiry_included, wants_inquiry};
use crate::{Body, CommonHeaders, IdempotencyHeader, id_attribute, required, single};

/// What `include` accepts here (Persona's verification relationships); only `inquiry` is
/// included, the others name objects Tessera does not have.
pub const INCLUDES: &[&str] = &[
    "inquiry",
    "inquiry-template",
    "inquiry-template-version",
    "template",
    "transaction",
    "verification-template",
    "verification-template-version",
    "accounts",
];

/// The `include` parameter of verification endpoints.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeParams {
    /// Comma-separated: `inquiry` is included; Persona's other names are accepted and add
    /// nothing.
    pub include: Option<String>,
}
use tessera_edge::extract::{Ctx, JsonBody, Reply, path_id};
use tessera_edge::render::Doc;

/// Attributes of a verification to record.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewVerificationAttributes {
    #[schema(required = true, value_type = String)]
    pub inquiry_id: Option<String>,
    /// `government-id`, `selfie`, `database`, `document`, `phone-number` or `email-address`.
    #[serde(rename = "type")]
    #[schema(required = true, value_type = String)]
    pub kind: Option<String>,
    /// `passed` or `failed`.
    #[schema(required = true, value_type = String)]
    pub status: Option<String>,
    #[serde(default)]
    pub checks: Vec<Check>,
    /// What the verification extracted (`name-first`, `birthdate`, …).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    /// When the check was done (RFC 3339, not in the future); default: now.
    pub completed_at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/verifications", tag = "verifications",
    params(IncludeParams, CommonHeaders, IdempotencyHeader),
    request_body = Body<NewVerificationAttributes>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::VerificationAttributes, crate::schema::VerificationRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewVerificationAttributes>>) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let a = body.data.attributes;
    let inquiry_id = id_attribute(
        &required(a.inquiry_id, "inquiry-id")?,
        "inquiry-id",
        InquiryId::parse,
        codes::INVALID_ID,
    )?;
    let kind_raw = required(a.kind, "type")?;
    let kind = VerificationKind::parse(&kind_raw)
        .filter(|k| *k != VerificationKind::ShareToken)
        .ok_or_else(|| {
            Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!("unknown verification type {kind_raw}"),
            )
            .at("/data/attributes/type")
        })?;
    let status_raw = required(a.status, "status")?;
    let status = VerificationStatus::parse(&status_raw).ok_or_else(|| {
        Error::invalid(codes::INVALID_ATTRIBUTE, "status is passed or failed")
            .at("/data/attributes/status")
    })?;
    validate_checks(&a.checks, "/data/attributes/checks")?;
    validate_attributes(&a.attributes, "/data/attributes/attributes")?;
    let now = ctx.state.store.clock().now();
    let completed_at = a
        .completed_at
        .map(|s| {
            Timestamp::parse_rfc3339(&s)
                .filter(|t| *t <= now.plus_seconds(60))
                .ok_or_else(|| {
                    Error::invalid(
                        codes::INVALID_ATTRIBUTE,
                        "completed-at must be an RFC 3339 time, not in the future",
                    )
                    .at("/data/attributes/completed-at")
                })
        })
        .transpose()?;
    let new = NewVerification {
        inquiry_id,
        kind,
        status,
        checks: a.checks,
        attributes: a.attributes,
        completed_at,
    };
    let with_inquiry = wants_inquiry(&q.include);
    ctx.commit(
        StatusCode::CREATED,
        verifications::record_showing(ctx.scope().clone(), new, with_inquiry),
        |(v, inquiry)| {
            Doc::one(v.to_resource().to_value()).with_included(inquiry_included(inquiry))
        },
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/verifications/{id}", tag = "verifications",
    params(("id" = String, Path), IncludeParams, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::VerificationAttributes, crate::schema::VerificationRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let id = path_id(VerificationId::parse, &id, "verification")?;
    let (v, inquiry) = ctx
        .read(verifications::show(
            ctx.scope().clone(),
            id,
            wants_inquiry(&q.include),
        ))
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(v.to_resource().to_value()).with_included(inquiry_included(inquiry)),
        Some(&q),
    )
}

/// Persona's "Redact a Verification": removes what the verification extracted and its checks'
/// reasons and metadata; status, checks and times stay. Destinations that redeemed a copy of it
/// (or of its inquiry) are told (`inquiry.source-redacted`). Irreversible; redacting again
/// changes nothing.
#[utoipa::path(delete, path = "/api/v1/verifications/{id}", tag = "verifications",
    params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::VerificationAttributes, crate::schema::VerificationRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn redact(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let id = path_id(VerificationId::parse, &id, "verification")?;
    let with_inquiry = wants_inquiry(&q.include);
    ctx.commit(
        StatusCode::OK,
        verifications::redact_showing(ctx.scope().clone(), id, with_inquiry),
        |(v, inquiry)| {
            Doc::one(v.to_resource().to_value()).with_included(inquiry_included(inquiry))
        },
    )
    .await
}
