//! Tests of the outbound HTTP client against real receivers on loopback (never another address),
//! and of webhook signatures against independent verifiers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod receiver;

mod delivery;
mod signatures;
mod ssrf;
mod tls;

use std::time::Duration;

use tessera_outbound::{
    AllowedNetworks, OutboundBuilder, OutboundClient, OutboundConfig, StaticLookup,
};

pub const TIMEOUT: Duration = Duration::from_secs(5);

/// A client configuration allowing `allowed` networks.
pub fn config(allowed: &[&str], timeout: Duration) -> OutboundConfig {
    OutboundConfig {
        allowed: AllowedNetworks::parse(allowed).unwrap(),
        timeout,
        body_read_cap: tessera_outbound::DEFAULT_BODY_READ_CAP,
        body_log_cap: tessera_outbound::DEFAULT_BODY_LOG_CAP,
    }
}

pub fn builder(allowed: &[&str], timeout: Duration) -> OutboundBuilder {
    OutboundClient::builder(config(allowed, timeout))
}

/// A client whose names resolve only through `lookup`.
pub fn client_with(allowed: &[&str], lookup: StaticLookup) -> OutboundClient {
    builder(allowed, TIMEOUT).lookup(lookup).build().unwrap()
}
