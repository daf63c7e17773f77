//! The instance-to-instance protocol (issue #17, items 3–5): the messages one Tessera instance
//! sends another about a connection or a share token between their organizations, and the form
//! in which a redemption's copy travels. Signing and checking the HTTP requests that carry them is
//! `tessera-federation`; the store writes and applies them.
//!
//! A message is `{"id", "type", "from", "to", "data"}`: `id` is the sender's (a receiver answers
//! a message it has seen again with the answer it gave, and changes nothing), `from`/`to` are
//! instance ids, `data` is the type's payload.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, codes};
use crate::id::{ConnectionId, InquiryId, MessageId, OrganizationId, ShareTokenId, VerificationId};
use crate::share_token::copy::Manifest;
use crate::share_token::{Disclosure, FieldMapping, RedeemMode};
use crate::source_status::SourceChange;
use crate::template::Template;
use crate::tenancy::EnvKind;
use crate::time::Timestamp;
use crate::verification::VerificationKind;

mod wire;

pub use wire::{WireCopy, WireDocument, WireVerification};

/// The version of this protocol (`protocol-version` in `/.well-known/tessera`).
pub const PROTOCOL_VERSION: &str = "1";
/// Where an instance receives messages, under its public base URL.
pub const MESSAGES_PATH: &str = "/federation/v1/messages";
/// The largest message body an instance accepts.
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024;
/// The largest answer an instance reads (a redemption's answer carries the copied documents).
pub const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// An organization of another instance, addressed `org_…@ins_…` (its id at its home instance,
/// then that instance's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteOrganization {
    pub organization: OrganizationId,
    pub instance: String,
}

impl RemoteOrganization {
    /// Parses `org_…@ins_…`; `None` when `s` has no `@` (a local organization id).
    pub fn parse(s: &str) -> Option<Result<Self, Error>> {
        let (org, instance) = s.split_once('@')?;
        let bad = || {
            Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "an organization of a peer instance is addressed org_…@ins_… (its id there, then the peer's instance id)",
            )
        };
        Some(match OrganizationId::parse(org) {
            Ok(organization) if is_instance_id(instance) => Ok(Self {
                organization,
                instance: instance.to_owned(),
            }),
            _ => Err(bad()),
        })
    }
}

impl std::fmt::Display for RemoteOrganization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.organization, self.instance)
    }
}

/// Whether `s` is an instance id: `ins_` and 16 to 64 letters or digits.
pub fn is_instance_id(s: &str) -> bool {
    s.strip_prefix("ins_").is_some_and(|rest| {
        (16..=64).contains(&rest.len()) && rest.chars().all(|c| c.is_ascii_alphanumeric())
    })
}

/// One message between instances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Message {
    pub id: MessageId,
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    pub body: Body,
}

/// What a message says, by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "data")]
pub enum Body {
    /// The source offers a connection to an organization of the receiver.
    #[serde(rename = "connection.offered")]
    ConnectionOffered(ConnectionOffered),
    /// One side changed a connection's status (activate, deactivate, reactivate).
    #[serde(rename = "connection.changed")]
    ConnectionChanged(ConnectionChanged),
    /// The source made a share token for an organization of the receiver.
    #[serde(rename = "share-token.offered")]
    ShareTokenOffered(ShareTokenOffered),
    /// The destination redeems a share token of the receiver's: the answer is a [`Redeemed`].
    #[serde(rename = "share-token.redeem")]
    ShareTokenRedeem(ShareTokenRedeem),
    /// The destination looks at what a token would copy: the answer is a [`Peeked`].
    #[serde(rename = "share-token.peek")]
    ShareTokenPeek(ShareTokenPeek),
    /// The source redacted what a redeemed token shared, or withdrew the connection: the
    /// destination marks its copy (notices after redemption).
    #[serde(rename = "share-token.source-changed")]
    ShareTokenSourceChanged(ShareTokenSourceChanged),
    /// One side expired a `created` token by call.
    #[serde(rename = "share-token.expired")]
    ShareTokenExpired(ShareTokenExpired),
}

