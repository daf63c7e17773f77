//! An inquiry's own endpoints: create (with Persona's attributes and
//! `meta.expiration-after-create-interval-seconds` checked), list (with its filters), retrieve,
//! update and redact.

use axum::extract::Path;
use axum::http::StatusCode;
use serde_json::Value;
use tessera_core::fields::parse_writes;
use tessera_core::id::{InquiryId, TemplateId};
use tessera_core::inquiry::{
    InquiryStatus, MAX_NOTE_LEN, MAX_REFERENCE_ID_LEN, check_len, parse_tags,
};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::units::inquiries::{self, InquiryFilter, InquiryPatch, NewInquiry};

use super::requests::{IncludeParams, InquiryChanges, InquiryFilters, NewInquiryAttributes};
use super::{CreatedInquiry, INCLUDES, commit_inquiry, includes, write_query};
use crate::{
    Body, CommonHeaders, IdempotencyHeader, PageParams, id_attribute, included, page_doc, single,
};
use tessera_edge::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};
use tessera_edge::query::{Accepts, Query};
use tessera_edge::render::Doc;

/// Longest `redirect-uri` and `creator-email-address`.
const MAX_URI_LEN: usize = 2048;
const MAX_CREATOR_LEN: usize = 255;
/// Longest `meta.expiration-after-create-interval-seconds`: ten years.
const MAX_EXPIRATION_SECONDS: i64 = 10 * 366 * 24 * 3600;

fn unsupported(name: &str, what: &str) -> Error {
    Error::invalid(
        codes::UNSUPPORTED_ATTRIBUTE,
        format!("{name} must be null: Tessera has no {what}"),
    )
    .at(format!("/data/attributes/{name}"))
}

/// The list filters of a query. Id filters that name nothing Tessera can have give an empty
/// list, not an error.
fn list_filter(q: &Query) -> Result<InquiryFilter, Error> {
    let statuses = q.filter_values("status", "inquiry status", InquiryStatus::parse)?;
    let mut filter = InquiryFilter {
        statuses,
        reference_id: q.filters.get("reference-id").cloned(),
        note: q.filters.get("note").cloned(),
        ..InquiryFilter::default()
    };
    let mut template = None;
    for name in ["inquiry-template-id", "template-id"] {
        if let Some(raw) = q.filters.get(name) {
            match TemplateId::parse(raw.trim()) {
                Ok(t) if template.as_ref().is_none_or(|x| *x == t) => template = Some(t),
                _ => filter.match_nothing = true,
            }
        }
    }
    filter.template_id = template;
    if q.filters.contains_key("account-id") {
        filter.match_nothing = true;
    }
    if q.filters.contains_key("inquiry-id") {
        filter.ids = q
            .filter_list("inquiry-id")
            .iter()
            .filter_map(|i| InquiryId::parse(i).ok())
            .collect();
        if filter.ids.is_empty() {
            filter.match_nothing = true;
        }
    }
    let time = |name: &str| -> Result<Option<Timestamp>, Error> {
        q.filters
            .get(name)
            .map(|v| {
                Timestamp::parse_rfc3339(v.trim()).ok_or_else(|| {
                    Error::bad_request(
                        codes::INVALID_QUERY_PARAMETER,
                        format!("filter[{name}] is an RFC 3339 time"),
                    )
                    .at_parameter(format!("filter[{name}]"))
                })
            })
            .transpose()
    };
    filter.created_from = time("created-at-start")?;
    filter.created_to = time("created-at-end")?;
    Ok(filter)
}

