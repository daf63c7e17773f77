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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
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

impl CheckStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckStatus::Passed => "passed",
            CheckStatus::Failed => "failed",
            CheckStatus::NotApplicable => "not_applicable",
        }
    }
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

/// The attributes a verification resource names itself; extracted data of the same name does
/// not appear flat (it stays in the nested `attributes` map).
pub const OWN_ATTRIBUTES: &[&str] = &[
    "status",
    "checks",
    "attributes",
    "tags",
    "created-at",
    "created-at-ts",
    "submitted-at",
    "submitted-at-ts",
    "completed-at",
    "completed-at-ts",
    "redacted-at",
];

/// Attributes of a `verification/<kind>` resource. What the verification extracted appears flat,
/// under kebab-case names (`name-first`, `birthdate`, `country-code`, `identification-number`, …)
/// as Persona shows it, and also as the nested map `attributes` it was recorded as.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct VerificationAttributes {
    pub status: VerificationStatus,
    pub checks: Vec<Check>,
    /// Always empty: Tessera keeps no tags on verifications.
    pub tags: Vec<String>,
    /// What the verification extracted, as recorded (a Tessera extension; the same data is flat
    /// beside it).
    #[schema(value_type = Object)]
    pub attributes: Map<String, Value>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    pub created_at_ts: i64,
    /// When the check was done: Tessera records finished verifications, so this is
    /// `completed-at`.
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: Timestamp,
    pub submitted_at_ts: i64,
    #[schema(value_type = String, format = DateTime)]
    pub completed_at: Timestamp,
    pub completed_at_ts: i64,
    /// The extracted data, flat (names in kebab-case).
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub extracted: Map<String, Value>,
}

/// Relationships of a verification resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerificationRelationships {
    pub inquiry: Relationship,
}

/// A `verification/<kind>` resource.
pub type VerificationResource = Resource<VerificationAttributes, VerificationRelationships>;

impl Verification {
    /// The extracted data under kebab-case names, without names the resource uses itself.
    pub fn flat_attributes(&self) -> Map<String, Value> {
        let mut out = Map::new();
        for (k, v) in &self.attributes {
            let name = crate::inflect::to_kebab(k);
            if !OWN_ATTRIBUTES.contains(&name.as_str()) && !out.contains_key(&name) {
                out.insert(name, v.clone());
            }
        }
        out
    }

    pub fn to_resource(&self) -> VerificationResource {
        Resource::new(
            self.kind.resource_type(),
            self.id.as_str(),
            VerificationAttributes {
                status: self.status,
                checks: self.checks.clone(),
                tags: Vec::new(),
                attributes: self.attributes.clone(),
                created_at: self.created_at,
                created_at_ts: self.created_at.unix_seconds(),
                submitted_at: self.completed_at,
                submitted_at_ts: self.completed_at.unix_seconds(),
                completed_at: self.completed_at,
                completed_at_ts: self.completed_at.unix_seconds(),
                extracted: self.flat_attributes(),
            },
            VerificationRelationships {
                inquiry: Relationship::one(Ref::new("inquiry", self.inquiry_id.as_str())),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracted_data_is_flat_and_never_shadows_own_attributes() {
        let attributes = json!({"name_first": "Jane", "birthdate": "1990-01-02", "status": "x",
            "country-code": "US"});
        let v = Verification {
            id: VerificationId::generate(),
            inquiry_id: InquiryId::generate(),
            kind: VerificationKind::GovernmentId,
            status: VerificationStatus::Passed,
            checks: Vec::new(),
            attributes: attributes.as_object().cloned().unwrap_or_default(),
            completed_at: Timestamp::from_millis(5_000),
            created_at: Timestamp::from_millis(6_000),
        };
        let r = v.to_resource().to_value();
        let a = &r["attributes"];
        assert_eq!(a["name-first"], "Jane");
        assert_eq!(a["birthdate"], "1990-01-02");
        assert_eq!(a["country-code"], "US");
        assert_eq!(a["status"], "passed");
        assert_eq!(a["attributes"]["name_first"], "Jane");
        assert_eq!(a["submitted-at-ts"], 5);
        assert_eq!(a["created-at-ts"], 6);
        // No duplicate keys in the bytes: one own `status`, one inside the nested map.
        let text = serde_json::to_string(&v.to_resource()).unwrap_or_default();
        assert_eq!(text.matches("\"status\"").count(), 2);
        assert_eq!(text.matches("\"status\":\"x\"").count(), 1);
    }
}
