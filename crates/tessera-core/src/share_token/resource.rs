//! A share token as a JSON:API resource: each side its own view (the source sees `source-id`,
//! its `creator` and `source`; the destination its `destination`; both the `receipt` once there is
//! one), with Tessera's extension attributes beside Persona's.

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::{RedeemMode, ShareToken, ShareTokenStatus, copy, failure};
use crate::connection::Direction;
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::tenancy::Scope;
use crate::time::Timestamp;
use crate::verification::VerificationKind;

/// Attributes of a `connect/share-token` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShareTokenAttributes {
    pub status: ShareTokenStatus,
    pub direction: Direction,
    /// Tessera extension, source side only: the shared inquiry (`inq_…`) or verification
    /// (`ver_…`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub pending_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub redeemed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub failed_at: Option<Timestamp>,
    /// `source_not_found`, `source_redacted`, `import_failed`, `unrecoverable_error`, or null.
    #[schema(value_type = Option<String>)]
    pub failure_reason: Option<&'static str>,
    /// Tessera extension: the finer reason (`source_redacted`, `destination_not_fillable`,
    /// `redemption_error`), or null.
    pub failure_code: Option<String>,
    /// `clone` or `hydrate`; null until redemption starts.
    pub redeem_mode: Option<RedeemMode>,
    /// Only with `peek-source-data=true`, for the destination of a `created` token:
    /// `connect/source-data/inquiry` or `connect/source-data/verification/<kind>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub source_data: Option<Value>,
    /// Tessera extension, beside `source-data`: the preview manifest (what redeeming now would
    /// copy, and the dry run of the destination's checks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manifest: Option<copy::Manifest>,
    /// Tessera extension (selective disclosure): the field names the token shares; null: all.
    pub allowed_fields: Option<Vec<String>>,
    /// Tessera extension: the verification types the token shares; null: all.
    pub allowed_verifications: Option<Vec<VerificationKind>>,
    /// Tessera extension: the document kinds the token shares; null: all.
    pub allowed_documents: Option<Vec<crate::document::DocumentKind>>,
    /// Tessera extension, once redeemed: `sha256:` of the RFC 8785 canonical form of the data
    /// copied.
    pub copy_digest: Option<String>,
    /// Tessera extension, once redeemed: whether the copy was exactly the data of the manifest
    /// whose digest the redeem call sent as `meta.manifest-digest` (null when none was sent).
    pub manifest_matched: Option<bool>,
}

/// Relationships of a `connect/share-token` resource. Each side sees its own: the source
/// `connection`, `creator` and `source`; the destination `connection` and `destination`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShareTokenRelationships {
    pub connection: Relationship,
    /// Source side only (omitted when the token has no recorded creator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub creator: Option<Relationship>,
    /// Source side only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Relationship>,
    /// Destination side only; null until a clone has made its copy.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<Relationship>,
    /// Tessera extension, both sides, once redeemed: the signed receipt
    /// (`connect/share-token-receipt`, at `…/share-tokens/{id}/receipt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Relationship>,
}

/// A `connect/share-token` resource.
pub type ShareTokenResource = Resource<ShareTokenAttributes, ShareTokenRelationships>;

impl ShareToken {
    /// The token as one side sees it at `now`: the source (`Outbound`) its `creator`, `source`
    /// and `source-id`, the destination (`Inbound`) its `destination`.
    pub fn to_resource(
        &self,
        direction: Direction,
        now: Timestamp,
        source_data: Option<Value>,
    ) -> ShareTokenResource {
        let outbound = direction == Direction::Outbound;
        self.resource(direction, outbound, !outbound, now, source_data)
    }

    /// The token as `scope` sees it, shown as `direction`: like [`ShareToken::to_resource`],
    /// except that an organization that is both sides (a connection to itself) sees the members
    /// of both.
    pub fn view_for(
        &self,
        scope: &Scope,
        direction: Direction,
        now: Timestamp,
        source_data: Option<Value>,
    ) -> ShareTokenResource {
        self.resource(
            direction,
            self.is_source(scope),
            self.is_destination(scope),
            now,
            source_data,
        )
    }

    fn resource(
        &self,
        direction: Direction,
        source_side: bool,
        destination_side: bool,
        now: Timestamp,
        source_data: Option<Value>,
    ) -> ShareTokenResource {
        let outbound = source_side;
        Resource::new(
            "connect/share-token",
            self.id.as_str(),
            ShareTokenAttributes {
                status: self.status_at(now),
                direction,
                source_id: outbound.then(|| self.source_id().to_owned()),
                created_at: self.created_at,
                updated_at: self.updated_at,
                pending_at: self.pending_at,
                redeemed_at: self.redeemed_at,
                expires_at: self.expires_at,
                failed_at: self.failed_at,
                failure_reason: self.failure_reason.as_deref().map(failure::persona_reason),
                failure_code: self.failure_reason.clone(),
                redeem_mode: self.redeem_mode,
                source_data,
                manifest: None,
                allowed_fields: self.disclosure.fields.clone(),
                allowed_verifications: self.disclosure.verifications.clone(),
                allowed_documents: self.disclosure.documents.clone(),
                copy_digest: self.copy_digest.clone(),
                manifest_matched: self.manifest_matched,
            },
            ShareTokenRelationships {
                connection: Relationship::one(Ref::new(
                    "connect/connection",
                    self.connection_id.as_str(),
                )),
                // The creator is an actor of the source organization: only the source sees it.
                creator: self
                    .creator
                    .as_ref()
                    .filter(|_| outbound)
                    .map(|a| Relationship::one(a.to_ref())),
                source: outbound.then(|| Relationship::one(self.source_ref())),
                destination: destination_side
                    .then(|| Relationship::optional(self.destination_ref())),
                receipt: self.receipt.as_ref().map(|_| {
                    Relationship::one(Ref::new("connect/share-token-receipt", self.id.as_str()))
                }),
            },
        )
    }
}
