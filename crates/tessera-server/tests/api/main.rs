//! API tests: the real router and store, in process, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admin;
mod api_keys;
mod bodies;
mod connect;
mod conventions;
mod dashboard;
mod documents;
mod events;
mod idempotency;
mod inquiries;
mod ops;
mod pagination;
mod permissions;
mod rate_limit;
mod receiver;
mod redaction;
mod robustness;
mod templates;
mod tenancy;
mod verifications;
mod webhooks;
