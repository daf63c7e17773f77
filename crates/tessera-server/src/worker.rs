//! The background worker (crate `tessera-worker`, re-exported here), set up from the server's
//! configuration and state.

pub use tessera_worker::*;

use tessera_edge::config::Config;
use tessera_edge::state::AppState;

/// What the worker needs of the server's configuration.
pub fn settings(config: &Config) -> Settings {
    Settings {
        retry: RetryPolicies::scaled(config.webhook_retry_scale),
        lease_ms: config.worker_lease_ms,
        sessions: config.session_lifetimes(),
    }
}

/// A worker sharing an application's store, outbound client and configuration.
pub fn for_app(state: &AppState) -> Worker {
    Worker::new(
        state.store.clone(),
        state.outbound.clone(),
        settings(&state.config),
    )
    .with_peer_outbound(state.peer_outbound.clone())
}
