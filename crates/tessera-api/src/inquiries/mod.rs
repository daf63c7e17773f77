//! Inquiries: create, list, retrieve, update, status transitions, redaction.
//!
//! One idea a file: this one holds what every inquiry endpoint shares (`include`, the write
//! query, committing a change and answering with the inquiry, the created document); `requests`
//! (the request bodies and query parameters), `crud` (create, list, retrieve, update, redact)
//! and `actions` (the status transitions and the tags).

mod actions;
mod crud;
mod requests;

// Globs, so that utoipa's `__path_*` items go with their handlers: `routes!(inquiries::approve)`
// in lib.rs names them through this module.
pub use actions::*;
pub use crud::*;
pub use requests::{
    ActionBody, ActionMeta, IncludeParams, InquiryChanges, InquiryFilters, NewInquiryAttributes,
    SetTagsBody, SetTagsMeta, TagBody, TagMeta,
};

use axum::http::StatusCode;
use serde_json::{Value, json};
use tessera_core::inquiry::{Inquiry, InquiryAttributes, InquiryRelationships};
use tessera_core::jsonapi::Resource;
use tessera_store::Write;
use tessera_store::units::inquiries;
use tessera_store::units::related::InquiryIncludes;
use utoipa::ToSchema;

use crate::{included, single};
use tessera_edge::extract::{Ctx, Reply};
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
