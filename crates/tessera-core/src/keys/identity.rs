//! The instance's signing keys: Ed25519 key pairs (the default) or ECDSA P-256 ones (ES256, where
//! an operator asks), published as JWKs (RFC 8037 `OKP`, RFC 7518 `EC`) whose `kid` is the key's
//! RFC 7638 thumbprint, so a peer can pin a key by a value it computes itself.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use p256::ecdsa::signature::{Signer as _, Verifier as _};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The JWS algorithm of an Ed25519 key.
pub const EDDSA: &str = "EdDSA";
/// The JWS algorithm of an ECDSA P-256 key (SHA-256).
pub const ES256: &str = "ES256";

/// The algorithm of a signing key, by its JWS name (the `algorithm` column of stored keys).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Algorithm {
    /// Ed25519 (RFC 8037): the default.
    #[default]
    EdDSA,
    /// ECDSA over P-256 with SHA-256 (RFC 7518 section 3.4).
    ES256,
}

impl Algorithm {
    /// The JWS name: `EdDSA` or `ES256`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EdDSA => EDDSA,
            Self::ES256 => ES256,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Algorithm {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            EDDSA => Ok(Self::EdDSA),
            ES256 => Ok(Self::ES256),
            other => Err(format!(
                "`{other}` is not a signing algorithm Tessera supports (EdDSA or ES256)"
            )),
        }
    }
}

/// A public key as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    /// The y coordinate of an `EC` key; absent for `OKP`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    pub kid: String,
    pub alg: String,
    #[serde(rename = "use")]
    pub use_: String,
}

impl Jwk {
    /// The RFC 7638 thumbprint of the key's required members (`crv`, `kty`, `x`, and `y` for
    /// `EC`), or `None` for a key type Tessera does not use.
    pub fn thumbprint(&self) -> Option<String> {
        match (self.kty.as_str(), &self.y) {
            ("OKP", None) => Some(jwk_thumbprint(&self.kty, &self.crv, &self.x)),
            ("EC", Some(y)) => Some(ec_thumbprint(&self.crv, &self.x, y)),
            _ => None,
        }
    }

    /// The algorithm of a well-formed key Tessera verifies with: an `OKP`/`Ed25519` key with a
    /// 32-byte `x`, or an `EC`/`P-256` key whose `x` and `y` are a point of the curve. `None`
    /// for anything else.
    pub fn algorithm(&self) -> Option<Algorithm> {
        match (self.kty.as_str(), self.crv.as_str()) {
            ("OKP", "Ed25519") if self.y.is_none() => {
                ed25519_public(&self.x).map(|_| Algorithm::EdDSA)
            }
            ("EC", "P-256") => p256_public(&self.x, self.y.as_deref()?).map(|_| Algorithm::ES256),
            _ => None,
        }
    }
}

fn thumbprint_of(canonical: &serde_json::Value) -> String {
    // serde_json writes members in insertion order, which the callers make lexicographic.
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes()))
}

/// The RFC 7638 thumbprint of an OKP public key: SHA-256 over its required members (`crv`,
/// `kty`, `x`) in lexicographic order without white space, in unpadded base64url.
pub fn jwk_thumbprint(kty: &str, crv: &str, x: &str) -> String {
    thumbprint_of(&serde_json::json!({"crv": crv, "kty": kty, "x": x}))
}

/// The RFC 7638 thumbprint of an EC public key: over `crv`, `kty` (`EC`), `x`, `y`.
pub fn ec_thumbprint(crv: &str, x: &str, y: &str) -> String {
    thumbprint_of(&serde_json::json!({"crv": crv, "kty": "EC", "x": x, "y": y}))
}

enum Pair {
    Ed25519(SigningKey),
    Es256(p256::ecdsa::SigningKey),
}

/// A signing key pair of the instance (Ed25519 or ECDSA P-256).
pub struct InstanceKey {
    pair: Pair,
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InstanceKey")
            .field("alg", &self.algorithm())
            .field("kid", &self.kid())
            .finish()
    }
}

impl InstanceKey {
    /// A new random Ed25519 key pair.
    pub fn generate() -> Self {
        Self::generate_with(Algorithm::EdDSA)
    }

