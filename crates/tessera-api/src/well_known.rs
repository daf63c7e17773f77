//! What an instance publishes about itself, with no authentication, for other instances and
//! verifiers (issue #17, instance identity): `GET /.well-known/jwks.json` — every signing key's
//! public half, active and retired, so a signature made before a rotation still verifies — and
//! `GET /.well-known/tessera` — the instance id, public base URL, protocol version and the API
//! versions it serves.
//!
//! Not under `/api/v1` and not in the tenant API's OpenAPI description (which is the Persona
//! API, behind the tenant gate); like `/healthz`, they answer anyone. Both are cacheable for
//! five minutes: a verifier that meets a `kid` it does not know fetches the JWKS again.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use serde_json::json;
use tessera_core::api_version::ApiVersion;
use tessera_store::units::keys;

use tessera_edge::error::error_response;
use tessera_edge::http::json_response;
use tessera_edge::state::AppState;

/// The version of the instance-to-instance protocol this instance speaks.
pub const PROTOCOL_VERSION: &str = "1";
/// How long a client may cache either document.
const CACHE_CONTROL: &str = "public, max-age=300";

/// The paths this module serves.
pub const JWKS_PATH: &str = "/.well-known/jwks.json";
pub const TESSERA_PATH: &str = "/.well-known/tessera";

/// The two documents' routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(JWKS_PATH, get(jwks))
        .route(TESSERA_PATH, get(tessera))
}

fn cacheable(body: serde_json::Value) -> Response {
    let mut r = json_response(StatusCode::OK, body.to_string().into_bytes());
    r.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    r
}

async fn jwks(State(state): State<AppState>) -> Response {
    match state.store.read(keys::published_keys()).await {
        Ok(published) => {
            let keys: Vec<_> = published.into_iter().map(|k| k.jwk).collect();
            cacheable(json!({ "keys": keys }))
        }
        Err(e) => error_response(e),
    }
}

async fn tessera(State(state): State<AppState>) -> Response {
    let (id, published) = match (
        state.store.read(keys::instance_id()).await,
        state.store.read(keys::published_keys()).await,
    ) {
        (Ok(id), Ok(published)) => (id, published),
        (Err(e), _) | (_, Err(e)) => return error_response(e),
    };
    let base = state.config.public_base_url();
    let active = published
        .iter()
        .find(|k| k.active)
        .map(|k| k.jwk.kid.clone());
    cacheable(json!({
        "instance-id": id,
        "public-base-url": base,
        "protocol-version": PROTOCOL_VERSION,
        "api-versions": ApiVersion::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
        "jwks-uri": format!("{base}{JWKS_PATH}"),
        "signing-key-id": active,
        "software": {"name": "tessera", "version": env!("CARGO_PKG_VERSION")},
    }))
}
