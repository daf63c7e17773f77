//! Connect › Connections: the list (both directions), creating one by destination organization
//! id, a connection's page, and its actions (activate, deactivate, reactivate). Which actions a
//! page offers is decided by the same core rule that decides whether the action is allowed.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::connection::{Connection, ConnectionAction, ConnectionStatus, Direction};
use tessera_core::id::{ConnectionId, OrganizationId};
use tessera_core::tenancy::{Actor, Scope};
use tessera_core::{Error, Timestamp, codes};
use tessera_store::units::connections::{self, ConnectionFilter};
use tessera_store::units::sessions::Session;
use tessera_store::units::share_tokens::{self, ShareTokenFilter};
use tessera_store::units::tenancy;
use tessera_store::{Page, PageRequest, Store};

use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, form_error, render};
use crate::session::Signed;
use crate::share_tokens::TokenRow;
use crate::view::{
    Badge, Choice, Pager, When, badge, choices, or_first_page, org_names, page_request, when,
    when_opt,
};
use tessera_edge::state::AppState;

const SECTION: &str = "connections";
const BASE: &str = "/dashboard/connections";

/// A button for an action the viewer may take now.
pub struct ActionButton {
    pub path: &'static str,
    pub label: &'static str,
    pub danger: bool,
}

const ACTIONS: &[(ConnectionAction, &str, &str, bool)] = &[
    (ConnectionAction::Activate, "activate", "Activate", false),
    (
        ConnectionAction::Reactivate,
        "reactivate",
        "Reactivate",
        false,
    ),
    (
        ConnectionAction::Deactivate,
        "deactivate",
        "Deactivate",
        true,
    ),
];

fn actions_for(c: &Connection, session: &Session) -> Vec<ActionButton> {
    ACTIONS
        .iter()
        .filter(|(a, ..)| {
            a.apply(
                c.status,
                c.is_source(&session.scope),
                c.is_destination(&session.scope),
            )
            .is_ok()
        })
        .map(|(_, path, label, danger)| ActionButton {
            path,
            label,
            danger: *danger,
        })
        .collect()
}

pub struct ConnectionRow {
    pub id: String,
    pub name: String,
    pub status: Badge,
    pub direction: Badge,
    pub partner: String,
    pub partner_id: String,
    pub created: When,
    pub actions: Vec<ActionButton>,
}

fn partner_of(c: &Connection, session: &Session) -> OrganizationId {
    if c.direction_for(&session.scope) == Direction::Outbound {
        c.destination_org.clone()
    } else {
        c.source_org.clone()
    }
}

fn row(c: &Connection, session: &Session, partner: String, now: Timestamp) -> ConnectionRow {
    ConnectionRow {
        id: c.id.to_string(),
        name: c.name.clone().unwrap_or_default(),
        status: badge(c.status.as_str()),
        direction: badge(c.direction_for(&session.scope).as_str()),
        partner,
        partner_id: partner_of(c, session).to_string(),
        created: when(c.created_at, now),
        actions: actions_for(c, session),
    }
}

/// The first `size` active outbound connections of the scope: the ones a share token can be
/// created on (the share-token form's choices, the example of a new workflow).
pub async fn active_outbound(
    store: &Store,
    scope: Scope,
    size: u32,
) -> Result<Page<Connection>, Error> {
    store
        .read(connections::list(
            scope,
            ConnectionFilter {
                statuses: vec![ConnectionStatus::Active],
                direction: Some(Direction::Outbound),
                destination_org: None,
            },
            PageRequest { size, cursor: None },
        ))
        .await
}

#[derive(Template)]
#[template(path = "connections.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<ConnectionRow>,
    statuses: Vec<Choice>,
    directions: Vec<Choice>,
    filtered: bool,
    pager: Pager,
    destination: String,
    name: String,
}

async fn list_page(
    state: &AppState,
    session: Session,
    q: Fields,
    typed: (String, String),
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let status = q.text("status");
    let direction = q.text("direction");
    let filter = ConnectionFilter {
        statuses: ConnectionStatus::parse(&status).into_iter().collect(),
        direction: Direction::parse(&direction),
        destination_org: None,
    };
    let page = page_request(&q);
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page, |p| {
        connections::list(scope.clone(), filter.clone(), p)
    })
    .await?;
    let partners: Vec<OrganizationId> =
        list.items.iter().map(|c| partner_of(c, &session)).collect();
    let names = org_names(&state.store, partners).await?;
    let now = state.store.clock().now();
    let rows = list
        .items
        .iter()
        .map(|c| {
            let p = partner_of(c, &session);
            row(
                c,
                &session,
                names.get(&p).cloned().unwrap_or_else(|| p.to_string()),
                now,
            )
        })
        .collect();
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "Connections")
            .with_notice(notice)
            .with_error(error),
        rows,
        statuses: choices(
            &[
                ("", "Any status"),
                ("pending", "pending"),
                ("active", "active"),
                ("inactive", "inactive"),
            ],
            &status,
        ),
        directions: choices(
            &[
                ("", "Both directions"),
                ("outbound", "Outbound (we share)"),
                ("inbound", "Inbound (they share)"),
            ],
            &direction,
        ),
        filtered: !status.is_empty() || !direction.is_empty(),
        pager: Pager::new(
            &list,
            BASE,
            &[("status", &status), ("direction", &direction)],
            |c| c.id.to_string(),
        ),
        destination: typed.0,
        name: typed.1,
    };
    Ok(render(code, &page))
}

