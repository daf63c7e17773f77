//! Signing in and out, and switching environments.
//!
//! Passwords are checked against their Argon2 hashes off the async runtime. An unknown email is
//! checked against a dummy hash, so the answer takes as long either way and says nothing about
//! which emails exist. Failed sign-ins are throttled per email and per client address.

use std::net::SocketAddr;
use std::sync::OnceLock;

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordVerifier};
use askama::Template;
use axum::Extension;
use axum::extract::{ConnectInfo, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::secret::{generate_token, hash_secret};
use tessera_core::tenancy::EnvKind;
use tessera_store::units::sessions;
use tessera_store::units::tenancy::{self, User};

use crate::form::{Fields, Form};
use crate::page::{PageError, PageResult, render};
use crate::session::{
    self, SESSION_COOKIE, SIGN_IN_COOKIE, Signed, is_secure, plausible_token, safe_next, set_cookie,
};
use tessera_edge::state::AppState;

#[derive(Template)]
#[template(path = "sign_in.html")]
struct SignInPage {
    csrf_token: String,
    email: String,
    next: String,
    notice: Option<String>,
    error: Option<String>,
}

/// `/dashboard`: the first section.
pub async fn home() -> Redirect {
    Redirect::to("/dashboard/share-tokens")
}

fn sign_in_response(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: String,
    next: String,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    // The form's token lives in a cookie of its own until a session exists.
    let existing = session::cookie(headers, SIGN_IN_COOKIE).filter(|t| plausible_token(t));
    let token = existing.map_or_else(generate_token, str::to_owned);
    let page = SignInPage {
        csrf_token: token.clone(),
        email,
        next,
        notice,
        error,
    };
    let mut r = render(status, &page);
    if existing.is_none() {
        r.headers_mut().append(
            header::SET_COOKIE,
            set_cookie(
                SIGN_IN_COOKIE,
                &token,
                crate::csrf::SIGN_IN_PATH,
                3600,
                is_secure(state, headers),
            ),
        );
    }
    r
}

/// The sign-in form.
pub async fn sign_in_page(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> PageResult {
    let q = Fields::from_query(query.as_deref());
    if session::load(&state, &headers).await?.is_some() {
        return Ok(Redirect::to(&safe_next(q.get("next"))).into_response());
    }
    let notice = q
        .get("signed-out")
        .map(|_| String::from("You have signed out."));
    Ok(sign_in_response(
        &state,
        &headers,
        StatusCode::OK,
        String::new(),
        q.text("next"),
        notice,
        None,
    ))
}

/// A hash to check passwords of unknown emails against, so both cases take as long.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| {
        tessera_edge::inputs::hash_password("not the password of anyone").unwrap_or_default()
    })
}

fn password_matches(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks an email and password; the user when they match.
async fn verify(state: &AppState, email: &str, password: &str) -> Result<Option<User>, PageError> {
    let found = state
        .store
        .read(tenancy::find_user_by_email(email.to_owned()))
        .await?;
    let password = password.to_owned();
    let user = tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) => password_matches(&hash, &password).then_some(user),
        None => {
            let _ = password_matches(dummy_hash(), &password);
            None
        }
    })
    .await
    .map_err(|_| PageError::internal())?;
    Ok(user)
}

fn wait_message(secs: i64) -> String {
    let minutes = (secs + 59) / 60;
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!("Too many failed sign-ins. Wait {minutes} {unit} and try again.")
}

/// Signs in: starts a session and sets its cookie.
pub async fn sign_in(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form,
) -> PageResult {
    let email = form.text("email").to_lowercase();
    let password = form.raw("password").unwrap_or("").to_owned();
    let next = form.text("next");
    let address = connect.map(|Extension(ConnectInfo(peer))| peer.ip().to_string());
    let now = state.store.clock().now().millis();
    let again = |status, error: String| {
        sign_in_response(
            &state,
            &headers,
            status,
            email.clone(),
            next.clone(),
            None,
            Some(error),
        )
    };
    if email.is_empty() || password.is_empty() {
        return Ok(again(
            StatusCode::UNPROCESSABLE_ENTITY,
            String::from("Enter your email address and your password."),
        ));
    }
    if let Some(secs) = state
        .sign_in_throttle
        .blocked(&email, address.as_deref(), now)
    {
        let mut r = again(StatusCode::TOO_MANY_REQUESTS, wait_message(secs));
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        return Ok(r);
    }
    let Some(user) = verify(&state, &email, &password).await? else {
        state
            .sign_in_throttle
            .failed(&email, address.as_deref(), now);
        tracing::info!(email = %email, "dashboard sign-in failed");
        return Ok(again(
            StatusCode::UNAUTHORIZED,
            String::from("That email and password do not match a dashboard user."),
        ));
    };
    state.sign_in_throttle.succeeded(&email);
    let secret = generate_token();
    let (hash, csrf) = (hash_secret(&secret), generate_token());
    let lifetimes = state.config.session_lifetimes();
    let id = state
        .store
        .write(sessions::create(user.clone(), hash, csrf, lifetimes))
        .await?;
    tracing::info!(user.id = %user.id, session.id = %id, "dashboard user signed in");
    let secure = is_secure(&state, &headers);
    let mut r = Redirect::to(&safe_next(Some(&next))).into_response();
    let h = r.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &secret,
            "/dashboard",
            state.config.session_max_secs,
            secure,
        ),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(SIGN_IN_COOKIE, "", crate::csrf::SIGN_IN_PATH, 0, secure),
    );
    Ok(r)
}

/// Signs out: ends the session and deletes its cookie.
pub async fn sign_out(
    State(state): State<AppState>,
    headers: HeaderMap,
    Signed(session): Signed,
) -> PageResult {
    state
        .store
        .write(sessions::delete(session.id.clone()))
        .await?;
    tracing::info!(session.id = %session.id, "dashboard user signed out");
    let mut r = Redirect::to("/dashboard/sign-in?signed-out=1").into_response();
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            "",
            "/dashboard",
            0,
            is_secure(&state, &headers),
        ),
    );
    Ok(r)
}

/// Switches the environment the dashboard shows, then shows the same section's list.
pub async fn switch_environment(
    State(state): State<AppState>,
    Signed(session): Signed,
    Form(form): Form,
) -> PageResult {
    let kind = form
        .get("environment")
        .and_then(EnvKind::parse)
        .ok_or_else(|| {
            PageError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "That did not work",
                "Pick sandbox or production.",
            )
        })?;
    state
        .store
        .write(sessions::set_environment(session.id.clone(), kind))
        .await?;
    Ok(Redirect::to(&safe_next(form.get("return_to"))).into_response())
}
