//! Connect › Share tokens: the list (both directions, filtered, paged), creating a token on an
//! active outbound connection, redeeming an inbound token, expiring, and a token's page with its
//! timeline and links.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::connection::{ConnectionStatus, Direction};
use tessera_core::id::{ConnectionId, InquiryId, OrganizationId, ShareTokenId, TemplateId};
use tessera_core::share_token::{
    DEFAULT_EXPIRES_IN, RedeemParams, ShareToken, ShareTokenStatus, SourceId, check_expires_in,
};
use tessera_core::tenancy::Actor;
use tessera_core::{Error, Timestamp};
use tessera_store::units::connections::{self, ConnectionFilter};
use tessera_store::units::events::{self, EventFilter};
use tessera_store::units::sessions::Session;
use tessera_store::units::share_tokens::{self, ShareTokenFilter};
use tessera_store::units::templates;
use tessera_store::{PageRequest, Store};

use crate::events::EventRow;
use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, render, sentence};
use crate::session::Signed;
use crate::view::{
    Badge, Choice, Pager, When, badge, choices, or_first_page, org_names, page_request, when,
    when_opt,
};
use tessera_edge::state::AppState;

const SECTION: &str = "share-tokens";
const BASE: &str = "/dashboard/share-tokens";

/// How long a new token lasts: the choices of the form.
const LIFETIMES: &[(&str, &str)] = &[
    ("3600", "1 hour"),
    ("86400", "1 day"),
    ("604800", "7 days"),
    ("1209600", "14 days"),
    ("1814400", "21 days"),
];

pub struct TokenRow {
    pub id: String,
    pub status: Badge,
    pub direction: Badge,
    pub partner: String,
    pub source_id: String,
    pub created: When,
    pub expires: When,
}

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
}

/// What the forms of the list page held when it is shown again with an error.
#[derive(Default)]
struct Typed {
    connection_id: String,
    inquiry_id: String,
    expires_in: String,
    token_id: String,
    template_id: String,
}

fn row(t: &ShareToken, session: &Session, partner: String, now: Timestamp) -> TokenRow {
    TokenRow {
        id: t.id.to_string(),
        status: badge(t.status_at(now).as_str()),
        direction: badge(t.direction_for(&session.scope).as_str()),
        partner,
        // Like the API's `source-id`: the source organization's id, shown to the source only.
        source_id: if t.is_source(&session.scope) {
            t.source_id().to_owned()
        } else {
            String::new()
        },
        created: when(t.created_at, now),
        expires: when(t.expires_at, now),
    }
}

/// The organization on the other side of a token.
fn partner_of(t: &ShareToken, session: &Session) -> OrganizationId {
    if t.is_source(&session.scope) {
        t.destination_org.clone()
    } else {
        t.source_org.clone()
    }
}

/// The templates of the scope, for the redeem forms.
async fn template_choices(
    store: &Store,
    session: &Session,
    current: &str,
) -> Result<Vec<Choice>, Error> {
    let list = store
        .read(templates::list(
            session.scope.clone(),
            PageRequest {
                size: 100,
                cursor: None,
            },
        ))
        .await?;
    let mut out = vec![Choice {
        value: String::new(),
        label: String::from("No template (the copy's own requirements)"),
        selected: current.is_empty(),
    }];
    out.extend(list.items.into_iter().map(|t| Choice {
        selected: t.id.as_str() == current,
        value: t.id.to_string(),
        label: format!("{} ({})", t.name, t.id),
    }));
    Ok(out)
}

