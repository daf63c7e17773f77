//! The dashboard (`/dashboard`): server-rendered pages for the people of an organization,
//! signed in with email and password. Pages work without JavaScript.
//!
//! One behaviour, two faces: every page calls the same store units of work and core rules as the
//! JSON API, with the signed-in user as the actor and the session's organization and environment
//! as the scope — so an object of another organization is "not found" here exactly as it is
//! there. Every form is checked for its session's CSRF token by one guard (`csrf`), and every
//! failure becomes a page that says what went wrong (`page`), including the error responses
//! made outside its handlers ([`error_pages`]).
//!
//! A face of the server: it depends on `tessera-edge` (and `tessera-core`, `tessera-store`),
//! never on the API or the worker; what it shares with the API (the request document, the
//! checks of webhook URLs, workflow definitions and passwords) lives in the edge. Its askama
//! templates are in `templates/`, its stylesheet and script in `assets/`.

pub mod api_keys;
pub mod auth;
pub mod connections;
pub mod csrf;
pub mod events;
pub mod form;
pub mod inquiries;
pub mod inquiry_templates;
pub mod page;
pub mod peer_health;
pub mod session;
pub mod share_token_batches;
pub mod share_tokens;
pub mod view;
pub mod webhooks;
pub mod workflows;

use axum::Router;
use axum::extract::Request;
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::Response;
use axum::routing::{get, post};
use tower_http::catch_panic::CatchPanicLayer;

use tessera_edge::http::is_html;
use tessera_edge::state::AppState;

/// Whether a path belongs to the dashboard (its errors are pages, not JSON documents).
pub fn owns(path: &str) -> bool {
    path == "/dashboard" || path.starts_with("/dashboard/")
}

/// The dashboard's errors are pages, wherever they were made: every error response to a dashboard
/// path that is not a page already (the router's 404 and 405, a body too large, a panic caught
/// outside the dashboard's routes) becomes the page for its status. The server layers this
/// around its whole router, inside the request context (which gives every other error response
/// the JSON error document).
pub async fn error_pages(req: Request, next: Next) -> Response {
    let ours = owns(req.uri().path());
    let response = next.run(req).await;
    let status = response.status();
    if ours && status.as_u16() >= 400 && !is_html(response.headers()) {
        return page::status_page(status);
    }
    response
}

/// The dashboard's routes.
pub fn routes(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(auth::home))
        .route("/dashboard/", get(auth::home))
        .route("/dashboard/assets/dashboard.css", get(page::css))
        .route("/dashboard/assets/dashboard.js", get(page::js))
        .route(
            "/dashboard/sign-in",
            get(auth::sign_in_page).post(auth::sign_in),
        )
        .route("/dashboard/sign-out", post(auth::sign_out))
        .route("/dashboard/environment", post(auth::switch_environment))
        .route(
            "/dashboard/share-tokens",
            get(share_tokens::list).post(share_tokens::create),
        )
        .route(
            "/dashboard/share-tokens/redeem",
            post(share_tokens::redeem_by_id),
        )
        .route("/dashboard/share-tokens/{id}", get(share_tokens::show))
        .route(
            "/dashboard/share-tokens/{id}/redeem",
            post(share_tokens::redeem),
        )
        .route(
            "/dashboard/share-tokens/{id}/expire",
            post(share_tokens::expire),
        )
        .route(
            "/dashboard/share-tokens/{id}/receipt",
            get(share_tokens::receipt),
        )
        .route(
            "/dashboard/connections",
            get(connections::list).post(connections::create),
        )
        .route("/dashboard/connections/{id}", get(connections::show))
        .route(
            "/dashboard/connections/{id}/{action}",
            post(connections::act),
        )
        .route("/dashboard/inquiries", get(inquiries::list))
        .route("/dashboard/inquiries/{id}", get(inquiries::show))
        .route("/dashboard/documents/{id}/file", get(inquiries::file))
        .route(
            "/dashboard/templates",
            get(inquiry_templates::list).post(inquiry_templates::create),
        )
        .route("/dashboard/templates/new", get(inquiry_templates::new))
        .route(
            "/dashboard/templates/{id}",
            get(inquiry_templates::show).post(inquiry_templates::update),
        )
        .route("/dashboard/events", get(events::list))
        .route("/dashboard/events/{id}", get(events::show))
        .route(
            "/dashboard/webhooks",
            get(webhooks::list).post(webhooks::create),
        )
        .route("/dashboard/webhooks/{id}", get(webhooks::show))
        .route("/dashboard/webhooks/{id}/{action}", post(webhooks::act))
        .route(
            "/dashboard/webhook-deliveries/{id}",
            get(webhooks::delivery),
        )
        .route(
            "/dashboard/webhook-deliveries/{id}/retry",
            post(webhooks::retry),
        )
        .route(
            "/dashboard/api-keys",
            get(api_keys::list).post(api_keys::create),
        )
        .route("/dashboard/api-keys/{id}/expire", post(api_keys::expire))
        .route(
            "/dashboard/workflows",
            get(workflows::list).post(workflows::create),
        )
        .route("/dashboard/workflows/new", get(workflows::new))
        .route("/dashboard/workflows/{id}", get(workflows::show))
        .route(
            "/dashboard/workflows/{id}/edit",
            get(workflows::edit).post(workflows::update),
        )
        .route("/dashboard/workflows/{id}/{action}", post(workflows::act))
        .route("/dashboard/workflow-runs/{id}", get(workflows::run))
        .route(
            "/dashboard/share-token-batches",
            post(share_token_batches::create),
        )
        .route(
            "/dashboard/share-token-batches/redeem",
            post(share_token_batches::redeem),
        )
        .route(
            "/dashboard/share-token-batches/{id}",
            get(share_token_batches::show),
        )
        .layer(from_fn_with_state(state.clone(), csrf::guard))
        .layer(CatchPanicLayer::custom(page::panic_page))
        .layer(from_fn(page::security_headers))
}