impl Body {
    /// The `type` of the message.
    pub fn kind(&self) -> &'static str {
        match self {
            Body::ConnectionOffered(_) => "connection.offered",
            Body::ConnectionChanged(_) => "connection.changed",
            Body::ShareTokenOffered(_) => "share-token.offered",
            Body::ShareTokenRedeem(_) => "share-token.redeem",
            Body::ShareTokenPeek(_) => "share-token.peek",
            Body::ShareTokenSourceChanged(_) => "share-token.source-changed",
            Body::ShareTokenExpired(_) => "share-token.expired",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConnectionOffered {
    pub connection_id: ConnectionId,
    pub kind: EnvKind,
    pub source_organization_id: OrganizationId,
    pub source_organization_name: String,
    /// The receiver's organization.
    pub destination_organization_id: OrganizationId,
    pub name: Option<String>,
}

/// A change of a connection's status by one side (`by`, an organization of the sender).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ConnectionChanged {
    pub connection_id: ConnectionId,
    /// `activate`, `deactivate` or `reactivate`.
    pub action: String,
    pub by: OrganizationId,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ShareTokenOffered {
    pub share_token_id: ShareTokenId,
    pub connection_id: ConnectionId,
    /// The source inquiry (at the source; the receiver keeps an empty stand-in of it).
    pub source_inquiry_id: InquiryId,
    pub expires_at: Timestamp,
    #[serde(default)]
    pub disclosure: Disclosure,
    /// For a token sharing one verification of the inquiry: that verification (the receiver
    /// keeps a stand-in of it, its type only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_verification: Option<OfferedVerification>,
}

/// The one verification a token shares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct OfferedVerification {
    pub id: VerificationId,
    #[serde(rename = "type")]
    pub kind: VerificationKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ShareTokenRedeem {
    pub share_token_id: ShareTokenId,
    /// The receiver's token's destination: an organization of the sender.
    pub destination_organization_id: OrganizationId,
    pub redeem_mode: RedeemMode,
    #[serde(default)]
    pub field_mappings: Vec<FieldMapping>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ShareTokenPeek {
    pub share_token_id: ShareTokenId,
    pub destination_organization_id: OrganizationId,
    #[serde(default)]
    pub field_mappings: Vec<FieldMapping>,
    /// The destination's template to dry-run the copy against (the source plans the copy and
    /// judges it: the data itself does not travel before the redemption).
    #[serde(default)]
    pub template: Option<Template>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ShareTokenSourceChanged {
    pub share_token_id: ShareTokenId,
    pub change: SourceChange,
    /// When the source changed: the copy's `source-status-changed-at`.
    pub changed_at: Timestamp,
}

/// A token expired by call by `by` (an organization of the sender, a side of the token).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct ShareTokenExpired {
    pub share_token_id: ShareTokenId,
    pub by: OrganizationId,
}

/// The answer to a [`ShareTokenRedeem`]: the source's decision, the only one that counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "kebab-case")]
pub enum Redeemed {
    /// Redeemed now (or by this same message before): the copy and the source's signed receipt.
    Redeemed {
        copy: WireCopy,
        receipt: String,
        #[serde(rename = "redeemed-at")]
        redeemed_at: Timestamp,
    },
    /// Not redeemed, and it never will be by this destination: the failure code (as a local
    /// redemption records it), e.g. `source_redacted`, or `share_token_not_redeemable` for a
    /// token that expired or was redeemed by another message.
    Failed { reason: String },
}

/// The answer to a [`ShareTokenPeek`]: Persona's masked `source-data`, and the preview manifest
/// of a clone judged by the destination's template (none when the source was redacted: a
/// redemption would fail). Only masked values travel; the copy itself waits for the redemption.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Peeked {
    pub source_data: Value,
    pub manifest: Option<Manifest>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn remote_organizations_parse_only_in_full() {
        let org = OrganizationId::generate();
        let ok = format!("{org}@ins_0123456789abcdefABCDEFGH");
        let parsed = RemoteOrganization::parse(&ok).unwrap().unwrap();
        assert_eq!(parsed.organization, org);
        assert_eq!(parsed.to_string(), ok);
        assert!(RemoteOrganization::parse(org.as_str()).is_none());
        for bad in [
            format!("{org}@"),
            format!("{org}@ins_short"),
            format!("{org}@per_0123456789abcdefABCDEFGH"),
            "org_x@ins_0123456789abcdefABCDEFGH".to_owned(),
            format!("{org}@ins_0123456789abcdef/ABCDEFG"),
        ] {
            assert!(RemoteOrganization::parse(&bad).unwrap().is_err(), "{bad}");
        }
    }

    #[test]
    fn messages_read_back_as_written_and_refuse_unknown_types() {
        let m = Message {
            id: MessageId::generate(),
            from: "ins_0123456789abcdefABCDEFGH".into(),
            to: "ins_1123456789abcdefABCDEFGH".into(),
            body: Body::ConnectionChanged(ConnectionChanged {
                connection_id: ConnectionId::generate(),
                action: "activate".into(),
                by: OrganizationId::generate(),
            }),
        };
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["type"], "connection.changed");
        assert_eq!(v["data"]["action"], "activate");
        assert_eq!(serde_json::from_value::<Message>(v.clone()).unwrap(), m);
        let mut unknown = v;
        unknown["type"] = json!("share-token.steal");
        assert!(serde_json::from_value::<Message>(unknown).is_err());
    }
}
