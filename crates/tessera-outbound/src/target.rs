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

    mod properties {
        use std::net::{Ipv4Addr, Ipv6Addr};

        use proptest::prelude::*;

        use super::*;
        use crate::guard::{AddressPolicy, AllowedNetworks, non_public_reason};

        /// URL-ish input: real URLs with odd hosts, ports, user info and paths, and junk.
        fn url_input() -> impl Strategy<Value = String> {
            let scheme = prop_oneof![
                Just("https://"),
                Just("http://"),
                Just("HTTPS://"),
                Just("ftp://"),
                Just("file://"),
                Just("//"),
                Just(""),
            ];
            let host = prop_oneof![
                "[a-z0-9.-]{0,20}",
                any::<u32>().prop_map(|n| n.to_string()),
                any::<u32>().prop_map(|n| format!("0x{n:x}")),
                any::<[u8; 4]>().prop_map(|o| format!("{}.{}.{}.{}", o[0], o[1], o[2], o[3])),
                any::<[u16; 8]>().prop_map(|s| format!("[{}]", Ipv6Addr::from(s))),
                ".{0,12}",
            ];
            let rest = prop_oneof![
                Just(String::new()),
                ":[0-9]{0,6}".prop_map(|s| s),
                "[/?#@:%a-z0-9]{0,20}"
            ];
            (scheme, proptest::option::of("[a-z:]{0,6}@"), host, rest)
                .prop_map(|(s, user, h, r)| format!("{s}{}{h}{r}", user.unwrap_or_default()))
        }

        proptest! {
            /// Parsing any input never panics; what is accepted is http(s), has a host and no
            /// user info, and is not longer than the limit.
            #[test]
            fn any_url_parses_or_is_refused(input in prop_oneof![url_input(), ".{0,60}"]) {
                if let Ok(t) = Target::parse(&input) {
                    prop_assert!(matches!(t.url.scheme(), "http" | "https"));
                    prop_assert!(t.url.username().is_empty() && t.url.password().is_none());
                    prop_assert!(t.literal_ip().is_some() || t.domain().is_some_and(|d| !d.is_empty()));
                    prop_assert!(input.len() <= MAX_URL_LEN);
                }
            }

            /// Every spelling of an IPv4 address (dotted, one decimal number, hexadecimal, octal
            /// octets, IPv4-mapped IPv6) is the same address to the guard, so none is a way round
            /// it; and the guard's verdict is the same for all of them.
            #[test]
            fn ipv4_spellings_are_one_address(o in any::<[u8; 4]>(), https in any::<bool>()) {
                let ip = Ipv4Addr::from(o);
                let n = u32::from(ip);
                let scheme = if https { "https" } else { "http" };
                let policy = AddressPolicy::default();
                let expected = policy.check(IpAddr::V4(ip), if https { Scheme::Https } else { Scheme::Http });
                for host in [
                    ip.to_string(),
                    n.to_string(),
                    format!("0x{n:x}"),
                    format!("0{:o}.0{:o}.0{:o}.0{:o}", o[0], o[1], o[2], o[3]),
                    format!("[::ffff:{ip}]"),
                ] {
                    let url = format!("{scheme}://{host}/hook");
                    let t = Target::parse(&url);
                    prop_assert!(t.is_ok(), "{url}");
                    let got = t.ok().and_then(|t| t.literal_ip()).map(|a| a.to_canonical());
                    prop_assert_eq!(got, Some(IpAddr::V4(ip)), "{}", url);
                    let verdict = policy.check(got.unwrap_or(IpAddr::V4(ip)), if https { Scheme::Https } else { Scheme::Http });
                    prop_assert_eq!(verdict.is_ok(), expected.is_ok(), "{}", url);
                }
            }

            /// The guard: plain http reaches only allowed networks; https reaches public
            /// addresses and allowed networks; an IPv4-mapped IPv6 address is judged as the
            /// IPv4 address it stands for, and so is the NAT64 well-known prefix.
            #[test]
            fn the_guard_is_consistent(o in any::<[u8; 4]>(), v6 in any::<[u16; 8]>(), allow in proptest::collection::vec(".{0,20}", 0..3)) {
                let v4 = Ipv4Addr::from(o);
                let mapped = v4.to_ipv6_mapped();
                prop_assert_eq!(non_public_reason(IpAddr::V4(v4)), non_public_reason(IpAddr::V6(mapped)));
                let nat64 = Ipv6Addr::new(0x64, 0xff9b, 0, 0, 0, 0, u16::from_be_bytes([o[0], o[1]]), u16::from_be_bytes([o[2], o[3]]));
                prop_assert_eq!(non_public_reason(IpAddr::V4(v4)).is_some(), non_public_reason(IpAddr::V6(nat64)).is_some());
                let none = AddressPolicy::default();
                for ip in [IpAddr::V4(v4), IpAddr::V6(mapped), IpAddr::V6(Ipv6Addr::from(v6))] {
                    prop_assert!(none.check(ip, Scheme::Http).is_err());
                    prop_assert_eq!(none.check(ip, Scheme::Https).is_ok(), non_public_reason(ip).is_none());
                }
                // Allowing a network opens it to both schemes, and nothing else.
                let net = AllowedNetworks::parse(&[format!("{v4}/32")]);
                prop_assert!(net.is_ok());
                let policy = AddressPolicy::new(net.unwrap_or_default());
                prop_assert!(policy.check(IpAddr::V4(v4), Scheme::Http).is_ok());
                prop_assert!(policy.check(IpAddr::V6(mapped), Scheme::Http).is_ok());
                let other = IpAddr::V4(Ipv4Addr::from(u32::from(v4).wrapping_add(1)));
                prop_assert!(policy.check(other, Scheme::Http).is_err());
                // Parsing operator input never panics.
                let _ = AllowedNetworks::parse(&allow);
            }
        }
    }
}
