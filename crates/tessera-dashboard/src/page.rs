//! What every page shares: the layout's data ([`Chrome`]), rendering a template into a response,
//! the error page ([`PageError`]: every failure becomes a readable page, never a raw 500), the
//! message of a refused form ([`form_error`]), the security headers, and the stylesheet and
//! script.

use askama::Template;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use tessera_core::{Error, Status};
use tessera_store::units::sessions::Session;

use tessera_edge::error::current_request_id;

/// The sections of the navigation.
pub const SECTIONS: &[(&str, &str, &str)] = &[
    ("share-tokens", "Share tokens", "/dashboard/share-tokens"),
    ("connections", "Connections", "/dashboard/connections"),
    ("inquiries", "Inquiries", "/dashboard/inquiries"),
    ("templates", "Templates", "/dashboard/templates"),
    ("events", "Events", "/dashboard/events"),
    ("webhooks", "Webhooks", "/dashboard/webhooks"),
    ("workflows", "Workflows", "/dashboard/workflows"),
    ("api-keys", "API keys", "/dashboard/api-keys"),
];

/// One link of the navigation.
pub struct NavItem {
    pub label: &'static str,
    pub href: &'static str,
    pub current: bool,
}

/// The layout's data: who is signed in, where, and the messages of this page.
pub struct Chrome {
    pub user_email: String,
    pub org_name: String,
    pub org_id: String,
    pub environment: &'static str,
    pub csrf_token: String,
    pub nav: Vec<NavItem>,
    /// The list page of the current section (where an environment switch lands).
    pub section_href: &'static str,
    pub title: String,
    pub notice: Option<String>,
    pub error: Option<String>,
}

impl Chrome {
    pub fn new(session: &Session, section: &str, title: impl Into<String>) -> Self {
        let section_href = SECTIONS
            .iter()
            .find(|(key, _, _)| *key == section)
            .map_or("/dashboard/share-tokens", |(_, _, href)| *href);
        Self {
            user_email: session.user.email.clone(),
            org_name: session.organization_name.clone(),
            org_id: session.scope.org.to_string(),
            environment: session.scope.kind.as_str(),
            csrf_token: session.csrf_token.clone(),
            nav: SECTIONS
                .iter()
                .map(|(key, label, href)| NavItem {
                    label,
                    href,
                    current: *key == section,
                })
                .collect(),
            section_href,
            title: title.into(),
            notice: None,
            error: None,
        }
    }

    pub fn with_notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn with_error(mut self, error: Option<String>) -> Self {
        self.error = error;
        self
    }
}

/// Renders a template with a status.
pub fn render(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => html_response(status, html),
        Err(e) => {
            tracing::error!(error = %e, "a dashboard template failed to render");
            PageError::internal().into_response()
        }
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut r = (status, html).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

/// A page result.
pub type PageResult = Result<Response, PageError>;

/// Why a page could not be shown.
#[derive(Debug)]
pub enum PageError {
    /// Not signed in (or the session ended): go to the sign-in page, then come back.
    SignIn { next: Option<String> },
    /// A page that says what went wrong.
    Message {
        status: StatusCode,
        title: &'static str,
        message: String,
    },
}

impl PageError {
    pub fn new(status: StatusCode, title: &'static str, message: impl Into<String>) -> Self {
        Self::Message {
            status,
            title,
            message: message.into(),
        }
    }

    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing here in this organization and environment. It may belong to the other environment: switch environments and look again.",
        )
    }

    pub fn internal() -> Self {
        let id = current_request_id().unwrap_or_default();
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Something went wrong",
            format!(
                "Tessera could not show this page because of an internal error. Try again; if it keeps happening, give your operator this request id: {id}"
            ),
        )
    }

    pub fn csrf() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was not sent from this dashboard session (or the session changed since the page was loaded). Go back, reload the page and try again.",
        )
    }

    pub fn admins_only() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Administrators only",
            "Only administrators of this organization can do this. Ask one of them.",
        )
    }
}

/// The page version of an error's message: its detail, as a sentence.
pub fn sentence(detail: &str) -> String {
    let mut chars = detail.trim().chars();
    let mut s: String = match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => return String::from("That did not work."),
    };
    if !s.ends_with(['.', '!', '?', ')']) {
        s.push('.');
    }
    s
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

impl From<tessera_core::Error> for PageError {
    fn from(e: tessera_core::Error) -> Self {
        match e.status {
            Status::NotFound => Self::not_found(),
            Status::Internal | Status::Unavailable => {
                if let Some(cause) = &e.cause {
                    tracing::error!(request_id = %current_request_id().unwrap_or_default(), error = %cause, code = %e.code, "internal error on a dashboard page");
                }
                Self::internal()
            }
            other => Self::new(
                StatusCode::from_u16(other.code()).unwrap_or(StatusCode::BAD_REQUEST),
                "That did not work",
                sentence(&e.detail),
            ),
        }
    }
}

/// The error page.
#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage<'a> {
    title: &'a str,
    message: &'a str,
    status: u16,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        match self {
            PageError::SignIn { next } => {
                let to = match next {
                    Some(n) => format!(
                        "/dashboard/sign-in?next={}",
                        url::form_urlencoded::byte_serialize(n.as_bytes()).collect::<String>()
                    ),
                    None => String::from("/dashboard/sign-in"),
                };
                Redirect::to(&to).into_response()
            }
            PageError::Message {
                status,
                title,
                message,
            } => {
                let page = ErrorPage {
                    title,
                    message: &message,
                    status: status.as_u16(),
                };
                match page.render() {
                    Ok(html) => html_response(status, html),
                    Err(_) => (status, message).into_response(),
                }
            }
        }
    }
}

/// The page for an error response made outside the dashboard's handlers (the router's 404 and
/// 405, a body that is too large).
pub fn status_page(status: StatusCode) -> Response {
    match status.as_u16() {
        404 => PageError::not_found(),
        405 => PageError::new(
            status,
            "Not allowed",
            "This page cannot be used that way. Go back and use the page's own links and buttons.",
        ),
        413 => PageError::new(status, "Too large", "What you sent is too large."),
        400..=499 => PageError::new(
            status,
            "That did not work",
            "The request could not be understood. Go back and try again.",
        ),
        _ => PageError::internal(),
    }
    .into_response()
}

/// A panic inside a dashboard handler becomes the internal-error page.
pub fn panic_page(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a dashboard handler panicked");
    PageError::internal().into_response()
}

/// Headers of every dashboard response: no framing, no sniffing, no caching of pages that show
/// an organization's data, and a content security policy that allows only our own files.
pub async fn security_headers(req: Request, next: Next) -> Response {
    let mut r = next.run(req).await;
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    r
}

const CSS: &str = include_str!("../assets/dashboard.css");
const JS: &str = include_str!("../assets/dashboard.js");

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    r
}

/// The stylesheet.
pub async fn css() -> Response {
    asset("text/css; charset=utf-8", CSS)
}

/// The progressive enhancement (the pages work without it).
pub async fn js() -> Response {
    asset("text/javascript; charset=utf-8", JS)
}
