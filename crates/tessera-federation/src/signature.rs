//! RFC 9421 HTTP Message Signatures of the requests one instance sends another.
//!
//! The sender calls [`sign`] on the outgoing request. The receiver calls [`parse`] on the request
//! head (no key needed: it names the sending instance and the `kid`, so the caller can look the
//! key up), then [`Parsed::verify`] with the key, the body and the absolute URI it is reached at.
//! Seen nonces (replays) and key lookup are the caller's: this module is pure.
//!
//! Every signature is labelled [`LABEL`], covers exactly [`COVERED`] and carries the parameters
//! `created`, `expires` (`created` + 300), `nonce`, `keyid`, `alg` (`"ed25519"`, or
//! `"ecdsa-p256-sha256"` for an instance whose key is ES256) and `tag="tessera-federation"`.
//! Header names are lowercase.

mod base;
mod key;
mod refusal;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_es256;
#[cfg(test)]
mod tests_refusals;

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::STANDARD};
use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue, Request, request::Parts};
use httpsig::prelude::message_component::HttpMessageComponentId;
use httpsig::prelude::{HttpSignatureHeaders, HttpSignatureParams};
use sha2::{Digest as _, Sha256};

pub use base::content_digest;
pub use key::{ALG_ECDSA_P256, ALG_ED25519, SigningKey, VerifyingKey};
pub use refusal::Refusal;

/// How far `created` may be from the receiver's clock, either way, and how long a signature lasts
/// (`expires` = `created` + 5 minutes).
pub const WINDOW: Duration = Duration::from_secs(300);
const WINDOW_SECONDS: i64 = 300;

/// The header naming the sending instance (`ins_…`); covered by the signature.
pub const INSTANCE_HEADER: &str = "tessera-instance";

/// The label of Tessera's signature in `signature-input` and `signature`.
pub const LABEL: &str = "tessera";

/// The `tag` parameter: what the signature is for (RFC 9421 section 2.3).
pub const TAG: &str = "tessera-federation";

/// The `alg` parameter of an Ed25519 signature (the default key's).
pub const ALG: &str = ALG_ED25519;

/// The covered components, in the order [`sign`] lists them. A receiver accepts them in any
/// order, but exactly these.
pub const COVERED: [&str; 5] = [
    "@method",
    "@target-uri",
    "content-digest",
    "date",
    INSTANCE_HEADER,
];

/// Why a request could not be signed (a caller's mistake, never the peer's).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The request URI is not absolute: `@target-uri` needs its scheme and authority.
    #[error("the request URI `{0}` is not absolute (scheme and authority are signed)")]
    RelativeTarget(String),
    /// The instance id, kid or nonce is empty, too long or has characters outside
    /// `A-Z a-z 0-9 - . _ ~ + / =`.
    #[error("the {0} must be 1 to 256 characters of A-Z a-z 0-9 - . _ ~ + / =")]
    InvalidValue(&'static str),
    /// `now_unix` is negative or out of range.
    #[error("the time {0} cannot be signed")]
    Time(i64),
    /// `httpsig` refused to build the signature (not expected with valid inputs).
    #[error("the signature could not be built: {0}")]
    Build(String),
}

/// Signs an outgoing request in place: sets `content-digest` (RFC 9530, SHA-256 of the body),
/// `date` (IMF-fixdate of `now_unix`), `tessera-instance: <instance_id>`, and `signature-input`
/// / `signature` labelled `tessera`, covering [`COVERED`], with `created=now_unix`,
/// `expires=now_unix+300`, `nonce`, `keyid=kid`, `alg` (the key's: `"ed25519"` or
/// `"ecdsa-p256-sha256"`), `tag="tessera-federation"`.
/// Replaces those headers if present. The `@target-uri` is the request's URI as `http::Uri`
/// displays it, so it must be absolute (the peer's base URL + path + query).
pub fn sign(
    req: &mut Request<Bytes>,
    instance_id: &str,
    kid: &str,
    key: impl Into<SigningKey>,
    nonce: &str,
    now_unix: i64,
) -> Result<(), SignError> {
    let key = key.into();
    let created = u64::try_from(now_unix).map_err(|_| SignError::Time(now_unix))?;
    let expires = created
        .checked_add(WINDOW.as_secs())
        .ok_or(SignError::Time(now_unix))?;
    let mut params = params_with(&COVERED).map_err(SignError::Build)?;
    params
        .set_created(created)
        .set_expires(expires)
        .set_nonce(nonce)
        .set_alg(&key.algorithm_name())
        .set_keyid(kid)
        .set_tag(TAG);
    sign_with(req, instance_id, &key, &params)
}

