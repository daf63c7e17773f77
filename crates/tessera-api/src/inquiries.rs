//! Inquiries: create, list, retrieve, update, status transitions, redaction.

use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Deserializer};
use serde_json::json;
use serde_json::{Map, Value};
use tessera_core::fields::parse_writes;
use tessera_core::id::{InquiryId, TemplateId};
use tessera_core::inquiry::{
    Inquiry, InquiryAction, InquiryStatus, MAX_NOTE_LEN, MAX_REFERENCE_ID_LEN, MAX_TAG_LEN,
    check_len, parse_tags,
};
use tessera_core::inquiry::{InquiryAttributes, InquiryRelationships};
use tessera_core::jsonapi::{Document, ErrorDocument, ListDocument, Resource};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::Write;
use tessera_store::units::inquiries::{self, InquiryFilter, InquiryPatch, NewInquiry, TagChange};
use tessera_store::units::related::InquiryIncludes;
use utoipa::ToSchema;

use crate::{
    Body, CommonHeaders, EmptyData, IdempotencyHeader, PageParams, id_attribute, included,
    page_doc, single,
};
use tessera_edge::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};
use tessera_edge::query::Accepts;
use tessera_edge::query::Query;
use tessera_edge::render::Doc;

/// The relationships `include` accepts on inquiry endpoints (Persona's list). Tessera includes
/// `inquiry-template`, `verifications` and `documents`; the others name objects it does not have
/// and add nothing.
pub const INCLUDES: &[&str] = &[
    "inquiry-template",
    "inquiry-template-version",
    "template",
    "verifications",
    "documents",
    "sessions",
    "account",
    "reports",
    "reviewer",
    "selfies",
    "transaction",
];

/// Attributes of a new inquiry (Persona's). `account-id` and `inquiry-template-version-id`
/// must be null or absent (Tessera has neither accounts nor template versions: 422
/// `unsupported_attribute`); `theme-id`, `theme-set-id` and `initial-step-name` are accepted
/// and ignored (no hosted flow).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct NewInquiryAttributes {
    pub inquiry_template_id: Option<String>,
    /// Taken as `inquiry-template-id` when it is an `itmpl_…` id; anything else is 422.
    pub template_id: Option<String>,
    /// Must be null: Tessera has no template versions.
    pub inquiry_template_version_id: Option<String>,
    /// Must be null: Tessera has no accounts.
    pub account_id: Option<String>,
    /// Becomes the inquiry's `creator`.
    pub creator_email_address: Option<String>,
    /// Ignored.
    pub theme_id: Option<String>,
    /// Ignored.
    pub theme_set_id: Option<String>,
    /// Stored and shown as `redirect-uri`.
    pub redirect_uri: Option<String>,
    /// Ignored.
    pub initial_step_name: Option<String>,
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
    #[serde(default, deserialize_with = "double")]
    #[schema(value_type = Option<String>)]
    pub redirect_uri: Option<Option<String>>,
}

/// An optional body of the transition endpoints: `{"meta": {"comment": "…"}}`. Approve and
/// decline store the comment as `reviewer-comment`; the other transitions ignore it. A `data`
/// member without attributes (`{"data": {"attributes": {}}}`, as generic clients send) is
/// accepted and ignored.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
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

/// The body of `add-tag` and `remove-tag`: `{"meta": {"tag-name": "…"}}`. A tag is its name,
/// so `tag-id` is taken as the name too.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
    #[serde(default)]
    pub meta: TagMeta,
}

/// Meta of `add-tag` and `remove-tag`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct TagMeta {
    pub tag_name: Option<String>,
    pub tag_id: Option<String>,
}

/// The body of `set-tags`: `{"meta": {"tag-name": ["…"]}}` (`tag-id` names are added to them).
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetTagsBody {
    #[serde(default)]
    pub data: Option<EmptyData>,
    #[serde(default)]
    pub meta: SetTagsMeta,
}

/// Meta of `set-tags`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct SetTagsMeta {
    pub tag_name: Option<Vec<String>>,
    pub tag_id: Option<Vec<String>>,
}

/// The answer to `POST /inquiries` (for the OpenAPI description): the inquiry and Persona's
/// `meta`.
#[derive(Debug, serde::Serialize, ToSchema)]
pub struct CreatedInquiry {
    pub data: Resource<InquiryAttributes, InquiryRelationships>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub included: Option<Vec<Value>>,
    pub meta: CreatedInquiryMeta,
}

