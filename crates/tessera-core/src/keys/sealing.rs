//! Sealing secrets at rest: XChaCha20-Poly1305 under a master key, bound to what the secret is
//! for.
//!
//! A sealed value is text: `v1:<kid>:<nonce>:<ciphertext>`, the nonce (24 random bytes) and the
//! ciphertext (with its 16-byte tag) in unpadded base64url. `kid` names the master key that
//! sealed it (derived from the key, so it needs no name of its own), which lets a [`Keyring`]
//! hold several keys during a rotation: the first seals, every one opens what it sealed.
//!
//! The associated data is `tessera-sealed:v1:<kid>:<purpose>`, where the purpose names the row
//! and column the secret belongs to (`webhooks.secret:whk_…`): a ciphertext copied to another
//! row, or to another column of the same row, does not open.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

/// The format's version, the first part of every sealed value.
const VERSION: &str = "v1";
const NONCE_LEN: usize = 24;
/// Length of a master key in bytes.
pub const MASTER_KEY_LEN: usize = 32;

/// One master key: 32 secret bytes and the id derived from them.
#[derive(Clone)]
pub struct MasterKey {
    kid: String,
    bytes: [u8; MASTER_KEY_LEN],
}

impl Drop for MasterKey {
    fn drop(&mut self) {
        self.bytes.zeroize();
    }
}

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MasterKey").field("kid", &self.kid).finish()
    }
}

impl MasterKey {
    /// A new random key.
    pub fn generate() -> Self {
        let mut bytes = [0u8; MASTER_KEY_LEN];
        rand::rng().fill_bytes(&mut bytes);
        Self::from_bytes(bytes)
    }

    /// A key from its bytes.
    pub fn from_bytes(bytes: [u8; MASTER_KEY_LEN]) -> Self {
        // The id is a hash of the key under a label of its own: it tells keys apart and reveals
        // nothing usable about them.
        let mut h = Sha256::new();
        h.update(b"tessera master key id\0");
        h.update(bytes);
        let kid = format!("mk-{}", hex::encode(&h.finalize()[..8]));
        Self { kid, bytes }
    }

    /// A key as written by [`MasterKey::encode`] (unpadded base64url; standard base64 and padding
    /// are accepted too).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let decoded = Zeroizing::new(
            URL_SAFE_NO_PAD
                .decode(text.trim_end_matches('='))
                .or_else(|_| STANDARD.decode(text))
                .map_err(|_| "a master key is 32 bytes in base64url".to_owned())?,
        );
        let bytes: [u8; MASTER_KEY_LEN] = decoded.as_slice().try_into().map_err(|_| {
            format!(
                "a master key is {MASTER_KEY_LEN} bytes, this one is {}",
                decoded.len()
            )
        })?;
        Ok(Self::from_bytes(bytes))
    }

    /// The key as text (unpadded base64url, 43 characters).
    pub fn encode(&self) -> Zeroizing<String> {
        Zeroizing::new(URL_SAFE_NO_PAD.encode(self.bytes))
    }

    /// The key's id, `mk-` and 16 hex digits.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new((&self.bytes).into())
    }
}

/// Why a sealed value did not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the value is not sealed")]
    NotSealed,
    #[error("the value is sealed under master key {0}, which is not in the keyring")]
    UnknownKey(String),
    #[error("the sealed value does not open: it was altered, or belongs to another purpose")]
    Tampered,
}

/// The master keys a process holds: the first seals, all of them open.
#[derive(Clone, Debug)]
pub struct Keyring {
    keys: Vec<MasterKey>,
}

