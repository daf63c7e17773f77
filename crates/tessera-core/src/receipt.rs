//! Signed share receipts: what a redemption copied, signed by the source instance as a compact
//! JWS (RFC 7515) under one of its published keys: EdDSA (RFC 8037) or, where the operator chose
//! ES256 keys, ES256 (RFC 7518 section 3.4). A receipt proves that
//! this instance, holding that key, recorded that this token of this source organization's
//! inquiry was redeemed by that destination at that time, with these verifications, and that the
//! data copied had this digest; it does not prove that the data is true, nor that the
//! destination still holds it.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::keys::InstanceKey;
use crate::keys::identity::{Algorithm, Jwk, verify_jwk};

/// Attributes of a `connect/share-token-receipt` resource (the API's answer, and the file the
/// dashboard downloads; `tessera receipt verify` reads either).
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ReceiptAttributes {
    /// The receipt: a compact JWS (EdDSA or ES256), its `kid` one of `/.well-known/jwks.json`'s.
    pub jws: String,
    /// Its claims, as signed: `iss` (the instance), `sub` (the token), `iat`,
    /// `source-organization`, `destination-organization`, `inquiry-id`, `redeem-mode`,
    /// `verifications` (type, status, completed-at), `redeemed-at`, `data-digest`.
    #[schema(value_type = Object)]
    pub claims: Claims,
    /// Exactly the data copied (`data-digest` is the SHA-256 of its RFC 8785 form), shown to the
    /// destination only; null for the source and once the destination's copy was redacted.
    #[schema(value_type = Option<Object>)]
    pub data: Option<Value>,
    /// Where the keys that verify it are published.
    pub jwks_url: String,
}

/// A token's receipt as a resource (id: the token's).
pub fn resource(
    token_id: &str,
    jws: String,
    claims: Claims,
    data: Option<Value>,
) -> crate::jsonapi::Resource<ReceiptAttributes, crate::jsonapi::NoRelationships> {
    crate::jsonapi::Resource::new(
        "connect/share-token-receipt",
        token_id,
        ReceiptAttributes {
            jws,
            claims,
            data,
            jwks_url: String::from("/.well-known/jwks.json"),
        },
        crate::jsonapi::NoRelationships {},
    )
}

/// The JWS `typ` of a receipt.
pub const TYP: &str = "tessera-receipt+jwt";

/// One verification that travelled with the copy, as the source recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct TravelledVerification {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: String,
    pub completed_at: String,
}

/// The claims of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Claims {
    /// The source instance's id.
    pub iss: String,
    /// The share token's id.
    pub sub: String,
    /// When the receipt was signed (the redemption), in Unix seconds.
    pub iat: i64,
    pub source_organization: String,
    pub destination_organization: String,
    /// The source inquiry.
    pub inquiry_id: String,
    /// `clone` or `hydrate`.
    pub redeem_mode: String,
    pub verifications: Vec<TravelledVerification>,
    /// RFC 3339.
    pub redeemed_at: String,
    /// `sha256:` of the RFC 8785 canonical form of exactly the data copied.
    pub data_digest: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    kid: String,
    typ: String,
}

/// Why a receipt does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    #[error("not a compact JWS (three base64url parts)")]
    Malformed,
    #[error("the receipt is signed with {0}, not EdDSA or ES256")]
    Algorithm(String),
    #[error("no published key has the receipt's kid {0}")]
    UnknownKey(String),
    #[error("the signature does not verify: the receipt was changed or not signed by that key")]
    Signature,
    #[error("the claims are not a receipt's: {0}")]
    Claims(String),
    #[error("the data's digest is {actual}, the receipt says {claimed}")]
    DataMismatch { claimed: String, actual: String },
}

/// `sha256:` of the RFC 8785 (JCS) canonical form of `data`.
pub fn digest_of(data: &Value) -> String {
    let canonical = serde_jcs::to_vec(data).unwrap_or_default();
    format!("sha256:{}", hex::encode(Sha256::digest(&canonical)))
}

