//! The address guard refuses internal destinations before any traffic: each case asserts the
//! refusal comes from the guard (its error kind), and loopback cases also assert that a listener
//! on the target port saw no connection. Non-loopback cases are first checked with `check_url`,
//! which never connects, so a broken guard fails the test before anything could be sent.

use std::net::IpAddr;

use bytes::Bytes;
use http::HeaderMap;
use tessera_outbound::{
    FailureKind, OutboundClient, Refusal, ResolveError, StaticLookup, UrlError,
};

use super::receiver::Tripwire;
use super::{TIMEOUT, builder, client_with};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

async fn assert_refused(client: &OutboundClient, url: &str) {
    let checked = client.check_url(url).await;
    assert!(
        matches!(
            checked,
            Err(UrlError::Refused(_) | UrlError::Resolve(ResolveError::Refused { .. }))
        ),
        "check_url({url}) = {checked:?}"
    );
    let outcome = client
        .post(url, HeaderMap::new(), Bytes::from_static(b"{}"))
        .await;
    assert_eq!(
        outcome.error_kind(),
        Some(FailureKind::RefusedAddress),
        "{url}: {outcome:?}"
    );
    assert_eq!(outcome.status, None, "{url}");
    assert_eq!(outcome.remote_addr, None, "{url}");
}

#[tokio::test]
async fn loopback_in_every_spelling_is_refused_without_a_connection() {
    let wire = Tripwire::on_loopback(&[]);
    let port = wire.port;
    // The system resolver, so `localhost` resolves as it would in production.
    let client = builder(&[], TIMEOUT).build().unwrap();
    for host in [
        "127.0.0.1",
        "0x7f000001",
        "2130706433",
        "0177.0.0.1",
        "127.1",
        "0.0.0.0",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::]",
        "localhost",
        "LocalHost",
    ] {
        for scheme in ["https", "http"] {
            assert_refused(&client, &format!("{scheme}://{host}:{port}/hook")).await;
        }
    }
    assert!(!wire.touched(), "a refused request reached the listener");
}

#[tokio::test]
async fn internal_addresses_are_refused() {
    let client = client_with(&[], StaticLookup::new());
    for host in [
        "169.254.169.254",
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
        "10.0.0.1",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "[fc00::1]",
        "[fe80::1]",
        "224.0.0.1",
        "255.255.255.255",
        "192.0.2.1",
        "[2001:db8::1]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:a9fe:a9fe::1]",
        "[::a9fe:a9fe]",
    ] {
        assert_refused(&client, &format!("https://{host}/latest/meta-data/")).await;
    }
}

#[tokio::test]
async fn names_that_resolve_to_internal_addresses_are_refused() {
    let wire = Tripwire::on_loopback(&[]);
    let lookup = StaticLookup::new()
        .with("metadata.test", &[ip("169.254.169.254")])
        .with("internal.test", &[ip("10.0.0.1")])
        .with("ula.test", &[ip("fc00::1")])
        .with("mapped.test", &[ip("::ffff:192.168.1.1")])
        .with("loop.test", &[ip("127.0.0.1"), ip("::1")]);
    let client = client_with(&[], lookup.clone());
    for host in [
        "metadata.test",
        "internal.test",
        "ula.test",
        "mapped.test",
        "loop.test",
    ] {
        assert_refused(&client, &format!("https://{host}:{}/", wire.port)).await;
    }

    // With loopback allowed, a name that also resolves to a refused address is refused as a
    // whole: the guard does not quietly pick the allowed address.
    let lookup = lookup.with("mixed.test", &[ip("127.0.0.1"), ip("169.254.169.254")]);
    let client = client_with(&["127.0.0.0/8"], lookup);
    assert_refused(&client, &format!("http://mixed.test:{}/", wire.port)).await;
    assert!(!wire.touched(), "a refused request reached the listener");
}

#[tokio::test]
async fn plain_http_only_reaches_allowed_networks() {
    let lookup = StaticLookup::new().with("public.test", &[ip("93.184.216.34")]);
    let client = client_with(&["127.0.0.0/8"], lookup);
    // check_url never connects, so a public address is safe to use here.
    for url in ["http://93.184.216.34/", "http://public.test/"] {
        let err = client.check_url(url).await.unwrap_err();
        let refusal = match err {
            UrlError::Refused(r) | UrlError::Resolve(ResolveError::Refused { refusal: r, .. }) => r,
            other => panic!("{url}: {other:?}"),
        };
        assert_eq!(
            refusal,
            Refusal::HttpNotAllowed {
                ip: ip("93.184.216.34")
            }
        );
    }
    assert!(client.check_url("https://93.184.216.34/").await.is_ok());
    assert!(client.check_url("https://public.test/hook").await.is_ok());
    assert!(client.check_url("http://127.0.0.1:9/").await.is_ok());
}

#[tokio::test]
async fn bad_urls_and_unknown_names_fail_without_traffic() {
    let client = client_with(&["127.0.0.0/8"], StaticLookup::new());
    for (url, kind) in [
        ("ftp://127.0.0.1/", FailureKind::InvalidUrl),
        ("https://user:pw@127.0.0.1/", FailureKind::InvalidUrl),
        ("not a url", FailureKind::InvalidUrl),
        ("https://nowhere.test/", FailureKind::Dns),
    ] {
        let outcome = client.post(url, HeaderMap::new(), Bytes::new()).await;
        assert_eq!(outcome.error_kind(), Some(kind), "{url}: {outcome:?}");
    }
    let err = client.check_url("https://nowhere.test/").await.unwrap_err();
    assert!(matches!(
        err,
        UrlError::Resolve(ResolveError::Unresolvable { .. })
    ));
    let err = client
        .check_url("https://u@example.com/")
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "the URL must not contain a user name or password"
    );
}