async fn list_page(
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
    let outbound = store
        .read(connections::list(
            scope,
            ConnectionFilter {
                statuses: vec![ConnectionStatus::Active],
                direction: Some(Direction::Outbound),
                destination_org: None,
            },
            PageRequest {
                size: 100,
                cursor: None,
            },
        ))
        .await?;
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
    let rows = tokens
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

/// The messages shown after an action (`?done=…`); only these, never text from the URL.
fn notice_for(done: &str) -> Option<String> {
    Some(String::from(match done {
        "created" => "Share token created. Send its id to your partner: only they can redeem it.",
        "redeeming" => {
            "Redemption started: the copy is being made and verified. This page updates when it is done."
        }
        "expired" => "The share token has expired; it can no longer be redeemed.",
        _ => return None,
    }))
}

/// An error of an action as the message of the page it is shown on, with its status.
pub fn form_error(e: Error) -> Result<(StatusCode, String), PageError> {
    match e.status {
        tessera_core::Status::Internal | tessera_core::Status::Unavailable => Err(e.into()),
        s => Ok((
            StatusCode::from_u16(s.code()).unwrap_or(StatusCode::BAD_REQUEST),
            sentence(&e.detail),
        )),
    }
}

fn invalid(message: &str) -> (StatusCode, String) {
    (StatusCode::UNPROCESSABLE_ENTITY, message.to_owned())
}

/// Creates a token (source side): the same unit of work as `POST /api/v1/connect/share-tokens`,
/// with the signed-in user as its creator.
pub async fn create(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let typed = Typed {
        connection_id: form.text("connection_id"),
        inquiry_id: form.text("inquiry_id"),
        expires_in: form.text("expires_in"),
        ..Typed::default()
    };
    let parsed = (|| {
        let connection = ConnectionId::parse(&typed.connection_id)
            .map_err(|_| invalid("Pick an active outbound connection."))?;
        let source = InquiryId::parse(&typed.inquiry_id)
            .map(SourceId::Inquiry)
            .map_err(|_| invalid("Enter the id of one of your inquiries (it starts with inq_)."))?;
        let expires_in = typed
            .expires_in
            .parse::<i64>()
            .ok()
            .or_else(|| typed.expires_in.is_empty().then_some(DEFAULT_EXPIRES_IN))
            .ok_or_else(|| invalid("Pick how long the token lasts."))
            .and_then(|s| check_expires_in(s).map_err(|e| invalid(&sentence(&e.detail))))?;
        Ok::<_, (StatusCode, String)>((connection, source, expires_in))
    })();
    let (connection, source, expires_in) = match parsed {
        Ok(p) => p,
        Err(error) => {
            return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
        }
    };
    let scope = session.scope.clone();
    let actor = Actor::User(session.user.id.clone());
    let created = state
        .store
        .write(share_tokens::create(
            scope, connection, source, expires_in, actor,
        ))
        .await;
    match created {
        Ok(t) => Ok(Redirect::to(&format!("{BASE}/{}?done=created", t.id)).into_response()),
        Err(e) => {
            let error = form_error(e)?;
            list_page(&state, session, Fields::default(), typed, None, Some(error)).await
        }
    }
}

async fn start_redemption(
    state: &AppState,
    session: &Session,
    id: ShareTokenId,
    template: &str,
) -> Result<ShareToken, Result<(StatusCode, String), PageError>> {
    let inquiry_template_id = if template.is_empty() {
        None
    } else {
        Some(TemplateId::parse(template).map_err(|_| Ok(invalid("Pick one of your templates.")))?)
    };
    let params = RedeemParams {
        destination_id: None,
        inquiry_template_id,
        field_mappings: Vec::new(),
    };
    state
        .store
        .write(share_tokens::redeem(session.scope.clone(), id, params))
        .await
        .map_err(form_error)
}

/// Redeems an inbound token by its id, typed into the list page's form.
pub async fn redeem_by_id(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let typed = Typed {
        token_id: form.text("token_id"),
        template_id: form.text("template_id"),
        ..Typed::default()
    };
    let Ok(id) = ShareTokenId::parse(&typed.token_id) else {
        let error =
            invalid("Paste the id of a share token your partner sent you (it starts with cnst_).");
        return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
    };
    match start_redemption(&state, &session, id, &typed.template_id).await {
        Ok(t) => Ok(Redirect::to(&format!("{BASE}/{}?done=redeeming", t.id)).into_response()),
        Err(Ok((status, message))) => {
            // A token of nobody we know reads as "not found", like any other object.
            let message = if status == StatusCode::NOT_FOUND {
                String::from(
                    "There is no share token with that id for this organization and environment.",
                )
            } else {
                message
            };
            list_page(
                &state,
                session,
                Fields::default(),
                typed,
                None,
                Some((status, message)),
            )
            .await
        }
        Err(Err(page)) => Err(page),
    }
}

/// One step of a token's timeline.
pub struct Step {
    pub label: String,
    pub at: When,
    /// `done`, `failed` or `todo`.
    pub state: &'static str,
    pub detail: Option<String>,
}

fn timeline(t: &ShareToken, now: Timestamp) -> Vec<Step> {
    let status = t.status_at(now);
    let creator = match &t.creator {
        Some(Actor::User(_)) => Some(String::from("by a dashboard user")),
        Some(Actor::ApiKey(_)) => Some(String::from("through the API")),
        Some(Actor::Workflow(_)) => Some(String::from("by a workflow")),
        None => None,
    };
    let mut steps = vec![Step {
        label: String::from("Created"),
        at: when(t.created_at, now),
        state: "done",
        detail: creator,
    }];
    steps.push(match t.pending_at {
        Some(at) => Step {
            label: String::from("Redemption started (pending)"),
            at: when(at, now),
            state: "done",
            detail: None,
        },
        None => Step {
            label: String::from("Redemption (pending)"),
            at: When::default(),
            state: "todo",
            detail: (status == ShareTokenStatus::Created)
                .then(|| String::from("Waiting for the destination organization to redeem it.")),
        },
    });
    steps.push(match status {
        ShareTokenStatus::Redeemed => Step {
            label: String::from("Redeemed"),
            at: when_opt(t.redeemed_at, now),
            state: "done",
            detail: Some(String::from("The copy was made and verified.")),
        },
        ShareTokenStatus::Failed => Step {
            label: String::from("Failed"),
            at: when_opt(t.failed_at, now),
            state: "failed",
            detail: t.failure_reason.clone().map(|r| format!("Reason: {r}")),
        },
        ShareTokenStatus::Expired => Step {
            label: String::from("Expired"),
            at: when(t.expires_at, now),
            state: "failed",
            detail: None,
        },
        ShareTokenStatus::Pending => Step {
            label: String::from("Redeemed"),
            at: When::default(),
            state: "todo",
            detail: Some(String::from("The copy is being made.")),
        },
        ShareTokenStatus::Created => Step {
            label: String::from("Expires"),
            at: when(t.expires_at, now),
            state: "todo",
            detail: None,
        },
    });
    steps
}

#[derive(Template)]
#[template(path = "share_token.html")]
struct ShowPage {
    chrome: Chrome,
    id: String,
    status: Badge,
    direction: Badge,
    is_pending: bool,
    partner: String,
    partner_id: String,
    connection_id: String,
    source_id: String,
    /// The inquiry the source link opens (for a shared verification, the one it belongs to).
    source_inquiry: String,
    source_is_ours: bool,
    destination_id: Option<String>,
    destination_is_ours: bool,
    created: When,
    expires: When,
    failure_reason: Option<String>,
    steps: Vec<Step>,
    can_expire: bool,
    can_redeem: bool,
    templates: Vec<Choice>,
    events: Vec<EventRow>,
    /// For the destination of a redeemable token: what it would get, personal values masked.
    preview: Option<Preview>,
}

/// The masked preview of a token's source (the API's `peek-source-data`).
pub struct Preview {
    pub status: Badge,
    pub fields: Vec<(String, String, bool)>,
    pub verifications: Vec<(String, Badge, When)>,
}

/// The preview of the API's `source-data`: each peeked attribute is a `{visibility, value}`
/// wrapper; a `presence` one shows its `hint` (the partial mask) or whether it has a value.
fn preview(peek: &serde_json::Value, now: Timestamp) -> Preview {
    use serde_json::Value;
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let shown = |f: &Value| match (f["visibility"].as_str(), &f["hint"]) {
        (Some("presence"), Value::Null) if f["value"] == true => String::from("(present)"),
        (Some("presence"), Value::Null) => String::from("(empty)"),
        (Some("presence"), hint) => text(hint),
        _ => text(&f["value"]),
    };
    let attributes = &peek["peekable-attributes"];
    let status = |a: &Value| a["status"]["value"].as_str().unwrap_or("").to_owned();
    let verification = |v: &Value| {
        let a = &v["peekable-attributes"];
        let completed = a["completed-at"]["value"]
            .as_str()
            .and_then(Timestamp::parse_rfc3339);
        (
            v["type"]
                .as_str()
                .unwrap_or("")
                .trim_start_matches("connect/source-data/verification/")
                .to_owned(),
            badge(&status(a)),
            when_opt(completed, now),
        )
    };
    let is_verification = peek["type"]
        .as_str()
        .is_some_and(|t| t.starts_with("connect/source-data/verification/"));
    // A shared verification: its extracted attributes are the "fields" of the preview.
    let fields = if is_verification {
        attributes.as_object().map(|m| {
            m.iter()
                .filter(|(name, _)| !matches!(name.as_str(), "status" | "completed-at"))
                .map(|(name, f)| (name.clone(), shown(f), f["visibility"] == "presence"))
                .collect()
        })
    } else {
        attributes["fields"].as_object().map(|m| {
            m.iter()
                .map(|(name, f)| (name.clone(), shown(f), f["visibility"] == "presence"))
                .collect()
        })
    };
    Preview {
        status: badge(&status(attributes)),
        fields: fields.unwrap_or_default(),
        verifications: if is_verification {
            vec![verification(peek)]
        } else {
            peek["related-objects"]
                .as_array()
                .map(|list| list.iter().map(verification).collect())
                .unwrap_or_default()
        },
    }
}

/// The API's masked peek of a token's source data.
///
/// Transitional: the one closure over a transaction left in the dashboard, until the API's
/// `peek` becomes a unit of the store (issue 16).
async fn show_page(
    state: &AppState,
    session: Session,
    id: ShareTokenId,
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let scope = session.scope.clone();
    let store = &state.store;
    // The same masked peek as the API's, for the side that may redeem, while it may.
    let shown = store
        .read(share_tokens::show(
            scope.clone(),
            id,
            Default::default(),
            true,
        ))
        .await?;
    let (t, peek) = (shown.token, shown.source_data);
    let names = org_names(store, [partner_of(&t, &session)]).await?;
    let templates = template_choices(store, &session, "").await?;
    let evts = store
        .read(events::list(
            scope,
            EventFilter {
                names: Vec::new(),
                object_ids: vec![t.id.to_string()],
                ids: Vec::new(),
            },
            PageRequest {
                size: 50,
                cursor: None,
            },
        ))
        .await?;
    let now = state.store.clock().now();
    let status = t.status_at(now);
    // A redemption may be over by the time its page is first shown.
    let notice = match (notice, status) {
        (Some(_), ShareTokenStatus::Redeemed) if t.is_destination(&session.scope) => {
            Some(String::from(
                "Redeemed: the verified copy is one of your inquiries now (linked below).",
            ))
        }
        (n, _) => n,
    };
    let partner_id = partner_of(&t, &session);
    let (status_code, error) = match error {
        Some((code, message)) => (code, Some(message)),
        None => (StatusCode::OK, None),
    };
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, format!("Share token {}", t.id))
            .with_notice(notice)
            .with_error(error),
        id: t.id.to_string(),
        status: badge(status.as_str()),
        direction: badge(t.direction_for(&session.scope).as_str()),
        is_pending: status == ShareTokenStatus::Pending,
        partner: names
            .get(&partner_id)
            .cloned()
            .unwrap_or_else(|| partner_id.to_string()),
        partner_id: partner_id.to_string(),
        connection_id: t.connection_id.to_string(),
        source_id: t.source_id().to_owned(),
        source_inquiry: t.source_inquiry_id.to_string(),
        source_is_ours: t.is_source(&session.scope),
        destination_id: t.destination_inquiry_id.as_ref().map(ToString::to_string),
        destination_is_ours: t.is_destination(&session.scope),
        created: when(t.created_at, now),
        expires: when(t.expires_at, now),
        failure_reason: t.failure_reason.clone(),
        steps: timeline(&t, now),
        can_expire: status == ShareTokenStatus::Created,
        can_redeem: status == ShareTokenStatus::Created && t.is_destination(&session.scope),
        templates,
        events: evts.items.iter().map(|e| EventRow::new(e, now)).collect(),
        preview: peek.as_ref().map(|p| preview(p, now)),
    };
    Ok(render(status_code, &page))
}

/// A token's page.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> PageResult {
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
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

/// Redeems the token of this page (destination side).
pub async fn redeem(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
    Form(form): Form,
) -> PageResult {
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
    match start_redemption(&state, &session, id.clone(), &form.text("template_id")).await {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done=redeeming")).into_response()),
        Err(Ok(error)) => show_page(&state, session, id, None, Some(error)).await,
        Err(Err(page)) => Err(page),
    }
}

/// Expires the token of this page (either side).
pub async fn expire(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let id = ShareTokenId::parse(&id).map_err(|_| PageError::not_found())?;
    let done = state
        .store
        .write(share_tokens::expire(session.scope.clone(), id.clone()))
        .await;
    match done {
        Ok(_) => Ok(Redirect::to(&format!("{BASE}/{id}?done=expired")).into_response()),
        Err(e) => {
            let error = form_error(e)?;
            show_page(&state, session, id, None, Some(error)).await
        }
    }
}
