//! API tests: the real router and store, in process, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod connect;
mod connection_rules;
mod connections;
mod conventions;
mod redemption;
mod redemption_checks;
mod share_token_rules;
mod share_token_views;
mod share_tokens;
