//! The address guard: which IP addresses outbound HTTP may reach. Public unicast addresses over
//! https, plus whatever networks the operator allows (`TESSERA_WEBHOOK_ALLOWED_NETWORKS`), which
//! are also the only ones plain http may reach. Everything that leads into the host, its network
//! or a cloud provider's metadata service is refused, including the IPv6 forms that embed an
//! IPv4 address.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

/// The networks the operator lets outbound HTTP reach although they are not public.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedNetworks(Vec<IpNet>);

/// A configured network that is neither a CIDR network nor an IP address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "TESSERA_WEBHOOK_ALLOWED_NETWORKS: `{0}` is not a CIDR network (e.g. 127.0.0.0/8, ::1/128) \
     or an IP address"
)]
pub struct InvalidNetwork(pub String);

impl AllowedNetworks {
    /// Parses CIDR networks; a bare address means that one host (`/32` or `/128`). Host bits
    /// after the prefix are ignored (`10.1.2.3/8` is `10.0.0.0/8`). Blank items are skipped.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, InvalidNetwork> {
        let mut nets = Vec::new();
        for item in items {
            let item = item.as_ref().trim();
            if item.is_empty() {
                continue;
            }
            let net = match item.parse::<IpNet>() {
                Ok(net) => net.trunc(),
                Err(_) => item
                    .parse::<IpAddr>()
                    .map(IpNet::from)
                    .map_err(|_| InvalidNetwork(item.to_owned()))?,
            };
            nets.push(net);
        }
        Ok(Self(nets))
    }

    /// The parsed networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.0
    }

    /// Whether `ip` (or the IPv4 address an IPv4-mapped IPv6 address stands for) is inside one
    /// of the networks.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let canonical = ip.to_canonical();
        self.0
            .iter()
            .any(|net| net.contains(&ip) || net.contains(&canonical))
    }
}

/// The URL scheme of a request, which decides the rule its addresses must pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    /// Public unicast addresses, or allowed networks.
    Https,
    /// Allowed networks only: plain http to the open internet is never sent.
    Http,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Https => "https",
            Self::Http => "http",
        }
    }
}

/// An address the guard refused, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "{ip} is {reason}; outbound requests may only reach public addresses unless the operator \
         allows the network"
    )]
    NotPublic { ip: IpAddr, reason: &'static str },
    #[error(
        "{ip} is not in a network the operator allows; plain http may only reach those (use https)"
    )]
    HttpNotAllowed { ip: IpAddr },
}

impl Refusal {
    pub fn ip(&self) -> IpAddr {
        match self {
            Self::NotPublic { ip, .. } | Self::HttpNotAllowed { ip } => *ip,
        }
    }
}

/// The guard itself: allowed networks plus the public-unicast rule.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: AllowedNetworks,
}

impl AddressPolicy {
    pub fn new(allowed: AllowedNetworks) -> Self {
        Self { allowed }
    }

    pub fn allowed(&self) -> &AllowedNetworks {
        &self.allowed
    }

    /// Whether a request of `scheme` may connect to `ip`.
    pub fn check(&self, ip: IpAddr, scheme: Scheme) -> Result<(), Refusal> {
        if self.allowed.contains(ip) {
            return Ok(());
        }
        match (scheme, non_public_reason(ip)) {
            (Scheme::Http, _) => Err(Refusal::HttpNotAllowed { ip }),
            (Scheme::Https, Some(reason)) => Err(Refusal::NotPublic { ip, reason }),
            (Scheme::Https, None) => Ok(()),
        }
    }
}

/// Why `ip` is not a public unicast address, or `None` when it is one. Follows the IANA special
/// purpose registries; std's `is_global` is not stable, and it would not look inside 6to4 or
/// NAT64 addresses.
pub fn non_public_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => v6_reason(v6),
    }
}

const LOOPBACK: &str = "a loopback address";
const PRIVATE: &str = "a private address";
const LINK_LOCAL: &str = "a link-local address (where cloud metadata services live)";
const DOCUMENTATION: &str = "a documentation address";

fn v4_reason(ip: Ipv4Addr) -> Option<&'static str> {
    match ip.octets() {
        [0, ..] => Some("an unspecified address (0.0.0.0/8 reaches this host)"),
        [10, ..] | [192, 168, ..] => Some(PRIVATE),
        [172, b, ..] if (16..32).contains(&b) => Some(PRIVATE),
        [100, b, ..] if (64..128).contains(&b) => {
            Some("a carrier-grade NAT address (100.64.0.0/10)")
        }
        [127, ..] => Some(LOOPBACK),
        [169, 254, ..] => Some(LINK_LOCAL),
        [192, 0, 0, _] => Some("an IETF protocol assignment (192.0.0.0/24)"),
        [192, 0, 2, _] | [198, 51, 100, _] | [203, 0, 113, _] => Some(DOCUMENTATION),
        [192, 88, 99, _] => Some("a deprecated 6to4 relay address (192.88.99.0/24)"),
        [198, 18 | 19, ..] => Some("a benchmarking address (198.18.0.0/15)"),
        [224..=239, ..] => Some("a multicast address"),
        [255, 255, 255, 255] => Some("the broadcast address"),
        [240..=255, ..] => Some("a reserved address (240.0.0.0/4)"),
        _ => None,
    }
}

fn embedded_v4(hi: u16, lo: u16) -> Ipv4Addr {
    let [a, b] = hi.to_be_bytes();
    let [c, d] = lo.to_be_bytes();
    Ipv4Addr::new(a, b, c, d)
}

