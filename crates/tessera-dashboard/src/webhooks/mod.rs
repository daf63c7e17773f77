//! Webhooks: the list and create form (the secret is shown once, on the page that answers the
//! form), a webhook's page (enable, disable, rotate the secret — shown once — and its
//! deliveries), and a delivery's page with its attempts and a retry. Changing webhooks is for
//! administrators.
//!
//! This file holds the webhook's own pages; `deliveries` the delivery rows and a delivery's
//! page.

mod deliveries;

use deliveries::delivery_row;
pub use deliveries::{AttemptRow, DeliveryRow, delivery, retry};

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::Timestamp;
use tessera_core::id::WebhookId;
use tessera_core::inflect::Inflection;
use tessera_core::secret::generate_webhook_secret;
use tessera_core::webhook::{Webhook, WebhookStatus, parse_enabled_events};
use tessera_store::units::sessions::Session;
use tessera_store::units::webhooks::{self, NewWebhook};

use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, form_error, render};
use crate::session::Signed;
use crate::view::{Badge, Pager, When, badge, or_first_page, page_request, when};
use tessera_edge::state::AppState;

const SECTION: &str = "webhooks";
const BASE: &str = "/dashboard/webhooks";

pub struct WebhookRow {
    pub id: String,
    /// The name, or the default made from the URL for webhooks made before names existed.
    pub name: String,
    pub description: String,
    pub url: String,
    pub status: Badge,
    pub events: String,
    pub created: When,
    pub can_enable: bool,
    pub can_disable: bool,
}

fn row(w: &Webhook, now: Timestamp) -> WebhookRow {
    WebhookRow {
        id: w.id.to_string(),
        name: w
            .settings
            .name
            .clone()
            .unwrap_or_else(|| tessera_core::webhook::default_name(&w.url)),
        description: w.settings.description.clone().unwrap_or_default(),
        url: w.url.clone(),
        status: badge(w.status.as_str()),
        events: w.enabled_events.join(", "),
        created: when(w.created_at, now),
        can_enable: w.status == WebhookStatus::Disabled,
        can_disable: w.status == WebhookStatus::Enabled,
    }
}

#[derive(Template)]
#[template(path = "webhooks.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<WebhookRow>,
    pager: Pager,
    is_admin: bool,
    url: String,
    events: String,
    name: String,
}

async fn list_page(
    state: &AppState,
    session: Session,
    q: Fields,
    typed: (String, String, String),
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let page = page_request(&q);
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page, |p| webhooks::list(scope.clone(), p)).await?;
    let now = state.store.clock().now();
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "Webhooks").with_error(error),
        pager: Pager::new(&list, BASE, &[], |w| w.id.to_string()),
        rows: list.items.iter().map(|w| row(w, now)).collect(),
        is_admin: session.user.role == "admin",
        url: typed.0,
        events: if typed.1.is_empty() {
            String::from("*")
        } else {
            typed.1
        },
        name: typed.2,
    };
    Ok(render(code, &page))
}

/// The list, with the create form.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    list_page(&state, session, q, Default::default(), None).await
}

#[derive(Template)]
#[template(path = "webhook_secret.html")]
struct SecretPage {
    chrome: Chrome,
    w: WebhookRow,
    secret: String,
}

fn secret_page(
    session: &Session,
    w: &Webhook,
    notice: &str,
    now: Timestamp,
) -> axum::response::Response {
    let page = SecretPage {
        chrome: Chrome::new(session, SECTION, "Webhook signing secret")
            .with_notice(Some(notice.to_owned())),
        w: row(w, now),
        secret: w.secret.clone(),
    };
    render(StatusCode::OK, &page)
}

