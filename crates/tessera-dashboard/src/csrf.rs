//! CSRF protection of every form: one guard in front of every dashboard route, so no handler can
//! forget it. A request that is not a GET or HEAD must carry the `csrf_token` field of the
//! session it is sent in (the sign-in form, which has no session yet, carries the token of its
//! own cookie instead), compared in constant time. Cookies are also `SameSite=Lax`, so browsers do
//! not send them with another site's POST in the first place.

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tessera_core::secret::constant_time_eq;

use crate::form::{FORM_LIMIT, Fields};
use crate::page::PageError;
use crate::session::{self, SIGN_IN_COOKIE};
use tessera_edge::state::AppState;

/// The path of the sign-in form.
pub const SIGN_IN_PATH: &str = "/dashboard/sign-in";
/// The form field that carries the token.
pub const FIELD: &str = "csrf_token";

/// The guard (a middleware of the dashboard router).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, FORM_LIMIT).await else {
        return PageError::new(
            axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            "Too large",
            "The form is too large.",
        )
        .into_response();
    };
    let fields = Fields::parse(&bytes);
    let sent = fields.get(FIELD).unwrap_or("");
    let expected = if parts.uri.path() == SIGN_IN_PATH {
        session::cookie(&parts.headers, SIGN_IN_COOKIE).map(str::to_owned)
    } else {
        match session::load(&state, &parts.headers).await {
            Ok(Some(s)) => {
                let token = s.csrf_token.clone();
                parts.extensions.insert(s);
                Some(token)
            }
            Ok(None) => return PageError::SignIn { next: None }.into_response(),
            Err(e) => return e.into_response(),
        }
    };
    let ok =
        expected.is_some_and(|e| !e.is_empty() && constant_time_eq(e.as_bytes(), sent.as_bytes()));
    if !ok {
        tracing::warn!(path = %parts.uri.path(), "dashboard form refused: missing or wrong CSRF token");
        return PageError::csrf().into_response();
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
