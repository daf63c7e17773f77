//! Verifying webhook signatures of both schemes (see the parent module), as a receiver does.
//!
//! Verification parses strictly (a truncated or malformed header is an error, never a partial
//! match) and compares MACs in constant time after checking their length.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use subtle::ConstantTimeEq;

use super::{MAC_LEN, persona_mac, standard_mac};

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

/// Constant-time equality that is false (not a panic or a prefix match) for different lengths.
fn mac_eq(expected: &[u8; MAC_LEN], given: &[u8]) -> bool {
    given.len() == MAC_LEN && bool::from(expected.as_slice().ct_eq(given))
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
    use crate::signing::tests::{BODY, PERSONA_HEX, SECRET, STANDARD_B64, T};
    use crate::signing::{persona_signature, standard_signature};
    use proptest::prelude::*;

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
