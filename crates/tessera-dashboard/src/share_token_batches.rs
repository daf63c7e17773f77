//! Share-token batches: the inquiries list's "Share selected" form (a batch create on one
//! connection), the share-token list's "Redeem selected" form (a batch redeem of inbound tokens),
//! and a batch's page — its progress (counts), its items (paged) and a refresh while it runs.
//! The forms call the same units of work as `POST /api/v1/connect/share-tokens/batch` and
//! `…/batch-redeem`, with the signed-in user as the batch's maker.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::Error;
use tessera_core::id::{ConnectionId, ShareTokenBatchId, ShareTokenId, TemplateId};
use tessera_core::share_token::batch::{BatchStatus, MAX_ITEMS, ShareTokenBatch, TokenOptions};
use tessera_core::share_token::{DEFAULT_EXPIRES_IN, RedeemParams, SourceId, check_expires_in};
use tessera_core::tenancy::Actor;
use tessera_store::units::share_token_batches as batches;

use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, form_error, render, sentence};
use crate::session::Signed;
use crate::view::{Badge, Pager, When, badge, or_first_page, page_request, when, when_opt};
use tessera_edge::state::AppState;

const BASE: &str = "/dashboard/share-token-batches";

fn refused(message: impl Into<String>) -> PageError {
    PageError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "That did not work",
        message,
    )
}

/// A refusal of the unit as the page's error (a 4xx with its message).
fn unit_error(e: Error) -> PageError {
    match form_error(e) {
        Ok((status, message)) => PageError::new(status, "That did not work", message),
        Err(page) => page,
    }
}

/// The ids ticked in a form (`name` repeated), 1 to 1,000 of them.
fn selected<'a>(form: &'a Fields, name: &str, what: &str) -> Result<Vec<&'a str>, PageError> {
    let ids = form.all(name);
    if ids.is_empty() {
        return Err(refused(format!("Select at least one {what}.")));
    }
    if ids.len() > MAX_ITEMS {
        return Err(refused(format!(
            "A batch holds at most {MAX_ITEMS} {what}s."
        )));
    }
    Ok(ids)
}

/// Shares the selected inquiries on one connection (the inquiries list's form).
pub async fn create(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let connection = ConnectionId::parse(&form.text("connection_id"))
        .map_err(|_| refused("Pick an active outbound connection."))?;
    let expires_in_seconds = match form.get("expires_in") {
        None => DEFAULT_EXPIRES_IN,
        Some(s) => s
            .parse::<i64>()
            .map_err(|_| refused("Pick how long the tokens last."))
            .and_then(|s| check_expires_in(s).map_err(|e| refused(sentence(&e.detail))))?,
    };
    let mut items = Vec::new();
    for id in selected(&form, "source_id", "inquiry")? {
        let source = SourceId::parse(id).map_err(|e| refused(sentence(&e.detail)))?;
        if items.iter().any(|(s, _): &(SourceId, _)| s == &source) {
            continue;
        }
        items.push((
            source,
            TokenOptions {
                expires_in_seconds,
                disclosure: Default::default(),
            },
        ));
    }
    let actor = Actor::User(session.user.id.clone());
    let unit = batches::create(session.scope.clone(), connection, items, actor);
    let batch = state.store.write(unit).await.map_err(unit_error)?;
    Ok(Redirect::to(&format!("{BASE}/{}", batch.id)).into_response())
}

/// Redeems the selected inbound tokens (the share-token list's form).
pub async fn redeem(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let inquiry_template_id = match form.get("template_id") {
        None => None,
        Some(t) => Some(TemplateId::parse(t).map_err(|_| refused("Pick one of your templates."))?),
    };
    let mut tokens: Vec<ShareTokenId> = Vec::new();
    for id in selected(&form, "token_id", "share token")? {
        let id = ShareTokenId::parse(id).map_err(|_| refused("That is not a share token id."))?;
        if !tokens.contains(&id) {
            tokens.push(id);
        }
    }
    let params = RedeemParams {
        inquiry_template_id,
        ..RedeemParams::default()
    };
    let actor = Actor::User(session.user.id.clone());
    let unit = batches::redeem(session.scope.clone(), tokens, params, actor);
    let batch = state.store.write(unit).await.map_err(unit_error)?;
    Ok(Redirect::to(&format!("{BASE}/{}", batch.id)).into_response())
}

pub struct ItemRow {
    pub index: i64,
    pub input_id: String,
    pub status: Badge,
    pub token_id: String,
    pub failure: String,
    pub processed: When,
}

#[derive(Template)]
#[template(path = "share_token_batch.html")]
struct BatchPage {
    chrome: Chrome,
    id: String,
    kind: String,
    status: Badge,
    running: bool,
    total: i64,
    succeeded: i64,
    failed: i64,
    pending: i64,
    /// Done, in percent (for the progress bar).
    done: i64,
    created: When,
    completed: When,
    rows: Vec<ItemRow>,
    pager: Pager,
}

fn status_label(b: &ShareTokenBatch) -> &'static str {
    match b.status() {
        BatchStatus::Pending => "pending",
        BatchStatus::Completed => "completed",
    }
}

/// A batch's page: its progress and its items.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = ShareTokenBatchId::parse(&id).map_err(|_| PageError::not_found())?;
    let q = Fields::from_query(query.as_deref());
    let store = &state.store;
    let b = store
        .read(batches::get(session.scope.clone(), id.clone()))
        .await?;
    let scope = session.scope.clone();
    let items = or_first_page(store, page_request(&q), |p| {
        batches::items(scope.clone(), id.clone(), p)
    })
    .await?;
    let now = store.clock().now();
    let base = format!("{BASE}/{id}");
    let rows = items
        .items
        .iter()
        .map(|i| {
            let (status, failure) = i.status();
            let status = serde_json::to_value(status)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            ItemRow {
                index: i.index,
                input_id: i.input_id.clone(),
                status: badge(&status),
                token_id: i
                    .share_token_id
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                failure: failure
                    .map(|f| format!("{}: {}", f.code, sentence(&f.detail)))
                    .unwrap_or_default(),
                processed: when_opt(i.processed_at, now),
            }
        })
        .collect();
    let c = b.counts;
    let page = BatchPage {
        chrome: Chrome::new(&session, "share-tokens", format!("Batch {id}")),
        id: id.to_string(),
        kind: b.kind.as_str().to_owned(),
        status: badge(status_label(&b)),
        running: b.status() == BatchStatus::Pending,
        total: c.total,
        succeeded: c.succeeded,
        failed: c.failed,
        pending: c.pending,
        done: if c.total > 0 {
            (c.total - c.pending) * 100 / c.total
        } else {
            100
        },
        created: when(b.created_at, now),
        completed: when_opt(
            (b.status() == BatchStatus::Completed)
                .then_some(b.completed_at.or(b.processed_at))
                .flatten(),
            now,
        ),
        pager: Pager::new(&items, &base, &[], |i| i.id.to_string()),
        rows,
    };
    Ok(render(StatusCode::OK, &page))
}
