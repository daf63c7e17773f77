//! The actions on an inquiry: the status transitions (complete, approve, decline, mark for
//! review, expire, fail; approve and decline keep `meta.comment`) and its tags (add, remove,
//! set).

use axum::extract::Path;
use axum::http::StatusCode;
use tessera_core::id::InquiryId;
use tessera_core::inquiry::{InquiryAction, MAX_NOTE_LEN, MAX_TAG_LEN, check_len, parse_tags};
use tessera_core::jsonapi::{Document, ErrorDocument};
use tessera_core::{Error, codes};
use tessera_store::units::inquiries::{self, TagChange};

use super::requests::{ActionBody, IncludeParams, SetTagsBody, TagBody, TagMeta};
use super::{commit_inquiry, write_query};
use crate::{CommonHeaders, IdempotencyHeader};
use tessera_edge::extract::{Ctx, JsonBody, OptionalJsonBody, Reply, path_id};

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
