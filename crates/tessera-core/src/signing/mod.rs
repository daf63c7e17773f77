//! Webhook signatures, both the ones Tessera sends and the verifiers that check them (our tests,
//! the dashboard's documentation examples). Two schemes go on every delivery:
//!
//! - `Persona-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`, one such
//!   set per signing secret (the new one first) separated by one space while a rotated-out secret
//!   still signs;
//! - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256(key, "<id>.<t>.<body>")>`,
//!   space-separated per secret, where the key is the UTF-8 bytes of our secret. A Standard
//!   Webhooks library wants that key as `whsec_` + base64(key): see [`standard_webhooks_secret`].
//!
//! The verifiers, for our tests and for the dashboard's documentation examples, are in
//! `verify.rs`.

mod verify;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub use verify::{
    DEFAULT_TOLERANCE_SECS, VerifyError, verify_persona_signature, verify_standard_signature,
};

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag in bytes.
const MAC_LEN: usize = 32;

fn mac(secret: &str, parts: &[&[u8]]) -> [u8; MAC_LEN] {
    // HMAC accepts keys of any length, so this cannot fail; the fallback keeps the function total
    // without an unwrap.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else {
        return [0; MAC_LEN];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn persona_mac(secret: &str, t: i64, body: &[u8]) -> [u8; MAC_LEN] {
    mac(secret, &[t.to_string().as_bytes(), b".", body])
}

fn standard_mac(secret: &str, msg_id: &str, t: i64, body: &[u8]) -> [u8; MAC_LEN] {
    mac(
        secret,
        &[
            msg_id.as_bytes(),
            b".",
            t.to_string().as_bytes(),
            b".",
            body,
        ],
    )
}

/// One Persona signature set: `t=<t>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`.
pub fn persona_signature(secret: &str, t: i64, body: &[u8]) -> String {
    format!("t={t},v1={}", hex::encode(persona_mac(secret, t, body)))
}

/// The `Persona-Signature` header value for every secret that currently signs, in the order given
/// (callers pass the new secret first), sets separated by one space.
pub fn persona_signature_header<S: AsRef<str>>(secrets: &[S], t: i64, body: &[u8]) -> String {
    secrets
        .iter()
        .map(|s| persona_signature(s.as_ref(), t, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// One Standard Webhooks signature: `v1,<base64 HMAC-SHA256(secret bytes, "<id>.<t>.<body>")>`.
pub fn standard_signature(secret: &str, msg_id: &str, t: i64, body: &[u8]) -> String {
    format!(
        "v1,{}",
        BASE64.encode(standard_mac(secret, msg_id, t, body))
    )
}

/// The `webhook-signature` header value for every secret that currently signs, space-separated.
pub fn standard_signature_header<S: AsRef<str>>(
    secrets: &[S],
    msg_id: &str,
    t: i64,
    body: &[u8],
) -> String {
    secrets
        .iter()
        .map(|s| standard_signature(s.as_ref(), msg_id, t, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The form of a Tessera webhook secret that Standard Webhooks libraries take:
/// `whsec_` + base64 of the secret's UTF-8 bytes.
pub fn standard_webhooks_secret(secret: &str) -> String {
    format!("whsec_{}", BASE64.encode(secret.as_bytes()))
}

/// `Persona-Signature`.
pub const PERSONA_SIGNATURE: &str = "persona-signature";
/// Standard Webhooks: the message id (the event id, the same on every attempt).
pub const WEBHOOK_ID: &str = "webhook-id";
/// Standard Webhooks: unix seconds of the signature.
pub const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
/// Standard Webhooks: the signatures.
pub const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// Every signature header of one delivery attempt, both schemes, for the secrets that currently
/// sign (new first): `(lowercase name, value)`.
pub fn signature_headers<S: AsRef<str>>(
    secrets: &[S],
    msg_id: &str,
    t: i64,
    body: &[u8],
) -> [(&'static str, String); 4] {
    [
        (
            PERSONA_SIGNATURE,
            persona_signature_header(secrets, t, body),
        ),
        (WEBHOOK_ID, msg_id.to_owned()),
        (WEBHOOK_TIMESTAMP, t.to_string()),
        (
            WEBHOOK_SIGNATURE,
            standard_signature_header(secrets, msg_id, t, body),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) const SECRET: &str = "wbhsec_test";
    pub(super) const T: i64 = 1_700_000_000;
    pub(super) const BODY: &[u8] = br#"{"a":1}"#;

    // Vectors computed independently with Python's hmac/hashlib/base64.
    pub(super) const PERSONA_HEX: &str =
        "5125d9de9279d564db197b70a6c699dd005beb53dc22371dcaf347ac390940d7";
    pub(super) const STANDARD_B64: &str = "mswoH3+GWzOQS+SK0Olb0q5jUw/qLulBhmxOBXG6YCA=";

    #[test]
    fn known_vectors() {
        assert_eq!(
            persona_signature(SECRET, T, BODY),
            format!("t={T},v1={PERSONA_HEX}")
        );
        assert_eq!(
            standard_signature(SECRET, "evt_123", T, BODY),
            format!("v1,{STANDARD_B64}")
        );
        assert_eq!(standard_webhooks_secret(SECRET), "whsec_d2Joc2VjX3Rlc3Q=");
    }

    #[test]
    fn rotation_headers_put_the_new_secret_first_separated_by_one_space() {
        let header = persona_signature_header(&["new", "old"], T, BODY);
        let (first, second) = header.split_once(' ').unwrap();
        assert_eq!(first, persona_signature("new", T, BODY));
        assert_eq!(second, persona_signature("old", T, BODY));
        for secret in ["new", "old"] {
            assert_eq!(
                verify_persona_signature(&header, secret, BODY, T, 300),
                Ok(T)
            );
        }
        let header = standard_signature_header(&["new", "old"], "evt_1", T, BODY);
        assert_eq!(header.matches(' ').count(), 1);
        assert!(header.starts_with(&standard_signature("new", "evt_1", T, BODY)));
        for secret in ["new", "old"] {
            let verdict =
                verify_standard_signature(secret, "evt_1", "1700000000", &header, BODY, T, 300);
            assert_eq!(verdict, Ok(()));
        }
    }

    #[test]
    fn one_call_gives_every_signature_header() {
        let headers = signature_headers(&["new", "old"], "evt_9", T, BODY);
        let get = |name: &str| headers.iter().find(|(n, _)| *n == name).unwrap().1.clone();
        assert_eq!(
            get(PERSONA_SIGNATURE),
            persona_signature_header(&["new", "old"], T, BODY)
        );
        assert_eq!(get(WEBHOOK_ID), "evt_9");
        assert_eq!(get(WEBHOOK_TIMESTAMP), "1700000000");
        let verdict = verify_standard_signature(
            "old",
            &get(WEBHOOK_ID),
            &get(WEBHOOK_TIMESTAMP),
            &get(WEBHOOK_SIGNATURE),
            BODY,
            T,
            DEFAULT_TOLERANCE_SECS,
        );
        assert_eq!(verdict, Ok(()));
    }
}
