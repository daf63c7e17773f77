//! Secrets: API keys, webhook secrets and the operator token. Secrets are random, shown once, and
//! stored only as a SHA-256 hash; API keys end in a checksum so a leaked key is recognisable.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::id::random_base62;
use crate::tenancy::EnvKind;

const KEY_RANDOM_LEN: usize = 43;
const CHECKSUM_LEN: usize = 6;

/// The hex SHA-256 of a secret, as stored.
pub fn hash_secret(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in constant time (for equal lengths; lengths are not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

fn checksum(body: &str) -> String {
    let digest = Sha256::digest(body.as_bytes());
    let mut n = u64::from_be_bytes([
        0, 0, digest[0], digest[1], digest[2], digest[3], digest[4], digest[5],
    ]);
    const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = [b'0'; CHECKSUM_LEN];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// A new API key secret for an environment: `tsk_<env>_<43 random base62><6 checksum>`.
pub fn generate_api_key(env: EnvKind) -> String {
    let body = format!("tsk_{}_{}", env.as_str(), random_base62(KEY_RANDOM_LEN));
    let sum = checksum(&body);
    format!("{body}{sum}")
}

/// Whether a string has the shape and checksum of a Tessera API key. Cheap: lets garbage be
/// refused without a database lookup.
pub fn looks_like_api_key(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("tsk_") else {
        return false;
    };
    let Some((env, tail)) = rest.split_once('_') else {
        return false;
    };
    if EnvKind::parse(env).is_none()
        || tail.len() < KEY_RANDOM_LEN + CHECKSUM_LEN
        || !tail.bytes().all(|b| b.is_ascii_alphanumeric())
    {
        return false;
    }
    let (body, sum) = s.split_at(s.len() - CHECKSUM_LEN);
    constant_time_eq(checksum(body).as_bytes(), sum.as_bytes())
}

/// A short, non-secret hint of a key for listings: `tsk_sandbox_…Ab12`.
pub fn key_hint(secret: &str) -> String {
    let env_end = secret.match_indices('_').nth(1).map_or(0, |(i, _)| i + 1);
    let tail = &secret[secret.len().saturating_sub(4)..];
    format!("{}…{}", &secret[..env_end], tail)
}

/// A webhook signing secret: `wbhsec_` + 43 base62 characters (≈256 bits).
pub fn generate_webhook_secret() -> String {
    format!("wbhsec_{}", random_base62(KEY_RANDOM_LEN))
}

/// A workflow signing secret (for `http-request` steps): `wflsec_` + 43 base62 characters.
pub fn generate_workflow_secret() -> String {
    format!("wflsec_{}", random_base62(KEY_RANDOM_LEN))
}

/// An operator token: `tsa_` + 43 base62 characters.
pub fn generate_admin_token() -> String {
    format!("tsa_{}", random_base62(KEY_RANDOM_LEN))
}

/// An opaque random token (sessions, CSRF).
pub fn generate_token() -> String {
    random_base62(KEY_RANDOM_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn generated_keys_pass_their_checksum() {
        for env in [EnvKind::Sandbox, EnvKind::Production] {
            let k = generate_api_key(env);
            assert!(k.starts_with(&format!("tsk_{}_", env.as_str())));
            assert!(looks_like_api_key(&k), "{k}");
            assert!(key_hint(&k).starts_with(&format!("tsk_{}_…", env.as_str())));
        }
    }

    #[test]
    fn a_changed_character_breaks_the_checksum() {
        let k = generate_api_key(EnvKind::Sandbox);
        let mut bytes = k.clone().into_bytes();
        let i = 20;
        bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
        let changed = String::from_utf8(bytes).unwrap_or_default();
        assert!(!looks_like_api_key(&changed));
        assert!(!looks_like_api_key(&k[..k.len() - 1]));
        assert!(!looks_like_api_key("tsk_staging_abc"));
    }

    #[test]
    fn constant_time_eq_checks_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    proptest! {
        #[test]
        fn arbitrary_strings_are_not_keys(s in "\\PC{0,80}") {
            prop_assert!(!looks_like_api_key(&s) || s.starts_with("tsk_"));
        }
    }
}
