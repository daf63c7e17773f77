//! Inquiries: create, list, retrieve, update, status transitions, redaction.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};
use tessera_core::fields::parse_writes;
use tessera_core::id::{InquiryId, TemplateId};
use tessera_core::inquiry::{
    InquiryAction, InquiryStatus, MAX_NOTE_LEN, MAX_REFERENCE_ID_LEN, check_len, parse_tags,
};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument};
use tessera_core::{Error, codes};
use tessera_store::ops::inquiries::{self, InquiryFilter, InquiryPatch, NewInquiry};
use tessera_store::ops::{documents, verifications};
use utoipa::ToSchema;

use crate::api::{
    Body, CommonHeaders, IdempotencyHeader, PageParams, id_attribute, page_doc, single,
};
use crate::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};
use crate::query::Accepts;
use crate::render::Doc;

/// Attributes of a new inquiry.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewInquiryAttributes {
    pub inquiry_template_id: Option<String>,
    pub reference_id: Option<String>,
    pub note: Option<String>,
    pub tags: Option<Vec<String>>,
    /// `name → value`; standard names are type-checked.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
}

pub(crate) fn double<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change to an inquiry; absent members stay as they are.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct InquiryChanges {
    /// Fields to set; a null value removes the field.
    #[schema(value_type = Option<Object>)]
    pub fields: Option<Map<String, Value>>,
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
}

/// An optional body of the transition endpoints: `{"meta": {"comment": "…"}}` (the comment is
/// accepted and not stored).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    #[serde(default)]
    pub meta: Option<ActionMeta>,
}

/// Meta of a transition request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionMeta {
    #[serde(default)]
    pub comment: Option<String>,
}

/// Filters of the inquiry list.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InquiryFilters {
    /// One or more statuses, comma-separated.
    #[param(
        rename = "filter[status]",
        max_length = 1000,
        pattern = "^\\s*(created|pending|completed|approved|declined|needs_review|expired|failed)?\\s*(,\\s*(created|pending|completed|approved|declined|needs_review|expired|failed)?\\s*)*$"
    )]
    #[serde(rename = "filter[status]")]
    pub status: Option<String>,
    #[param(rename = "filter[reference-id]", max_length = 1000)]
    #[serde(rename = "filter[reference-id]")]
    pub reference_id: Option<String>,
    #[param(
        rename = "filter[inquiry-template-id]",
        pattern = "^itmpl_[0-9A-Za-z]{16,64}$"
    )]
    #[serde(rename = "filter[inquiry-template-id]")]
    pub template_id: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/inquiries", tag = "inquiries",
    params(CommonHeaders, IdempotencyHeader),
    request_body = Body<NewInquiryAttributes>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 201, body = Document<crate::api::schema::Resource<crate::api::schema::InquiryAttributes, crate::api::schema::InquiryRelationships>>), (status = 400, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn create(
    ctx: Ctx,
    OptionalJsonBody(body): OptionalJsonBody<Body<NewInquiryAttributes>>,
) -> Reply {
    single(&ctx, &[])?;
    let a = body.data.attributes;
    let template_id = a
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
    check_len(
        &a.reference_id,
        MAX_REFERENCE_ID_LEN,
        "/data/attributes/reference-id",
    )?;
    check_len(&a.note, MAX_NOTE_LEN, "/data/attributes/note")?;
    let new = NewInquiry {
        template_id,
        reference_id: a.reference_id,
        note: a.note,
        tags: parse_tags(&a.tags.unwrap_or_default(), "/data/attributes/tags")?,
        fields: parse_writes(&a.fields.unwrap_or_default(), "/data/attributes/fields")?,
    };
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::CREATED,
        move |tx| Box::pin(async move { inquiries::create(tx, &scope, new).await }),
        |i| Doc::one(i.to_resource().to_value()),
    )
    .await
}

#[utoipa::path(get, path = "/api/v1/inquiries", tag = "inquiries",
    params(PageParams, InquiryFilters, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = ListDocument<crate::api::schema::Resource<crate::api::schema::InquiryAttributes, crate::api::schema::InquiryRelationships>>), (status = 400, body = ErrorDocument)))]
