//! Share tokens: "the destination may take one copy of this inquiry (or verification), until
//! then".
//! `created → pending → redeemed`, `created → expired`, `pending → failed`; nothing else.
//! How a destination redeems one, and why a redemption fails, are in `redemption.rs`; what it
//! copies in `copy.rs` (with `disclosure.rs`, what it may share); how each side sees it in
//! `resource.rs`; batches of them in `batch.rs`.

pub mod batch;
pub mod copy;
mod disclosure;
mod redemption;
mod resource;

use serde::Serialize;

use utoipa::ToSchema;

pub use disclosure::{Disclosure, DisclosureInput};
pub use redemption::{FieldMapping, RedeemMode, RedeemParams, check_field_mappings, failure};
pub use resource::{ShareTokenAttributes, ShareTokenRelationships, ShareTokenResource};

use crate::connection::Direction;
use crate::error::{Error, codes};
use crate::id::{
    ConnectionId, EnvironmentId, InquiryId, OrganizationId, ShareTokenId, VerificationId,
};
use crate::jsonapi::Ref;
use crate::tenancy::{Actor, EnvKind, Scope};
use crate::time::Timestamp;
use crate::verification::VerificationKind;

/// Shortest and longest lifetime, and the default (14 days).
pub const MIN_EXPIRES_IN: i64 = 60;
pub const MAX_EXPIRES_IN: i64 = 1_814_400;
pub const DEFAULT_EXPIRES_IN: i64 = 1_209_600;

/// Checks `expires-in-seconds`.
pub fn check_expires_in(seconds: i64) -> Result<i64, Error> {
    if !(MIN_EXPIRES_IN..=MAX_EXPIRES_IN).contains(&seconds) {
        return Err(Error::invalid(
            codes::EXPIRES_IN_OUT_OF_RANGE,
            format!("expires-in-seconds must be between {MIN_EXPIRES_IN} and {MAX_EXPIRES_IN}"),
        )
        .at("expires-in-seconds"));
    }
    Ok(seconds)
}

/// The status of a share token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ShareTokenStatus {
    Created,
    Pending,
    Redeemed,
    Expired,
    Failed,
}

impl ShareTokenStatus {
    pub const ALL: [ShareTokenStatus; 5] = [
        ShareTokenStatus::Created,
        ShareTokenStatus::Pending,
        ShareTokenStatus::Redeemed,
        ShareTokenStatus::Expired,
        ShareTokenStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ShareTokenStatus::Created => "created",
            ShareTokenStatus::Pending => "pending",
            ShareTokenStatus::Redeemed => "redeemed",
            ShareTokenStatus::Expired => "expired",
            ShareTokenStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// What a token shares, as `source-id` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceId {
    Inquiry(InquiryId),
    Verification(VerificationId),
}

impl SourceId {
    /// An `inq_…` or `ver_…` id; anything else (`act_…`, `txn_…`: Tessera has no accounts or
    /// transactions) is `invalid_source_type`.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if let Ok(i) = InquiryId::parse(s) {
            return Ok(Self::Inquiry(i));
        }
        if let Ok(v) = VerificationId::parse(s) {
            return Ok(Self::Verification(v));
        }
        Err(Error::invalid(
            codes::INVALID_SOURCE_TYPE,
            "source-id must be an inquiry id (inq_…) or a verification id (ver_…); Tessera has no accounts or transactions",
        )
        .at("source-id"))
    }
}

/// What the source asks for when it creates a token: on which connection, of what, for how long
/// (checked with [`check_expires_in`]) and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    pub connection_id: ConnectionId,
    pub source_id: SourceId,
    pub expires_in_seconds: i64,
    pub disclosure: Disclosure,
}

impl TokenSpec {
    /// A token sharing all of its source.
    pub fn new(connection_id: ConnectionId, source_id: SourceId, expires_in_seconds: i64) -> Self {
        Self {
            connection_id,
            source_id,
            expires_in_seconds,
            disclosure: Disclosure::default(),
        }
    }
}

