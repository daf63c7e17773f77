//! API tests: the real router and store, in process, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod api_keys;
mod conventions;
mod idempotency;
mod inquiries;
mod pagination;
mod permissions;
mod rate_limit;
mod redaction;
mod tenancy;