/// Signs `req` with the given parameters (their `keyid` names `key`); [`sign`] with Tessera's.
fn sign_with(
    req: &mut Request<Bytes>,
    instance_id: &str,
    key: &SigningKey,
    params: &HttpSignatureParams,
) -> Result<(), SignError> {
    for (what, value) in [
        ("instance id", Some(instance_id)),
        ("kid", params.keyid.as_deref()),
        ("nonce", params.nonce.as_deref()),
    ] {
        if !value.is_some_and(base::is_plain_token) {
            return Err(SignError::InvalidValue(what));
        }
    }
    let uri = req.uri();
    if uri.scheme().is_none() || uri.authority().is_none() {
        return Err(SignError::RelativeTarget(uri.to_string()));
    }
    let target = uri.to_string();
    let created = params.created.and_then(|c| i64::try_from(c).ok());
    let date = created
        .and_then(|c| chrono::DateTime::from_timestamp(c, 0))
        .ok_or(SignError::Time(created.unwrap_or(-1)))?
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let digest = content_digest(req.body());
    let base = base::signature_base(
        params,
        &[
            ("@method", req.method().as_str()),
            ("@target-uri", &target),
            ("content-digest", &digest),
            ("date", &date),
            (INSTANCE_HEADER, instance_id),
        ],
    )
    .map_err(SignError::Build)?;
    let kid = params.keyid.as_deref().unwrap_or_default();
    let signed = base
        .build_signature_headers(&base::KeySigner { key, kid }, Some(LABEL))
        .map_err(|e| SignError::Build(e.to_string()))?;
    let headers = req.headers_mut();
    for (name, value) in [
        ("content-digest", digest),
        ("date", date),
        (INSTANCE_HEADER, instance_id.to_owned()),
        ("signature-input", signed.signature_input_header_value()),
        ("signature", signed.signature_header_value()),
    ] {
        let value = HeaderValue::from_str(&value).map_err(|e| SignError::Build(e.to_string()))?;
        headers.insert(HeaderName::from_static(name), value);
    }
    Ok(())
}

/// Signature parameters covering `components`, nothing else set.
fn params_with(components: &[&str]) -> Result<HttpSignatureParams, String> {
    let covered_components = components
        .iter()
        .map(|name| HttpMessageComponentId::try_from(*name).map_err(|e| e.to_string()))
        .collect::<Result<_, _>>()?;
    Ok(HttpSignatureParams {
        covered_components,
        ..HttpSignatureParams::default()
    })
}

/// An incoming request's signature, read but not yet verified: who claims to have sent it, with
/// which key, when, and what is needed to verify it.
#[derive(Debug, Clone)]
pub struct Parsed {
    /// The `tessera-instance` header: the instance the request claims to come from.
    pub instance_id: String,
    /// The `keyid` parameter: the RFC 7638 thumbprint of the key it claims to be signed with.
    pub kid: String,
    /// The `nonce` parameter, for the caller's replay check.
    pub nonce: String,
    /// The `created` parameter (Unix seconds).
    pub created: i64,
    /// The `expires` parameter (Unix seconds).
    pub expires: i64,
    /// The `alg` parameter: `ed25519` or `ecdsa-p256-sha256`.
    pub alg: String,
    params: HttpSignatureParams,
    signature: Vec<u8>,
    content_digest: String,
    announced_sha256: Vec<u8>,
    date: String,
}

