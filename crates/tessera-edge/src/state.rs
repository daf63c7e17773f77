//! The state every handler and middleware shares.

use std::sync::Arc;

use tessera_store::Store;

use crate::config::Config;
use crate::http::rate_limit::RateLimiter;
use crate::permissions::RouteTable;
use crate::throttle::Throttle;
use tessera_outbound::OutboundClient;

/// Shared, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub config: Arc<Config>,
    pub limiter: Arc<RateLimiter>,
    /// SHA-256 of the operator token.
    pub admin_token_hash: Arc<String>,
    /// The permission each tenant route requires.
    pub routes: Arc<RouteTable>,
    /// The one client for outbound HTTP (webhooks, workflow steps).
    pub outbound: OutboundClient,
    /// The client for peer instances (federation): the same guard, the peers' allow-list.
    pub peer_outbound: OutboundClient,
    /// Failed dashboard sign-ins, counted per email and per client address.
    pub sign_in_throttle: Arc<Throttle>,
}
