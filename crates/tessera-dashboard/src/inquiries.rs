//! Inquiries: the list (filtered by status, paged) and an inquiry's page — its fields, its
//! verifications with their checks (the share-token verification of a redeemed copy first), its
//! documents, and where a copy came from (`shared-from`).

use askama::Template;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use tessera_core::id::{DocumentId, InquiryId, OrganizationId};
use tessera_core::inquiry::{Inquiry, InquiryStatus};
use tessera_core::source_status::SourceStatus;
use tessera_core::verification::{CheckStatus, Requirement, Verification, VerificationKind};
use tessera_store::units::inquiries::{self, InquiryFilter};
use tessera_store::units::{documents, templates, verifications};

use crate::events::{EventRow, object_events};
use crate::form::Fields;
use crate::page::{Chrome, PageError, PageResult, render};
use crate::session::Signed;
use crate::view::{
    Badge, Choice, Pager, When, badge, choices, or_first_page, org_names, page_request, when,
    when_opt,
};
use tessera_edge::state::AppState;

const SECTION: &str = "inquiries";
const BASE: &str = "/dashboard/inquiries";

pub struct InquiryRow {
    pub id: String,
    pub status: Badge,
    pub name: String,
    pub reference_id: String,
    pub shared: bool,
    pub created: When,
}

fn field_text(i: &Inquiry, name: &str) -> Option<String> {
    i.fields
        .get(name)
        .and_then(|f| f.value.as_str())
        .map(str::to_owned)
}

fn row(i: &Inquiry, now: tessera_core::Timestamp) -> InquiryRow {
    let name = [field_text(i, "name-first"), field_text(i, "name-last")]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    InquiryRow {
        id: i.id.to_string(),
        status: badge(i.status.as_str()),
        name,
        reference_id: i.reference_id.clone().unwrap_or_default(),
        shared: i.shared_from.is_some(),
        created: when(i.created_at, now),
    }
}

#[derive(Template)]
#[template(path = "inquiries.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<InquiryRow>,
    statuses: Vec<Choice>,
    filtered: bool,
    pager: Pager,
    /// The active outbound connections ("Share selected with connection…").
    connections: Vec<Choice>,
    lifetimes: Vec<Choice>,
}

/// The list.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    let status = q.text("status");
    let filter = InquiryFilter {
        statuses: InquiryStatus::parse(&status).into_iter().collect(),
        ..InquiryFilter::default()
    };
    let page = page_request(&q);
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page, |p| {
        inquiries::list(scope.clone(), filter.clone(), p)
    })
    .await?;
    let now = state.store.clock().now();
    let mut options = vec![("", "Any status")];
    options.extend(InquiryStatus::ALL.iter().map(|s| (s.as_str(), s.as_str())));
    let outbound =
        crate::connections::active_outbound(&state.store, session.scope.clone(), 100).await?;
    let partners: Vec<OrganizationId> = outbound
        .items
        .iter()
        .map(|c| c.destination_org.clone())
        .collect();
    let names = org_names(&state.store, partners).await?;
    let connections = outbound
        .items
        .iter()
        .map(|c| Choice {
            selected: false,
            value: c.id.to_string(),
            label: format!(
                "{} → {}",
                c.name.clone().unwrap_or_else(|| String::from("Connection")),
                names
                    .get(&c.destination_org)
                    .cloned()
                    .unwrap_or_else(|| c.destination_org.to_string())
            ),
        })
        .collect();
    let default_lifetime = tessera_core::share_token::DEFAULT_EXPIRES_IN.to_string();
    let page = ListPage {
        connections,
        lifetimes: choices(crate::share_tokens::LIFETIMES, &default_lifetime),
        chrome: Chrome::new(&session, SECTION, "Inquiries"),
        pager: Pager::new(&list, BASE, &[("status", &status)], |i| i.id.to_string()),
        rows: list.items.iter().map(|i| row(i, now)).collect(),
        statuses: choices(&options, &status),
        filtered: !status.is_empty(),
    };
    Ok(render(StatusCode::OK, &page))
}

pub struct FieldRow {
    pub name: String,
    pub kind: String,
    pub value: String,
}

pub struct CheckRow {
    pub name: String,
    pub status: Badge,
    pub required: bool,
    pub reasons: String,
}

pub struct VerificationView {
    pub id: String,
    pub kind: String,
    pub status: Badge,
    pub is_share_token: bool,
    pub completed: When,
    pub checks: Vec<CheckRow>,
    pub attributes: Vec<FieldRow>,
}

pub struct DocumentRow {
    pub id: String,
    pub kind: String,
    pub filename: String,
    pub content_type: String,
    pub size: String,
    pub sha256: String,
    pub downloadable: bool,
    pub created: When,
}

pub struct SharedFromView {
    pub organization: String,
    pub organization_id: String,
    pub inquiry_id: String,
    pub share_token_id: String,
    /// What the source organization did to the source since (`source-status`), as a badge.
    pub source_status: Badge,
    /// `current`, `redacted` or `revoked`, for the sentence beside the badge.
    pub source_status_name: &'static str,
    /// When it did (none while `current`).
    pub source_status_changed: Option<When>,
}

