//! `tessera receipt verify` on the real binary, offline: a receipt verifies against a JWKS file
//! (also one holding several keys), its data against `--data` (the data alone or the API's
//! receipt document); a changed claim, other data or a JWKS without the signing key fails with a
//! message and exit status 1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Output;

use serde_json::{Value, json};
use tessera_core::keys::InstanceKey;
use tessera_core::receipt::{Claims, TravelledVerification, digest_of, sign};

fn verify(dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_tessera"))
        .current_dir(dir)
        .args(["receipt", "verify"])
        .args(args)
        .env("TESSERA_LOG", "warn")
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, value: &Value) -> String {
    let path = dir.join(name);
    std::fs::write(&path, value.to_string()).unwrap();
    path.display().to_string()
}

#[test]
fn receipts_verify_offline_and_tampering_fails() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let key = InstanceKey::generate();
    let data = json!({"fields": {"name-first": {"type": "string", "value": "Ada"}},
                      "verifications": [], "documents": []});
    let claims = Claims {
        iss: "ins_example".into(),
        sub: "cnst_example".into(),
        iat: 1_795_824_000,
        source_organization: "org_a".into(),
        destination_organization: "org_b".into(),
        inquiry_id: "inq_example".into(),
        redeem_mode: "clone".into(),
        verifications: vec![TravelledVerification {
            kind: "selfie".into(),
            status: "passed".into(),
            completed_at: "2026-11-01T00:00:00.000Z".into(),
        }],
        redeemed_at: "2026-11-28T00:00:00.000Z".into(),
        data_digest: digest_of(&data),
    };
    let jws = sign(&claims, &key);
    std::fs::write(d.join("receipt.jws"), &jws).unwrap();
    let other = InstanceKey::generate();
    let jwks = write(
        d,
        "jwks.json",
        &json!({"keys": [other.public_jwk(), key.public_jwk()]}),
    );
    let data_file = write(d, "data.json", &data);
    let document = write(
        d,
        "receipt.json",
        &json!({"data": {"type": "connect/share-token-receipt", "id": "cnst_example",
                         "attributes": {"jws": jws, "data": data}}}),
    );

    for args in [
        vec!["receipt.jws", "--jwks", &jwks],
        vec!["receipt.jws", "--jwks", &jwks, "--data", &data_file],
        vec![&document, "--jwks", &jwks, "--data", &document],
    ] {
        let out = verify(d, &args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{args:?}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("verified") && stdout.contains("cnst_example"));
    }

    // Other data than was copied.
    let tampered = write(d, "other.json", &json!({"fields": {}}));
    let out = verify(d, &["receipt.jws", "--jwks", &jwks, "--data", &tampered]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not what the receipt says"));

    // A changed claim under the original signature.
    let parts: Vec<&str> = jws.split('.').collect();
    let mut changed = claims.clone();
    changed.destination_organization = "org_mallory".into();
    use base64::Engine as _;
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&changed).unwrap()),
        parts[2]
    );
    std::fs::write(d.join("forged.jws"), forged).unwrap();
    let out = verify(d, &["forged.jws", "--jwks", &jwks]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));

    // A JWKS without the signing key.
    let only_other = write(d, "other-jwks.json", &json!({"keys": [other.public_jwk()]}));
    let out = verify(d, &["receipt.jws", "--jwks", &only_other]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no published key"));
}

/// A receipt signed by an ES256 key (an instance whose operator chose ES256, or rotated to it):
/// verified against a JWKS holding it beside the retired Ed25519 key; a receipt of that retired
/// key verifies against the same JWKS; a changed claim fails.
#[test]
fn es256_receipts_verify_offline_beside_retired_ed25519_keys() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = InstanceKey::generate();
    let new = InstanceKey::generate_with(tessera_core::keys::Algorithm::ES256);
    let data = json!({"fields": {}, "verifications": [], "documents": []});
    let claims = Claims {
        iss: "ins_example".into(),
        sub: "cnst_es256".into(),
        iat: 1_795_824_000,
        source_organization: "org_a".into(),
        destination_organization: "org_b".into(),
        inquiry_id: "inq_example".into(),
        redeem_mode: "hydrate".into(),
        verifications: vec![],
        redeemed_at: "2026-11-28T00:00:00.000Z".into(),
        data_digest: digest_of(&data),
    };
    let jwks = write(
        d,
        "jwks.json",
        &json!({"keys": [new.public_jwk(), old.public_jwk()]}),
    );
    let data_file = write(d, "data.json", &data);
    let es256 = sign(&claims, &new);
    std::fs::write(d.join("es256.jws"), &es256).unwrap();
    std::fs::write(d.join("eddsa.jws"), sign(&claims, &old)).unwrap();
    for file in ["es256.jws", "eddsa.jws"] {
        let out = verify(d, &[file, "--jwks", &jwks, "--data", &data_file]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{file}: {stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("verified") && stdout.contains("cnst_es256"));
    }
    let parts: Vec<&str> = es256.split('.').collect();
    let mut changed = claims.clone();
    changed.redeem_mode = "clone".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(serde_json::to_vec(&changed).unwrap()),
        parts[2]
    );
    std::fs::write(d.join("forged.jws"), forged).unwrap();
    let out = verify(d, &["forged.jws", "--jwks", &jwks]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("does not verify"));
}
