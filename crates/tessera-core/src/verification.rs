//! Verifications: the checks an organization ran on an inquiry (government id, selfie, …) and,
//! for redeemed copies, the share-token verification against the destination's template.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::id::{InquiryId, VerificationId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::time::Timestamp;

/// The kind of a verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum VerificationKind {
    GovernmentId,
    Selfie,
    Database,
    Document,
    PhoneNumber,
    EmailAddress,
    /// Made only by redemption.
    ShareToken,
}

impl VerificationKind {
    pub const ALL: [VerificationKind; 7] = [
        VerificationKind::GovernmentId,
        VerificationKind::Selfie,
        VerificationKind::Database,
        VerificationKind::Document,
        VerificationKind::PhoneNumber,
        VerificationKind::EmailAddress,
        VerificationKind::ShareToken,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            VerificationKind::GovernmentId => "government-id",
            VerificationKind::Selfie => "selfie",
            VerificationKind::Database => "database",
            VerificationKind::Document => "document",
            VerificationKind::PhoneNumber => "phone-number",
            VerificationKind::EmailAddress => "email-address",
            VerificationKind::ShareToken => "share-token",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The JSON:API type: `verification/<kind>`.
    pub fn resource_type(self) -> &'static str {
        match self {
            VerificationKind::GovernmentId => "verification/government-id",
            VerificationKind::Selfie => "verification/selfie",
            VerificationKind::Database => "verification/database",
            VerificationKind::Document => "verification/document",
            VerificationKind::PhoneNumber => "verification/phone-number",
            VerificationKind::EmailAddress => "verification/email-address",
            VerificationKind::ShareToken => "verification/share-token",
        }
    }
}

/// Whether a verification passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerificationStatus {
    Passed,
    Failed,
}

impl VerificationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            VerificationStatus::Passed => "passed",
            VerificationStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "passed" => Some(Self::Passed),
            "failed" => Some(Self::Failed),
            _ => None,
        }
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
    NotApplicable,
}

/// Whether a check counts towards the verification's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    #[default]
    Required,
    NotRequired,
}

/// One check of a verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub status: CheckStatus,
    #[serde(default)]
    pub reasons: Vec<String>,
    #[serde(default)]
    pub requirement: Requirement,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub metadata: Map<String, Value>,
}

/// Most checks per verification, and the largest `attributes` map.
pub const MAX_CHECKS: usize = 50;
pub const MAX_ATTRIBUTES: usize = 100;
const MAX_TEXT: usize = 1024;

/// Checks the checks of a recorded verification.
pub fn validate_checks(checks: &[Check], pointer: &str) -> Result<(), Error> {
    if checks.len() > MAX_CHECKS {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("at most {MAX_CHECKS} checks"),
        )
        .at(pointer));
    }
    for (i, c) in checks.iter().enumerate() {
        if c.name.is_empty() || c.name.len() > 100 {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "a check name is 1 to 100 characters",
            )
            .at(format!("{pointer}/{i}/name")));
        }
        if c.reasons.len() > 20 || c.reasons.iter().any(|r| r.len() > MAX_TEXT) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "at most 20 reasons of 1024 characters",
            )
            .at(format!("{pointer}/{i}/reasons")));
        }
        if serde_json::to_string(&c.metadata).map_or(0, |s| s.len()) > 8 * MAX_TEXT {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "check metadata is at most 8 KiB",
            )
            .at(format!("{pointer}/{i}/metadata")));
        }
    }
    Ok(())
}

/// Checks the extracted attributes of a recorded verification: scalars only, bounded.
pub fn validate_attributes(attributes: &Map<String, Value>, pointer: &str) -> Result<(), Error> {
    if attributes.len() > MAX_ATTRIBUTES {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("at most {MAX_ATTRIBUTES} attributes"),
        )
        .at(pointer));
    }
    for (k, v) in attributes {
        let ok = k.len() <= 64
            && !k.is_empty()
            && match v {
                Value::String(s) => s.len() <= MAX_TEXT,
                Value::Number(_) | Value::Bool(_) | Value::Null => true,
                _ => false,
            };
        if !ok {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "attributes map names of up to 64 characters to strings, numbers, booleans or null",
            )
            .at(format!("{pointer}/{}", crate::fields::escape_pointer(k))));
        }
    }
    Ok(())
}

/// A verification.
#[derive(Debug, Clone)]
pub struct Verification {
    pub id: VerificationId,
    pub inquiry_id: InquiryId,
    pub kind: VerificationKind,
    pub status: VerificationStatus,
    pub checks: Vec<Check>,
    pub attributes: Map<String, Value>,
    pub completed_at: Timestamp,
    pub created_at: Timestamp,
}

/// Attributes of a `verification/<kind>` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct VerificationAttributes {
    pub status: VerificationStatus,
    pub checks: Vec<Check>,
    /// What the verification extracted.
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    #[schema(value_type = String, format = DateTime)]
    pub completed_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Relationships of a verification resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationRelationships {
    pub inquiry: Relationship,
}

/// A `verification/<kind>` resource.
pub type VerificationResource = Resource<VerificationAttributes, VerificationRelationships>;

impl Verification {
    pub fn to_resource(&self) -> VerificationResource {
        Resource::new(
            self.kind.resource_type(),
            self.id.as_str(),
            VerificationAttributes {
                status: self.status,
                checks: self.checks.clone(),
                attributes: self.attributes.clone(),
                completed_at: self.completed_at,
                created_at: self.created_at,
            },
            VerificationRelationships {
                inquiry: Relationship::one(Ref::new("inquiry", self.inquiry_id.as_str())),
            },
        )
    }
}
