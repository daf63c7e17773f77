//! A peer instance's keys, as this instance judges them (issue #17, peers are explicit). Pure: the
//! documents come in as bytes fetched by the caller.
//!
//! The operator pins one of the peer's keys by its RFC 7638 thumbprint. The rule
//! ([`trusted_key`]): a key is trusted for a peer iff the peer's last accepted JWKS lists the
//! pinned key and lists that key too — the pinned key itself, or a key the peer published
//! alongside it (a rotation it announced while the pinned key was still published). A JWKS is
//! accepted ([`check_jwks`]) only when it lists the pinned key: a peer whose keys changed
//! without the pinned key still published is refused, and its earlier JWKS stays the one judged.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;

use super::identity::Jwk;

/// Why a peer's documents are refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerDocumentError {
    /// The document is not what a Tessera instance publishes.
    #[error("{0}")]
    Malformed(String),
    /// No published key has the pinned thumbprint.
    #[error("none of the keys the peer publishes has the pinned thumbprint {0}")]
    PinNotPublished(String),
}

/// Whether `s` has the shape of an RFC 7638 SHA-256 thumbprint: 43 unpadded base64url characters
/// (32 bytes).
pub fn is_thumbprint(s: &str) -> bool {
    s.len() == 43 && URL_SAFE_NO_PAD.decode(s).is_ok_and(|b| b.len() == 32)
}

/// What a peer's `/.well-known/tessera` says of it that this instance keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerIdentity {
    pub instance_id: String,
    pub protocol_version: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct TesseraDoc {
    instance_id: String,
    protocol_version: String,
}

fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("ins_").is_some_and(|rest| {
        (16..=64).contains(&rest.len()) && rest.bytes().all(|b| b.is_ascii_alphanumeric())
    })
}

/// Reads a peer's `/.well-known/tessera`: a JSON object with an `instance-id` (`ins_…`) and a
/// `protocol-version`; other members are ignored.
pub fn parse_identity(body: &[u8]) -> Result<PeerIdentity, PeerDocumentError> {
    let doc: TesseraDoc = serde_json::from_slice(body).map_err(|e| {
        PeerDocumentError::Malformed(format!(
            "/.well-known/tessera is not a Tessera document: {e}"
        ))
    })?;
    if !is_instance_id(&doc.instance_id) {
        return Err(PeerDocumentError::Malformed(
            "/.well-known/tessera has no valid instance-id".into(),
        ));
    }
    Ok(PeerIdentity {
        instance_id: doc.instance_id,
        protocol_version: doc.protocol_version,
    })
}

#[derive(Deserialize)]
struct JwksDoc {
    keys: Vec<Jwk>,
}

/// Reads a JWKS: every key is an OKP/Ed25519 key with a 32-byte `x` or an EC/P-256 key whose
/// `x`, `y` are a point of the curve, and its `kid` is its RFC 7638 thumbprint (a key whose `kid`
/// is not its thumbprint could pass for another key, so the whole document is refused).
pub fn parse_jwks(body: &[u8]) -> Result<Vec<Jwk>, PeerDocumentError> {
    let doc: JwksDoc = serde_json::from_slice(body).map_err(|e| {
        PeerDocumentError::Malformed(format!("/.well-known/jwks.json is not a JWKS: {e}"))
    })?;
    for k in &doc.keys {
        if k.algorithm().is_none() {
            return Err(PeerDocumentError::Malformed(format!(
                "the JWKS lists a key ({}) that is neither an Ed25519 nor a P-256 public key",
                k.kid
            )));
        }
        if k.thumbprint().as_deref() != Some(k.kid.as_str()) {
            return Err(PeerDocumentError::Malformed(format!(
                "the JWKS lists a key whose kid ({}) is not its RFC 7638 thumbprint",
                k.kid
            )));
        }
    }
    Ok(doc.keys)
}

/// Accepts a peer's JWKS under `pin`: it must list the pinned key.
pub fn check_jwks(pin: &str, keys: &[Jwk]) -> Result<(), PeerDocumentError> {
    if keys.iter().any(|k| k.kid == pin) {
        Ok(())
    } else {
        Err(PeerDocumentError::PinNotPublished(pin.to_owned()))
    }
}

