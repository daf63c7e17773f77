//! Why an incoming server-to-server request is refused, with the error code and message the
//! receiver answers (and audits) with.

/// Why a signed request is refused. `code()` is the stable error code, `message()` the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// A header the signature needs is absent (its lowercase name).
    Missing(&'static str),
    /// The signature headers or a covered field cannot be read, or the signature does not cover
    /// exactly the required components with the required parameters (the detail says which).
    Malformed(String),
    /// The signature does not verify for this request with the key: the method, the target URI
    /// (a re-addressed message), the `content-digest`, `date` or `tessera-instance` header, a
    /// signature parameter or the signature itself was changed, or it was signed by another key.
    BadSignature,
    /// The body's SHA-256 is not the one its (signed) `content-digest` announces: a truncated or
    /// altered body.
    DigestMismatch,
    /// `created` is more than [`super::WINDOW`] away from this instance's clock, or `expires` has
    /// passed.
    Expired,
}

impl Refusal {
    /// The stable, snake_case error code.
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::Missing(_) => "signature_missing",
            Refusal::Malformed(_) => "signature_malformed",
            Refusal::BadSignature => "signature_invalid",
            Refusal::DigestMismatch => "content_digest_mismatch",
            Refusal::Expired => "signature_expired",
        }
    }

    /// A sentence for the error document and the audit event; never includes key material.
    pub fn message(&self) -> String {
        match self {
            Refusal::Missing(header) => format!(
                "The request has no `{header}` header; requests between instances are signed \
                 (RFC 9421 HTTP Message Signatures)."
            ),
            Refusal::Malformed(detail) => {
                format!("The request's message signature is malformed: {detail}.")
            }
            Refusal::BadSignature => "The message signature does not verify with the sending \
                 instance's key for this request (its method, target URI, content-digest, date \
                 and tessera-instance are signed)."
                .to_owned(),
            Refusal::DigestMismatch => "The request body does not match its content-digest (the \
                 body was truncated or altered)."
                .to_owned(),
            Refusal::Expired => "The message signature is outside its validity window: created \
                 more than 5 minutes from this instance's clock, or expired."
                .to_owned(),
        }
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code(), self.message())
    }
}

impl std::error::Error for Refusal {}