/// What [`Parsed::verify`] established about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// The sending instance, as signed.
    pub instance_id: String,
    /// The key that verified the signature.
    pub kid: String,
    /// The signed nonce (the caller refuses one it has seen within the window).
    pub nonce: String,
    /// When the sender signed, by its clock (Unix seconds).
    pub created: i64,
    /// `now - created`, in seconds: the peer's clock skew as seen here (positive when its clock
    /// is behind, or the request took that long to arrive).
    pub skew_seconds: i64,
}

/// First step of verification: reads the signature headers and covered fields of an incoming
/// request without any key, so the caller can look the key up (`instance_id`, `kid`). Refuses a
/// request whose signature is absent ([`Refusal::Missing`]), unreadable, not labelled `tessera`,
/// not covering exactly [`COVERED`], or without `created`, `expires`, `nonce`, `keyid`,
/// `alg` (`"ed25519"` or `"ecdsa-p256-sha256"`) and `tag="tessera-federation"`
/// ([`Refusal::Malformed`]).
pub fn parse(parts: &Parts) -> Result<Parsed, Refusal> {
    let signature_input = joined(&parts.headers, "signature-input")?;
    let signature = joined(&parts.headers, "signature")?;
    let instance_id = single(&parts.headers, INSTANCE_HEADER)?;
    let date = single(&parts.headers, "date")?;
    let content_digest = joined(&parts.headers, "content-digest")?;

    let signatures = HttpSignatureHeaders::try_parse(&signature, &signature_input)
        .map_err(|e| Refusal::Malformed(e.to_string()))?;
    let ours = signatures
        .get(LABEL)
        .ok_or_else(|| Refusal::Malformed(format!("no signature is labelled `{LABEL}`")))?;
    let params = ours.signature_params().clone();
    check_covered(&params)?;
    let created = timestamp("created", params.created)?;
    let expires = timestamp("expires", params.expires)?;
    let kid = token("keyid", params.keyid.as_deref())?;
    let nonce = token("nonce", params.nonce.as_deref())?;
    let alg = match params.alg.as_deref() {
        Some(alg @ (ALG_ED25519 | ALG_ECDSA_P256)) => alg.to_owned(),
        _ => {
            return Err(Refusal::Malformed(format!(
                "`alg` must be \"{ALG_ED25519}\" or \"{ALG_ECDSA_P256}\""
            )));
        }
    };
    if params.tag.as_deref() != Some(TAG) {
        return Err(Refusal::Malformed(format!("`tag` must be \"{TAG}\"")));
    }
    if !base::is_plain_token(&instance_id) {
        return Err(Refusal::Malformed(format!(
            "`{INSTANCE_HEADER}` is not an instance id"
        )));
    }
    let signature = STANDARD
        .decode(ours.signature().to_string())
        .map_err(|e| Refusal::Malformed(e.to_string()))?;
    let announced_sha256 = base::announced_sha256(&content_digest).map_err(Refusal::Malformed)?;
    Ok(Parsed {
        instance_id,
        kid,
        nonce,
        created,
        expires,
        alg,
        params,
        signature,
        content_digest,
        announced_sha256,
        date,
    })
}