/// The key `kid` if it is trusted for a peer pinned to `pin` whose accepted JWKS is `keys`: the
/// JWKS lists the pinned key and lists `kid` (the pinned key itself or one published alongside
/// it). `None` otherwise — also when the JWKS no longer lists the pinned key.
pub fn trusted_key<'a>(pin: &str, keys: &'a [Jwk], kid: &str) -> Option<&'a Jwk> {
    check_jwks(pin, keys).ok()?;
    keys.iter().find(|k| k.kid == kid)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::keys::InstanceKey;

    fn jwks(keys: &[&InstanceKey]) -> Vec<u8> {
        let keys: Vec<_> = keys.iter().map(|k| k.public_jwk()).collect();
        serde_json::to_vec(&serde_json::json!({ "keys": keys })).unwrap()
    }

    #[test]
    fn the_pinned_key_is_trusted() {
        let a = InstanceKey::generate();
        let keys = parse_jwks(&jwks(&[&a])).unwrap();
        assert_eq!(
            trusted_key(&a.kid(), &keys, &a.kid()),
            Some(&a.public_jwk())
        );
    }

    #[test]
    fn a_key_published_alongside_the_pinned_one_is_trusted() {
        let (a, b) = (InstanceKey::generate(), InstanceKey::generate());
        // The peer rotated to b; a (pinned) stays published, retired.
        let keys = parse_jwks(&jwks(&[&b, &a])).unwrap();
        assert!(check_jwks(&a.kid(), &keys).is_ok());
        assert_eq!(
            trusted_key(&a.kid(), &keys, &b.kid()),
            Some(&b.public_jwk())
        );
        assert_eq!(
            trusted_key(&a.kid(), &keys, &a.kid()),
            Some(&a.public_jwk())
        );
    }

    #[test]
    fn a_key_not_published_is_not_trusted() {
        let (a, c) = (InstanceKey::generate(), InstanceKey::generate());
        let keys = parse_jwks(&jwks(&[&a])).unwrap();
        assert_eq!(trusted_key(&a.kid(), &keys, &c.kid()), None);
    }

    #[test]
    fn a_key_change_without_the_pinned_key_is_refused() {
        let (a, b) = (InstanceKey::generate(), InstanceKey::generate());
        // The peer now publishes only b: nothing announced the change while a was published.
        let keys = parse_jwks(&jwks(&[&b])).unwrap();
        assert_eq!(
            check_jwks(&a.kid(), &keys),
            Err(PeerDocumentError::PinNotPublished(a.kid()))
        );
        assert_eq!(trusted_key(&a.kid(), &keys, &b.kid()), None);
        // Nor is the pinned key trusted by its thumbprint alone.
        assert_eq!(trusted_key(&a.kid(), &keys, &a.kid()), None);
    }

    #[test]
    fn a_jwks_with_a_kid_that_is_not_its_thumbprint_is_refused() {
        let (a, b) = (InstanceKey::generate(), InstanceKey::generate());
        let mut forged = b.public_jwk();
        forged.kid = a.kid();
        let body = serde_json::to_vec(&serde_json::json!({ "keys": [forged] })).unwrap();
        assert!(matches!(
            parse_jwks(&body),
            Err(PeerDocumentError::Malformed(_))
        ));
    }

    #[test]
    fn malformed_documents_are_refused() {
        for body in [
            &b"not json"[..],
            br#"{"keys": "x"}"#,
            br#"{"keys": [{"kty":"RSA","crv":"","x":"","kid":"","alg":"RS256","use":"sig"}]}"#,
        ] {
            assert!(parse_jwks(body).is_err());
        }
        for body in [
            &b"[]"[..],
            br#"{"instance-id": "org_ABCDEFGHIJKLMNOPQRSTUVWX", "protocol-version": "1"}"#,
            br#"{"protocol-version": "1"}"#,
        ] {
            assert!(parse_identity(body).is_err());
        }
        let ok = br#"{"instance-id": "ins_ABCDEFGHIJKLMNOPQRSTUVWX", "protocol-version": "1"}"#;
        assert_eq!(
            parse_identity(ok).unwrap().instance_id,
            "ins_ABCDEFGHIJKLMNOPQRSTUVWX"
        );
    }

    #[test]
    fn thumbprints_have_their_shape() {
        assert!(is_thumbprint(&InstanceKey::generate().kid()));
        for bad in ["", "abc", &"a".repeat(44), &"+".repeat(43)] {
            assert!(!is_thumbprint(bad), "{bad}");
        }
    }

    #[test]
    fn a_mixed_jwks_after_a_rotation_to_es256_is_read_and_trusted() {
        let a = InstanceKey::generate();
        let b = InstanceKey::generate_with(crate::keys::Algorithm::ES256);
        let keys = parse_jwks(&jwks(&[&b, &a])).unwrap();
        assert!(keys[0].y.is_some());
        assert_eq!(
            trusted_key(&a.kid(), &keys, &b.kid()),
            Some(&b.public_jwk())
        );
        // An EC key whose kid is another key's thumbprint, or whose point is off the curve.
        let mut forged = b.public_jwk();
        forged.kid = a.kid();
        let body = serde_json::to_vec(&serde_json::json!({ "keys": [forged] })).unwrap();
        assert!(parse_jwks(&body).is_err());
        let mut off_curve = b.public_jwk();
        off_curve.y = Some(off_curve.x.clone());
        off_curve.kid = off_curve.thumbprint().unwrap();
        let body = serde_json::to_vec(&serde_json::json!({ "keys": [off_curve] })).unwrap();
        assert!(parse_jwks(&body).is_err());
        // An OKP key with a `y` is not a key Tessera reads.
        let mut okp_y = a.public_jwk();
        okp_y.y = Some(okp_y.x.clone());
        let body = serde_json::to_vec(&serde_json::json!({ "keys": [okp_y] })).unwrap();
        assert!(parse_jwks(&body).is_err());
    }
}
