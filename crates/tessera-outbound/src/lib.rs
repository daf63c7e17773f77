//! The one outbound HTTP client of the project: webhook deliveries and workflow `http-request`
//! steps both send through it. It owns the SSRF guard:
//!
//! - URLs are parsed by the WHATWG parser and must be https (http only to allowed networks),
//!   without user info ([`target`]);
//! - every address a host resolves to is checked ([`guard`]) and the connection is made only to
//!   checked addresses, through a resolver the HTTP client cannot bypass ([`resolve`]); IP
//!   literals, which never reach a resolver, are checked before sending;
//! - redirects are never followed, proxies are never used, each attempt has a deadline and the
//!   response body is read up to a cap.
//!
//! TLS still verifies the certificate for the URL's host name: only the address lookup is ours.
//!
//! A library below the server: it depends on `tessera-core` only (for the clock and the
//! `Retry-After` rules), never on the server's configuration or state. The server builds its
//! [`OutboundConfig`] from its own configuration.

pub mod guard;
pub mod outcome;
pub mod peer;
pub mod resolve;
pub mod target;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::HeaderMap;
use tessera_core::{SharedClock, SystemClock};

pub use guard::{AddressPolicy, AllowedNetworks, InvalidNetwork, Refusal, Scheme};
pub use outcome::{Failure, FailureKind, Outcome};
pub use resolve::{Lookup, ResolveError, StaticLookup, SystemLookup};
pub use target::{Target, UrlError};

/// Default cap on response body bytes read per attempt.
pub const DEFAULT_BODY_READ_CAP: usize = 64 * 1024;
/// Default number of response body bytes kept for logs and attempt records.
pub const DEFAULT_BODY_LOG_CAP: usize = 1024;

/// What the client needs to know: the networks it may reach although not public, and its
/// limits.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    pub allowed: AllowedNetworks,
    /// Per-attempt deadline, from the start of the attempt to the end of the body.
    pub timeout: Duration,
    pub body_read_cap: usize,
    pub body_log_cap: usize,
}

/// Why the client could not be set up. Shown at startup.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Network(#[from] InvalidNetwork),
    #[error("TESSERA_WEBHOOK_TIMEOUT_MS must be greater than 0")]
    Timeout,
    #[error("a root certificate is not valid DER: {0}")]
    Certificate(reqwest::Error),
    #[error("building the outbound HTTP client: {0}")]
    Client(reqwest::Error),
}

impl OutboundConfig {
    /// From the operator's settings (`TESSERA_WEBHOOK_ALLOWED_NETWORKS`,
    /// `TESSERA_WEBHOOK_TIMEOUT_MS`): parses the allowed networks (refusing bad ones) and takes
    /// the timeout; the body caps are the defaults.
    pub fn new<S: AsRef<str>>(allowed_networks: &[S], timeout_ms: u64) -> Result<Self, SetupError> {
        if timeout_ms == 0 {
            return Err(SetupError::Timeout);
        }
        Ok(Self {
            allowed: AllowedNetworks::parse(allowed_networks)?,
            timeout: Duration::from_millis(timeout_ms),
            body_read_cap: DEFAULT_BODY_READ_CAP,
            body_log_cap: DEFAULT_BODY_LOG_CAP,
        })
    }
}

/// Builds an [`OutboundClient`]; tests swap the resolver and trust an extra root certificate.
pub struct OutboundBuilder {
    config: OutboundConfig,
    lookup: Arc<dyn Lookup>,
    extra_roots: Vec<Vec<u8>>,
    clock: SharedClock,
}

impl OutboundBuilder {
    /// Resolves host names with `lookup` instead of the system resolver.
    pub fn lookup(mut self, lookup: impl Lookup + 'static) -> Self {
        self.lookup = Arc::new(lookup);
        self
    }

    /// Trusts one more root certificate (DER), on top of the system's.
    pub fn extra_root_certificate(mut self, der: Vec<u8>) -> Self {
        self.extra_roots.push(der);
        self
    }

    /// The clock that HTTP-date `Retry-After` values are read against.
    pub fn clock(mut self, clock: SharedClock) -> Self {
        self.clock = clock;
        self
    }

    pub fn build(self) -> Result<OutboundClient, SetupError> {
        let policy = Arc::new(AddressPolicy::new(self.config.allowed.clone()));
        let mut roots = Vec::new();
        for der in &self.extra_roots {
            roots.push(reqwest::Certificate::from_der(der).map_err(SetupError::Certificate)?);
        }
        // One client per scheme, because the resolver decides by scheme which addresses pass.
        let client = |scheme: Scheme| {
            let resolver = resolve::GuardedResolver {
                lookup: self.lookup.clone(),
                policy: policy.clone(),
                scheme,
            };
            reqwest::Client::builder()
                .dns_resolver(resolver)
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .https_only(scheme == Scheme::Https)
                .timeout(self.config.timeout)
                .connect_timeout(self.config.timeout)
                .user_agent(concat!("Tessera/", env!("CARGO_PKG_VERSION")))
                .tls_certs_merge(roots.iter().cloned())
                .build()
                .map_err(SetupError::Client)
        };
        Ok(OutboundClient {
            https: client(Scheme::Https)?,
            http: client(Scheme::Http)?,
            lookup: self.lookup,
            policy,
            config: Arc::new(self.config),
            clock: self.clock,
        })
    }
}

