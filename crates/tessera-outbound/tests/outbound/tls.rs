//! Connecting to the checked address does not weaken TLS: the certificate is still verified for
//! the URL's host name. A private CA made here signs a certificate for `receiver.test` only.

use std::net::IpAddr;
use std::sync::Arc;

use bytes::Bytes;
use http::HeaderMap;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use tessera_outbound::{FailureKind, StaticLookup};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::receiver::{Behavior, Receiver};
use super::{TIMEOUT, builder};

/// A CA certificate (DER) and an acceptor serving a certificate it signed for `receiver.test`.
fn pki() -> (Vec<u8>, TlsAcceptor) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let issuer = Issuer::from_params(&ca_params, &ca_key);

    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["receiver.test".to_owned()])
        .unwrap()
        .signed_by(&leaf_key, &issuer)
        .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let config = ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
        .unwrap();
    (ca.der().to_vec(), TlsAcceptor::from(Arc::new(config)))
}

#[tokio::test]
async fn tls_verifies_the_certificate_for_the_host_name() {
    let (ca, acceptor) = pki();
    let loopback = IpAddr::from([127, 0, 0, 1]);
    let receiver = Receiver::start_tls(loopback, Behavior::Ok, acceptor).await;
    let lookup = StaticLookup::new()
        .with("receiver.test", &[loopback])
        .with("impostor.test", &[loopback]);
    let client = builder(&["127.0.0.0/8"], TIMEOUT)
        .lookup(lookup)
        .extra_root_certificate(ca.clone())
        .build()
        .unwrap();
    let port = receiver.port();

    let outcome = client
        .post(
            &format!("https://receiver.test:{port}/"),
            HeaderMap::new(),
            Bytes::from_static(b"{}"),
        )
        .await;
    assert!(outcome.is_success(), "{outcome:?}");
    assert_eq!(receiver.requests().len(), 1);

    // Same address, but a name the certificate does not cover; then the bare address.
    for url in [
        format!("https://impostor.test:{port}/"),
        format!("https://127.0.0.1:{port}/"),
    ] {
        let outcome = client.post(&url, HeaderMap::new(), Bytes::new()).await;
        assert_eq!(
            outcome.error_kind(),
            Some(FailureKind::Tls),
            "{url}: {outcome:?}"
        );
    }

    // Without our CA the certificate is not trusted at all.
    let untrusting = builder(&["127.0.0.0/8"], TIMEOUT)
        .lookup(StaticLookup::new().with("receiver.test", &[loopback]))
        .build()
        .unwrap();
    let outcome = untrusting
        .post(
            &format!("https://receiver.test:{port}/"),
            HeaderMap::new(),
            Bytes::new(),
        )
        .await;
    assert_eq!(outcome.error_kind(), Some(FailureKind::Tls), "{outcome:?}");
    assert_eq!(
        receiver.requests().len(),
        1,
        "no request went through a failed handshake"
    );
}
