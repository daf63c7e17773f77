//! Every way a request is refused: tampered, re-addressed, truncated, out of its window, missing
//! or malformed headers; and no input makes `parse` or `verify` panic.

use super::tests::{
    BODY, INSTANCE, KID, NONCE, NOW, TARGET, check, header, key, received, signed_at,
};
use super::*;
use httpsig::prelude::AlgorithmName;
use proptest::prelude::*;

fn set(parts: &mut Parts, name: &'static str, value: &str) {
    parts
        .headers
        .insert(name, HeaderValue::from_str(value).unwrap());
}

fn refused(req: Request<Bytes>) -> Refusal {
    let (parts, body) = received(req);
    check(&parts, &body).unwrap_err()
}

#[test]
fn the_untouched_request_verifies() {
    let (parts, body) = received(signed_at(NOW));
    assert!(check(&parts, &body).is_ok());
}

#[test]
fn a_changed_method_is_refused() {
    let (mut parts, body) = received(signed_at(NOW));
    parts.method = http::Method::PUT;
    assert_eq!(check(&parts, &body), Err(Refusal::BadSignature));
}

#[test]
fn a_re_addressed_request_is_refused() {
    let (parts, body) = received(signed_at(NOW));
    let parsed = parse(&parts).unwrap();
    let vk = key().verifying_key();
    for elsewhere in [
        "https://c.example/federation/v1/messages?kind=redeem",
        "https://b.example/federation/v1/other?kind=redeem",
        "https://b.example/federation/v1/messages?kind=peek",
        "https://b.example/federation/v1/messages",
        "https://b.example:8443/federation/v1/messages?kind=redeem",
    ] {
        assert_eq!(
            parsed.verify(&parts, &body, elsewhere, vk, NOW),
            Err(Refusal::BadSignature),
            "{elsewhere}"
        );
    }
}

