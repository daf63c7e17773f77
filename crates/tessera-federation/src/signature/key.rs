//! The keys a message is signed and verified with: Ed25519 (`alg="ed25519"`, RFC 9421 section
//! 3.3.6) or ECDSA over P-256 with SHA-256 (`alg="ecdsa-p256-sha256"`, section 3.3.4: the
//! signature is `r || s`, 32 bytes each).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use httpsig::prelude::AlgorithmName;
use p256::ecdsa::signature::{Signer as _, Verifier as _};

/// The `alg` of an Ed25519 signature.
pub const ALG_ED25519: &str = "ed25519";
/// The `alg` of an ECDSA P-256 SHA-256 signature.
pub const ALG_ECDSA_P256: &str = "ecdsa-p256-sha256";

/// A private key a message is signed with.
#[derive(Clone)]
pub enum SigningKey {
    Ed25519(ed25519_dalek::SigningKey),
    EcdsaP256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("SigningKey").field(&self.alg()).finish()
    }
}

impl SigningKey {
    /// The key of JWS algorithm `jws_alg` (`EdDSA` or `ES256`) whose private half is `private`
    /// (an Ed25519 seed or a P-256 scalar, 32 bytes); `None` when it is not one.
    pub fn from_private(jws_alg: &str, private: &[u8]) -> Option<Self> {
        match jws_alg {
            "EdDSA" => Some(Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(
                &private.try_into().ok()?,
            ))),
            "ES256" if private.len() == 32 => p256::ecdsa::SigningKey::from_slice(private)
                .ok()
                .map(Self::EcdsaP256),
            _ => None,
        }
    }

    /// The `alg` parameter of its signatures.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => ALG_ED25519,
            Self::EcdsaP256(_) => ALG_ECDSA_P256,
        }
    }

    pub(crate) fn algorithm_name(&self) -> AlgorithmName {
        match self {
            Self::Ed25519(_) => AlgorithmName::Ed25519,
            Self::EcdsaP256(_) => AlgorithmName::EcdsaP256Sha256,
        }
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
            Self::EcdsaP256(k) => VerifyingKey::EcdsaP256(*k.verifying_key()),
        }
    }

    /// The signature of `data` as RFC 9421 writes it.
    pub(crate) fn sign(&self, data: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => ed25519_dalek::Signer::sign(k, data).to_bytes().to_vec(),
            Self::EcdsaP256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(data);
                signature.to_bytes().to_vec()
            }
        }
    }
}

impl From<ed25519_dalek::SigningKey> for SigningKey {
    fn from(key: ed25519_dalek::SigningKey) -> Self {
        Self::Ed25519(key)
    }
}

impl From<&ed25519_dalek::SigningKey> for SigningKey {
    fn from(key: &ed25519_dalek::SigningKey) -> Self {
        Self::Ed25519(key.clone())
    }
}

impl From<p256::ecdsa::SigningKey> for SigningKey {
    fn from(key: p256::ecdsa::SigningKey) -> Self {
        Self::EcdsaP256(key)
    }
}

impl From<&SigningKey> for SigningKey {
    fn from(key: &SigningKey) -> Self {
        key.clone()
    }
}

/// A public key a message is verified with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyingKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    EcdsaP256(p256::ecdsa::VerifyingKey),
}

impl VerifyingKey {
    /// The key a JWK describes: `OKP`/`Ed25519` with its `x`, or `EC`/`P-256` with its `x` and
    /// `y`; `None` for anything else (another type, a point off the curve).
    pub fn from_jwk(kty: &str, crv: &str, x: &str, y: Option<&str>) -> Option<Self> {
        let x = URL_SAFE_NO_PAD.decode(x).ok()?;
        match (kty, crv, y) {
            ("OKP", "Ed25519", None) => {
                ed25519_dalek::VerifyingKey::from_bytes(&x.try_into().ok()?)
                    .ok()
                    .map(Self::Ed25519)
            }
            ("EC", "P-256", Some(y)) => {
                let y = URL_SAFE_NO_PAD.decode(y).ok()?;
                if x.len() != 32 || y.len() != 32 {
                    return None;
                }
                let sec1 = [&[4u8][..], &x, &y].concat();
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .ok()
                    .map(Self::EcdsaP256)
            }
            _ => None,
        }
    }

    /// The `alg` parameter of the signatures it verifies.
    pub fn alg(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => ALG_ED25519,
            Self::EcdsaP256(_) => ALG_ECDSA_P256,
        }
    }

    /// Whether `signature` is this key's over `data`: strict RFC 8032 verification for Ed25519
    /// (no small-order keys, no malleable signatures); for P-256, `r || s` of 64 bytes.
    pub(crate) fn verifies(&self, data: &[u8], signature: &[u8]) -> bool {
        match self {
            Self::Ed25519(k) => ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| k.verify_strict(data, &signature).is_ok()),
            Self::EcdsaP256(k) => {
                signature.len() == 64
                    && p256::ecdsa::Signature::from_slice(signature)
                        .is_ok_and(|signature| k.verify(data, &signature).is_ok())
            }
        }
    }
}

impl From<ed25519_dalek::VerifyingKey> for VerifyingKey {
    fn from(key: ed25519_dalek::VerifyingKey) -> Self {
        Self::Ed25519(key)
    }
}

impl From<&ed25519_dalek::VerifyingKey> for VerifyingKey {
    fn from(key: &ed25519_dalek::VerifyingKey) -> Self {
        Self::Ed25519(*key)
    }
}

impl From<p256::ecdsa::VerifyingKey> for VerifyingKey {
    fn from(key: p256::ecdsa::VerifyingKey) -> Self {
        Self::EcdsaP256(key)
    }
}

impl From<&VerifyingKey> for VerifyingKey {
    fn from(key: &VerifyingKey) -> Self {
        *key
    }
}