/// `meta` of a created inquiry: always null (Tessera has no hosted flow).
#[derive(Debug, serde::Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct CreatedInquiryMeta {
    #[schema(required = true)]
    pub session_token: Option<String>,
    #[schema(required = true)]
    pub one_time_link: Option<String>,
    #[schema(required = true)]
    pub one_time_link_short: Option<String>,
}

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

/// What the names of `include` (checked against [`INCLUDES`]) ask for; Persona's names of
/// objects Tessera does not have add nothing.
fn includes(names: &[String]) -> InquiryIncludes {
    let wants = |name: &str| names.iter().any(|i| i == name);
    InquiryIncludes {
        template: wants("inquiry-template"),
        verifications: wants("verifications"),
        documents: wants("documents"),
    }
}

/// Whether `include` names `inquiry` (verifications and documents include their inquiry).
pub(crate) fn wants_inquiry(names: &[String]) -> bool {
    names.iter().any(|i| i == "inquiry")
}

/// `included` of a verification or document: its inquiry, when it was asked for.
pub(crate) fn inquiry_included(inquiry: Option<Inquiry>) -> Vec<Value> {
    inquiry
        .map(|i| i.to_resource().to_value())
        .into_iter()
        .collect()
}

/// The query of a write endpoint: `include` and `fields` as on reads.
fn write_query(ctx: &Ctx) -> Result<Query, tessera_edge::error::ApiError> {
    single(ctx, INCLUDES)
}

/// Runs a unit of work that changes one inquiry and answers with it and what `include` asks for.
async fn commit_inquiry(ctx: &Ctx, q: Query, status: StatusCode, unit: Write<Inquiry>) -> Reply {
    let scope = ctx.scope().clone();
    let created = status == StatusCode::CREATED;
    ctx.commit(
        status,
        inquiries::with_related(unit, scope.clone(), includes(&q.include)),
        move |(i, related)| {
            let doc = Doc::one(i.to_resource().to_value()).with_included(included(related, &scope));
            if created {
                doc.with_meta(json!({
                    "session-token": null,
                    "one-time-link": null,
                    "one-time-link-short": null,
                }))
            } else {
                doc
            }
        },
    )
    .await
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
    /// An inquiry template id; one that names no template gives an empty list.
    #[param(rename = "filter[inquiry-template-id]", max_length = 1000)]
    #[serde(rename = "filter[inquiry-template-id]")]
    pub inquiry_template_id: Option<String>,
    /// Persona's legacy template id: an `itmpl_…` id works as `inquiry-template-id`; anything
    /// else matches nothing.
    #[param(rename = "filter[template-id]", max_length = 1000)]
    #[serde(rename = "filter[template-id]")]
    pub template_id: Option<String>,
    /// One or more inquiry ids, comma-separated; malformed ones match nothing.
    #[param(rename = "filter[inquiry-id]", max_length = 1000)]
    #[serde(rename = "filter[inquiry-id]")]
    pub inquiry_id: Option<String>,
    /// Tessera has no accounts: any value gives an empty list.
    #[param(rename = "filter[account-id]", max_length = 1000)]
    #[serde(rename = "filter[account-id]")]
    pub account_id: Option<String>,
    /// The note, exactly.
    #[param(rename = "filter[note]", max_length = 1000)]
    #[serde(rename = "filter[note]")]
    pub note: Option<String>,
    /// Created at or after this time (RFC 3339).
    #[param(rename = "filter[created-at-start]", max_length = 1000)]
    #[serde(rename = "filter[created-at-start]")]
    pub created_at_start: Option<String>,
    /// Created at or before this time (RFC 3339).
    #[param(rename = "filter[created-at-end]", max_length = 1000)]
    #[serde(rename = "filter[created-at-end]")]
    pub created_at_end: Option<String>,
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

/// Includes of an inquiry endpoint.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IncludeParams {
    /// Comma-separated: `inquiry-template`, `verifications`, `documents` are included; Persona's
    /// other names (`inquiry-template-version`, `template`, `sessions`, `account`, `reports`,
    /// `reviewer`, `selfies`, `transaction`) are accepted and add nothing.
    #[param(
        pattern = "^\\s*(inquiry-template|inquiry-template-version|template|verifications|documents|sessions|account|reports|reviewer|selfies|transaction)?\\s*(,\\s*(inquiry-template|inquiry-template-version|template|verifications|documents|sessions|account|reports|reviewer|selfies|transaction)?\\s*)*$"
    )]
    pub include: Option<String>,
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