/// Signs `claims` with `key`: `header.payload.signature`, each base64url without padding.
pub fn sign(claims: &Claims, key: &InstanceKey) -> String {
    let header = Header {
        alg: key.algorithm().to_owned(),
        kid: key.kid(),
        typ: TYP.to_owned(),
    };
    let encode = |v: &[u8]| URL_SAFE_NO_PAD.encode(v);
    let signing_input = format!(
        "{}.{}",
        encode(&serde_json::to_vec(&header).unwrap_or_default()),
        encode(&serde_jcs::to_vec(claims).unwrap_or_default())
    );
    let signature = key.sign(signing_input.as_bytes());
    format!("{signing_input}.{}", encode(&signature))
}

/// Verifies `receipt` against the published keys `jwks` (active and retired alike: a receipt
/// signed before a rotation still verifies) and returns its claims.
pub fn verify(receipt: &str, jwks: &[Jwk]) -> Result<Claims, ReceiptError> {
    let mut parts = receipt.trim().split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReceiptError::Malformed);
    };
    let decode = |v: &str| {
        URL_SAFE_NO_PAD
            .decode(v)
            .map_err(|_| ReceiptError::Malformed)
    };
    let header: Header =
        serde_json::from_slice(&decode(h)?).map_err(|_| ReceiptError::Malformed)?;
    let alg: Algorithm = header
        .alg
        .parse()
        .map_err(|_| ReceiptError::Algorithm(header.alg.clone()))?;
    // The key named by the kid, of the algorithm the header names (a receipt cannot choose how
    // the key's signature is checked).
    let jwk = jwks
        .iter()
        .find(|k| k.kid == header.kid && k.algorithm() == Some(alg))
        .ok_or_else(|| ReceiptError::UnknownKey(header.kid.clone()))?;
    if !verify_jwk(jwk, format!("{h}.{p}").as_bytes(), &decode(s)?) {
        return Err(ReceiptError::Signature);
    }
    serde_json::from_slice(&decode(p)?).map_err(|e| ReceiptError::Claims(e.to_string()))
}

/// The claims of a receipt, read without checking its signature (for a receipt this instance
/// holds; anyone else uses [`verify`]).
pub fn claims_of(receipt: &str) -> Result<Claims, ReceiptError> {
    let payload = receipt.split('.').nth(1).ok_or(ReceiptError::Malformed)?;
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| ReceiptError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|e| ReceiptError::Claims(e.to_string()))
}

