//! Notices after redemption: what became of the source of a redeemed copy. A copy starts
//! `current`; the source organization redacting what it shared makes it `redacted`, revoking the
//! connection makes it `revoked`. The destination's template says whether a source redaction also
//! redacts the copy ([`OnSourceRedaction`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, codes};

/// The status of a copy's source, as the destination sees it (`source-status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceStatus {
    /// Nothing happened to the source since the copy was made.
    Current,
    /// The source organization redacted the shared inquiry, or a verification or document of it.
    Redacted,
    /// The source organization deactivated the connection the copy came over.
    Revoked,
}

/// What the source organization did to a shared source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceChange {
    Redacted,
    Revoked,
}

impl SourceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Current => "current",
            Self::Redacted => "redacted",
            Self::Revoked => "revoked",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "current" => Some(Self::Current),
            "redacted" => Some(Self::Redacted),
            "revoked" => Some(Self::Revoked),
            _ => None,
        }
    }

    /// The status after `change`, or `None` when the change tells the destination nothing new:
    /// the same change again, or a revocation of a source already redacted. A redaction after a
    /// revocation is news (the data is gone at the source, not only the connection).
    pub fn after(self, change: SourceChange) -> Option<Self> {
        match (self, change) {
            (Self::Current | Self::Revoked, SourceChange::Redacted) => Some(Self::Redacted),
            (Self::Current, SourceChange::Revoked) => Some(Self::Revoked),
            (Self::Redacted, _) | (Self::Revoked, SourceChange::Revoked) => None,
        }
    }
}

/// The destination's policy for a copy whose source was redacted (`on-source-redaction` of an
/// inquiry template): keep the copy as its own record (the default), or redact it too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnSourceRedaction {
    #[default]
    Keep,
    Redact,
}

impl OnSourceRedaction {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Keep => "keep",
            Self::Redact => "redact",
        }
    }

    /// Reads a stored or submitted value; anything else is 422 at `pointer`.
    pub fn parse(s: &str, pointer: &str) -> Result<Self, Error> {
        match s {
            "keep" => Ok(Self::Keep),
            "redact" => Ok(Self::Redact),
            _ => Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "on-source-redaction is keep or redact",
            )
            .at(pointer)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SourceChange as C;
    use SourceStatus as S;

    #[test]
    fn a_copy_is_told_each_thing_once() {
        assert_eq!(S::Current.after(C::Redacted), Some(S::Redacted));
        assert_eq!(S::Current.after(C::Revoked), Some(S::Revoked));
        assert_eq!(S::Revoked.after(C::Redacted), Some(S::Redacted));
        assert_eq!(S::Redacted.after(C::Redacted), None);
        assert_eq!(S::Redacted.after(C::Revoked), None);
        assert_eq!(S::Revoked.after(C::Revoked), None);
    }

    #[test]
    fn names_round_trip() {
        for s in [S::Current, S::Redacted, S::Revoked] {
            assert_eq!(S::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).ok(), Some(s.as_str().into()));
        }
        for p in [OnSourceRedaction::Keep, OnSourceRedaction::Redact] {
            assert_eq!(OnSourceRedaction::parse(p.as_str(), "x").ok(), Some(p));
        }
        let e = OnSourceRedaction::parse("delete", "on-source-redaction").err();
        assert_eq!(
            e.and_then(|e| e.location),
            Some(crate::error::Source::Attribute(
                "on-source-redaction".into()
            ))
        );
    }
}