    /// A new random key pair of `algorithm`.
    pub fn generate_with(algorithm: Algorithm) -> Self {
        loop {
            let mut seed = Zeroizing::new([0u8; 32]);
            rand::rng().fill_bytes(seed.as_mut());
            // A P-256 scalar must be non-zero and below the group order: a random 32 bytes is
            // outside that range with probability about 2^-32; draw again then.
            if let Ok(key) = Self::from_stored(algorithm, seed.as_ref()) {
                return key;
            }
        }
    }

    /// The Ed25519 key pair of a private key (its 32-byte seed).
    pub fn from_private(seed: &[u8]) -> Result<Self, String> {
        Self::from_stored(Algorithm::EdDSA, seed)
    }

    /// The key pair of `algorithm` of a private key as [`Self::private_bytes`] gives it: an
    /// Ed25519 seed, or a P-256 scalar (32 bytes, big-endian).
    pub fn from_stored(algorithm: Algorithm, private: &[u8]) -> Result<Self, String> {
        let pair = match algorithm {
            Algorithm::EdDSA => {
                let seed: [u8; 32] = private
                    .try_into()
                    .map_err(|_| "an Ed25519 private key is 32 bytes".to_owned())?;
                Pair::Ed25519(SigningKey::from_bytes(&seed))
            }
            Algorithm::ES256 => {
                if private.len() != 32 {
                    return Err("a P-256 private key is 32 bytes".to_owned());
                }
                Pair::Es256(
                    p256::ecdsa::SigningKey::from_slice(private)
                        .map_err(|_| "not a P-256 private key".to_owned())?,
                )
            }
        };
        Ok(Self { pair })
    }

    /// The private key's 32 bytes (to be sealed before it is stored): the Ed25519 seed, or the
    /// P-256 scalar (big-endian).
    pub fn private_bytes(&self) -> Zeroizing<[u8; 32]> {
        let mut out = Zeroizing::new([0u8; 32]);
        match &self.pair {
            Pair::Ed25519(k) => out.copy_from_slice(&k.to_bytes()),
            Pair::Es256(k) => out.copy_from_slice(&k.to_bytes()),
        }
        out
    }

    /// The algorithm.
    pub fn kind(&self) -> Algorithm {
        match self.pair {
            Pair::Ed25519(_) => Algorithm::EdDSA,
            Pair::Es256(_) => Algorithm::ES256,
        }
    }

    /// The JWS algorithm (`EdDSA` or `ES256`).
    pub fn algorithm(&self) -> &'static str {
        self.kind().as_str()
    }

    /// The public key's `x`, unpadded base64url (the JWK's `x`).
    pub fn public_x(&self) -> String {
        match &self.pair {
            Pair::Ed25519(k) => URL_SAFE_NO_PAD.encode(k.verifying_key().as_bytes()),
            Pair::Es256(_) => URL_SAFE_NO_PAD.encode(&self.sec1()[1..33]),
        }
    }

    /// The uncompressed SEC1 point of a P-256 key (`04 || x || y`); empty for Ed25519.
    fn sec1(&self) -> Vec<u8> {
        match &self.pair {
            Pair::Ed25519(_) => Vec::new(),
            Pair::Es256(k) => k.verifying_key().to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// The public key as it is stored (the `public_key` column; the `algorithm` column tells
    /// which form): an Ed25519 key's `x`; a P-256 key's uncompressed SEC1 point, base64url.
    pub fn public_stored(&self) -> String {
        match &self.pair {
            Pair::Ed25519(_) => self.public_x(),
            Pair::Es256(_) => URL_SAFE_NO_PAD.encode(self.sec1()),
        }
    }

    /// The key's id: the RFC 7638 thumbprint of its public JWK.
    pub fn kid(&self) -> String {
        self.public_jwk().kid
    }

    /// The public JWK.
    pub fn public_jwk(&self) -> Jwk {
        match &self.pair {
            Pair::Ed25519(_) => public_jwk(&self.public_x()),
            Pair::Es256(_) => {
                let sec1 = self.sec1();
                ec_public_jwk(
                    &URL_SAFE_NO_PAD.encode(&sec1[1..33]),
                    &URL_SAFE_NO_PAD.encode(&sec1[33..65]),
                )
            }
        }
    }

    /// A signature of `message`: Ed25519 (RFC 8032), or ECDSA P-256 SHA-256 as JWS and RFC 9421
    /// write it (`r || s`, 32 bytes each; RFC 7518 section 3.4).
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        let mut out = [0u8; 64];
        match &self.pair {
            Pair::Ed25519(k) => out = k.sign(message).to_bytes(),
            Pair::Es256(k) => {
                let signature: p256::ecdsa::Signature = k.sign(message);
                out.copy_from_slice(&signature.to_bytes());
            }
        }
        out
    }
}

