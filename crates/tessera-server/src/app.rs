//! Assembles the application: state, routers, layers.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use tessera_core::secret::{generate_admin_token, hash_secret};
use tessera_store::Store;
use tessera_store::units::tenancy;
use tower_http::catch_panic::CatchPanicLayer;

use tessera_api::{self as api, admin};
use tessera_dashboard as dashboard;
use tessera_edge::config::Config;
use tessera_edge::http::{self, rate_limit::RateLimiter};
use tessera_edge::permissions::RouteTable;
use tessera_edge::state::AppState;
use tessera_edge::throttle::Throttle;

use crate::ops;

/// The generated OpenAPI description of the tenant API.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::description()
}

/// The operator token's hash: from configuration, or generated once per database (the token
/// itself is written to `<data dir>/admin-token`, readable by the owner only).
pub async fn admin_token_hash(store: &Store, config: &Config) -> anyhow::Result<String> {
    if let Some(token) = &config.admin_token {
        return Ok(hash_secret(token));
    }
    let existing = store.read(tenancy::operator_token_hash()).await?;
    if let Some(hash) = existing {
        return Ok(hash);
    }
    let token = generate_admin_token();
    let hash = hash_secret(&token);
    let stored = store
        .write(tenancy::set_operator_token_hash(hash.clone()))
        .await?;
    if stored == hash {
        let path = config.data_dir.join("admin-token");
        crate::secret_file::write(&path, &token)?;
        tracing::info!(path = %path.display(), token_prefix = &token[..8], "generated the operator token");
    }
    Ok(stored)
}

/// Builds the state and the router.
pub async fn build(store: Store, config: Config) -> anyhow::Result<(Router, AppState)> {
    ops::metrics_handle();
    let (api_router, openapi) = api::routes().split_for_parts();
    let openapi = api::openapi::finish(openapi);
    let openapi_json = Arc::new(api::openapi::to_json(&openapi)?);
    let admin_token_hash = admin_token_hash(&store, &config).await?;
    // The instance's id and first signing key, made at first start (sealed under the master key).
    let kid = store
        .write(tessera_store::units::keys::ensure_identity(
            config.signing_algorithm,
        ))
        .await?;
    tracing::debug!(kid, "the instance's active signing key");
    let state = AppState {
        store,
        limiter: Arc::new(RateLimiter::new(config.rate_limit_per_minute)),
        routes: Arc::new(RouteTable::from_openapi(&openapi)),
        outbound: config.outbound_client()?,
        peer_outbound: config.peer_outbound_client()?,
        admin_token_hash: Arc::new(admin_token_hash),
        sign_in_throttle: Arc::new(Throttle::new(
            config.sign_in_failures_per_email,
            config.sign_in_failures_per_address,
            config.sign_in_window_secs,
        )),
        config: Arc::new(config),
    };
    let api_router = api_router
        .layer(from_fn_with_state(
            state.clone(),
            http::idempotency::idempotency,
        ))
        .layer(from_fn_with_state(state.clone(), http::tenant_gate))
        .layer(DefaultBodyLimit::max(state.config.max_request_body()))
        .layer(from_fn(http::label_route));
    let router = Router::new()
        .merge(api_router)
        .merge(admin::routes(&state).layer(from_fn(http::label_route)))
        .merge(dashboard::routes(&state).layer(from_fn(http::label_route)))
        .merge(ops::routes(openapi_json).layer(from_fn(http::label_route)))
        .merge(api::well_known::routes().layer(from_fn(http::label_route)))
        .merge(api::federation::routes().layer(from_fn(http::label_route)))
        .fallback(http::not_found)
        .layer(CatchPanicLayer::custom(http::panic_response))
        .layer(from_fn(dashboard::error_pages))
        .layer(from_fn(http::request_context))
        .with_state(state.clone());
    Ok((router, state))
}
