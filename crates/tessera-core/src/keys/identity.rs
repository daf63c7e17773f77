//! The instance's signing keys: Ed25519 key pairs, published as JWKs (RFC 8037) whose `kid` is
//! the key's RFC 7638 thumbprint, so a peer can pin a key by a value it computes itself.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The JWS algorithm of an Ed25519 key.
pub const EDDSA: &str = "EdDSA";

/// A public key as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

/// The RFC 7638 thumbprint of an OKP public key: SHA-256 over its required members (`crv`,
/// `kty`, `x`) in lexicographic order without white space, in unpadded base64url.
pub fn jwk_thumbprint(kty: &str, crv: &str, x: &str) -> String {
    let canonical = serde_json::json!({"crv": crv, "kty": kty, "x": x});
    // serde_json writes members in insertion order, which here is already lexicographic.
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// An Ed25519 signing key pair of the instance.
pub struct InstanceKey {
    key: SigningKey,
}

impl std::fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InstanceKey")
            .field("kid", &self.kid())
            .finish()
    }
}

impl InstanceKey {
    /// A new random key pair.
    pub fn generate() -> Self {
        let mut seed = Zeroizing::new([0u8; 32]);
        rand::rng().fill_bytes(seed.as_mut());
        Self {
            key: SigningKey::from_bytes(&seed),
        }
    }

    /// The key pair of a private key (its 32-byte seed).
    pub fn from_private(seed: &[u8]) -> Result<Self, String> {
        let seed: [u8; 32] = seed
            .try_into()
            .map_err(|_| "an Ed25519 private key is 32 bytes".to_owned())?;
        Ok(Self {
            key: SigningKey::from_bytes(&seed),
        })
    }

    /// The private key's 32-byte seed (to be sealed before it is stored).
    pub fn private_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.key.to_bytes())
    }

    /// The JWS algorithm.
    pub fn algorithm(&self) -> &'static str {
        EDDSA
    }

    /// The public key, unpadded base64url (the JWK's `x`).
    pub fn public_x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes())
    }

    /// The key's id: the RFC 7638 thumbprint of its public JWK.
    pub fn kid(&self) -> String {
        jwk_thumbprint("OKP", "Ed25519", &self.public_x())
    }

    /// The public JWK.
    pub fn public_jwk(&self) -> Jwk {
        public_jwk(&self.public_x())
    }

    /// An Ed25519 signature of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// The public JWK of an Ed25519 public key given as its `x`.
pub fn public_jwk(x: &str) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: x.to_owned(),
        kid: jwk_thumbprint("OKP", "Ed25519", x),
        alg: EDDSA.into(),
        use_: "sig".into(),
    }
}

/// Whether `signature` is an Ed25519 signature of `message` by the public key `x`.
pub fn verify(x: &str, message: &[u8], signature: &[u8]) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(x) else {
        return false;
    };
    let Ok(bytes) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        return false;
    };
    let Ok(key) = VerifyingKey::from_bytes(&bytes) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
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
}
