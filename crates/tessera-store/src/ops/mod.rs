//! Units of work, one module per aggregate. Each function takes the [`Tx`](crate::Tx) of the
//! unit it runs in and the caller's tenancy scope; an id alone never finds an object.

pub mod connections;
pub mod documents;
pub mod events;
pub mod idempotency;
pub mod inquiries;
pub mod jobs;
pub mod redemption;
pub mod related;
mod scoped;
pub mod sessions;
pub mod share_tokens;
pub mod source_data;
pub mod templates;
pub mod tenancy;
pub mod verifications;
pub mod webhooks;
pub mod workflow_runs;
pub mod workflow_triggers;
pub mod workflows;

use crate::tx::Tx;

/// `for update` on PostgreSQL write transactions (the SQLite writer is already serial).
pub(crate) fn lock(tx: &Tx) -> &'static str {
    match tx.dialect() {
        crate::Dialect::Postgres => " for update",
        crate::Dialect::Sqlite => "",
    }
}
mod workflow_steps;
