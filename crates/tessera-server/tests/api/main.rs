//! API tests: the real router and store, in process, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod connect;
mod connections;
mod conventions;
mod redemption;
mod share_tokens;