/// Checks that `data` is exactly the data the receipt's claims describe.
pub fn check_data(claims: &Claims, data: &Value) -> Result<(), ReceiptError> {
    let actual = digest_of(data);
    if actual == claims.data_digest {
        Ok(())
    } else {
        Err(ReceiptError::DataMismatch {
            claimed: claims.data_digest.clone(),
            actual,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(data: &Value) -> Claims {
        Claims {
            iss: "tsi_example".into(),
            sub: "cnst_example".into(),
            iat: 1_795_824_000,
            source_organization: "org_a".into(),
            destination_organization: "org_b".into(),
            inquiry_id: "inq_example".into(),
            redeem_mode: "clone".into(),
            verifications: vec![TravelledVerification {
                kind: "government-id".into(),
                status: "passed".into(),
                completed_at: "2026-01-02T03:04:05.000Z".into(),
            }],
            redeemed_at: "2026-11-28T00:00:00.000Z".into(),
            data_digest: digest_of(data),
        }
    }

    #[test]
    fn a_signed_receipt_verifies_and_its_data_matches() {
        let key = InstanceKey::generate();
        let data = json!({"fields": {"name-first": {"type": "string", "value": "Ada"}}});
        let c = claims(&data);
        let receipt = sign(&c, &key);
        assert_eq!(receipt.split('.').count(), 3);
        let other = InstanceKey::generate();
        let jwks = [other.public_jwk(), key.public_jwk()];
        assert_eq!(verify(&receipt, &jwks), Ok(c.clone()));
        assert_eq!(check_data(&c, &data), Ok(()));
        // The same data written in another member order is the same data.
        let reordered: Value =
            serde_json::from_str(r#"{"fields":{"name-first":{"value":"Ada","type":"string"}}}"#)
                .unwrap();
        assert_eq!(check_data(&c, &reordered), Ok(()));
    }

    /// The receipt split in `parts` with `claims` put in place of its own, its signature kept.
    fn with_claims(parts: &[&str], claims: &Claims) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_jcs::to_vec(claims).unwrap());
        format!("{}.{payload}.{}", parts[0], parts[2])
    }

    #[test]
    fn tampering_with_a_claim_the_data_or_the_key_fails() {
        let key = InstanceKey::generate();
        let data = json!({"fields": {}});
        let receipt = sign(&claims(&data), &key);
        let jwks = [key.public_jwk()];
        let parts: Vec<&str> = receipt.split('.').collect();

        // A changed claim (another destination) under the old signature.
        let mut changed = claims(&data);
        changed.destination_organization = "org_mallory".into();
        let forged = with_claims(&parts, &changed);
        assert_eq!(verify(&forged, &jwks), Err(ReceiptError::Signature));

        // Other data than was copied.
        let c = verify(&receipt, &jwks).unwrap();
        assert!(matches!(
            check_data(&c, &json!({"fields": {"x": 1}})),
            Err(ReceiptError::DataMismatch { .. })
        ));

        // Another key under the same kid.
        let mut impostor = InstanceKey::generate().public_jwk();
        impostor.kid = key.kid();
        assert_eq!(verify(&receipt, &[impostor]), Err(ReceiptError::Signature));
        // A key that is not published.
        assert!(matches!(
            verify(&receipt, &[InstanceKey::generate().public_jwk()]),
            Err(ReceiptError::UnknownKey(_))
        ));
        assert_eq!(verify("a.b", &jwks), Err(ReceiptError::Malformed));
    }

    #[test]
    fn an_es256_receipt_verifies_and_tampering_fails() {
        let key = InstanceKey::generate_with(Algorithm::ES256);
        let data = json!({"fields": {"name-first": {"type": "string", "value": "Ada"}}});
        let c = claims(&data);
        let receipt = sign(&c, &key);
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(receipt.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], "ES256");
        assert_eq!(header["kid"], key.kid().as_str());
        // JWS ES256: the signature is r || s, 64 bytes (RFC 7518 section 3.4), not DER.
        let signature = URL_SAFE_NO_PAD
            .decode(receipt.split('.').nth(2).unwrap())
            .unwrap();
        assert_eq!(signature.len(), 64);
        let jwks = [InstanceKey::generate().public_jwk(), key.public_jwk()];
        assert_eq!(verify(&receipt, &jwks), Ok(c.clone()));

        let parts: Vec<&str> = receipt.split('.').collect();
        let mut changed = c.clone();
        changed.redeem_mode = "hydrate".into();
        let forged = with_claims(&parts, &changed);
        assert_eq!(verify(&forged, &jwks), Err(ReceiptError::Signature));
        // Another P-256 key under the same kid.
        let mut impostor = InstanceKey::generate_with(Algorithm::ES256).public_jwk();
        impostor.kid = key.kid();
        assert_eq!(verify(&receipt, &[impostor]), Err(ReceiptError::Signature));
        // The header's alg switched to EdDSA: no EdDSA key has that kid.
        let eddsa_header = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&json!({"alg": "EdDSA", "kid": key.kid(), "typ": TYP})).unwrap(),
        );
        let switched = format!("{eddsa_header}.{}.{}", parts[1], parts[2]);
        assert!(matches!(
            verify(&switched, &jwks),
            Err(ReceiptError::UnknownKey(_))
        ));
        let none_header = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&json!({"alg": "none", "kid": key.kid(), "typ": TYP})).unwrap(),
        );
        assert!(matches!(
            verify(&format!("{none_header}.{}.{}", parts[1], parts[2]), &jwks),
            Err(ReceiptError::Algorithm(_))
        ));
    }

    #[test]
    fn receipts_signed_before_a_rotation_from_ed25519_to_es256_still_verify() {
        let old = InstanceKey::generate();
        let new = InstanceKey::generate_with(Algorithm::ES256);
        let data = json!({"fields": {}});
        let before = sign(&claims(&data), &old);
        let after = sign(&claims(&data), &new);
        // The JWKS after the rotation: the new key first, the retired one still published.
        let jwks = [new.public_jwk(), old.public_jwk()];
        assert_eq!(verify(&before, &jwks), Ok(claims(&data)));
        assert_eq!(verify(&after, &jwks), Ok(claims(&data)));
        assert!(matches!(
            verify(&before, &[new.public_jwk()]),
            Err(ReceiptError::UnknownKey(_))
        ));
    }
}
