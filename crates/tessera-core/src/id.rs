//! Prefixed, opaque, unguessable identifiers (`inq_…`, `cnst_…`), one newtype per kind.
//!
//! The random part is 24 base62 characters (≈143 bits). Parsing checks the prefix and the
//! alphabet, so an id of the wrong kind never reaches a query.

use rand::Rng;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const RANDOM_LEN: usize = 24;

/// `n` random base62 characters from a cryptographically secure generator (rand's
/// thread-local ChaCha, seeded from the operating system).
pub fn random_base62(n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn is_base62(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The error of parsing an id: wrong prefix, length or alphabet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a valid {kind} id")]
pub struct IdError {
    pub kind: &'static str,
}

/// The prefix of an id string (`"inq"` for `inq_abc`), if it has one.
pub fn prefix_of(s: &str) -> Option<&str> {
    s.split_once('_').map(|(p, _)| p)
}

macro_rules! define_ids {
    ($($(#[$doc:meta])* $name:ident => $prefix:literal),* $(,)?) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
            pub struct $name(String);

            impl $name {
                /// The prefix (without the underscore) of this kind of id.
                pub const PREFIX: &'static str = $prefix;

                /// A fresh random id.
                pub fn generate() -> Self {
                    Self(format!("{}_{}", $prefix, random_base62(RANDOM_LEN)))
                }

                /// Parses an id of this kind; anything else is an error.
                pub fn parse(s: &str) -> Result<Self, IdError> {
                    match s.split_once('_') {
                        Some(($prefix, rest))
                            if (16..=64).contains(&rest.len()) && is_base62(rest) =>
                        {
                            Ok(Self(s.to_owned()))
                        }
                        _ => Err(IdError { kind: $prefix }),
                    }
                }

                /// Wraps a string read back from the database, which only ever holds valid ids.
                pub fn from_db(s: String) -> Self {
                    Self(s)
                }

                pub fn as_str(&self) -> &str {
                    &self.0
                }

                pub fn into_string(self) -> String {
                    self.0
                }
            }

            impl std::fmt::Display for $name {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str(&self.0)
                }
            }

            impl std::str::FromStr for $name {
                type Err = IdError;
                fn from_str(s: &str) -> Result<Self, IdError> {
                    Self::parse(s)
                }
            }

            impl<'de> serde::Deserialize<'de> for $name {
                fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                    Self::parse(&s).map_err(serde::de::Error::custom)
                }
            }

            impl serde::Serialize for $name {
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    s.serialize_str(&self.0)
                }
            }
        )*
    };
}

define_ids! {
    /// An organization (tenant).
    OrganizationId => "org",
    /// One of an organization's two environments.
    EnvironmentId => "env",
    /// An API key.
    ApiKeyId => "api",
    /// A dashboard user.
    UserId => "usr",
    /// An inquiry: one end user's verified data.
    InquiryId => "inq",
    /// A verification recorded on an inquiry.
    VerificationId => "ver",
    /// A document's metadata.
    DocumentId => "doc",
    /// A document's stored bytes.
    FileId => "file",
    /// An inquiry template.
    TemplateId => "itmpl",
    /// A connection between two organizations.
    ConnectionId => "cxn",
    /// A share token.
    ShareTokenId => "cnst",
    /// An event.
    EventId => "evt",
    /// A webhook.
    WebhookId => "wbh",
    /// A webhook delivery.
    DeliveryId => "whd",
    /// A workflow.
    WorkflowId => "wfl",
    /// A workflow run.
    WorkflowRunId => "wfr",
    /// A request (for logs and the `Request-Id` header).
    RequestId => "req",
    /// A background job.
    JobId => "job",
    /// A dashboard session.
    SessionId => "ses",
    /// A batch of share-token creations or redemptions.
    ShareTokenBatchId => "stb",
    /// One item of a share-token batch.
    ShareTokenBatchItemId => "stbi",
    /// A peer instance, registered by the operator (federation).
    PeerId => "per",
    /// A message from one instance to another (federation).
    MessageId => "msg",
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_carry_their_prefix() {
        let id = InquiryId::generate();
        assert!(id.as_str().starts_with("inq_"));
        assert_eq!(id.as_str().len(), 4 + RANDOM_LEN);
        assert_eq!(InquiryId::parse(id.as_str()), Ok(id.clone()));
        assert!(ShareTokenId::parse(id.as_str()).is_err());
    }

    #[test]
    fn parse_rejects_bad_shapes() {
        for bad in [
            "",
            "inq",
            "inq_",
            "inq_short",
            "inq_abc-def-ghi-jkl-mno",
            "INQ_abcdefghijklmnopqr",
            "inq_abcdefghijklmnop qr",
        ] {
            assert!(InquiryId::parse(bad).is_err(), "{bad}");
        }
        assert!(InquiryId::parse("inq_ABC123abc123ABC123").is_ok());
    }

    #[test]
    fn ids_are_distinct() {
        let a = ShareTokenId::generate();
        let b = ShareTokenId::generate();
        assert_ne!(a, b);
    }
}
