//! Deliveries of a webhook: the row its page lists, and a delivery's page with its attempts and
//! a retry (administrators).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::Timestamp;
use tessera_core::id::DeliveryId;
use tessera_core::webhook::Delivery;
use tessera_store::units::sessions::Session;
use tessera_store::units::webhooks;

use super::{SECTION, notice_for};
use crate::form::Fields;
use crate::page::{Chrome, PageError, PageResult, form_error, render};
use crate::session::Signed;
use crate::view::{Badge, When, badge, when, when_opt};
use tessera_edge::state::AppState;

pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub event_name: String,
    pub status: Badge,
    pub attempts: String,
    pub created: When,
    pub next_attempt: When,
}

pub(super) fn delivery_row(d: &Delivery, now: Timestamp) -> DeliveryRow {
    DeliveryRow {
        id: d.id.to_string(),
        event_id: d.event_id.to_string(),
        event_name: d.event_name.clone(),
        status: badge(d.status.as_str()),
        attempts: format!("{} of {}", d.attempts_made, d.max_attempts),
        created: when(d.created_at, now),
        next_attempt: when_opt(d.next_attempt_at, now),
    }
}

pub struct AttemptRow {
    pub attempt: u32,
    pub started: When,
    pub duration_ms: i64,
    pub response_status: String,
    pub error: String,
    pub body: String,
}

#[derive(Template)]
#[template(path = "webhook_delivery.html")]
struct DeliveryPage {
    chrome: Chrome,
    webhook_id: String,
    d: DeliveryRow,
    first_attempt: When,
    attempts: Vec<AttemptRow>,
    can_retry: bool,
}

async fn delivery_page(
    state: &AppState,
    session: Session,
    id: DeliveryId,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let scope = session.scope.clone();
    let d = state.store.read(webhooks::delivery(scope, id)).await?;
    let now = state.store.clock().now();
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let page = DeliveryPage {
        chrome: Chrome::new(&session, SECTION, format!("Delivery of {}", d.event_name))
            .with_notice(notice)
            .with_error(error),
        webhook_id: d.webhook_id.to_string(),
        first_attempt: when_opt(d.first_attempted_at, now),
        attempts: d
            .attempts
            .iter()
            .map(|a| AttemptRow {
                attempt: a.attempt,
                started: when(a.started_at, now),
                duration_ms: a.duration_ms,
                response_status: a.response_status.map(|s| s.to_string()).unwrap_or_default(),
                error: a.error.clone().unwrap_or_default(),
                body: a.response_body.clone().unwrap_or_default(),
            })
            .collect(),
        can_retry: session.user.role == "admin"
            && matches!(
                d.status,
                tessera_core::webhook::DeliveryStatus::Failed
                    | tessera_core::webhook::DeliveryStatus::Canceled
            ),
        d: delivery_row(&d, now),
    };
    Ok(render(code, &page))
}

/// A delivery's page with its attempts.
pub async fn delivery(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = DeliveryId::parse(&id).map_err(|_| PageError::not_found())?;
    let q = Fields::from_query(query.as_deref());
    delivery_page(
        &state,
        session,
        id,
        q.get("done").and_then(notice_for),
        None,
    )
    .await
}

/// Schedules a new attempt of a failed or canceled delivery.
pub async fn retry(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let id = DeliveryId::parse(&id).map_err(|_| PageError::not_found())?;
    signed.require_admin()?;
    let session = signed.0;
    let scope = session.scope.clone();
    let done = state.store.write(webhooks::retry(scope, id.clone())).await;
    match done {
        Ok(_) => Ok(
            Redirect::to(&format!("/dashboard/webhook-deliveries/{id}?done=retry")).into_response(),
        ),
        Err(e) => {
            let error = form_error(e)?;
            delivery_page(&state, session, id, None, Some(error)).await
        }
    }
}