/// The public JWK of an Ed25519 public key given as its `x`.
pub fn public_jwk(x: &str) -> Jwk {
    Jwk {
        kty: "OKP".into(),
        crv: "Ed25519".into(),
        x: x.to_owned(),
        y: None,
        kid: jwk_thumbprint("OKP", "Ed25519", x),
        alg: EDDSA.into(),
        use_: "sig".into(),
    }
}

/// The public JWK of a P-256 public key given as its `x` and `y`.
pub fn ec_public_jwk(x: &str, y: &str) -> Jwk {
    Jwk {
        kty: "EC".into(),
        crv: "P-256".into(),
        x: x.to_owned(),
        y: Some(y.to_owned()),
        kid: ec_thumbprint("P-256", x, y),
        alg: ES256.into(),
        use_: "sig".into(),
    }
}

/// The public JWK of a stored public key ([`InstanceKey::public_stored`]) of `algorithm` (the
/// `algorithm` column).
pub fn stored_public_jwk(algorithm: &str, stored: &str) -> Result<Jwk, String> {
    match algorithm.parse::<Algorithm>()? {
        Algorithm::EdDSA => Ok(public_jwk(stored)),
        Algorithm::ES256 => {
            let sec1 = URL_SAFE_NO_PAD
                .decode(stored)
                .ok()
                .filter(|b| b.len() == 65 && b[0] == 4)
                .ok_or_else(|| {
                    "a stored P-256 public key is not an uncompressed point".to_owned()
                })?;
            Ok(ec_public_jwk(
                &URL_SAFE_NO_PAD.encode(&sec1[1..33]),
                &URL_SAFE_NO_PAD.encode(&sec1[33..65]),
            ))
        }
    }
}

fn ed25519_public(x: &str) -> Option<VerifyingKey> {
    let bytes = URL_SAFE_NO_PAD.decode(x).ok()?;
    VerifyingKey::from_bytes(&<[u8; 32]>::try_from(bytes.as_slice()).ok()?).ok()
}

fn p256_public(x: &str, y: &str) -> Option<p256::ecdsa::VerifyingKey> {
    let (x, y) = (
        URL_SAFE_NO_PAD.decode(x).ok()?,
        URL_SAFE_NO_PAD.decode(y).ok()?,
    );
    if x.len() != 32 || y.len() != 32 {
        return None;
    }
    let sec1: Vec<u8> = [&[4u8][..], &x, &y].concat();
    p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1).ok()
}

/// Whether `signature` is an Ed25519 signature of `message` by the public key `x`.
pub fn verify(x: &str, message: &[u8], signature: &[u8]) -> bool {
    let Some(key) = ed25519_public(x) else {
        return false;
    };
    let Ok(sig) = ed25519_dalek::Signature::from_slice(signature) else {
        return false;
    };
    key.verify_strict(message, &sig).is_ok()
}

/// Whether `signature` is a signature of `message` by the key `jwk`, per its type: Ed25519, or
/// ES256 (`r || s`, 64 bytes).
pub fn verify_jwk(jwk: &Jwk, message: &[u8], signature: &[u8]) -> bool {
    match jwk.algorithm() {
        Some(Algorithm::EdDSA) => verify(&jwk.x, message, signature),
        Some(Algorithm::ES256) => {
            let Some(key) = jwk.y.as_deref().and_then(|y| p256_public(&jwk.x, y)) else {
                return false;
            };
            signature.len() == 64
                && p256::ecdsa::Signature::from_slice(signature)
                    .is_ok_and(|sig| key.verify(message, &sig).is_ok())
        }
        None => false,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "identity_tests.rs"]
mod tests;
