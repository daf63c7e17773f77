//! Share tokens: "the destination may take one copy of this inquiry, until then".
//! `created → pending → redeemed`, `created → expired`, `pending → failed`; nothing else.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::connection::Direction;
use crate::error::{Error, codes};
use crate::id::{ConnectionId, EnvironmentId, InquiryId, OrganizationId, ShareTokenId, TemplateId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::tenancy::{Actor, EnvKind, Scope};
use crate::time::Timestamp;

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
        .at("/data/attributes/expires-in-seconds"));
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

/// Why a redemption failed.
pub mod failure {
    pub const SOURCE_REDACTED: &str = "source_redacted";
    pub const DESTINATION_NOT_FILLABLE: &str = "destination_not_fillable";
    pub const REDEMPTION_ERROR: &str = "redemption_error";
}

/// A rename of one field during redemption.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct FieldMapping {
    pub source_field_name: String,
    pub destination_field_name: String,
}

/// Checks field mappings (at most as many as an inquiry has fields; names like written field
/// names) and canonicalises their names. `pointer` names the list.
pub fn check_field_mappings(
    mappings: Vec<FieldMapping>,
    pointer: &str,
) -> Result<Vec<FieldMapping>, Error> {
    use crate::fields::{MAX_FIELDS, MAX_NAME_LEN, canonical_name};
    if mappings.len() > MAX_FIELDS {
        return Err(
            Error::invalid(codes::INVALID_ATTRIBUTE, "too many field mappings").at(pointer),
        );
    }
    let mut out = Vec::with_capacity(mappings.len());
    for (i, m) in mappings.into_iter().enumerate() {
        for (which, name) in [
            ("source-field-name", &m.source_field_name),
            ("destination-field-name", &m.destination_field_name),
        ] {
            let ok = !name.is_empty()
                && name.len() <= MAX_NAME_LEN
                && name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !ok {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    format!("field names are 1 to {MAX_NAME_LEN} letters, digits, '-', '_' or '.'"),
                )
                .at(format!("{pointer}/{i}/{which}")));
            }
        }
        out.push(FieldMapping {
            source_field_name: canonical_name(&m.source_field_name),
            destination_field_name: canonical_name(&m.destination_field_name),
        });
    }
    Ok(out)
}

/// What the destination asked for when it redeemed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RedeemParams {
    pub destination_id: Option<InquiryId>,
    pub inquiry_template_id: Option<TemplateId>,
    pub field_mappings: Vec<FieldMapping>,
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
    pub source_inquiry_id: InquiryId,
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
    pub destination_inquiry_id: Option<InquiryId>,
    pub redeem_params: Option<RedeemParams>,
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

/// Attributes of a `connect/share-token` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShareTokenAttributes {
    pub status: ShareTokenStatus,
    pub direction: Direction,
    #[schema(value_type = String)]
    pub source_id: InquiryId,
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
    /// `source_redacted`, `destination_not_fillable`, `redemption_error`, or null.
    pub failure_reason: Option<String>,
    /// Only with `peek-source-data=true`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub source_data: Option<Value>,
}

/// Relationships of a `connect/share-token` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ShareTokenRelationships {
    pub connect_connection: Relationship,
    pub creator: Relationship,
    pub source: Relationship,
    pub destination: Relationship,
}

/// A `connect/share-token` resource.
pub type ShareTokenResource = Resource<ShareTokenAttributes, ShareTokenRelationships>;

impl ShareToken {
    /// The token as one side sees it at `now`.
    pub fn to_resource(
        &self,
        direction: Direction,
        now: Timestamp,
        source_data: Option<Value>,
    ) -> ShareTokenResource {
        Resource::new(
            "connect/share-token",
            self.id.as_str(),
            ShareTokenAttributes {
                status: self.status_at(now),
                direction,
                source_id: self.source_inquiry_id.clone(),
                created_at: self.created_at,
                updated_at: self.updated_at,
                pending_at: self.pending_at,
                redeemed_at: self.redeemed_at,
                expires_at: self.expires_at,
                failed_at: self.failed_at,
                failure_reason: self.failure_reason.clone(),
                source_data,
            },
            ShareTokenRelationships {
                connect_connection: Relationship::one(Ref::new(
                    "connect/connection",
                    self.connection_id.as_str(),
                )),
                // The creator is an actor of the source organization: the destination sees null.
                creator: Relationship::optional(
                    self.creator
                        .as_ref()
                        .filter(|_| direction == Direction::Outbound)
                        .map(Actor::to_ref),
                ),
                source: Relationship::one(Ref::new("inquiry", self.source_inquiry_id.as_str())),
                destination: Relationship::optional(
                    self.destination_inquiry_id
                        .as_ref()
                        .map(|d| Ref::new("inquiry", d.as_str())),
                ),
            },
        )
    }
}
