//! Redemption: how a destination redeems a share token (clone or hydrate, with field
//! mappings), and why a redemption fails.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::id::{InquiryId, TemplateId};

/// How a token was redeemed: `hydrate` fills an existing inquiry of the destination (the
/// redemption named a `destination-id`), `clone` makes a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RedeemMode {
    Clone,
    Hydrate,
}

impl RedeemMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RedeemMode::Clone => "clone",
            RedeemMode::Hydrate => "hydrate",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "clone" => Some(Self::Clone),
            "hydrate" => Some(Self::Hydrate),
            _ => None,
        }
    }
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
    use crate::fields::{MAX_FIELDS, MAX_NAME_LEN, canonical_name, valid_name};
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
            if !valid_name(name) {
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
    /// The `digest` of the manifest the destination looked at before redeeming
    /// (`meta.manifest-digest`), if it sent one: the redemption records whether its copy matched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_digest: Option<String>,
}

/// Why a redemption failed: Tessera's own codes, stored as they are and shown in the extension
/// attribute `failure-code`. `failure-reason` shows them as one of Persona's four values
/// ([`failure::persona_reason`]).
pub mod failure {
    pub const SOURCE_NOT_FOUND: &str = "source_not_found";
    pub const SOURCE_REDACTED: &str = "source_redacted";
    pub const DESTINATION_NOT_FILLABLE: &str = "destination_not_fillable";
    pub const REDEMPTION_ERROR: &str = "redemption_error";

    /// Persona's `failure-reason` values.
    pub const IMPORT_FAILED: &str = "import_failed";
    pub const UNRECOVERABLE_ERROR: &str = "unrecoverable_error";

    /// The Persona `failure-reason` of one of Tessera's failure codes: `source_not_found` and
    /// `source_redacted` as they are, a destination that cannot take the copy
    /// `import_failed`, anything else `unrecoverable_error`.
    pub fn persona_reason(code: &str) -> &'static str {
        match code {
            SOURCE_NOT_FOUND => SOURCE_NOT_FOUND,
            SOURCE_REDACTED => SOURCE_REDACTED,
            DESTINATION_NOT_FILLABLE | IMPORT_FAILED => IMPORT_FAILED,
            _ => UNRECOVERABLE_ERROR,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failure_reasons_are_personas() {
        assert_eq!(
            failure::persona_reason(failure::SOURCE_REDACTED),
            "source_redacted"
        );
        assert_eq!(
            failure::persona_reason(failure::DESTINATION_NOT_FILLABLE),
            "import_failed"
        );
        assert_eq!(
            failure::persona_reason(failure::REDEMPTION_ERROR),
            "unrecoverable_error"
        );
        assert_eq!(
            failure::persona_reason("anything else"),
            "unrecoverable_error"
        );
    }
}