/// A share token.
#[derive(Debug, Clone)]
pub struct ShareToken {
    pub id: ShareTokenId,
    pub connection_id: ConnectionId,
    pub kind: EnvKind,
    pub source_org: OrganizationId,
    pub source_env: EnvironmentId,
    pub destination_org: OrganizationId,
    pub destination_env: EnvironmentId,
    /// The shared inquiry; for a verification source, the inquiry the verification belongs to.
    pub source_inquiry_id: InquiryId,
    /// Set when the token shares one verification (of `source_inquiry_id`) instead of the
    /// whole inquiry.
    pub source_verification: Option<(VerificationKind, VerificationId)>,
    /// As stored; see [`ShareToken::status_at`].
    pub status: ShareTokenStatus,
    pub creator: Option<Actor>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub pending_at: Option<Timestamp>,
    pub redeemed_at: Option<Timestamp>,
    pub expires_at: Timestamp,
    pub failed_at: Option<Timestamp>,
    pub failure_reason: Option<String>,
    /// The destination's inquiry: the one a hydrate fills (known from the redeem call on), or
    /// the one a clone made (known once redeemed; for a verification source, the inquiry
    /// holding the copied verification).
    pub destination_inquiry_id: Option<InquiryId>,
    /// For a verification source, the copy the destination got.
    pub destination_verification_id: Option<VerificationId>,
    pub redeem_mode: Option<RedeemMode>,
    pub redeem_params: Option<RedeemParams>,
    /// What of its source the token shares (selective disclosure; default: everything).
    pub disclosure: Disclosure,
    /// Once redeemed: the digest of the data copied (see [`copy::Copy::digest`]).
    pub copy_digest: Option<String>,
    /// Once redeemed, when the redeem call sent `meta.manifest-digest`: whether the copy was
    /// exactly the data of that manifest.
    pub manifest_matched: Option<bool>,
    /// Once redeemed: the signed receipt of the copy (see `crate::receipt`); none for tokens
    /// redeemed before receipts existed.
    pub receipt: Option<String>,
}

impl ShareToken {
    /// The status at `now`: a `created` token past its `expires-at` is `expired` from that
    /// instant, before the sweep persists it.
    pub fn status_at(&self, now: Timestamp) -> ShareTokenStatus {
        if self.status == ShareTokenStatus::Created && now >= self.expires_at {
            ShareTokenStatus::Expired
        } else {
            self.status
        }
    }

    /// Refuses a token that cannot be redeemed at `now` (409 `share_token_expired`, or
    /// `share_token_not_redeemable` naming its status): what a redeem and a preview both check.
    pub fn check_redeemable(&self, now: Timestamp) -> Result<(), Error> {
        match self.status_at(now) {
            ShareTokenStatus::Created => Ok(()),
            ShareTokenStatus::Expired => Err(Error::conflict(
                codes::SHARE_TOKEN_EXPIRED,
                "the share token has expired",
            )),
            other => Err(Error::conflict(
                codes::SHARE_TOKEN_NOT_REDEEMABLE,
                format!("a {} share token cannot be redeemed", other.as_str()),
            )),
        }
    }

    pub fn is_source(&self, scope: &Scope) -> bool {
        self.source_env == scope.env
    }

    pub fn is_destination(&self, scope: &Scope) -> bool {
        self.destination_env == scope.env
    }

    pub fn direction_for(&self, scope: &Scope) -> Direction {
        if self.is_source(scope) {
            Direction::Outbound
        } else {
            Direction::Inbound
        }
    }

    /// The source as a relationship target: the inquiry, or the verification.
    pub fn source_ref(&self) -> Ref {
        match &self.source_verification {
            Some((kind, id)) => Ref::new(kind.resource_type(), id.as_str()),
            None => Ref::new("inquiry", self.source_inquiry_id.as_str()),
        }
    }

    /// The id the source organization gave as `source-id`.
    pub fn source_id(&self) -> &str {
        match &self.source_verification {
            Some((_, id)) => id.as_str(),
            None => self.source_inquiry_id.as_str(),
        }
    }

    /// What the destination got (or, for a hydrate, fills): the inquiry, or for a verification
    /// source the copied verification.
    pub fn destination_ref(&self) -> Option<Ref> {
        match &self.source_verification {
            Some((kind, _)) => self
                .destination_verification_id
                .as_ref()
                .map(|id| Ref::new(kind.resource_type(), id.as_str())),
            None => self
                .destination_inquiry_id
                .as_ref()
                .map(|d| Ref::new("inquiry", d.as_str())),
        }
    }

    pub fn source_scope(&self) -> Scope {
        Scope {
            org: self.source_org.clone(),
            env: self.source_env.clone(),
            kind: self.kind,
        }
    }

    pub fn destination_scope(&self) -> Scope {
        Scope {
            org: self.destination_org.clone(),
            env: self.destination_env.clone(),
            kind: self.kind,
        }
    }
}