async fn transition(ctx: Ctx, id: String, action: InquiryAction, body: ActionBody) -> Reply {
    let q = write_query(&ctx)?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let comment = body.meta.and_then(|m| m.comment);
    check_len(&comment, MAX_NOTE_LEN, "/meta/comment")?;
    let unit = inquiries::transition_with_comment(ctx.scope().clone(), id, action, comment);
    commit_inquiry(&ctx, q, StatusCode::OK, unit).await
}

async fn change_tags(ctx: Ctx, id: String, change: TagChange) -> Reply {
    let q = write_query(&ctx)?;
    let id = path_id(InquiryId::parse, &id, "inquiry")?;
    let unit = inquiries::change_tags(ctx.scope().clone(), id, change);
    commit_inquiry(&ctx, q, StatusCode::OK, unit).await
}

/// The one tag named by `meta.tag-name` or `meta.tag-id` (a tag is its name).
fn one_tag(meta: TagMeta) -> Result<String, Error> {
    let (pointer, raw) = match (meta.tag_name, meta.tag_id) {
        (Some(n), Some(i)) if n.trim() != i.trim() => {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "tag-name and tag-id name different tags",
            )
            .at("/meta/tag-id"));
        }
        (Some(n), _) => ("/meta/tag-name", n),
        (None, Some(i)) => ("/meta/tag-id", i),
        (None, None) => {
            return Err(
                Error::invalid(codes::MISSING_ATTRIBUTE, "meta.tag-name is required")
                    .at("/meta/tag-name"),
            );
        }
    };
    let t = raw.trim();
    if t.is_empty() || t.chars().count() > MAX_TAG_LEN {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("a tag is 1 to {MAX_TAG_LEN} characters"),
        )
        .at(pointer));
    }
    Ok(t.to_owned())
}

/// Adds a tag (`inquiry.updated-tags`; nothing happens if the inquiry has it).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/add-tag", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
    request_body = TagBody,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn add_tag(ctx: Ctx, Path(id): Path<String>, JsonBody(body): JsonBody<TagBody>) -> Reply {
    let tag = one_tag(body.meta)?;
    change_tags(ctx, id, TagChange::Add(tag)).await
}

/// Removes a tag (`inquiry.updated-tags`; nothing happens if the inquiry has not got it).
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/remove-tag", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
    request_body = TagBody,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn remove_tag(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<TagBody>,
) -> Reply {
    let tag = one_tag(body.meta)?;
    change_tags(ctx, id, TagChange::Remove(tag)).await
}

/// Replaces the tags with `meta.tag-name` (and `meta.tag-id`); `inquiry.updated-tags` when they
/// change.
#[utoipa::path(post, path = "/api/v1/inquiries/{id}/set-tags", tag = "inquiries",
    params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
    request_body = SetTagsBody,
    security(("api_key" = ["inquiry.write"])),
    responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument), (status = 422, body = ErrorDocument)))]
pub async fn set_tags(
    ctx: Ctx,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<SetTagsBody>,
) -> Reply {
    let mut tags = body.meta.tag_name.unwrap_or_default();
    let pointer = if tags.is_empty() && body.meta.tag_id.is_some() {
        "/meta/tag-id"
    } else {
        "/meta/tag-name"
    };
    tags.extend(body.meta.tag_id.unwrap_or_default());
    let tags = parse_tags(&tags, pointer)?;
    change_tags(ctx, id, TagChange::Set(tags)).await
}

macro_rules! transition_endpoint {
    ($name:ident, $path:literal, $action:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "inquiries",
            params(("id" = String, Path), IncludeParams, CommonHeaders, IdempotencyHeader),
            request_body(content = ActionBody, description = "optional"),
            security(("api_key" = ["inquiry.write"])),
            responses((status = 200, body = Document<crate::schema::Resource<crate::schema::InquiryAttributes, crate::schema::InquiryRelationships>>), (status = 404, body = ErrorDocument), (status = 409, body = ErrorDocument)))]
        pub async fn $name(ctx: Ctx, Path(id): Path<String>, OptionalJsonBody(body): OptionalJsonBody<ActionBody>) -> Reply {
            transition(ctx, id, $action, body).await
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
    "`pending|completed|needs_review|failed|expired → approved`; `meta.comment` becomes `reviewer-comment`."
);
transition_endpoint!(
    decline,
    "/api/v1/inquiries/{id}/decline",
    InquiryAction::Decline,
    "`pending|completed|needs_review|failed|expired → declined`; `meta.comment` becomes `reviewer-comment`."
);
transition_endpoint!(
    mark_for_review,
    "/api/v1/inquiries/{id}/mark-for-review",
    InquiryAction::MarkForReview,
    "Any status but `approved` and `declined` `→ needs_review`."
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
