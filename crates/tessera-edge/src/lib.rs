//! Tessera's HTTP edge: what every face of the server (the tenant API, the operator API, the
//! dashboard) shares, so that every endpoint keeps the same conventions — the configuration
//! ([`config`]) and the shared state ([`state`]), the middleware ([`http`]: request context,
//! tenant and operator gates, rate limits, idempotency keys), the extractors ([`extract`]), query
//! strings ([`query`]), rendering ([`render`]) and error documents ([`error`]), the permission
//! each tenant route requires ([`permissions`]), the request document ([`body`]), the checks both
//! faces make of what a tenant sends ([`inputs`]) and the sign-in throttle ([`throttle`]).
//!
//! It depends on `tessera-core`, `tessera-store` and `tessera-outbound` only. The faces
//! (`tessera-api`, `tessera-dashboard`) depend on it and never on each other: what both need
//! lives here or below.

pub mod body;
pub mod config;
pub mod error;
pub mod extract;
pub mod http;
pub mod inputs;
pub mod json_body;
pub mod permissions;
pub mod query;
pub mod render;
pub mod state;
pub mod throttle;

pub use config::Config;
