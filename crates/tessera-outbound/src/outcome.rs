//! What one outbound attempt gave: the answer (status, the start of the body, `Retry-After`) or
//! why there was none, as a stable error kind that delivery records and metrics use.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::time::Duration;

use super::resolve::ResolveError;

/// Why an attempt failed. [`FailureKind::as_str`] is the stable snake_case code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The URL could not be used at all.
    InvalidUrl,
    /// The guard refused the address (or every address) of the host; nothing was sent.
    RefusedAddress,
    /// The host name did not resolve.
    Dns,
    /// No TCP connection could be made.
    Connect,
    /// The TLS handshake failed (certificate not valid for the host, untrusted, …).
    Tls,
    /// No complete answer within the per-attempt timeout.
    Timeout,
    /// The receiver answered 3xx; redirects are never followed.
    Redirect,
    /// The receiver answered with a status outside 2xx and 3xx.
    HttpStatus,
    /// The connection broke while the response body was read.
    Body,
    /// Any other failure of the request.
    Request,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidUrl => "invalid_url",
            Self::RefusedAddress => "refused_address",
            Self::Dns => "dns",
            Self::Connect => "connect",
            Self::Tls => "tls",
            Self::Timeout => "timeout",
            Self::Redirect => "redirect",
            Self::HttpStatus => "http_status",
            Self::Body => "body",
            Self::Request => "request",
        }
    }
}

impl std::fmt::Display for FailureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failed attempt: its kind and a message for the delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub kind: FailureKind,
    pub message: String,
}

impl Failure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
        }
    }
}

/// The result of one attempt. A success is a 2xx answer within the timeout: `failure` is `None`.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The response status, when the receiver answered.
    pub status: Option<u16>,
    /// The first bytes of the response body (at most the configured log cap, 1 KiB by default).
    pub body_head: Vec<u8>,
    /// Body bytes read (at most the read cap plus one chunk).
    pub body_read: usize,
    /// The receiver sent more than the read cap; the rest was not read.
    pub body_truncated: bool,
    /// From the start of the attempt to its end.
    pub duration: Duration,
    /// The receiver's `Retry-After`, read only on 429 and 503 (where it asks to wait).
    pub retry_after: Option<Duration>,
    /// The address the request was sent to.
    pub remote_addr: Option<SocketAddr>,
    pub failure: Option<Failure>,
}

impl Outcome {
    pub(super) fn failed(failure: Failure, duration: Duration) -> Self {
        Self {
            status: None,
            body_head: Vec::new(),
            body_read: 0,
            body_truncated: false,
            duration,
            retry_after: None,
            remote_addr: None,
            failure: Some(failure),
        }
    }

    pub fn is_success(&self) -> bool {
        self.failure.is_none()
    }

    /// The failure's stable code, if any.
    pub fn error_kind(&self) -> Option<FailureKind> {
        self.failure.as_ref().map(|f| f.kind)
    }

    /// The start of the body as text, for logs and attempt records (invalid UTF-8 replaced).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body_head).into_owned()
    }
}

/// Every error in `err`'s chain. An `io::Error`'s `source()` skips the error it wraps (and TLS
/// errors sit inside two of them), so wrapped errors are followed through `get_ref`.
fn chain<'a>(err: &'a (dyn StdError + 'static)) -> Vec<&'a (dyn StdError + 'static)> {
    let mut out = Vec::new();
    let mut next = Some(err);
    // Bounded: error chains are short, and a cycle must not hang an attempt.
    while let Some(e) = next.filter(|_| out.len() < 64) {
        out.push(e);
        next = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    out
}

/// The failure a `reqwest` error stands for. The guard's own errors travel inside the client's
/// error chain (they come from our resolver), so the chain is searched for them first.
pub(super) fn classify(err: &reqwest::Error) -> Failure {
    for e in chain(err) {
        if let Some(resolve) = e.downcast_ref::<ResolveError>() {
            let kind = match resolve {
                ResolveError::Refused { .. } => FailureKind::RefusedAddress,
                ResolveError::Unresolvable { .. } | ResolveError::NoAddress { .. } => {
                    FailureKind::Dns
                }
            };
            return Failure::new(kind, resolve.to_string());
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Failure::new(FailureKind::Tls, format!("TLS handshake failed: {tls}"));
        }
    }
    let kind = if err.is_timeout() {
        FailureKind::Timeout
    } else if err.is_connect() {
        FailureKind::Connect
    } else if err.is_body() || err.is_decode() {
        FailureKind::Body
    } else {
        FailureKind::Request
    };
    Failure::new(kind, error_chain(err))
}

/// "outer: inner: innermost", since reqwest's own message alone ("error sending request") says
/// little.
fn error_chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = String::new();
    for e in chain(err) {
        let part = e.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
}