fn v6_reason(ip: Ipv6Addr) -> Option<&'static str> {
    // `::ffff:a.b.c.d` reaches a.b.c.d on a dual-stack host: judge it as that address.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_reason(v4);
    }
    if ip.is_unspecified() {
        return Some("the unspecified address (:: reaches this host)");
    }
    if ip.is_loopback() {
        return Some(LOOPBACK);
    }
    let s = ip.segments();
    match s {
        // IPv4-compatible `::a.b.c.d` (deprecated, RFC 4291): nothing legitimate uses it, and some
        // stacks still route it to the embedded IPv4 address.
        [0, 0, 0, 0, 0, 0, _, _] => Some("a deprecated IPv4-compatible address"),
        // NAT64 (RFC 6052): the well-known prefix reaches the embedded IPv4 address.
        [0x64, 0xff9b, 0, 0, 0, 0, hi, lo] => v4_reason(embedded_v4(hi, lo)),
        [0x64, 0xff9b, 1, ..] => Some("a local-use NAT64 address (64:ff9b:1::/48)"),
        [0x100, 0, 0, 0, ..] => Some("a discard-only address (100::/64)"),
        // 6to4 (RFC 3056): 2002:AABB:CCDD::/48 tunnels to AA.BB.CC.DD.
        [0x2002, hi, lo, ..] => v4_reason(embedded_v4(hi, lo)),
        [0x2001, 0x0db8, ..] => Some(DOCUMENTATION),
        // IETF protocol assignments (Teredo, benchmarking, ORCHID…): nothing a webhook needs.
        [0x2001, b, ..] if b < 0x0200 => Some("an IETF protocol assignment (2001::/23)"),
        [0x3fff, b, ..] if b < 0x1000 => Some(DOCUMENTATION),
        // Global unicast is 2000::/3; everything else is special.
        [a, ..] if a & 0xe000 == 0x2000 => None,
        [a, ..] if a & 0xfe00 == 0xfc00 => Some("a unique local address (fc00::/7)"),
        [a, ..] if a & 0xffc0 == 0xfe80 => Some(LINK_LOCAL),
        [a, ..] if a & 0xffc0 == 0xfec0 => Some("a deprecated site-local address (fec0::/10)"),
        [a, ..] if a & 0xff00 == 0xff00 => Some("a multicast address"),
        _ => Some("a reserved address (outside 2000::/3)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(s: &str) -> Option<&'static str> {
        non_public_reason(s.parse().unwrap())
    }

    #[test]
    fn refuses_every_special_range() {
        for ip in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.127.255.254",
            "127.0.0.1",
            "127.255.0.1",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "::8.8.8.8",
            "64:ff9b::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "64:ff9b:1::1",
            "100::1",
            "2001::1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "2002:a9fe:a9fe::1",
            "3fff::1",
            "3fff:fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "ff02::1",
            "4000::1",
        ] {
            assert!(reason(ip).is_some(), "{ip} should be refused");
        }
    }

    #[test]
    fn accepts_public_unicast() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "93.184.216.34",
            "100.63.255.255",
            "100.128.0.1",
            "172.15.255.255",
            "172.32.0.1",
            "169.253.0.1",
            "192.0.1.1",
            "198.20.0.1",
            "223.255.255.255",
            "::ffff:8.8.8.8",
            "64:ff9b::8.8.8.8",
            "2002:808:808::1",
            "2001:4860:4860::8888",
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "3fff:1000::1",
        ] {
            assert_eq!(reason(ip), None, "{ip} should be public");
        }
    }

    #[test]
    fn allowed_networks_parse_cidrs_and_bare_addresses() {
        let nets = AllowedNetworks::parse(&["127.0.0.0/8", " ::1 ", "", "10.1.2.3/8"]).unwrap();
        assert_eq!(nets.networks().len(), 3);
        assert!(nets.contains("127.3.2.1".parse().unwrap()));
        assert!(nets.contains("::ffff:127.0.0.1".parse().unwrap()));
        assert!(nets.contains("::1".parse().unwrap()));
        assert!(nets.contains("10.200.0.1".parse().unwrap()));
        assert!(!nets.contains("192.168.0.1".parse().unwrap()));
        for bad in [
            "localhost",
            "127.0.0.0/33",
            "10.0.0.0/",
            "example.com/8",
            "1.2.3",
        ] {
            let err = AllowedNetworks::parse(&[bad]).unwrap_err();
            assert!(err.to_string().contains(bad));
        }
    }

    #[test]
    fn policy_applies_the_scheme_rule() {
        let policy = AddressPolicy::new(AllowedNetworks::parse(&["127.0.0.0/8"]).unwrap());
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(policy.check(ip("127.0.0.1"), Scheme::Http).is_ok());
        assert!(policy.check(ip("127.0.0.1"), Scheme::Https).is_ok());
        assert!(policy.check(ip("8.8.8.8"), Scheme::Https).is_ok());
        assert_eq!(
            policy.check(ip("8.8.8.8"), Scheme::Http),
            Err(Refusal::HttpNotAllowed { ip: ip("8.8.8.8") })
        );
        let refused = policy.check(ip("10.0.0.1"), Scheme::Https).unwrap_err();
        assert_eq!(refused.ip(), ip("10.0.0.1"));
        assert!(refused.to_string().contains("private"));
        assert!(
            AddressPolicy::default()
                .check(ip("127.0.0.1"), Scheme::Https)
                .is_err()
        );
    }
}
