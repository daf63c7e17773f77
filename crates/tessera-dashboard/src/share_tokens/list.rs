//! The list of share tokens, with the forms that create one and redeem one by its id.

use askama::Template;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use tessera_core::connection::Direction;
use tessera_core::id::OrganizationId;
use tessera_core::share_token::{DEFAULT_EXPIRES_IN, ShareTokenStatus};
use tessera_store::units::sessions::Session;
use tessera_store::units::share_tokens::{self, ShareTokenFilter};

use super::{BASE, SECTION, TokenRow, notice_for, partner_of, row, template_choices};
use crate::connections::active_outbound;
use crate::form::Fields;
use crate::page::{Chrome, PageResult, render};
use crate::session::Signed;
use crate::view::{Choice, Pager, choices, or_first_page, org_names, page_request};
use tessera_edge::state::AppState;

/// How long a new token lasts: the choices of the form.
pub const LIFETIMES: &[(&str, &str)] = &[
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
    ("1209600", "14 days"),
    ("1814400", "21 days"),
];

#[derive(Template)]
#[template(path = "share_tokens.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<TokenRow>,
    filtered: bool,
    statuses: Vec<Choice>,
    directions: Vec<Choice>,
    pager: Pager,
    connections: Vec<Choice>,
    has_outbound: bool,
    inquiry_id: String,
    lifetimes: Vec<Choice>,
    templates: Vec<Choice>,
    token_id: String,
    /// The create form's disclosure inputs, as typed.
    allowed_fields: String,
    allowed_verifications: String,
    allowed_documents: String,
    /// Whether a row can be selected for a batch redeem.
    has_redeemable: bool,
}

/// What the forms of the list page held when it is shown again with an error.
#[derive(Default)]
pub(super) struct Typed {
    pub(super) connection_id: String,
    pub(super) inquiry_id: String,
    pub(super) expires_in: String,
    pub(super) token_id: String,
    pub(super) template_id: String,
    pub(super) allowed_fields: String,
    pub(super) allowed_verifications: String,
    pub(super) allowed_documents: String,
}

pub(super) async fn list_page(
    state: &AppState,
    session: Session,
    q: Fields,
    typed: Typed,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let status = q.text("status");
    let direction = q.text("direction");
    let statuses: Vec<ShareTokenStatus> = ShareTokenStatus::parse(&status).into_iter().collect();
    let filter = ShareTokenFilter {
        statuses,
        direction: Direction::parse(&direction),
        connection_id: None,
    };
    let page = page_request(&q);
    let scope = session.scope.clone();
    let store = &state.store;
    let tokens = or_first_page(store, page, |p| {
        share_tokens::list(scope.clone(), filter.clone(), p)
    })
    .await?;
    let outbound = active_outbound(store, scope, 100).await?;
    let partners: Vec<OrganizationId> = tokens
        .items
        .iter()
        .map(|t| partner_of(t, &session))
        .chain(outbound.items.iter().map(|c| c.destination_org.clone()))
        .collect();
    let names = org_names(store, partners).await?;
    let templates = template_choices(store, &session, &typed.template_id).await?;
    let now = state.store.clock().now();
    let name = |id: &OrganizationId| names.get(id).cloned().unwrap_or_else(|| id.to_string());
    let pager = Pager::new(
        &tokens,
        BASE,
        &[("status", &status), ("direction", &direction)],
        |t| t.id.to_string(),
    );
    let rows: Vec<TokenRow> = tokens
        .items
        .iter()
        .map(|t| row(t, &session, name(&partner_of(t, &session)), now))
        .collect();
    let connections: Vec<Choice> = outbound
        .items
        .iter()
        .map(|c| Choice {
            selected: c.id.as_str() == typed.connection_id,
            value: c.id.to_string(),
            label: format!(
                "{} → {}",
                c.name.clone().unwrap_or_else(|| String::from("Connection")),
                name(&c.destination_org)
            ),
        })
        .collect();
    let mut status_options = vec![("", "Any status")];
    status_options.extend(
        ShareTokenStatus::ALL
            .iter()
            .map(|s| (s.as_str(), s.as_str())),
    );
    let expires_in = if typed.expires_in.is_empty() {
        DEFAULT_EXPIRES_IN.to_string()
    } else {
        typed.expires_in.clone()
    };
    let (status_code, error) = match error {
        Some((code, message)) => (code, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "Share tokens")
            .with_notice(notice)
            .with_error(error),
        has_redeemable: rows.iter().any(|r| r.redeemable),
        rows,
        filtered: !status.is_empty()
            || !direction.is_empty()
            || q.get("after").is_some()
            || q.get("before").is_some(),
        statuses: choices(&status_options, &status),
        directions: choices(
            &[
                ("", "Both directions"),
                ("outbound", "Outbound (we share)"),
                ("inbound", "Inbound (shared with us)"),
            ],
            &direction,
        ),
        pager,
        has_outbound: !connections.is_empty(),
        connections,
        inquiry_id: typed.inquiry_id,
        lifetimes: choices(LIFETIMES, &expires_in),
        templates,
        token_id: typed.token_id,
        allowed_fields: typed.allowed_fields,
        allowed_verifications: typed.allowed_verifications,
        allowed_documents: typed.allowed_documents,
    };
    Ok(render(status_code, &page))
}

/// The list, with the create and redeem forms.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    let notice = q.get("done").and_then(notice_for);
    list_page(&state, session, q, Typed::default(), notice, None).await
}
