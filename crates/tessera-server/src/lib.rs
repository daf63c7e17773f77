//! Tessera's server: the tenant API (`api`), the operator API (`admin`), the dashboard
//! (`dashboard`), operations endpoints, and the middleware and extractors that give every
//! endpoint the same conventions.

pub mod admin;
pub mod api;
pub mod app;
pub mod body;
pub mod checks;
pub mod config;
pub mod dashboard;
pub mod error;
pub mod extract;
pub mod http;
pub mod ops;
pub mod permissions;
pub mod query;
pub mod render;
pub mod serve;
pub mod state;
pub mod throttle;
pub mod worker;

pub use config::Config;
/// The outbound HTTP client (crate `tessera-outbound`).
pub use tessera_outbound as outbound;