/// The guarded client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct OutboundClient {
    https: reqwest::Client,
    http: reqwest::Client,
    lookup: Arc<dyn Lookup>,
    policy: Arc<AddressPolicy>,
    config: Arc<OutboundConfig>,
    clock: SharedClock,
}

impl OutboundClient {
    pub fn builder(config: OutboundConfig) -> OutboundBuilder {
        OutboundBuilder {
            config,
            lookup: Arc::new(SystemLookup),
            extra_roots: Vec::new(),
            clock: Arc::new(SystemClock),
        }
    }

    pub fn policy(&self) -> &AddressPolicy {
        &self.policy
    }

    pub fn config(&self) -> &OutboundConfig {
        &self.config
    }

    /// Whether `url` may be used as a destination: the URL rules, then every address of its host
    /// (resolved now) against the guard. Used when a webhook or workflow is saved; every attempt
    /// checks again, since what a name resolves to can change.
    pub async fn check_url(&self, url: &str) -> Result<Target, UrlError> {
        let target = Target::parse(url)?;
        if let Some(ip) = target.literal_ip() {
            self.policy
                .check(ip, target.scheme)
                .map_err(UrlError::Refused)?;
        } else if let Some(host) = target.domain() {
            resolve::resolve_checked(self.lookup.as_ref(), &self.policy, host, target.scheme)
                .await
                .map_err(UrlError::Resolve)?;
        }
        Ok(target)
    }

