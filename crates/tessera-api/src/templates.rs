//! Inquiry templates: create, list, retrieve and change. A template is the destination's policy
//! for redeemed copies (the checks of `tessera_core::checks`); a change is checked as a whole by
//! the same parser as a create (`TemplateSpec::parse`, in the store's unit of work).

use axum::extract::Path;
use axum::http::StatusCode;
use serde::Deserialize;
use tessera_core::id::TemplateId;
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::source_status::OnSourceRedaction;
use tessera_core::template::{RequiredVerification, TemplatePatch, TemplateSpec};
use tessera_store::units::templates;
use utoipa::ToSchema;

use crate::double;
use crate::{Body, CommonHeaders, IdempotencyHeader, PageParams, plain_list, required, single};
use tessera_edge::extract::{Ctx, JsonBody, Reply, path_id};
use tessera_edge::render::Doc;

/// Attributes of a new template.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewTemplate {
    #[schema(required = true, value_type = String)]
    pub name: Option<String>,
    #[serde(default)]
    pub required_fields: Vec<String>,
    #[serde(default)]
    pub required_verifications: Vec<RequiredVerification>,
    pub minimum_age: Option<u32>,
    /// ISO 3166-1 alpha-2 codes; null: any country.
    pub allowed_countries: Option<Vec<String>>,
    /// Tessera extension: `keep` (default) or `redact` a copy checked against this template when
    /// the source organization redacts what it shared.
    #[schema(value_type = Option<OnSourceRedaction>)]
    pub on_source_redaction: Option<String>,
}

/// A change to a template; absent members stay as they are. `null` clears `minimum-age` (no age
/// limit), `allowed-countries` (any country), `required-fields` and `required-verifications`
/// (none); `name` cannot be cleared.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TemplateChanges {
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<Vec<String>>)]
    pub required_fields: Option<Option<Vec<String>>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<Vec<RequiredVerification>>)]
    pub required_verifications: Option<Option<Vec<RequiredVerification>>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<u32>)]
    pub minimum_age: Option<Option<u32>>,
    /// ISO 3166-1 alpha-2 codes; null: any country.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<Vec<String>>)]
    pub allowed_countries: Option<Option<Vec<String>>>,
    /// `keep` or `redact`; null is `keep`.
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<OnSourceRedaction>)]
    pub on_source_redaction: Option<Option<String>>,
}

/// `on-source-redaction` as given: absent or null is `keep`.
fn policy(given: Option<String>) -> Result<OnSourceRedaction, tessera_core::Error> {
    given.map_or(Ok(OnSourceRedaction::Keep), |p| {
        OnSourceRedaction::parse(&p, "/data/attributes/on-source-redaction")
    })
}

#[utoipa::path(post, path = "/api/v1/inquiry-templates", tag = "inquiry-templates",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewTemplate>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 201, body = Document<crate::schema::Resource<crate::schema::TemplateAttributes, crate::schema::NoRelationships>>), (status = 422, body = ErrorDocument)))]
pub async fn create(ctx: Ctx, JsonBody(body): JsonBody<Body<NewTemplate>>) -> Reply {
    single(&ctx, &[])?;
    let a = body.data.attributes;
    let spec = TemplateSpec::parse(
        required(a.name, "name")?,
        a.required_fields,
        a.required_verifications,
        a.minimum_age,
        a.allowed_countries,
    )?
    .on_source_redaction(policy(a.on_source_redaction)?);
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::CREATED, templates::create(scope, spec), |t| {
        Doc::one(t.to_resource().to_value())
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/inquiry-templates", tag = "inquiry-templates",
    params(PageParams, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::TemplateAttributes, crate::schema::NoRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    plain_list(&ctx, "/api/v1/inquiry-templates", templates::list, |t| {
        t.to_resource().to_value()
    })
    .await
}

#[utoipa::path(get, path = "/api/v1/inquiry-templates/{id}", tag = "inquiry-templates",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::TemplateAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &[])?;
    let id = path_id(TemplateId::parse, &id, "inquiry template")?;
    let scope = ctx.scope().clone();
    let t = ctx.read(templates::get(scope, id)).await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(t.to_resource().to_value()),
        Some(&q),
    )
}

/// Changes a template's policy. Redemptions copied from then on are checked against it; copies
/// already made keep the checks they were given.
#[utoipa::path(patch, path = "/api/v1/inquiry-templates/{id}", tag = "inquiry-templates",
    params(("id" = String, Path), CommonHeaders),
    request_body = Body<TemplateChanges>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::TemplateAttributes, crate::schema::NoRelationships>>), (status = 404, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Body<TemplateChanges>>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(TemplateId::parse, &id, "inquiry template")?;
    let a = body.data.attributes;
    // A null name is no name: the parser refuses it like an empty one.
    let patch = TemplatePatch {
        name: a.name.map(Option::unwrap_or_default),
        required_fields: a.required_fields.map(Option::unwrap_or_default),
        required_verifications: a.required_verifications.map(Option::unwrap_or_default),
        minimum_age: a.minimum_age,
        allowed_countries: a.allowed_countries,
        on_source_redaction: a.on_source_redaction.map(policy).transpose()?,
    };
    let scope = ctx.scope().clone();
    ctx.commit(StatusCode::OK, templates::update(scope, id, patch), |t| {
        Doc::one(t.to_resource().to_value())
    })
    .await
}
