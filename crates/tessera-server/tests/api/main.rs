//! API tests: the real router and store, in process, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

mod conventions;
mod idempotency;
mod pagination;
mod rate_limit;