    /// Sends one `POST` attempt. Never panics and never returns early without an [`Outcome`]:
    /// a refused address, a timeout or a 500 are all outcomes, for the caller to record.
    pub async fn post(&self, url: &str, headers: HeaderMap, body: Bytes) -> Outcome {
        let started = Instant::now();
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let target = match Target::parse(url) {
            Ok(t) => t,
            Err(e) => {
                let failure = Failure::new(FailureKind::InvalidUrl, e.to_string());
                return Outcome::failed(failure, started.elapsed());
            }
        };
        // An IP literal goes straight to the connector without a lookup: check it here.
        let refused = target
            .literal_ip()
            .and_then(|ip| self.policy.check(ip, target.scheme).err());
        if let Some(refusal) = refused {
            let failure = Failure::new(FailureKind::RefusedAddress, refusal.to_string());
            return Outcome::failed(failure, started.elapsed());
        }
        let client = match target.scheme {
            Scheme::Https => &self.https,
            Scheme::Http => &self.http,
        };
        let send = client.post(target.url).headers(headers).body(body).send();
        let response = match tokio::time::timeout_at(deadline, send).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Outcome::failed(outcome::classify(&e), started.elapsed()),
            Err(_) => {
                let failure = Failure::new(FailureKind::Timeout, self.timeout_message());
                return Outcome::failed(failure, started.elapsed());
            }
        };
        self.read_response(response, started, deadline).await
    }

    /// Fetches a document with one `GET` (a peer's well-known documents): the same guard,
    /// deadline and refusal of redirects as [`OutboundClient::post`]. A 2xx answer's body is read
    /// whole, up to the read cap (a longer one is a failure); anything else is a [`Failure`].
    pub async fn get_document(&self, url: &str) -> Result<Bytes, Failure> {
        let (status, body) = self
            .whole(
                url,
                |client, url| {
                    client
                        .get(url)
                        .header(http::header::ACCEPT, "application/json")
                },
                self.config.body_read_cap,
            )
            .await?;
        if !(200..300).contains(&status) {
            return Err(Failure::new(
                FailureKind::HttpStatus,
                format!("the server answered {status}"),
            ));
        }
        Ok(body)
    }

    /// Sends one signed `POST` to a peer and reads its whole answer, whatever its status, up to
    /// `max_bytes` (a longer one is a failure): the same guard, deadline and refusal of redirects
    /// as [`OutboundClient::post`]. Returns the status and the body.
    pub async fn exchange(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Bytes,
        max_bytes: usize,
    ) -> Result<(u16, Bytes), Failure> {
        self.whole(
            url,
            |client, url| client.post(url).headers(headers).body(body),
            max_bytes,
        )
        .await
    }

    /// One request `build` makes for `url` (through the guard: a literal address is checked here,
    /// a name by the client's resolver), its whole answer read up to `max_bytes` within the
    /// deadline; a redirect is a failure.
    async fn whole(
        &self,
        url: &str,
        build: impl FnOnce(&reqwest::Client, url::Url) -> reqwest::RequestBuilder,
        max_bytes: usize,
    ) -> Result<(u16, Bytes), Failure> {
        let deadline = tokio::time::Instant::now() + self.config.timeout;
        let target =
            Target::parse(url).map_err(|e| Failure::new(FailureKind::InvalidUrl, e.to_string()))?;
        if let Some(ip) = target.literal_ip() {
            self.policy
                .check(ip, target.scheme)
                .map_err(|r| Failure::new(FailureKind::RefusedAddress, r.to_string()))?;
        }
        let client = match target.scheme {
            Scheme::Https => &self.https,
            Scheme::Http => &self.http,
        };
        let send = build(client, target.url).send();
        let mut response = match tokio::time::timeout_at(deadline, send).await {
            Ok(Ok(response)) => response,
            Ok(Err(e)) => return Err(outcome::classify(&e)),
            Err(_) => return Err(Failure::new(FailureKind::Timeout, self.timeout_message())),
        };
        let status = response.status();
        if status.is_redirection() {
            return Err(Failure::new(
                FailureKind::Redirect,
                format!("the server answered {status}; redirects are not followed"),
            ));
        }
        let body = self.read_whole(&mut response, deadline, max_bytes).await?;
        Ok((status.as_u16(), body))
    }

    async fn read_whole(
        &self,
        response: &mut reqwest::Response,
        deadline: tokio::time::Instant,
        max_bytes: usize,
    ) -> Result<Bytes, Failure> {
        let mut body = Vec::new();
        loop {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    body.extend_from_slice(&chunk);
                    if body.len() > max_bytes {
                        return Err(Failure::new(
                            FailureKind::Body,
                            format!("the answer is larger than {max_bytes} bytes"),
                        ));
                    }
                }
                Ok(Ok(None)) => return Ok(Bytes::from(body)),
                Ok(Err(e)) => return Err(outcome::classify(&e)),
                Err(_) => return Err(Failure::new(FailureKind::Timeout, self.timeout_message())),
            }
        }
    }

    fn timeout_message(&self) -> String {
        format!(
            "no complete answer within {} ms",
            self.config.timeout.as_millis()
        )
    }

    async fn read_response(
        &self,
        mut response: reqwest::Response,
        started: Instant,
        deadline: tokio::time::Instant,
    ) -> Outcome {
        let status = response.status();
        let remote_addr = response.remote_addr();
        let header = |name: http::HeaderName| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = match status.as_u16() {
            429 | 503 => header(http::header::RETRY_AFTER).and_then(|v| {
                tessera_core::retry::parse_retry_after(&v, self.clock.now().unix_seconds())
            }),
            _ => None,
        };
        let location = header(http::header::LOCATION);

        let mut body_head = Vec::new();
        let mut body_read = 0usize;
        let mut body_truncated = false;
        let mut failure = None;
        loop {
            match tokio::time::timeout_at(deadline, response.chunk()).await {
                Ok(Ok(Some(chunk))) => {
                    let room = self.config.body_log_cap.saturating_sub(body_head.len());
                    body_head.extend_from_slice(&chunk[..room.min(chunk.len())]);
                    body_read += chunk.len();
                    // Stop reading (and drop the connection) once past the cap: a receiver
                    // cannot make us read without end.
                    if body_read > self.config.body_read_cap {
                        body_truncated = true;
                        break;
                    }
                }
                Ok(Ok(None)) => break,
                Ok(Err(e)) => {
                    failure = Some(outcome::classify(&e));
                    break;
                }
                Err(_) => {
                    failure = Some(Failure::new(FailureKind::Timeout, self.timeout_message()));
                    break;
                }
            }
        }

        let failure = failure.or_else(|| {
            if status.is_success() {
                None
            } else if status.is_redirection() {
                let to = location.as_deref().unwrap_or("nowhere");
                Some(Failure::new(
                    FailureKind::Redirect,
                    format!("the receiver answered {status}, redirecting to {to}; redirects are not followed"),
                ))
            } else {
                Some(Failure::new(
                    FailureKind::HttpStatus,
                    format!("the receiver answered {status}"),
                ))
            }
        });
        Outcome {
            status: Some(status.as_u16()),
            body_head,
            body_read,
            body_truncated,
            duration: started.elapsed(),
            retry_after,
            remote_addr,
            failure,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn configuration_errors_are_refused_with_a_clear_message() {
        let err = OutboundConfig::new(&["127.0.0.0/8", "intranet"], 5000).unwrap_err();
        assert_eq!(
            err.to_string(),
            "TESSERA_WEBHOOK_ALLOWED_NETWORKS: `intranet` is not a CIDR network (e.g. 127.0.0.0/8, \
             ::1/128) or an IP address"
        );
        assert!(matches!(
            OutboundConfig::new::<&str>(&[], 0),
            Err(SetupError::Timeout)
        ));
        let parsed = OutboundConfig::new(&["127.0.0.0/8", "::1"], 1500).unwrap();
        assert_eq!(parsed.allowed.networks().len(), 2);
        assert_eq!(parsed.timeout, Duration::from_millis(1500));
        assert_eq!(parsed.body_read_cap, 64 * 1024);
        assert_eq!(parsed.body_log_cap, 1024);
    }
}