#[test]
fn a_truncated_or_altered_body_is_refused() {
    let (parts, body) = received(signed_at(NOW));
    assert_eq!(
        check(&parts, &body[..body.len() - 1]),
        Err(Refusal::DigestMismatch)
    );
    assert_eq!(check(&parts, b""), Err(Refusal::DigestMismatch));
    assert_eq!(
        check(&parts, br#"{"message":"hellO"}"#),
        Err(Refusal::DigestMismatch)
    );
}

#[test]
fn a_changed_covered_header_is_refused() {
    let other_body = br#"{"message":"other"}"#;
    for (name, value) in [
        ("date", "Fri, 15 Jan 2027 08:00:01 GMT".to_owned()),
        (INSTANCE_HEADER, "ins_ZZZZZZZZZZZZZZZZZZZZZZZZ".to_owned()),
        // A digest that matches the new body: only the signature can tell.
        ("content-digest", content_digest(other_body)),
    ] {
        let (mut parts, _) = received(signed_at(NOW));
        set(&mut parts, name, &value);
        assert_eq!(
            check(&parts, other_body),
            Err(Refusal::BadSignature),
            "{name}"
        );
    }
}

#[test]
fn changed_signature_parameters_or_bytes_are_refused() {
    let req = signed_at(NOW);
    let input = header(&req, "signature-input");
    let signature = header(&req, "signature");
    let mut bytes = STANDARD
        .decode(
            signature
                .trim_start_matches("tessera=:")
                .trim_end_matches(':'),
        )
        .unwrap();
    bytes[10] ^= 1;
    let flipped = format!("tessera=:{}:", STANDARD.encode(&bytes));
    for (name, value) in [
        ("signature", flipped),
        ("signature-input", input.replace(NONCE, "another-nonce")),
        (
            "signature-input",
            input.replace(&format!("created={NOW}"), &format!("created={}", NOW - 1)),
        ),
        (
            "signature-input",
            input.replace(
                &format!("expires={}", NOW + 300),
                &format!("expires={}", NOW + 900),
            ),
        ),
    ] {
        let (mut parts, body) = received(signed_at(NOW));
        set(&mut parts, name, &value);
        assert_eq!(check(&parts, &body), Err(Refusal::BadSignature), "{value}");
    }
}

#[test]
fn another_key_is_refused() {
    let (parts, body) = received(signed_at(NOW));
    let other = ed25519_dalek::SigningKey::from_bytes(&[8; 32]).verifying_key();
    assert_eq!(
        parse(&parts)
            .unwrap()
            .verify(&parts, &body, TARGET, other, NOW),
        Err(Refusal::BadSignature)
    );
}

#[test]
fn outside_the_window_is_expired() {
    for (signed, verdict) in [
        (NOW - 360, Err(Refusal::Expired)),
        (NOW + 360, Err(Refusal::Expired)),
        (NOW - 301, Err(Refusal::Expired)),
        (NOW + 301, Err(Refusal::Expired)),
        (NOW - 300, Ok(300)),
        (NOW + 300, Ok(-300)),
        (NOW - 299, Ok(299)),
        (NOW + 5, Ok(-5)),
    ] {
        let (parts, body) = received(signed_at(signed));
        assert_eq!(
            check(&parts, &body).map(|v| v.skew_seconds),
            verdict,
            "signed at NOW{:+}",
            signed - NOW
        );
    }
}

#[test]
fn a_passed_expires_is_expired_even_when_created_is_recent() {
    let mut req = Request::post(TARGET)
        .body(Bytes::from_static(BODY))
        .unwrap();
    let mut params = params_with(&COVERED).unwrap();
    params
        .set_created(u64::try_from(NOW - 60).unwrap())
        .set_expires(u64::try_from(NOW - 1).unwrap())
        .set_nonce(NONCE)
        .set_alg(&AlgorithmName::Ed25519)
        .set_keyid(KID)
        .set_tag(TAG);
    sign_with(&mut req, INSTANCE, &key().into(), &params).unwrap();
    assert_eq!(refused(req), Refusal::Expired);
}

#[test]
fn a_forged_request_is_refused_for_its_signature_before_its_age() {
    let (mut parts, body) = received(signed_at(NOW - 3600));
    parts.method = http::Method::DELETE;
    assert_eq!(check(&parts, &body), Err(Refusal::BadSignature));
}

#[test]
fn a_missing_header_is_named() {
    for name in [
        "signature-input",
        "signature",
        INSTANCE_HEADER,
        "date",
        "content-digest",
    ] {
        let (mut parts, body) = received(signed_at(NOW));
        parts.headers.remove(name);
        assert_eq!(check(&parts, &body), Err(Refusal::Missing(name)));
    }
}

/// Signs with Tessera's parameters but the given covered components and tag/alg.
fn signed_covering(components: &[&str], alg: Option<&AlgorithmName>, tag: &str) -> Request<Bytes> {
    let mut req = Request::post(TARGET)
        .body(Bytes::from_static(BODY))
        .unwrap();
    let mut params = params_with(components).unwrap();
    params
        .set_created(u64::try_from(NOW).unwrap())
        .set_expires(u64::try_from(NOW + 300).unwrap())
        .set_nonce(NONCE)
        .set_keyid(KID)
        .set_tag(tag);
    if let Some(alg) = alg {
        params.set_alg(alg);
    }
    sign_with(&mut req, INSTANCE, &key().into(), &params).unwrap();
    req
}

#[test]
fn a_signature_not_covering_exactly_the_required_components_is_malformed() {
    let ed = Some(&AlgorithmName::Ed25519);
    let reordered = [
        "date",
        "@method",
        INSTANCE_HEADER,
        "content-digest",
        "@target-uri",
    ];
    let (parts, body) = received(signed_covering(&reordered, ed, TAG));
    assert!(
        check(&parts, &body).is_ok(),
        "any order of the required set"
    );

    // Validly signed, but over too few components.
    for covered in [&COVERED[..4], &COVERED[1..], &[COVERED[0], COVERED[2]][..]] {
        assert!(
            matches!(
                refused(signed_covering(covered, ed, TAG)),
                Refusal::Malformed(_)
            ),
            "{covered:?}"
        );
    }
    // Another or an extra component, or one with parameters: refused before any key is needed.
    let list = r#"("@method" "@target-uri" "content-digest" "date" "tessera-instance")"#;
    for other in [
        r#"("@method" "@target-uri" "content-digest" "date" "host")"#,
        r#"("@method" "@target-uri" "content-digest" "date" "tessera-instance" "@path")"#,
        r#"("@method" "@target-uri" "content-digest";sf "date" "tessera-instance")"#,
        r#"("@method" "@target-uri" "content-digest" "date" "tessera-instance" "date")"#,
    ] {
        let req = signed_at(NOW);
        let input = header(&req, "signature-input").replace(list, other);
        let (mut parts, _) = received(req);
        set(&mut parts, "signature-input", &input);
        assert!(
            matches!(parse(&parts), Err(Refusal::Malformed(_))),
            "{other}"
        );
    }
    for (alg, tag) in [
        (None, TAG),
        (Some(&AlgorithmName::HmacSha256), TAG),
        (ed, "other"),
    ] {
        assert!(matches!(
            refused(signed_covering(&COVERED, alg, tag)),
            Refusal::Malformed(_)
        ));
    }
}

#[test]
fn unreadable_headers_are_malformed() {
    let req = signed_at(NOW);
    let input = header(&req, "signature-input");
    let signature = header(&req, "signature");
    let cases: [(&'static str, String); 10] = [
        ("signature-input", "garbage".to_owned()),
        ("signature-input", "tessera=(\"@method\"".to_owned()),
        ("signature-input", input.replace("tessera=", "other=")),
        ("signature", signature.replace("tessera=", "other=")),
        ("signature", "tessera=:not base64!:".to_owned()),
        (
            "signature-input",
            input.replace(&format!("nonce=\"{NONCE}\";"), ""),
        ),
        (
            "signature-input",
            input.replace(&format!("created={NOW}"), "created=-5"),
        ),
        ("content-digest", "sha-512=:AAAA:".to_owned()),
        ("content-digest", "sha-256=:AAAA:".to_owned()),
        (INSTANCE_HEADER, "ins with spaces".to_owned()),
    ];
    for (name, value) in cases {
        let (mut parts, body) = received(signed_at(NOW));
        set(&mut parts, name, &value);
        assert!(
            matches!(check(&parts, &body), Err(Refusal::Malformed(_))),
            "{name}: {value}"
        );
    }
    let (mut parts, body) = received(signed_at(NOW));
    parts.headers.append(
        "date",
        HeaderValue::from_static("Fri, 15 Jan 2027 08:00:00 GMT"),
    );
    assert!(matches!(check(&parts, &body), Err(Refusal::Malformed(_))));
    let (mut parts, body) = received(signed_at(NOW));
    set_bytes(&mut parts, "signature", b"tessera=:\xff:");
    assert!(matches!(check(&parts, &body), Err(Refusal::Malformed(_))));
}

fn set_bytes(parts: &mut Parts, name: &'static str, value: &[u8]) {
    parts
        .headers
        .insert(name, HeaderValue::from_bytes(value).unwrap());
}

proptest! {
    /// Any value a header can hold (structured-field syntax, or arbitrary visible and non-ASCII
    /// bytes), in any of the headers `parse` reads, never panics: it is refused, or (a `date` or
    /// instance header is only covered, not read) refused by the signature.
    #[test]
    fn no_header_value_panics(
        which in 0usize..5,
        value in prop_oneof![
            "[a-z0-9@\"();=:, *+/_.-]{0,120}".prop_map(String::into_bytes),
            proptest::collection::vec(prop_oneof![Just(b'\t'), 0x20u8..0x7f, 0x80u8..=0xff], 0..200),
        ],
    ) {
        let name = ["signature-input", "signature", "content-digest", "date", INSTANCE_HEADER][which];
        let (mut parts, body) = received(signed_at(NOW));
        set_bytes(&mut parts, name, &value);
        prop_assert!(check(&parts, &body).is_err());
    }

    /// Mutating a valid `signature-input` one character at a time reaches deep into the parser:
    /// never a panic, and never accepted unless the header is unchanged in meaning.
    #[test]
    fn a_mutated_signature_input_never_panics_nor_verifies(
        at in 0usize..400,
        byte in 0x20u8..0x7f,
    ) {
        let req = signed_at(NOW);
        let input = header(&req, "signature-input");
        let mut mutated = input.clone().into_bytes();
        let at = at % mutated.len();
        prop_assume!(mutated[at] != byte);
        mutated[at] = byte;
        let (mut parts, body) = received(req);
        set_bytes(&mut parts, "signature-input", &mutated);
        if let Ok(verified) = check(&parts, &body) {
            // Only a change sfv parses to the same value (e.g. spacing) may still verify.
            let reparsed = parse(&parts).unwrap();
            prop_assert_eq!(reparsed.params.to_string(), input.trim_start_matches("tessera="));
            prop_assert_eq!(verified.nonce, NONCE);
        }
    }
}