#[utoipa::path(post, path = "/api/v1/inquiries", tag = "inquiries",
    params(IncludeParams, CommonHeaders, IdempotencyHeader),
    request_body = Body<NewInquiryAttributes>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 201, body = CreatedInquiry), (status = 400, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn create(
    ctx: Ctx,
    OptionalJsonBody(body): OptionalJsonBody<Body<NewInquiryAttributes>>,
) -> Reply {
    let q = write_query(&ctx)?;
    let a = body.data.attributes;
    let mut template_id = a
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
    if let Some(t) = a.template_id {
        let t = TemplateId::parse(&t).map_err(|_| {
            Error::invalid(
                codes::UNSUPPORTED_ATTRIBUTE,
                "template-id must be an inquiry template id (itmpl_…): Tessera has no legacy templates",
            )
            .at("/data/attributes/template-id")
        })?;
        if template_id.as_ref().is_some_and(|x| *x != t) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "template-id and inquiry-template-id name different templates",
            )
            .at("/data/attributes/template-id")
            .into());
        }
        template_id = Some(t);
    }
    if a.account_id.is_some() {
        return Err(unsupported("account-id", "accounts").into());
    }
    if a.inquiry_template_version_id.is_some() {
        return Err(unsupported("inquiry-template-version-id", "template versions").into());
    }
    check_len(
        &a.reference_id,
        MAX_REFERENCE_ID_LEN,
        "/data/attributes/reference-id",
    )?;
    check_len(&a.note, MAX_NOTE_LEN, "/data/attributes/note")?;
    check_len(
        &a.redirect_uri,
        MAX_URI_LEN,
        "/data/attributes/redirect-uri",
    )?;
    check_len(
        &a.creator_email_address,
        MAX_CREATOR_LEN,
        "/data/attributes/creator-email-address",
    )?;
    let creator = a
        .creator_email_address
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| ctx.key.id.to_string());
    let expires_after_seconds = expiration(body.meta.as_ref())?;
    let new = NewInquiry {
        template_id,
        reference_id: a.reference_id,
        note: a.note,
        tags: parse_tags(&a.tags.unwrap_or_default(), "/data/attributes/tags")?,
        fields: parse_writes(&a.fields.unwrap_or_default(), "/data/attributes/fields")?,
        creator: Some(creator),
        redirect_uri: a.redirect_uri,
        expires_after_seconds,
    };
    let unit = inquiries::create(ctx.scope().clone(), new);
    commit_inquiry(&ctx, q, StatusCode::CREATED, unit).await
}

/// `meta.expiration-after-create-interval-seconds`: a whole number of seconds, 1 to ten years.
fn expiration(meta: Option<&Value>) -> Result<Option<i64>, Error> {
    const NAME: &str = "expiration-after-create-interval-seconds";
    let Some(v) = meta.and_then(|m| m.get(NAME)).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    v.as_i64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 1e15)
                .map(|f| f as i64)
        })
        .filter(|s| (1..=MAX_EXPIRATION_SECONDS).contains(s))
        .map(Some)
        .ok_or_else(|| {
            Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!("{NAME} is a whole number of seconds from 1 to {MAX_EXPIRATION_SECONDS}"),
            )
            .at(format!("/meta/{NAME}"))
        })
}

#[utoipa::path(get, path = "/api/v1/inquiries", tag = "inquiries",
    params(PageParams, InquiryFilters, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = ListDocument<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &[
            "status",
            "reference-id",
            "inquiry-template-id",
            "template-id",
            "inquiry-id",
            "account-id",
            "note",
            "created-at-start",
            "created-at-end",
        ],
        ..Default::default()
    })?;
    let filter = list_filter(&q)?;
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx.read(inquiries::list(scope, filter, page)).await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/inquiries", &q, |i| {
            i.to_resource().to_value()
        }),
        Some(&q),
    )
}

#[utoipa::path(get, path = "/api/v1/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, INCLUDES)?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let (inquiry, related) = ctx
        .read(inquiries::show(
            ctx.scope().clone(),
            id,
            includes(&q.include),
        ))
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(inquiry.to_resource().to_value()).with_included(included(related, ctx.scope())),
        Some(&q),
    )
}

#[utoipa::path(patch, path = "/api/v1/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders),
    request_body = Body<InquiryChanges>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Body<InquiryChanges>>,
) -> Reply {
    let q = write_query(&ctx)?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let a = body.data.attributes;
    if let Some(Some(note)) = &a.note {
        check_len(&Some(note.clone()), MAX_NOTE_LEN, "/data/attributes/note")?;
    }
    if let Some(uri) = &a.redirect_uri {
        check_len(uri, MAX_URI_LEN, "/data/attributes/redirect-uri")?;
    }
    let patch = InquiryPatch {
        fields: a
            .fields
            .map(|f| parse_writes(&f, "/data/attributes/fields"))
            .transpose()?,
        note: a.note,
        tags: a
            .tags
            .map(|t| parse_tags(&t, "/data/attributes/tags"))
            .transpose()?,
        redirect_uri: a.redirect_uri,
    };
    let unit = inquiries::update(ctx.scope().clone(), id, patch);
    commit_inquiry(&ctx, q, StatusCode::OK, unit).await
}

/// Redacts the inquiry: every field value, verification attribute and document file is removed;
/// ids, statuses and timestamps stay. Irreversible; redacting again changes nothing.
#[utoipa::path(delete, path = "/api/v1/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders),
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn redact(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = write_query(&ctx)?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let unit = inquiries::redact(ctx.scope().clone(), id);
    commit_inquiry(&ctx, q, StatusCode::OK, unit).await
}
