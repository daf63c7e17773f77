//! The store's API: units of work, one module per aggregate. Each function returns a
//! [`Write`](crate::Write) or a [`Read`](crate::Read) that [`Store`](crate::Store) runs in one
//! transaction (or on one reader connection); no caller ever holds a transaction. Every unit is
//! scoped by the caller's tenancy scope where it touches tenant data: an id alone never finds an
//! object.

pub mod connections;
pub mod documents;
pub mod events;
pub mod federation;
pub mod idempotency;
pub mod inquiries;
pub mod jobs;
pub mod keys;
pub mod peers;
pub mod redemption;
pub mod related;
pub mod sessions;
pub mod share_token_batches;
pub mod share_tokens;
pub mod source_notices;
pub mod templates;
pub mod tenancy;
pub mod verifications;
pub mod webhooks;
pub mod workflow_runs;
pub mod workflow_triggers;
pub mod workflows;