#[derive(Template)]
#[template(path = "inquiry.html")]
struct ShowPage {
    chrome: Chrome,
    i: InquiryRow,
    note: String,
    tags: String,
    template: Option<String>,
    creator: String,
    reviewer_comment: String,
    updated: When,
    started: When,
    expires: Option<When>,
    completed: When,
    failed: Option<When>,
    marked_for_review: Option<When>,
    decisioned: When,
    redacted: When,
    is_redacted: bool,
    fields: Vec<FieldRow>,
    verifications: Vec<VerificationView>,
    documents: Vec<DocumentRow>,
    shared_from: Option<SharedFromView>,
    events: Vec<EventRow>,
}

fn show_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn check_status(s: CheckStatus) -> &'static str {
    match s {
        CheckStatus::Passed => "passed",
        CheckStatus::Failed => "failed",
        CheckStatus::NotApplicable => "not_applicable",
    }
}

fn verification_view(v: &Verification, now: tessera_core::Timestamp) -> VerificationView {
    VerificationView {
        id: v.id.to_string(),
        kind: v.kind.as_str().to_owned(),
        status: badge(v.status.as_str()),
        is_share_token: v.kind == VerificationKind::ShareToken,
        completed: when(v.completed_at, now),
        checks: v
            .checks
            .iter()
            .map(|c| CheckRow {
                name: c.name.clone(),
                status: badge(check_status(c.status)),
                required: c.requirement == Requirement::Required,
                reasons: c.reasons.join("; "),
            })
            .collect(),
        attributes: v
            .attributes
            .iter()
            .map(|(k, val)| FieldRow {
                name: k.clone(),
                kind: String::new(),
                value: show_value(val),
            })
            .collect(),
    }
}

fn size(bytes: i64) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    }
}

/// An inquiry's page.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> PageResult {
    let id = InquiryId::parse(&id).map_err(|_| PageError::not_found())?;
    let scope = session.scope.clone();
    let store = &state.store;
    let i = store
        .read(inquiries::get(scope.clone(), id.clone()))
        .await?;
    let vs = store
        .read(verifications::for_inquiry(scope.clone(), id.clone()))
        .await?;
    let ds = store
        .read(documents::for_inquiry(scope.clone(), id.clone()))
        .await?;
    let template = match &i.template_id {
        Some(t) => Some(store.read(templates::get(scope.clone(), t.clone())).await?),
        None => None,
    };
    let origins: Vec<OrganizationId> = i
        .shared_from
        .iter()
        .map(|s| s.organization_id.clone())
        .collect();
    let names = org_names(store, origins).await?;
    let evts = object_events(store, scope, id.to_string()).await?;
    let now = state.store.clock().now();
    // The share-token verification says whether a copy meets our requirements: it comes first.
    let source_status = i.shown_source_status().unwrap_or(SourceStatus::Current);
    let mut verifications: Vec<VerificationView> =
        vs.iter().map(|v| verification_view(v, now)).collect();
    verifications.sort_by_key(|v| !v.is_share_token);
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, format!("Inquiry {}", i.id)),
        note: i.note.clone().unwrap_or_default(),
        tags: i.tags.join(", "),
        template: template.map(|t| format!("{} ({})", t.name, t.id)),
        creator: i.creator.clone(),
        reviewer_comment: i.reviewer_comment.clone().unwrap_or_default(),
        updated: when(i.updated_at, now),
        started: when_opt(i.started_at, now),
        expires: i.expires_at.map(|t| when(t, now)),
        completed: when_opt(i.completed_at, now),
        failed: i.failed_at.map(|t| when(t, now)),
        marked_for_review: i.marked_for_review_at.map(|t| when(t, now)),
        decisioned: when_opt(i.decisioned_at, now),
        redacted: when_opt(i.redacted_at, now),
        is_redacted: i.redacted_at.is_some(),
        fields: i
            .fields
            .iter()
            .map(|(name, f)| FieldRow {
                name: name.clone(),
                kind: serde_json::to_value(f.kind)
                    .ok()
                    .as_ref()
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
                value: show_value(&f.value),
            })
            .collect(),
        verifications,
        documents: ds
            .iter()
            .map(|d| DocumentRow {
                id: d.id.to_string(),
                kind: d.kind.as_str().to_owned(),
                filename: d.filename.clone().unwrap_or_default(),
                content_type: d.content_type.clone(),
                size: size(d.byte_size),
                sha256: d.sha256.clone().unwrap_or_default(),
                downloadable: d.file_id.is_some(),
                created: when(d.created_at, now),
            })
            .collect(),
        shared_from: i.shared_from.as_ref().map(|s| SharedFromView {
            organization: names
                .get(&s.organization_id)
                .cloned()
                .unwrap_or_else(|| s.organization_id.to_string()),
            organization_id: s.organization_id.to_string(),
            inquiry_id: s.inquiry_id.to_string(),
            share_token_id: s.share_token_id.to_string(),
            source_status: badge(source_status.as_str()),
            source_status_name: source_status.as_str(),
            source_status_changed: i.source_status_changed_at.map(|t| when(t, now)),
        }),
        events: evts.items.iter().map(|e| EventRow::new(e, now)).collect(),
        i: row(&i, now),
    };
    Ok(render(StatusCode::OK, &page))
}

/// A document's file, as a download (never shown inline: its type is the uploader's word).
pub async fn file(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = DocumentId::parse(&id).map_err(|_| PageError::not_found())?;
    let scope = session.scope.clone();
    let (doc, bytes) = state.store.read(documents::file(scope, id)).await?;
    let mut r = (StatusCode::OK, Body::from(bytes)).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&doc.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment"),
    );
    Ok(r)
}