pub async fn list(ctx: Ctx) -> Reply {
    let q = ctx.query(Accepts {
        list: true,
        filters: &["status", "reference-id", "inquiry-template-id"],
        ..Default::default()
    })?;
    let statuses = q
        .filter_list("status")
        .iter()
        .map(|s| {
            InquiryStatus::parse(s).ok_or_else(|| {
                Error::bad_request(
                    codes::INVALID_QUERY_PARAMETER,
                    format!("unknown inquiry status {s}"),
                )
                .at_parameter("filter[status]")
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let template_id = match q.filters.get("inquiry-template-id") {
        None => None,
        Some(t) => Some(TemplateId::parse(t).map_err(|_| {
            Error::bad_request(codes::INVALID_QUERY_PARAMETER, "not an inquiry template id")
                .at_parameter("filter[inquiry-template-id]")
        })?),
    };
    let filter = InquiryFilter {
        statuses,
        reference_id: q.filters.get("reference-id").cloned(),
        template_id,
    };
    let (scope, page) = (ctx.scope().clone(), q.page.clone());
    let list = ctx
        .read(move |tx| Box::pin(async move { inquiries::list(tx, &scope, &filter, &page).await }))
        .await?;
    ctx.respond(
        StatusCode::OK,
        page_doc(list, "/api/v1/inquiries", &q, |i| {
            i.to_resource().to_value()
        }),
        Some(&q),
    )
}

/// Includes of a single inquiry.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeParams {
    /// `verifications`, `documents` (comma-separated).
    #[param(
        pattern = "^\\s*(verifications|documents)?\\s*(,\\s*(verifications|documents)?\\s*)*$"
    )]
    pub include: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders),
    security(("api_key" = ["inquiry.read"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::InquiryAttributes, crate::api::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn show(ctx: Ctx, Path(id): Path<String>) -> Reply {
    let q = single(&ctx, &["verifications", "documents"])?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let scope = ctx.scope().clone();
    let include = q.include.clone();
    let (inquiry, included) = ctx
        .read(move |tx| {
            Box::pin(async move {
                let inquiry = inquiries::get(tx, &scope, &id).await?;
                let mut included = Vec::new();
                if include.iter().any(|i| i == "verifications") {
                    for v in verifications::for_inquiry(tx, &scope, &id).await? {
                        included.push(v.to_resource().to_value());
                    }
                }
                if include.iter().any(|i| i == "documents") {
                    for d in documents::for_inquiry(tx, &scope, &id).await? {
                        included.push(d.to_resource().to_value());
                    }
                }
                Ok((inquiry, included))
            })
        })
        .await?;
    ctx.respond(
        StatusCode::OK,
        Doc::one(inquiry.to_resource().to_value()).with_included(included),
        Some(&q),
    )
}

#[utoipa::path(patch, path = "/api/v1/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path), CommonHeaders),
    request_body = Body<InquiryChanges>,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::InquiryAttributes, crate::api::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn update(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<Body<InquiryChanges>>,
) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let a = body.data.attributes;
    if let Some(Some(note)) = &a.note {
        check_len(&Some(note.clone()), MAX_NOTE_LEN, "/data/attributes/note")?;
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
    };
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { inquiries::update(tx, &scope, &id, patch).await }),
        |i| Doc::one(i.to_resource().to_value()),
    )
    .await
}

/// Redacts the inquiry: every field value, verification attribute and document file is removed;
/// ids, statuses and timestamps stay. Irreversible; redacting again changes nothing.
#[utoipa::path(delete, path = "/api/v1/inquiries/{id}", tag = "inquiries",
    params(("id" = String, Path), CommonHeaders),
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::InquiryAttributes, crate::api::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument)))]
pub async fn redact(ctx: Ctx, Path(id): Path<String>) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { inquiries::redact(tx, &scope, &id).await }),
        |i| Doc::one(i.to_resource().to_value()),
    )
    .await
}

async fn transition(ctx: Ctx, id: String, action: InquiryAction) -> Reply {
    single(&ctx, &[])?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let scope = ctx.scope().clone();
    ctx.commit(
        StatusCode::OK,
        move |tx| Box::pin(async move { inquiries::transition(tx, &scope, &id, action).await }),
        |i| Doc::one(i.to_resource().to_value()),
    )
    .await
}

macro_rules! transition_endpoint {
    ($name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "inquiries",
            params(("id" = String, Path), CommonHeaders, IdempotencyHeader),
            request_body(content = ActionBody, description = "optional"),
            security(("api_key" = ["inquiry.write"])),
            responses((status = 200, body = Document<crate::api::schema::Resource<crate::api::schema::InquiryAttributes, crate::api::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
        pub async fn $name(ctx: Ctx, Path(id): Path<String>, OptionalJsonBody(_body): OptionalJsonBody<ActionBody>) -> Reply {
            transition(ctx, id, $action).await
        }
    };
}

transition_endpoint!(
    complete,
    "/api/v1/inquiries/{id}/complete",
    InquiryAction::Complete,
    "`created|pending → completed`."
);
transition_endpoint!(
    approve,
    "/api/v1/inquiries/{id}/approve",
    InquiryAction::Approve,
    "`completed|needs_review → approved`."
);
transition_endpoint!(
    decline,
    "/api/v1/inquiries/{id}/decline",
    InquiryAction::Decline,
    "`completed|needs_review → declined`."
);
transition_endpoint!(
    mark_for_review,
    "/api/v1/inquiries/{id}/mark-for-review",
    InquiryAction::MarkForReview,
    "`completed|needs_review → needs_review`."
);
transition_endpoint!(
    expire,
    "/api/v1/inquiries/{id}/expire",
    InquiryAction::Expire,
    "`created|pending → expired`."
);
transition_endpoint!(
    fail,
    "/api/v1/inquiries/{id}/fail",
    InquiryAction::Fail,
    "`created|pending → failed`."
);