impl Parsed {
    /// Second step: checks, in this order, and returns what was verified:
    /// - the covered components are exactly [`COVERED`] ([`Refusal::Malformed`]; `parse` already
    ///   refused otherwise);
    /// - the signature verifies with `key` over this request's method, the covered headers read
    ///   by `parse`, and `@target-uri` rebuilt as `expected_target` — the absolute URI this
    ///   instance is reached at (its public base URL + path + query), normalised as `http::Uri`
    ///   displays it; the request's own URI and `host` are not used; and `key` is of the
    ///   signature's `alg` (an Ed25519 key does not verify an `ecdsa-p256-sha256` signature, nor
    ///   the reverse). A message signed for another
    ///   target (re-addressed), or with any covered part changed, is [`Refusal::BadSignature`]:
    ///   the target is signed, not sent, so which part changed cannot be told;
    /// - the body's SHA-256 is the one `content-digest` announces ([`Refusal::DigestMismatch`]);
    /// - `created` is within ±[`WINDOW`] of `now_unix` and `expires` has not passed
    ///   ([`Refusal::Expired`]).
    pub fn verify(
        &self,
        parts: &Parts,
        body: &[u8],
        expected_target: &str,
        key: impl Into<VerifyingKey>,
        now_unix: i64,
    ) -> Result<Verified, Refusal> {
        let key = key.into();
        check_covered(&self.params)?;
        let target = normalised_target(expected_target);
        let base = base::signature_base(
            &self.params,
            &[
                ("@method", parts.method.as_str()),
                ("@target-uri", &target),
                ("content-digest", &self.content_digest),
                ("date", &self.date),
                (INSTANCE_HEADER, &self.instance_id),
            ],
        )
        .map_err(Refusal::Malformed)?;
        if key.alg() != self.alg || !base::verifies(&key, &base, &self.signature) {
            return Err(Refusal::BadSignature);
        }
        if Sha256::digest(body).as_slice() != self.announced_sha256.as_slice() {
            return Err(Refusal::DigestMismatch);
        }
        let skew_seconds = now_unix.saturating_sub(self.created);
        if skew_seconds.saturating_abs() > WINDOW_SECONDS || now_unix > self.expires {
            return Err(Refusal::Expired);
        }
        Ok(Verified {
            instance_id: self.instance_id.clone(),
            kid: self.kid.clone(),
            nonce: self.nonce.clone(),
            created: self.created,
            skew_seconds,
        })
    }
}

/// `target` as `http::Uri` displays it (what [`sign`] signs), or as given if it is not a URI.
fn normalised_target(target: &str) -> String {
    target
        .parse::<http::Uri>()
        .map_or_else(|_| target.to_owned(), |uri| uri.to_string())
}

/// Refuses a signature that does not cover exactly [`COVERED`] (plain components, no duplicates).
fn check_covered(params: &HttpSignatureParams) -> Result<(), Refusal> {
    let covered = &params.covered_components;
    let exact = covered.len() == COVERED.len()
        && COVERED.iter().all(|required| {
            covered
                .iter()
                .filter(|id| base::component_name(id) == Some(*required))
                .count()
                == 1
        });
    if exact {
        Ok(())
    } else {
        Err(Refusal::Malformed(format!(
            "the signature must cover exactly {}",
            COVERED.map(|c| format!("\"{c}\"")).join(" ")
        )))
    }
}

fn timestamp(name: &str, value: Option<u64>) -> Result<i64, Refusal> {
    value
        .and_then(|v| i64::try_from(v).ok())
        .ok_or_else(|| Refusal::Malformed(format!("`{name}` is missing or out of range")))
}

fn token(name: &str, value: Option<&str>) -> Result<String, Refusal> {
    value
        .filter(|v| base::is_plain_token(v))
        .map(str::to_owned)
        .ok_or_else(|| {
            Refusal::Malformed(format!(
                "`{name}` is missing or not 1 to 256 characters of A-Z a-z 0-9 - . _ ~ + / ="
            ))
        })
}

/// The header's values as one field value (joined with ", ", RFC 9110 section 5.3), trimmed.
fn joined(headers: &HeaderMap, name: &'static str) -> Result<String, Refusal> {
    let mut values = Vec::new();
    for value in headers.get_all(name) {
        let value = value
            .to_str()
            .map_err(|_| Refusal::Malformed(format!("`{name}` is not visible ASCII")))?;
        values.push(value.trim());
    }
    if values.is_empty() {
        return Err(Refusal::Missing(name));
    }
    Ok(values.join(", "))
}

/// The header's one value, trimmed (a second `date` or `tessera-instance` is refused).
fn single(headers: &HeaderMap, name: &'static str) -> Result<String, Refusal> {
    if headers.get_all(name).iter().count() > 1 {
        return Err(Refusal::Malformed(format!(
            "`{name}` appears more than once"
        )));
    }
    joined(headers, name)
}
