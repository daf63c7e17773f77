//! Messages signed with an ES256 instance key (`alg="ecdsa-p256-sha256"`): a round trip, the
//! refusals, and RFC 9421 Appendix B.2.4 verified with its published key.

use super::tests::{BODY, INSTANCE, KID, NONCE, NOW, TARGET, header, received};
use super::*;

fn p256_key() -> SigningKey {
    SigningKey::from_private("ES256", &[7; 32]).unwrap()
}

fn es256_signed() -> Request<Bytes> {
    let mut req = Request::post(TARGET)
        .body(Bytes::from_static(BODY))
        .unwrap();
    sign(&mut req, INSTANCE, KID, p256_key(), NONCE, NOW).unwrap();
    req
}

#[test]
fn an_es256_signed_request_verifies() {
    let req = es256_signed();
    assert!(
        header(&req, "signature-input").contains(r#";alg="ecdsa-p256-sha256";"#),
        "{}",
        header(&req, "signature-input")
    );
    let signature = header(&req, "signature");
    let bytes = STANDARD
        .decode(
            signature
                .strip_prefix("tessera=:")
                .and_then(|s| s.strip_suffix(':'))
                .unwrap(),
        )
        .unwrap();
    assert_eq!(bytes.len(), 64, "r || s, not DER");
    let (parts, body) = received(req);
    let parsed = parse(&parts).unwrap();
    assert_eq!(parsed.alg, ALG_ECDSA_P256);
    let verified = parsed
        .verify(&parts, &body, TARGET, p256_key().verifying_key(), NOW)
        .unwrap();
    assert_eq!((verified.kid.as_str(), verified.skew_seconds), (KID, 0));
}

#[test]
fn es256_refusals() {
    let (parts, body) = received(es256_signed());
    let parsed = parse(&parts).unwrap();
    let verify = |key: VerifyingKey, body: &[u8], target: &str| {
        parsed.verify(&parts, body, target, key, NOW)
    };
    let ours = p256_key().verifying_key();
    // Another P-256 key, or an Ed25519 key (whatever its bytes), does not verify it.
    let other = SigningKey::from_private("ES256", &[8; 32])
        .unwrap()
        .verifying_key();
    assert_eq!(verify(other, &body, TARGET), Err(Refusal::BadSignature));
    let ed = super::tests::key().verifying_key().into();
    assert_eq!(verify(ed, &body, TARGET), Err(Refusal::BadSignature));
    // Re-addressed, truncated body.
    assert_eq!(
        verify(
            ours,
            &body,
            "https://c.example/federation/v1/messages?kind=redeem"
        ),
        Err(Refusal::BadSignature)
    );
    assert_eq!(
        verify(ours, &body[..body.len() - 1], TARGET),
        Err(Refusal::DigestMismatch)
    );
    // The alg parameter switched to ed25519: the signature base changes, and the key is P-256.
    let (mut parts2, body2) = received(es256_signed());
    let input = header_of(&parts2, "signature-input").replace(ALG_ECDSA_P256, ALG_ED25519);
    parts2
        .headers
        .insert("signature-input", HeaderValue::from_str(&input).unwrap());
    let parsed2 = parse(&parts2).unwrap();
    assert_eq!(
        parsed2.verify(&parts2, &body2, TARGET, ours, NOW),
        Err(Refusal::BadSignature)
    );
    // An alg Tessera does not use.
    let (mut parts3, _) = received(es256_signed());
    let input = header_of(&parts3, "signature-input").replace(ALG_ECDSA_P256, "hmac-sha256");
    parts3
        .headers
        .insert("signature-input", HeaderValue::from_str(&input).unwrap());
    assert!(matches!(parse(&parts3), Err(Refusal::Malformed(_))));
    // Out of the window.
    assert_eq!(
        parsed.verify(&parts, &body, TARGET, ours, NOW + 301),
        Err(Refusal::Expired)
    );
}

fn header_of(parts: &Parts, name: &str) -> String {
    parts.headers[name].to_str().unwrap().to_owned()
}

#[test]
fn keys_come_from_jwks_members() {
    let key = p256_key();
    let VerifyingKey::EcdsaP256(vk) = key.verifying_key() else {
        panic!("a P-256 key");
    };
    let point = vk.to_sec1_point(false);
    let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    let (x, y) = (b64(&point.as_bytes()[1..33]), b64(&point.as_bytes()[33..]));
    assert_eq!(
        VerifyingKey::from_jwk("EC", "P-256", &x, Some(&y)),
        Some(key.verifying_key())
    );
    assert_eq!(VerifyingKey::from_jwk("EC", "P-256", &x, Some(&x)), None);
    assert_eq!(VerifyingKey::from_jwk("EC", "P-256", &x, None), None);
    assert_eq!(VerifyingKey::from_jwk("OKP", "Ed25519", &x, Some(&y)), None);
    assert!(SigningKey::from_private("ES256", &[0; 32]).is_none());
    assert!(SigningKey::from_private("RS256", &[7; 32]).is_none());
}

/// RFC 9421 Appendix B.2.4: the response signed with `test-key-ecc-p256` (ECDSA is randomised,
/// so the RFC's signature is verified with the RFC's public key, B.1.3). Our signature base
/// builder must produce the RFC's base byte for byte.
#[test]
fn rfc_9421_b_2_4_ecdsa_p256_test_vector() {
    let input = r#"sig-b24=("@status" "content-type" "content-digest" "content-length");created=1618884473;keyid="test-key-ecc-p256""#;
    let rfc_signature = "sig-b24=:wNmSUAhwb5LxtOtOpNa6W5xj067m5hFrj0XQ4fvpaCLx0NKocgPquLgyahnzDnDAUy5eCdlYUEkLIj+32oiasw==:";
    let digest = "sha-512=:mEWXIS7MaLRuGgxOBdODa3xqM1XdEvxoYhvlCFJ41QJgJc4GTsPp29l5oGX69wWdXymyU0rjJuahq4l5aGgfLQ==:";
    let rfc_base = format!(
        "\"@status\": 200\n\"content-type\": application/json\n\"content-digest\": {digest}\n\
         \"content-length\": 23\n\"@signature-params\": (\"@status\" \"content-type\" \
         \"content-digest\" \"content-length\");created=1618884473;keyid=\"test-key-ecc-p256\""
    );
    // The public key of RFC 9421 B.1.3, its x and y from the SPKI there.
    let key = VerifyingKey::from_jwk(
        "EC",
        "P-256",
        "qIVYZVLCrPZHGHjP17CTW0_-D9Lfw0EkjqF7xB4FivA",
        Some("Mc4nN9LTDOBhfoUeg8Ye9WedFRhnZXZJA12Qp0zZ6F0"),
    )
    .unwrap();

    let parsed = HttpSignatureHeaders::try_parse(rfc_signature, input).unwrap();
    let headers = &parsed["sig-b24"];
    let base = base::signature_base(
        headers.signature_params(),
        &[
            ("@status", "200"),
            ("content-type", "application/json"),
            ("content-digest", digest),
            ("content-length", "23"),
        ],
    )
    .unwrap();
    assert_eq!(String::from_utf8(base.as_bytes()).unwrap(), rfc_base);
    let signature = STANDARD.decode(headers.signature().to_string()).unwrap();
    assert!(base::verifies(&key, &base, &signature));
    let mut flipped = signature.clone();
    flipped[10] ^= 1;
    assert!(!base::verifies(&key, &base, &flipped));
    let other = p256_key().verifying_key();
    assert!(!base::verifies(&other, &base, &signature));
}
