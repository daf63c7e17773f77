//! Events: the list (filtered by name, paged) and one event with its payload.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use tessera_core::event::{Event, names};
use tessera_core::id::EventId;
use tessera_core::tenancy::Scope;
use tessera_core::{Error, Timestamp};
use tessera_store::units::events::{self, EventFilter};
use tessera_store::{Page, PageRequest, Store};

use crate::form::Fields;
use crate::page::{Chrome, PageError, PageResult, render};
use crate::session::Signed;
use crate::view::{Choice, Pager, When, or_first_page, page_request, when};
use tessera_edge::state::AppState;

const SECTION: &str = "events";
const BASE: &str = "/dashboard/events";

/// The dashboard page of an object named by an event, if it has one.
pub fn object_href(id: &str) -> Option<String> {
    let page = match tessera_core::id::prefix_of(id)? {
        "inq" => "inquiries",
        "cnst" => "share-tokens",
        "cxn" => "connections",
        "wbh" => "webhooks",
        "whd" => "webhook-deliveries",
        "wfl" => "workflows",
        "wfr" => "workflow-runs",
        _ => return None,
    };
    Some(format!("/dashboard/{page}/{id}"))
}

/// One row of an event list.
pub struct EventRow {
    pub id: String,
    pub name: String,
    pub object_id: String,
    pub object_href: Option<String>,
    pub created: When,
}

impl EventRow {
    pub fn new(e: &Event, now: Timestamp) -> Self {
        Self {
            id: e.id.to_string(),
            name: e.name.clone(),
            object_id: e.object_id.clone(),
            object_href: object_href(&e.object_id),
            created: when(e.created_at, now),
        }
    }
}

/// The events about one object (the 50 latest), for the list on its page.
pub async fn object_events(
    store: &Store,
    scope: Scope,
    object_id: String,
) -> Result<Page<Event>, Error> {
    store
        .read(events::list(
            scope,
            EventFilter {
                names: Vec::new(),
                object_ids: vec![object_id],
                ids: Vec::new(),
            },
            PageRequest {
                size: 50,
                cursor: None,
            },
        ))
        .await
}

#[derive(Template)]
#[template(path = "events.html")]
struct ListPage {
    chrome: Chrome,
    events: Vec<EventRow>,
    names: Vec<Choice>,
    filtered: bool,
    pager: Pager,
}

/// The list.
pub async fn list(
    State(state): State<AppState>,
    Signed(session): Signed,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    let name = q.text("name");
    let filter = EventFilter {
        names: names::is_known(&name)
            .then(|| name.clone())
            .into_iter()
            .collect(),
        object_ids: Vec::new(),
        ids: Vec::new(),
    };
    let page = page_request(&q);
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page, |p| {
        events::list(scope.clone(), filter.clone(), p)
    })
    .await?;
    let now = state.store.clock().now();
    let mut options = vec![Choice {
        value: String::new(),
        label: String::from("All events"),
        selected: name.is_empty(),
    }];
    options.extend(names::ALL.iter().map(|n| Choice {
        value: (*n).to_owned(),
        label: (*n).to_owned(),
        selected: *n == name,
    }));
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "Events"),
        pager: Pager::new(&list, BASE, &[("name", &name)], |e| e.id.to_string()),
        events: list.items.iter().map(|e| EventRow::new(e, now)).collect(),
        names: options,
        filtered: !name.is_empty(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "event.html")]
struct ShowPage {
    chrome: Chrome,
    event: EventRow,
    payload: String,
}

/// One event and its payload.
pub async fn show(
    State(state): State<AppState>,
    Signed(session): Signed,
    Path(id): Path<String>,
) -> PageResult {
    let id = EventId::parse(&id).map_err(|_| PageError::not_found())?;
    let scope = session.scope.clone();
    let e = state.store.read(events::get(scope, id)).await?;
    let now = state.store.clock().now();
    let page = ShowPage {
        chrome: Chrome::new(&session, SECTION, e.name.clone()),
        payload: serde_json::to_string_pretty(&e.payload).unwrap_or_default(),
        event: EventRow::new(&e, now),
    };
    Ok(render(StatusCode::OK, &page))
}