/// The kid of a sealed value, or `None` when the value is not in the sealed format (a secret
/// stored before sealing existed).
pub fn sealed_kid(value: &str) -> Option<&str> {
    let mut parts = value.split(':');
    let (Some(VERSION), Some(kid), Some(_), Some(_), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(kid)
}

fn aad(kid: &str, purpose: &str) -> Vec<u8> {
    format!("tessera-sealed:{VERSION}:{kid}:{purpose}").into_bytes()
}

impl Keyring {
    /// A keyring of these keys, the one that seals first. Refuses an empty list; a key listed
    /// twice is kept once.
    pub fn new(keys: Vec<MasterKey>) -> Result<Self, String> {
        let mut unique: Vec<MasterKey> = Vec::with_capacity(keys.len());
        for k in keys {
            if !unique.iter().any(|u| u.kid == k.kid) {
                unique.push(k);
            }
        }
        if unique.is_empty() {
            return Err("a keyring needs at least one master key".into());
        }
        Ok(Self { keys: unique })
    }

    /// A keyring from text: keys separated by new lines or commas, the one that seals first;
    /// blank lines and lines starting with `#` are ignored.
    pub fn parse(text: &str) -> Result<Self, String> {
        let keys = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| l.split(','))
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(MasterKey::parse)
            .collect::<Result<Vec<_>, _>>()?;
        Self::new(keys)
    }

    /// The keyring as text [`Keyring::parse`] reads: one key per line, the sealing one first.
    pub fn encode(&self) -> Zeroizing<String> {
        let mut out = String::new();
        for k in &self.keys {
            out.push_str(&k.encode());
            out.push('\n');
        }
        Zeroizing::new(out)
    }

    /// A new keyring whose sealing key is `key`, keeping these keys for opening.
    pub fn with_new_key(&self, key: MasterKey) -> Self {
        let mut keys = vec![key];
        keys.extend(self.keys.iter().cloned());
        Self::new(keys).unwrap_or_else(|_| self.clone())
    }

    /// The id of the key that seals.
    pub fn sealing_kid(&self) -> &str {
        &self.keys[0].kid
    }

    /// The ids of every key, the sealing one first.
    pub fn kids(&self) -> Vec<&str> {
        self.keys.iter().map(|k| k.kid.as_str()).collect()
    }

    /// Whether this keyring holds the key `kid`.
    pub fn contains(&self, kid: &str) -> bool {
        self.keys.iter().any(|k| k.kid == kid)
    }

    /// Seals `plaintext` for `purpose` under the sealing key.
    pub fn seal(&self, purpose: &str, plaintext: &[u8]) -> String {
        let key = &self.keys[0];
        let mut nonce = [0u8; NONCE_LEN];
        rand::rng().fill_bytes(&mut nonce);
        let aad = aad(&key.kid, purpose);
        // Encrypting into a Vec cannot fail (no length limit is near).
        let ct = key
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad,
                },
            )
            .unwrap_or_default();
        format!(
            "{VERSION}:{}:{}:{}",
            key.kid,
            URL_SAFE_NO_PAD.encode(nonce),
            URL_SAFE_NO_PAD.encode(ct)
        )
    }

    /// Opens a value sealed for `purpose`.
    pub fn open(&self, purpose: &str, sealed: &str) -> Result<Zeroizing<Vec<u8>>, OpenError> {
        let kid = sealed_kid(sealed).ok_or(OpenError::NotSealed)?;
        let key = self
            .keys
            .iter()
            .find(|k| k.kid == kid)
            .ok_or_else(|| OpenError::UnknownKey(kid.to_owned()))?;
        let mut parts = sealed.rsplitn(3, ':');
        let (Some(ct), Some(nonce)) = (parts.next(), parts.next()) else {
            return Err(OpenError::Tampered);
        };
        let nonce = URL_SAFE_NO_PAD
            .decode(nonce)
            .map_err(|_| OpenError::Tampered)?;
        let ct = URL_SAFE_NO_PAD
            .decode(ct)
            .map_err(|_| OpenError::Tampered)?;
        if nonce.len() != NONCE_LEN {
            return Err(OpenError::Tampered);
        }
        let aad = aad(kid, purpose);
        key.cipher()
            .decrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: &ct,
                    aad: &aad,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| OpenError::Tampered)
    }

    /// Opens a sealed UTF-8 string.
    pub fn open_text(&self, purpose: &str, sealed: &str) -> Result<String, OpenError> {
        let bytes = self.open(purpose, sealed)?;
        String::from_utf8(bytes.to_vec()).map_err(|_| OpenError::Tampered)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_for_its_purpose() {
        let ring = Keyring::new(vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal("webhooks.secret:whk_a", b"wbhsec_x");
        assert!(!sealed.contains("wbhsec_x"));
        assert_eq!(sealed_kid(&sealed), Some(ring.sealing_kid()));
        assert_eq!(
            ring.open_text("webhooks.secret:whk_a", &sealed).unwrap(),
            "wbhsec_x"
        );
        assert_eq!(
            ring.open("webhooks.secret:whk_b", &sealed).unwrap_err(),
            OpenError::Tampered
        );
        assert_eq!(
            ring.open("webhooks.previous_secret:whk_a", &sealed)
                .unwrap_err(),
            OpenError::Tampered
        );
        // Two seals of one value differ (random nonces).
        assert_ne!(sealed, ring.seal("webhooks.secret:whk_a", b"wbhsec_x"));
    }

    #[test]
    fn altered_values_do_not_open() {
        let ring = Keyring::new(vec![MasterKey::generate()]).unwrap();
        let sealed = ring.seal("p", b"secret");
        let mut bytes = sealed.clone().into_bytes();
        let last = bytes.len() - 2;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        let altered = String::from_utf8(bytes).unwrap();
        assert_eq!(ring.open("p", &altered).unwrap_err(), OpenError::Tampered);
        // A value relabelled with another key's id does not open under that key either.
        let other = MasterKey::generate();
        let both = Keyring::new(vec![
            other.clone(),
            MasterKey::parse(&ring.keys[0].encode()).unwrap(),
        ])
        .unwrap();
        let relabelled = sealed.replacen(ring.sealing_kid(), other.kid(), 1);
        assert_eq!(
            both.open("p", &relabelled).unwrap_err(),
            OpenError::Tampered
        );
        assert_eq!(
            ring.open("p", "wbhsec_plain").unwrap_err(),
            OpenError::NotSealed
        );
    }

    #[test]
    fn a_keyring_seals_with_its_first_key_and_opens_with_all() {
        let old = Keyring::new(vec![MasterKey::generate()]).unwrap();
        let sealed_old = old.seal("p", b"one");
        let rotated = old.with_new_key(MasterKey::generate());
        assert_ne!(rotated.sealing_kid(), old.sealing_kid());
        assert_eq!(rotated.kids().len(), 2);
        assert_eq!(rotated.open_text("p", &sealed_old).unwrap(), "one");
        let sealed_new = rotated.seal("p", b"two");
        assert_eq!(sealed_kid(&sealed_new), Some(rotated.sealing_kid()));
        assert_eq!(
            old.open("p", &sealed_new).unwrap_err(),
            OpenError::UnknownKey(rotated.sealing_kid().to_owned())
        );
    }

    #[test]
    fn keyrings_round_trip_through_text() {
        let ring = Keyring::new(vec![MasterKey::generate(), MasterKey::generate()]).unwrap();
        let text = ring.encode();
        let back = Keyring::parse(&format!("# master keys\n{}", text.as_str())).unwrap();
        assert_eq!(back.kids(), ring.kids());
        let comma = text.trim().replace('\n', ",");
        assert_eq!(Keyring::parse(&comma).unwrap().kids(), ring.kids());
        assert!(Keyring::parse("").is_err());
        assert!(Keyring::parse("c2hvcnQ").is_err());
        assert!(MasterKey::parse("not base64 at all!").is_err());
        // Standard base64 with padding is accepted too.
        let std = STANDARD.encode([7u8; 32]);
        assert_eq!(
            MasterKey::parse(&std).unwrap().kid(),
            MasterKey::from_bytes([7u8; 32]).kid()
        );
        assert!(!format!("{ring:?}").contains(text.lines().next().unwrap()));
    }
}
