//! Where an outbound request may go, as far as the URL alone tells: parsed by the WHATWG URL
//! parser (so `0x7f000001`, `2130706433`, `0177.0.0.1` and `[::ffff:127.0.0.1]` all become the IP
//! address they mean before anything is checked), https or http, no user info, a real host.

use std::net::IpAddr;

use url::{Host, Url};

use super::guard::{Refusal, Scheme};
use super::resolve::ResolveError;

/// Longest URL accepted; longer ones are refused rather than stored and sent.
pub const MAX_URL_LEN: usize = 2048;

/// Why a URL may not be used. The messages are written to be shown to the person who entered
/// the URL (a 422 when a webhook is saved).
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    #[error("the URL is not valid: {0}")]
    Invalid(#[from] url::ParseError),
    #[error("the URL is longer than {MAX_URL_LEN} characters")]
    TooLong,
    #[error("the URL must use https (plain http is allowed only to hosts the operator allows)")]
    Scheme,
    #[error("the URL must not contain a user name or password")]
    UserInfo,
    #[error("the URL must have a host")]
    NoHost,
    #[error("the URL points to {0}")]
    Refused(Refusal),
    #[error("{0}")]
    Resolve(ResolveError),
}

/// A URL that passed the syntactic checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: Url,
    pub scheme: Scheme,
}

impl Target {
    /// Parses and checks everything but the addresses.
    pub fn parse(input: &str) -> Result<Self, UrlError> {
        if input.len() > MAX_URL_LEN {
            return Err(UrlError::TooLong);
        }
        let url = Url::parse(input.trim())?;
        let scheme = match url.scheme() {
            "https" => Scheme::Https,
            "http" => Scheme::Http,
            _ => return Err(UrlError::Scheme),
        };
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::UserInfo);
        }
        match url.host() {
            None => return Err(UrlError::NoHost),
            Some(Host::Domain(d)) if d.is_empty() || d == "." => return Err(UrlError::NoHost),
            Some(_) => {}
        }
        Ok(Self { url, scheme })
    }

    /// The host when it is an IP address. Such hosts never reach a resolver, so they are checked
    /// directly.
    pub fn literal_ip(&self) -> Option<IpAddr> {
        match self.url.host()? {
            Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
            Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
            Host::Domain(_) => None,
        }
    }

    /// The host when it is a name to resolve.
    pub fn domain(&self) -> Option<&str> {
        self.url.domain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Target::parse(s).unwrap().literal_ip()
    }

    #[test]
    fn numeric_host_forms_become_the_address_they_mean() {
        let loopback: IpAddr = "127.0.0.1".parse().unwrap();
        for url in [
            "http://127.0.0.1/",
            "http://0x7f000001/",
            "http://2130706433/",
            "http://0177.0.0.1/",
            "http://127.1/",
            "http://0x7f.0.0.1/",
        ] {
            assert_eq!(ip(url), Some(loopback), "{url}");
        }
        assert_eq!(
            ip("https://[::ffff:127.0.0.1]/").unwrap().to_canonical(),
            loopback
        );
        assert_eq!(ip("https://[::1]:8443/x"), Some("::1".parse().unwrap()));
        assert_eq!(ip("https://example.com/"), None);
    }

    #[test]
    fn refuses_bad_shapes() {
        let err = |s: &str| Target::parse(s).unwrap_err();
        assert!(matches!(err("ftp://example.com/"), UrlError::Scheme));
        assert!(matches!(err("file:///etc/passwd"), UrlError::Scheme));
        assert!(matches!(err("gopher://example.com/"), UrlError::Scheme));
        assert!(matches!(
            err("https://user@example.com/"),
            UrlError::UserInfo
        ));
        assert!(matches!(
            err("https://:pw@example.com/"),
            UrlError::UserInfo
        ));
        assert!(matches!(err("https://"), UrlError::Invalid(_)));
        assert!(matches!(err("https://:443/"), UrlError::Invalid(_)));
        assert!(matches!(err("not a url"), UrlError::Invalid(_)));
        assert!(matches!(err("http://256.0.0.1/"), UrlError::Invalid(_)));
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN));
        assert!(matches!(err(&long), UrlError::TooLong));
        let ok = Target::parse(" https://hooks.example.com:8443/p?q=1 ").unwrap();
        assert_eq!(ok.scheme, Scheme::Https);
        assert_eq!(ok.domain(), Some("hooks.example.com"));
    }
}
