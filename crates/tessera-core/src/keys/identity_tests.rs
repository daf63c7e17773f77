//! Tests of instance keys: generation, storage, JWKs and thumbprints, signatures of both
//! algorithms.

use super::*;

/// RFC 8037 appendix A: the Ed25519 key, its public `x` and its RFC 7638 thumbprint.
#[test]
fn the_rfc_8037_example_key_has_its_published_thumbprint() {
    let d = URL_SAFE_NO_PAD
        .decode("nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A")
        .unwrap();
    let key = InstanceKey::from_private(&d).unwrap();
    assert_eq!(
        key.public_x(),
        "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
    );
    assert_eq!(key.kid(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    let jwk = serde_json::to_value(key.public_jwk()).unwrap();
    assert_eq!(jwk["kty"], "OKP");
    assert_eq!(jwk["use"], "sig");
    assert_eq!(jwk["kid"], "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    // RFC 8037 A.4: the signature of "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc".
    let sig = key.sign(b"eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc");
    assert_eq!(
        URL_SAFE_NO_PAD.encode(sig),
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
    );
}

#[test]
fn signatures_verify_with_the_public_key_only() {
    let key = InstanceKey::generate();
    let sig = key.sign(b"message");
    assert!(verify(&key.public_x(), b"message", &sig));
    assert!(!verify(&key.public_x(), b"messagE", &sig));
    assert!(!verify(
        &InstanceKey::generate().public_x(),
        b"message",
        &sig
    ));
    let again = InstanceKey::from_private(key.private_bytes().as_ref()).unwrap();
    assert_eq!(again.kid(), key.kid());
    assert!(!format!("{key:?}").contains(&URL_SAFE_NO_PAD.encode(*key.private_bytes())));
}

/// RFC 7517 appendix A.2: the P-256 example key. Its RFC 7638 thumbprint, computed outside
/// Tessera (Python's hashlib over the JCS form below), and here again from that form.
#[test]
fn the_rfc_7517_p256_key_has_its_thumbprint() {
    let d = URL_SAFE_NO_PAD
        .decode("870MB6gfuTJ4HtUnUvYMyJpr5eUZNP4Bk43bVdj3eAE")
        .unwrap();
    let key = InstanceKey::from_stored(Algorithm::ES256, &d).unwrap();
    let jwk = key.public_jwk();
    assert_eq!(jwk.x, "MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4");
    assert_eq!(
        jwk.y.as_deref(),
        Some("4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM")
    );
    let jcs = r#"{"crv":"P-256","kty":"EC","x":"MKBCTNIcKUSDii11ySs3526iDZ8AiTo7Tu6KPAqv7D4","y":"4Etl6SRW2YiLUrN5vfvVHuhp7x8PxltmWWlbbM4IFyM"}"#;
    let independent = URL_SAFE_NO_PAD.encode(Sha256::digest(jcs.as_bytes()));
    assert_eq!(independent, "cn-I_WNMClehiVp51i_0VpOENW1upEerA8sEam5hn-s");
    assert_eq!(key.kid(), independent);
    assert_eq!(jwk.thumbprint().as_deref(), Some(independent.as_str()));
    let published = serde_json::to_value(&jwk).unwrap();
    assert_eq!(published["kty"], "EC");
    assert_eq!(published["crv"], "P-256");
    assert_eq!(published["alg"], "ES256");
    assert_eq!(published["use"], "sig");
    assert_eq!(published["kid"], independent.as_str());
    // An Ed25519 JWK has no `y` member at all.
    let okp = serde_json::to_value(InstanceKey::generate().public_jwk()).unwrap();
    assert!(okp.get("y").is_none());
}

#[test]
fn es256_signatures_are_r_s_and_verify_with_the_public_jwk_only() {
    let key = InstanceKey::generate_with(Algorithm::ES256);
    assert_eq!(key.algorithm(), "ES256");
    let sig = key.sign(b"message");
    let jwk = key.public_jwk();
    assert_eq!(jwk.algorithm(), Some(Algorithm::ES256));
    assert!(verify_jwk(&jwk, b"message", &sig));
    assert!(!verify_jwk(&jwk, b"messagE", &sig));
    assert!(!verify_jwk(&jwk, b"message", &sig[..63]));
    let other = InstanceKey::generate_with(Algorithm::ES256).public_jwk();
    assert!(!verify_jwk(&other, b"message", &sig));
    // Not an Ed25519 signature by the same bytes read as an OKP key.
    assert!(!verify(&jwk.x, b"message", &sig));
    // Stored and read back: the same key.
    let again = InstanceKey::from_stored(Algorithm::ES256, key.private_bytes().as_ref()).unwrap();
    assert_eq!(again.kid(), key.kid());
    assert_eq!(
        stored_public_jwk("ES256", &key.public_stored()).unwrap(),
        jwk
    );
    assert!(!format!("{key:?}").contains(&URL_SAFE_NO_PAD.encode(*key.private_bytes())));
    // An Ed25519 key's stored form is unchanged: its `x`.
    let ed = InstanceKey::generate();
    assert_eq!(ed.public_stored(), ed.public_x());
    assert_eq!(
        stored_public_jwk("EdDSA", &ed.public_stored()).unwrap(),
        ed.public_jwk()
    );
    assert!(stored_public_jwk("RS256", "x").is_err());
    assert!(InstanceKey::from_stored(Algorithm::ES256, &[0u8; 32]).is_err());
}

#[test]
fn algorithms_have_their_jws_names() {
    assert_eq!("EdDSA".parse(), Ok(Algorithm::EdDSA));
    assert_eq!("ES256".parse(), Ok(Algorithm::ES256));
    assert!("es256".parse::<Algorithm>().is_err());
    assert_eq!(Algorithm::default(), Algorithm::EdDSA);
    assert_eq!(InstanceKey::generate().algorithm(), "EdDSA");
}