fn notice_for(done: &str) -> Option<String> {
    Some(String::from(match done {
        "created" => {
            "Connection created. It is pending until the partner activates it from their dashboard."
        }
        "activate" => "Connection activated: the partner can now share inquiries with you.",
        "deactivate" => {
            "Connection deactivated: no new share tokens can be created or redeemed on it."
        }
        "reactivate" => {
            "Connection reactivated. It is pending until the partner activates it again."
        }
        _ => return None,
    }))
}

/// The list, with the create form.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    let notice = q.get("done").and_then(notice_for);
    list_page(&state, session, q, Default::default(), notice, None).await
}

/// Creates a connection from this organization to a partner.
pub async fn create(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let typed = (form.text("destination_organization_id"), form.text("name"));
    let Ok(destination) = OrganizationId::parse(&typed.0) else {
        let error = (
            StatusCode::UNPROCESSABLE_ENTITY,
            String::from(
                "Enter your partner's organization id (it starts with org_; they find it at the top of their dashboard).",
            ),
        );
        return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
    };
    let name = match form
        .get("name")
        .map(|n| tenancy::check_name(n, "name"))
        .transpose()
    {
        Ok(n) => n,
        Err(e) => {
            let error = form_error(e)?;
            return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
        }
    };
    let scope = session.scope.clone();
    let actor = Actor::User(session.user.id.clone());
    let created = state
        .store
        .write(connections::create(scope, destination, name, actor))
        .await;
    match created {
        Ok(c) => Ok(Redirect::to(&format!("{BASE}/{}?done=created", c.id)).into_response()),
        Err(e) => {
            let unknown = e.is(codes::REFERENCE_NOT_FOUND);
            let mut error = form_error(e)?;
            if unknown {
                error.1 = String::from("There is no organization with that id.");
            }
            list_page(&state, session, Fields::default(), typed, None, Some(error)).await
        }
    }
}

#[derive(Template)]
#[template(path = "connection.html")]
struct ShowPage {
    chrome: Chrome,
    c: ConnectionRow,
    activated: When,
    deactivated: When,
    updated: When,
    tokens: Vec<TokenRow>,
    peer: Option<crate::peer_health::PeerRow>,
}

async fn show_page(
    state: &AppState,
    session: Session,
    id: ConnectionId,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let scope = session.scope.clone();
    let c = state
        .store
        .read(connections::get(scope.clone(), id))
        .await?;
    let names = org_names(&state.store, [partner_of(&c, &session)]).await?;
    let tokens = state
        .store
        .read(share_tokens::list(
            scope,
            ShareTokenFilter {
                connection_id: Some(c.id.clone()),
                ..ShareTokenFilter::default()
            },
            PageRequest {
                size: 20,
                cursor: None,
            },
        ))
        .await?;
    let now = state.store.clock().now();
    let p = partner_of(&c, &session);
    let partner = names.get(&p).cloned().unwrap_or_else(|| p.to_string());
    let peer = crate::peer_health::peer_row(&state.store, p, now).await?;
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let title = c
        .name
        .clone()
        .unwrap_or_else(|| format!("Connection {}", c.id));
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, title)
            .with_notice(notice)
            .with_error(error),
        activated: when_opt(c.activated_at, now),
        deactivated: when_opt(c.deactivated_at, now),
        updated: when(c.updated_at, now),
        tokens: tokens
            .items
            .iter()
            // As in the token list: the source's inquiry id is shown to the source only.
            .map(|t| crate::share_tokens::row(t, &session, partner.clone(), now))
            .collect(),
        c: row(&c, &session, partner.clone(), now),
        peer,
    };
    Ok(render(code, &page))
}

/// A connection's page.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = ConnectionId::parse(&id).map_err(|_| PageError::not_found())?;
    let q = Fields::from_query(query.as_deref());
    show_page(
        &state,
        session,
        id,
        q.get("done").and_then(notice_for),
        None,
    )
    .await
}

/// Activates, deactivates or reactivates a connection.
pub async fn act(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path((id, action)): Path<(String, String)>,
) -> PageResult {
    let id = ConnectionId::parse(&id).map_err(|_| PageError::not_found())?;
    let (action, path) = ACTIONS
        .iter()
        .find(|(_, path, ..)| *path == action)
        .map(|(a, path, ..)| (*a, *path))
        .ok_or_else(PageError::not_found)?;
    let scope = session.scope.clone();
    let done = state
        .store
        .write(connections::act(scope, id.clone(), action))
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done={path}")).into_response()),
        Err(e) => {
            let error = form_error(e)?;
            show_page(&state, session, id, None, Some(error)).await
        }
    }
}
