//! API tests: the real router and store, in process, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod admin;
mod api_keys;
mod bodies;
mod connect;
mod connection_rules;
mod connections;
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
mod redemption;
mod redemption_checks;
mod robustness;
mod share_token_rules;
mod share_token_views;
mod share_tokens;
mod templates;
mod tenancy;
mod verifications;
mod webhooks;
mod workflow_loops;
mod workflow_manual;
mod workflow_runs;
mod workflow_validation;
mod workflows;
