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
//! Verification parses strictly (a truncated or malformed header is an error, never a partial
//! match) and compares MACs in constant time after checking their length.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// Length of an HMAC-SHA256 tag in bytes.
const MAC_LEN: usize = 32;

/// How far a signature's timestamp may be from the verifier's clock, in seconds. Five minutes is
/// what Stripe-style and Standard Webhooks verifiers use by default.
pub const DEFAULT_TOLERANCE_SECS: i64 = 5 * 60;

/// Why a signature was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The header is empty, truncated or not in the scheme's format.
    #[error("the signature header is malformed")]
    Malformed,
    /// The header is well formed but no signature in it matches this secret and body.
    #[error("no signature matches")]
    NoMatch,
    /// A signature matches but its timestamp is outside the tolerance window.
    #[error("the signature timestamp is outside the tolerance window")]
    OutsideTolerance,
}

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

/// Constant-time equality that is false (not a panic or a prefix match) for different lengths.
fn mac_eq(expected: &[u8; MAC_LEN], given: &[u8]) -> bool {
    given.len() == MAC_LEN && bool::from(expected.as_slice().ct_eq(given))
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

fn within_tolerance(t: i64, now: i64, tolerance_secs: i64) -> bool {
    now.abs_diff(t) <= tolerance_secs.unsigned_abs()
}

/// Unix seconds as senders write them: ASCII digits only (no sign, no spaces, no `+`), so one
/// timestamp has exactly one spelling.
fn parse_unix_seconds(s: &str) -> Option<i64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// One parsed `t=…,v1=…[,v1=…]` set.
struct PersonaSet {
    t: i64,
    v1: Vec<Vec<u8>>,
}

fn parse_persona_set(set: &str) -> Option<PersonaSet> {
    let mut t = None;
    let mut v1 = Vec::new();
    for item in set.split(',') {
        let (key, value) = item.split_once('=')?;
        match key {
            "t" if t.is_none() => t = Some(parse_unix_seconds(value)?),
            "v1" => {
                // Exactly one lowercase-or-uppercase hex encoding of a full tag: a truncated
                // signature is malformed, not "a prefix that matched".
                if value.len() != MAC_LEN * 2 {
                    return None;
                }
                v1.push(hex::decode(value).ok()?);
            }
            // Other scheme versions may appear alongside v1 (Stripe sends v0 in test mode).
            k if !k.is_empty() && k != "t" => {}
            _ => return None,
        }
    }
    if v1.is_empty() {
        return None;
    }
    Some(PersonaSet { t: t?, v1 })
}

/// Verifies a `Persona-Signature` header against a secret and the raw body. Returns the signed
/// timestamp of the matching set. `now` is unix seconds.
pub fn verify_persona_signature(
    header: &str,
    secret: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<i64, VerifyError> {
    if header.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let sets = header
        .split(' ')
        .map(parse_persona_set)
        .collect::<Option<Vec<_>>>()
        .ok_or(VerifyError::Malformed)?;
    let mut stale = false;
    for set in &sets {
        let expected = persona_mac(secret, set.t, body);
        if set.v1.iter().any(|given| mac_eq(&expected, given)) {
            if within_tolerance(set.t, now, tolerance_secs) {
                return Ok(set.t);
            }
            stale = true;
        }
    }
    Err(if stale {
        VerifyError::OutsideTolerance
    } else {
        VerifyError::NoMatch
    })
}

/// Verifies Standard Webhooks headers (`webhook-id`, `webhook-timestamp`, `webhook-signature`)
/// against a Tessera secret (not its `whsec_` form) and the raw body. `now` is unix seconds.
pub fn verify_standard_signature(
    secret: &str,
    msg_id: &str,
    timestamp: &str,
    signature_header: &str,
    body: &[u8],
    now: i64,
    tolerance_secs: i64,
) -> Result<(), VerifyError> {
    if msg_id.is_empty() || signature_header.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let t = parse_unix_seconds(timestamp).ok_or(VerifyError::Malformed)?;
    let mut v1 = Vec::new();
    for item in signature_header.split(' ') {
        let (version, sig) = item.split_once(',').ok_or(VerifyError::Malformed)?;
        if version.is_empty() || sig.is_empty() {
            return Err(VerifyError::Malformed);
        }
        if version == "v1" {
            let bytes = BASE64.decode(sig).map_err(|_| VerifyError::Malformed)?;
            if bytes.len() != MAC_LEN {
                return Err(VerifyError::Malformed);
            }
            v1.push(bytes);
        }
    }
    if v1.is_empty() {
        return Err(VerifyError::Malformed);
    }
    let expected = standard_mac(secret, msg_id, t, body);
    if !v1.iter().any(|given| mac_eq(&expected, given)) {
        return Err(VerifyError::NoMatch);
    }
    if !within_tolerance(t, now, tolerance_secs) {
        return Err(VerifyError::OutsideTolerance);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SECRET: &str = "wbhsec_test";
    const T: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"a":1}"#;

    // Vectors computed independently with Python's hmac/hashlib/base64.
    const PERSONA_HEX: &str = "5125d9de9279d564db197b70a6c699dd005beb53dc22371dcaf347ac390940d7";
    const STANDARD_B64: &str = "mswoH3+GWzOQS+SK0Olb0q5jUw/qLulBhmxOBXG6YCA=";

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

    #[test]
    fn persona_rejections() {
        let good = persona_signature(SECRET, T, BODY);
        let check = |h: &str| verify_persona_signature(h, SECRET, BODY, T, 300);
        assert_eq!(check(&good), Ok(T));
        assert_eq!(
            verify_persona_signature(&good, SECRET, b"{\"a\":2}", T, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify_persona_signature(&good, "other", BODY, T, 300),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify_persona_signature(&good, SECRET, BODY, T + 301, 300),
            Err(VerifyError::OutsideTolerance)
        );
        assert_eq!(
            verify_persona_signature(&good, SECRET, BODY, T - 301, 300),
            Err(VerifyError::OutsideTolerance)
        );
        assert_eq!(
            verify_persona_signature(&good, SECRET, BODY, T + 300, 300),
            Ok(T)
        );
        for bad in [
            "",
            " ",
            &good[..good.len() - 1],
            &good[..good.len() - 2],
            &format!("{good} "),
            &format!(" {good}"),
            &format!("{good}  {good}"),
            "t=1700000000",
            &format!("v1={PERSONA_HEX}"),
            &format!("t=,v1={PERSONA_HEX}"),
            &format!("t=-1700000000,v1={PERSONA_HEX}"),
            &format!("t=+1700000000,v1={PERSONA_HEX}"),
            &format!("t=1700000000,v1={PERSONA_HEX}0"),
            &format!("t=1700000000,v1=zz{}", &PERSONA_HEX[2..]),
            &format!("t=1700000000,t=1700000000,v1={PERSONA_HEX}"),
            &format!("t=1700000000,,v1={PERSONA_HEX}"),
            &format!("t=1700000000;v1={PERSONA_HEX}"),
            "garbage",
        ] {
            assert_eq!(check(bad), Err(VerifyError::Malformed), "{bad:?}");
        }
        // A well-formed header whose only other entries are unknown versions still needs a v1.
        assert_eq!(
            check(&format!("t={T},v0={PERSONA_HEX}")),
            Err(VerifyError::Malformed)
        );
        assert_eq!(check(&format!("{good},v0=abc")), Ok(T));
    }

    #[test]
    fn standard_rejections() {
        let good = standard_signature(SECRET, "evt_123", T, BODY);
        let check = |id: &str, ts: &str, h: &str, body: &[u8], secret: &str| {
            verify_standard_signature(secret, id, ts, h, body, T, 300)
        };
        let ts = "1700000000";
        assert_eq!(check("evt_123", ts, &good, BODY, SECRET), Ok(()));
        assert_eq!(
            check("evt_123", ts, &good, b"{}", SECRET),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            check("evt_123", ts, &good, BODY, "other"),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            check("evt_124", ts, &good, BODY, SECRET),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            check("evt_123", "1700000001", &good, BODY, SECRET),
            Err(VerifyError::NoMatch)
        );
        assert_eq!(
            verify_standard_signature(SECRET, "evt_123", ts, &good, BODY, T + 1000, 300),
            Err(VerifyError::OutsideTolerance)
        );
        for bad in [
            "",
            "v1,",
            ",abc",
            "v1",
            &good[..good.len() - 4],
            &good[..good.len() - 1],
            &format!("{good} "),
            &format!("v1,{}", &STANDARD_B64[..20]),
            "v1,not base64!",
            "v2,abc",
        ] {
            assert_eq!(
                check("evt_123", ts, bad, BODY, SECRET),
                Err(VerifyError::Malformed),
                "{bad:?}"
            );
        }
        for bad_ts in ["", "17e8", "-1", " 1700000000", "1700000000.5"] {
            assert_eq!(
                check("evt_123", bad_ts, &good, BODY, SECRET),
                Err(VerifyError::Malformed)
            );
        }
        assert_eq!(
            check("", ts, &good, BODY, SECRET),
            Err(VerifyError::Malformed)
        );
        // Unknown versions are skipped when a v1 is present.
        assert_eq!(
            check("evt_123", ts, &format!("v1a,xyz {good}"), BODY, SECRET),
            Ok(())
        );
    }

    proptest! {
        #[test]
        fn persona_round_trip(secret in "[ -~]{1,64}", t in 0i64..4_000_000_000, body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let header = persona_signature(&secret, t, &body);
            prop_assert_eq!(verify_persona_signature(&header, &secret, &body, t, 300), Ok(t));
        }

        #[test]
        fn standard_round_trip(secret in "[ -~]{1,64}", id in "[a-z_0-9]{1,40}", t in 0i64..4_000_000_000, body in proptest::collection::vec(any::<u8>(), 0..512)) {
            let header = standard_signature(&secret, &id, t, &body);
            prop_assert_eq!(verify_standard_signature(&secret, &id, &t.to_string(), &header, &body, t, 300), Ok(()));
        }

        #[test]
        fn any_changed_body_byte_is_rejected(body in proptest::collection::vec(any::<u8>(), 1..256), index in any::<proptest::sample::Index>(), flip in 1u8..=255) {
            let persona = persona_signature(SECRET, T, &body);
            let standard = standard_signature(SECRET, "evt_1", T, &body);
            let mut tampered = body.clone();
            let i = index.index(tampered.len());
            tampered[i] ^= flip;
            prop_assert_eq!(verify_persona_signature(&persona, SECRET, &tampered, T, 300), Err(VerifyError::NoMatch));
            prop_assert_eq!(verify_standard_signature(SECRET, "evt_1", "1700000000", &standard, &tampered, T, 300), Err(VerifyError::NoMatch));
        }

        #[test]
        fn every_truncation_is_rejected(cut in 1usize..80) {
            let persona = persona_signature(SECRET, T, BODY);
            let standard = standard_signature(SECRET, "evt_1", T, BODY);
            let p = &persona[..persona.len().saturating_sub(cut)];
            let s = &standard[..standard.len().saturating_sub(cut)];
            prop_assert!(verify_persona_signature(p, SECRET, BODY, T, 300).is_err());
            prop_assert!(verify_standard_signature(SECRET, "evt_1", "1700000000", s, BODY, T, 300).is_err());
        }

        #[test]
        fn verifiers_never_panic_on_arbitrary_headers(header in ".{0,200}", ts in ".{0,20}") {
            let _ = verify_persona_signature(&header, SECRET, BODY, T, 300);
            let _ = verify_standard_signature(SECRET, "evt_1", &ts, &header, BODY, T, 300);
        }
    }
}
