//! Sessions from the browser's side: the cookies, and the [`Signed`] extractor that gives a
//! handler the signed-in user's session (or sends the browser to the sign-in page).
//!
//! The session cookie holds a random secret (only its SHA-256 is stored); it is `HttpOnly`,
//! `SameSite=Lax`, scoped to `/dashboard`, and `Secure` when the dashboard is served over TLS.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use tessera_core::secret::hash_secret;
use tessera_store::units::sessions::{self, Session};

use crate::page::PageError;
use tessera_edge::state::AppState;

/// The session cookie.
pub const SESSION_COOKIE: &str = "tessera_session";
/// The cookie that protects the sign-in form (there is no session yet to hold its token).
pub const SIGN_IN_COOKIE: &str = "tessera_sign_in";
/// A session is marked as used at most this often (a write per request would be wasted).
const TOUCH_EVERY_MS: i64 = 60_000;

/// A cookie's value from the request, if present.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
}

/// Whether the browser reached us over TLS (directly configured, or through a proxy that says so).
pub fn is_secure(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
}

/// A `Set-Cookie` value. `max_age` 0 deletes the cookie.
pub fn set_cookie(name: &str, value: &str, path: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    let v =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}");
    HeaderValue::from_str(&v).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Whether a string could be one of our random tokens (checked before any database lookup).
pub fn plausible_token(s: &str) -> bool {
    (32..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The live session of the request's cookie, if any; marks it used.
pub async fn load(state: &AppState, headers: &HeaderMap) -> Result<Option<Session>, PageError> {
    let Some(secret) = cookie(headers, SESSION_COOKIE).filter(|s| plausible_token(s)) else {
        return Ok(None);
    };
    let hash = hash_secret(secret);
    let lifetimes = state.config.session_lifetimes();
    let found = state.store.read(sessions::find(hash, lifetimes)).await?;
    let Some(session) = found else {
        return Ok(None);
    };
    let now = state.store.clock().now();
    if now.millis() - session.last_seen_at.millis() >= TOUCH_EVERY_MS {
        state
            .store
            .write(sessions::touch(session.id.clone()))
            .await?;
    }
    Ok(Some(session))
}

/// The signed-in user's session. Pages that take it are for signed-in users only: anyone else
/// is sent to the sign-in page (and back here afterwards, for a GET).
pub struct Signed(pub Session);

impl Signed {
    /// Refuses members where a page or action is for administrators.
    pub fn require_admin(&self) -> Result<(), PageError> {
        if self.0.user.role == "admin" {
            Ok(())
        } else {
            Err(PageError::admins_only())
        }
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, PageError> {
        // The CSRF guard has loaded the session of a form already.
        if let Some(s) = parts.extensions.get::<Session>() {
            return Ok(Self(s.clone()));
        }
        match load(state, &parts.headers).await? {
            Some(s) => Ok(Self(s)),
            None => {
                let next = (parts.method == axum::http::Method::GET)
                    .then(|| parts.uri.path_and_query().map(|p| p.as_str().to_owned()))
                    .flatten();
                Err(PageError::SignIn { next })
            }
        }
    }
}

/// Where to go after signing in: a dashboard page of ours, never another site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/dashboard/")
                && !n.starts_with("/dashboard/sign-")
                && !n.contains("//")
                && !n.contains('\\') =>
        {
            n.to_owned()
        }
        _ => String::from("/dashboard/share-tokens"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cookies_among_others() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; tessera_session=abc; b=2"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
    }

    #[test]
    fn next_stays_on_the_dashboard() {
        assert_eq!(
            safe_next(Some("/dashboard/events?x=1")),
            "/dashboard/events?x=1"
        );
        for bad in [
            "https://evil.test/",
            "//evil.test",
            "/dashboard//evil",
            "/api/v1",
            "/dashboard/sign-out",
        ] {
            assert_eq!(safe_next(Some(bad)), "/dashboard/share-tokens", "{bad}");
        }
    }
}
