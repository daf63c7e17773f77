//! Tessera's server: assembles the faces into one application — the tenant and operator APIs
//! (`tessera-api`), the dashboard (`tessera-dashboard`) and the operations endpoints ([`ops`]),
//! over the HTTP edge they share (`tessera-edge`) — and runs it, with the background worker
//! (`tessera-worker`) in the same process or alone ([`serve`]).
//!
//! The top of the server's crates, so it may depend on all of them; nothing but the binary
//! depends on it. Each crate below depends only downward, and cargo refuses a cycle:
//!
//! ```text
//! tessera-server ─┬─ tessera-api ───────┬─ tessera-edge ─┬─ tessera-outbound ─┬─ tessera-core
//!                 ├─ tessera-dashboard ─┘                └─ tessera-store ────┘
//!                 └─ tessera-worker ─── tessera-outbound, tessera-store, tessera-core
//! ```
//!
//! The crates below are re-exported under short names, so the binary and the tests need only
//! this one.

pub mod app;
pub mod master_key;
pub mod ops;
pub mod secret_file;
pub mod serve;
pub mod worker;

pub use tessera_api as api;
pub use tessera_dashboard as dashboard;
pub use tessera_edge as edge;
pub use tessera_edge::config::Config;
pub use tessera_outbound as outbound;