/// Creates a webhook and shows its secret, once.
pub async fn create(State(state): State<AppState>, signed: Signed, Form(form): Form) -> PageResult {
    signed.require_admin()?;
    let session = signed.0;
    let typed = (
        form.text("url"),
        form.text("enabled_events"),
        form.text("name"),
    );
    let names: Vec<String> = typed
        .1
        .split([',', ' ', '\n'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let checked = async {
        if typed.0.is_empty() {
            return Err(tessera_core::Error::invalid(
                tessera_core::codes::MISSING_ATTRIBUTE,
                "enter the URL Tessera should send events to",
            ));
        }
        let enabled_events = parse_enabled_events(&names)?;
        let url = tessera_edge::inputs::check_url(&state.outbound, typed.0.clone()).await?;
        let mut settings = tessera_core::webhook::WebhookSettings::defaults(&url);
        if !typed.2.trim().is_empty() {
            settings.name = Some(tessera_core::webhook::parse_name(typed.2.clone())?);
        }
        Ok(NewWebhook {
            settings,
            url,
            enabled_events,
            inflection: Inflection::default(),
            secret: generate_webhook_secret(),
        })
    }
    .await;
    let scope = session.scope.clone();
    let created = match checked {
        Ok(new) => state.store.write(webhooks::create(scope, new)).await,
        Err(e) => Err(e),
    };
    match created {
        Ok(w) => Ok(secret_page(
            &session,
            &w,
            "Webhook created. Copy its signing secret now: the dashboard shows it only once.",
            state.store.clock().now(),
        )),
        Err(e) => {
            let error = form_error(e)?;
            list_page(&state, session, Fields::default(), typed, Some(error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "webhook.html")]
struct ShowPage {
    chrome: Chrome,
    w: WebhookRow,
    updated: When,
    is_admin: bool,
    can_rotate: bool,
    deliveries: Vec<DeliveryRow>,
    pager: Pager,
}

fn notice_for(done: &str) -> Option<String> {
    Some(String::from(match done {
        "enable" => "Webhook enabled: new events are delivered to it.",
        "disable" => "Webhook disabled: pending deliveries were canceled and no new ones are made.",
        "retry" => "A new attempt of the delivery was scheduled.",
        _ => return None,
    }))
}

async fn show_page(
    state: &AppState,
    session: Session,
    id: WebhookId,
    q: Fields,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let scope = session.scope.clone();
    let page = page_request(&q);
    let w = state
        .store
        .read(webhooks::get(scope.clone(), id.clone()))
        .await?;
    let deliveries = or_first_page(&state.store, page, |p| {
        webhooks::deliveries(scope.clone(), id.clone(), p)
    })
    .await?;
    let now = state.store.clock().now();
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, "Webhook")
            .with_notice(q.get("done").and_then(notice_for))
            .with_error(error),
        updated: when(w.updated_at, now),
        is_admin: session.user.role == "admin",
        can_rotate: w.status != WebhookStatus::Archived,
        pager: Pager::new(&deliveries, &format!("{BASE}/{id}"), &[], |d| {
            d.id.to_string()
        }),
        deliveries: deliveries
            .items
            .iter()
            .map(|d| delivery_row(d, now))
            .collect(),
        w: row(&w, now),
    };
    Ok(render(code, &page))
}

/// A webhook's page with its deliveries.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = WebhookId::parse(&id).map_err(|_| PageError::not_found())?;
    show_page(
        &state,
        session,
        id,
        Fields::from_query(query.as_deref()),
        None,
    )
    .await
}

/// Enables or disables a webhook, or rotates its secret (the new one is shown once).
pub async fn act(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, action)): Path<(String, String)>,
) -> PageResult {
    let id = WebhookId::parse(&id).map_err(|_| PageError::not_found())?;
    signed.require_admin()?;
    let session = signed.0;
    let scope = session.scope.clone();
    let overlap = state.config.webhook_secret_overlap_secs;
    let result = match action.as_str() {
        "enable" | "disable" => {
            let to = if action == "enable" {
                WebhookStatus::Enabled
            } else {
                WebhookStatus::Disabled
            };
            state
                .store
                .write(webhooks::set_status(scope, id.clone(), to))
                .await
        }
        "rotate-secret" => {
            let secret = generate_webhook_secret();
            state
                .store
                .write(webhooks::rotate_secret(scope, id.clone(), secret, overlap))
                .await
        }
        _ => return Err(PageError::not_found()),
    };
    match result {
        Ok(w) if action == "rotate-secret" => Ok(secret_page(
            &session,
            &w,
            "Secret rotated. Copy the new secret now: the dashboard shows it only once. The previous secret keeps signing alongside it for a while, so receivers can switch without missing events.",
            state.store.clock().now(),
        )),
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done={action}")).into_response()),
        Err(e) => {
            let error = form_error(e)?;
            show_page(&state, session, id, Fields::default(), Some(error)).await
        }
    }
}
