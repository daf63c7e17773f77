//! API keys of the organization's current environment: the list, creating one (its secret is
//! shown once, on the page that answers the form) and expiring one. Creating and expiring keys is
//! for administrators. Keys made here hold every permission.

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use tessera_core::Timestamp;
use tessera_core::id::ApiKeyId;
use tessera_core::permission::Permissions;
use tessera_core::tenancy::ApiKey;
use tessera_store::units::sessions::Session;
use tessera_store::units::tenancy;

use crate::form::{Fields, Form};
use crate::page::{Chrome, PageError, PageResult, form_error, render};
use crate::session::Signed;
use crate::view::{
    Badge, Choice, Pager, When, badge, choices, or_first_page, page_request, when, when_opt,
};
use tessera_edge::state::AppState;

const SECTION: &str = "api-keys";
const BASE: &str = "/dashboard/api-keys";

const LIFETIMES: &[(&str, &str)] = &[
    ("", "Never expires"),
    ("30", "Expires in 30 days"),
    ("90", "Expires in 90 days"),
    ("365", "Expires in a year"),
];

pub struct KeyRow {
    pub id: String,
    pub name: String,
    pub hint: String,
    pub status: Badge,
    pub active: bool,
    pub permissions: String,
    pub created: When,
    pub expires: When,
}

fn row(k: &ApiKey, now: Timestamp) -> KeyRow {
    let names = k.permissions.names();
    KeyRow {
        id: k.id.to_string(),
        name: k.name.clone(),
        hint: k.hint.clone(),
        status: badge(if k.is_active(now) {
            "active"
        } else {
            "expired"
        }),
        active: k.is_active(now),
        permissions: if k.permissions == Permissions::all() {
            String::from("all")
        } else {
            names.join(", ")
        },
        created: when(k.created_at, now),
        expires: when_opt(k.expires_at, now),
    }
}

#[derive(Template)]
#[template(path = "api_keys.html")]
struct ListPage {
    chrome: Chrome,
    rows: Vec<KeyRow>,
    pager: Pager,
    is_admin: bool,
    name: String,
    lifetimes: Vec<Choice>,
}

async fn list_page(
    state: &AppState,
    session: Session,
    q: Fields,
    typed: (String, String),
    notice: Option<String>,
    error: Option<(StatusCode, String)>,
) -> PageResult {
    let page = page_request(&q);
    let scope = session.scope.clone();
    let list = or_first_page(&state.store, page, |p| {
        tenancy::list_api_keys(scope.clone(), p)
    })
    .await?;
    let now = state.store.clock().now();
    let (code, error) = error.map_or((StatusCode::OK, None), |(c, m)| (c, Some(m)));
    let page = ListPage {
        chrome: Chrome::new(&session, SECTION, "API keys")
            .with_notice(notice)
            .with_error(error),
        pager: Pager::new(&list, BASE, &[], |k| k.id.to_string()),
        rows: list.items.iter().map(|k| row(k, now)).collect(),
        is_admin: session.user.role == "admin",
        name: typed.0,
        lifetimes: choices(LIFETIMES, &typed.1),
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
    let notice = (q.get("done") == Some("expired")).then(|| {
        String::from("The key has expired: requests made with it are refused from now on.")
    });
    list_page(&state, session, q, Default::default(), notice, None).await
}

#[derive(Template)]
#[template(path = "api_key_secret.html")]
struct SecretPage {
    chrome: Chrome,
    k: KeyRow,
    secret: String,
}

/// Creates a key with every permission and shows its secret, once.
pub async fn create(State(state): State<AppState>, signed: Signed, Form(form): Form) -> PageResult {
    signed.require_admin()?;
    let session = signed.0;
    let typed = (form.text("name"), form.text("expires_in_days"));
    let name = match tenancy::check_name(&typed.0, "name") {
        Ok(n) => n,
        Err(_) => {
            let error = (
                StatusCode::UNPROCESSABLE_ENTITY,
                String::from(
                    "Give the key a name (1 to 200 characters), such as the system that will use it.",
                ),
            );
            return list_page(&state, session, Fields::default(), typed, None, Some(error)).await;
        }
    };
    let now = state.store.clock().now();
    let expires_at = match typed.1.as_str() {
        "" => None,
        days => match days.parse::<i64>() {
            Ok(d) if (1..=3650).contains(&d) => Some(now.plus_seconds(d * 86_400)),
            _ => {
                let error = (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    String::from("Pick when the key expires."),
                );
                return list_page(&state, session, Fields::default(), typed, None, Some(error))
                    .await;
            }
        },
    };
    let scope = session.scope.clone();
    let created = state
        .store
        .write(tenancy::create_api_key(
            scope,
            name,
            Permissions::all(),
            expires_at,
        ))
        .await;
    match created {
        Ok((key, secret)) => {
            let page = SecretPage {
                chrome: Chrome::new(&session, SECTION, "New API key").with_notice(Some(String::from(
                    "API key created. Copy its secret now: it is shown only once and Tessera keeps only a hash of it.",
                ))),
                k: row(&key, now),
                secret,
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) => {
            let error = form_error(e)?;
            list_page(&state, session, Fields::default(), typed, None, Some(error)).await
        }
    }
}

/// Expires a key now.
pub async fn expire(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
) -> PageResult {
    let id = ApiKeyId::parse(&id).map_err(|_| PageError::not_found())?;
    signed.require_admin()?;
    let scope = signed.0.scope.clone();
    state
        .store
        .write(tenancy::expire_api_key(scope, id))
        .await?;
    Ok(Redirect::to(&format!("{BASE}?done=expired")).into_response())
}
