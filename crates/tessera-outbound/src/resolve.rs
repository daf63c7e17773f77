//! Name resolution for outbound HTTP. A [`Lookup`] turns a host name into addresses (the
//! system resolver in production, a fixed table in tests); the [`GuardedResolver`] is what the
//! HTTP client asks, and it hands back only addresses the guard accepted, so the connection goes
//! to an address that was checked and no second lookup can swap it (DNS rebinding).

use std::collections::HashMap;
use std::fmt;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use futures::future::BoxFuture;

use super::guard::{AddressPolicy, Refusal, Scheme};

/// Resolves a host name to IP addresses.
pub trait Lookup: Send + Sync + fmt::Debug {
    fn lookup(&self, host: String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver (`getaddrinfo` on a blocking thread, through tokio).
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        Box::pin(async move {
            let addrs = tokio::net::lookup_host((host.as_str(), 0)).await?;
            Ok(addrs.map(|a| a.ip()).collect())
        })
    }
}

/// A fixed table of names, for tests and demos: no name outside it resolves.
#[derive(Debug, Clone, Default)]
pub struct StaticLookup(HashMap<String, Vec<IpAddr>>);

impl StaticLookup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `host` → `addrs` to the table.
    pub fn with(mut self, host: &str, addrs: &[IpAddr]) -> Self {
        self.0.insert(host.to_ascii_lowercase(), addrs.to_vec());
        self
    }
}

impl Lookup for StaticLookup {
    fn lookup(&self, host: String) -> BoxFuture<'static, io::Result<Vec<IpAddr>>> {
        let found = self.0.get(&host.to_ascii_lowercase()).cloned();
        Box::pin(async move {
            found.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "name not in the table"))
        })
    }
}

/// Why a host name gave no address to connect to.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("the host {host} could not be resolved: {source}")]
    Unresolvable { host: String, source: io::Error },
    #[error("the host {host} resolved to no address")]
    NoAddress { host: String },
    /// One refused address refuses the host: a name that mixes public and internal addresses is
    /// not one to send data to.
    #[error("the host {host} resolves to {refusal}")]
    Refused { host: String, refusal: Refusal },
}

/// Resolves `host` and checks every address it resolves to.
pub async fn resolve_checked(
    lookup: &dyn Lookup,
    policy: &AddressPolicy,
    host: &str,
    scheme: Scheme,
) -> Result<Vec<IpAddr>, ResolveError> {
    let ips =
        lookup
            .lookup(host.to_owned())
            .await
            .map_err(|source| ResolveError::Unresolvable {
                host: host.to_owned(),
                source,
            })?;
    if ips.is_empty() {
        return Err(ResolveError::NoAddress {
            host: host.to_owned(),
        });
    }
    for &ip in &ips {
        policy
            .check(ip, scheme)
            .map_err(|refusal| ResolveError::Refused {
                host: host.to_owned(),
                refusal,
            })?;
    }
    Ok(ips)
}

/// The resolver the HTTP client uses for one scheme.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub(super) lookup: Arc<dyn Lookup>,
    pub(super) policy: Arc<AddressPolicy>,
    pub(super) scheme: Scheme,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let ips = resolve_checked(this.lookup.as_ref(), &this.policy, &host, this.scheme)
                .await
                .map_err(|e| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
            // Port 0 is replaced by the URL's port (or the scheme's) by the connector.
            let addrs: reqwest::dns::Addrs =
                Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
