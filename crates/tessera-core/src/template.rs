//! Inquiry templates: what an organization requires of an inquiry before it counts as verified.
//! Used when a redeemed copy is verified (see `checks`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{Error, codes};
use crate::id::TemplateId;
use crate::jsonapi::{NoRelationships, Resource};
use crate::source_status::OnSourceRedaction;
use crate::time::Timestamp;
use crate::verification::VerificationKind;

/// One required verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct RequiredVerification {
    /// A verification kind (not `share-token`).
    #[serde(rename = "type")]
    pub kind: VerificationKind,
    /// The verification must have completed within this many days (null: any age).
    #[serde(default)]
    pub max_age_days: Option<u32>,
}

/// An inquiry template. Its serialized form travels to a peer instance that dry-runs a copy
/// against it (a remote token's preview manifest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct Template {
    pub id: TemplateId,
    pub name: String,
    pub required_fields: Vec<String>,
    pub required_verifications: Vec<RequiredVerification>,
    pub minimum_age: Option<u32>,
    pub allowed_countries: Option<Vec<String>>,
    /// What a copy checked against this template does when its source is redacted.
    pub on_source_redaction: OnSourceRedaction,
    pub created_at: Timestamp,
}

/// The user-supplied part of a template, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateSpec {
    pub name: String,
    pub required_fields: Vec<String>,
    pub required_verifications: Vec<RequiredVerification>,
    pub minimum_age: Option<u32>,
    pub allowed_countries: Option<Vec<String>>,
    /// `keep` unless set with [`TemplateSpec::on_source_redaction`] (any value is valid).
    pub on_source_redaction: OnSourceRedaction,
}

impl TemplateSpec {
    /// Checks every part of a template definition.
    pub fn parse(
        name: String,
        required_fields: Vec<String>,
        required_verifications: Vec<RequiredVerification>,
        minimum_age: Option<u32>,
        allowed_countries: Option<Vec<String>>,
    ) -> Result<Self, Error> {
        let name = name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(
                Error::invalid(codes::INVALID_ATTRIBUTE, "name is 1 to 200 characters").at("name"),
            );
        }
        if required_fields.len() > crate::fields::MAX_FIELDS {
            return Err(
                Error::invalid(codes::INVALID_ATTRIBUTE, "too many required fields")
                    .at("required-fields"),
            );
        }
        let mut fields: Vec<String> = Vec::new();
        for (i, f) in required_fields.iter().enumerate() {
            let canonical = crate::fields::canonical_name(f.trim());
            if canonical.is_empty() || canonical.len() > crate::fields::MAX_NAME_LEN {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "a field name is 1 to 64 characters",
                )
                .at(format!("required-fields/{i}")));
            }
            if !fields.contains(&canonical) {
                fields.push(canonical);
            }
        }
        if required_verifications.len() > 20 {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "at most 20 required verifications",
            )
            .at("required-verifications"));
        }
        for (i, r) in required_verifications.iter().enumerate() {
            if r.kind == VerificationKind::ShareToken {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "share-token verifications are made by redemption and cannot be required",
                )
                .at(format!("required-verifications/{i}/type")));
            }
            if r.max_age_days.is_some_and(|d| d == 0 || d > 36_500) {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    "max-age-days is between 1 and 36500",
                )
                .at(format!("required-verifications/{i}/max-age-days")));
            }
        }
        if minimum_age.is_some_and(|a| a > 150) {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                "minimum-age is between 0 and 150",
            )
            .at("minimum-age"));
        }
        let allowed_countries = match allowed_countries {
            None => None,
            Some(list) => {
                let mut out: Vec<String> = Vec::new();
                for (i, c) in list.iter().enumerate() {
                    if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_alphabetic()) {
                        return Err(Error::invalid(
                            codes::INVALID_ATTRIBUTE,
                            "countries are ISO 3166-1 alpha-2 codes",
                        )
                        .at(format!("allowed-countries/{i}")));
                    }
                    let c = c.to_ascii_uppercase();
                    if !out.contains(&c) {
                        out.push(c);
                    }
                }
                Some(out)
            }
        };
        Ok(Self {
            name,
            required_fields: fields,
            required_verifications,
            minimum_age,
            allowed_countries,
            on_source_redaction: OnSourceRedaction::default(),
        })
    }

    /// The same definition with the policy for copies whose source is redacted.
    pub fn on_source_redaction(self, policy: OnSourceRedaction) -> Self {
        Self {
            on_source_redaction: policy,
            ..self
        }
    }
}

/// A change to a template. An absent part (`None`) stays as it is; `minimum_age` and
/// `allowed_countries` are cleared by `Some(None)`. The changed template is checked as a whole by
/// [`TemplateSpec::parse`], the check of a new template, so a change can never store what a
/// create would refuse.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TemplatePatch {
    pub name: Option<String>,
    pub required_fields: Option<Vec<String>>,
    pub required_verifications: Option<Vec<RequiredVerification>>,
    pub minimum_age: Option<Option<u32>>,
    pub allowed_countries: Option<Option<Vec<String>>>,
    pub on_source_redaction: Option<OnSourceRedaction>,
}

impl TemplatePatch {
    /// Every part given: the whole definition replaced (what an edit form sends).
    pub fn replacing(
        name: String,
        required_fields: Vec<String>,
        required_verifications: Vec<RequiredVerification>,
        minimum_age: Option<u32>,
        allowed_countries: Option<Vec<String>>,
    ) -> Self {
        Self {
            name: Some(name),
            required_fields: Some(required_fields),
            required_verifications: Some(required_verifications),
            minimum_age: Some(minimum_age),
            allowed_countries: Some(allowed_countries),
            on_source_redaction: None,
        }
    }

    /// The definition `template` has after this change, checked.
    pub fn apply_to(self, template: &Template) -> Result<TemplateSpec, Error> {
        let policy = self
            .on_source_redaction
            .unwrap_or(template.on_source_redaction);
        TemplateSpec::parse(
            self.name.unwrap_or_else(|| template.name.clone()),
            self.required_fields
                .unwrap_or_else(|| template.required_fields.clone()),
            self.required_verifications
                .unwrap_or_else(|| template.required_verifications.clone()),
            self.minimum_age.unwrap_or(template.minimum_age),
            self.allowed_countries
                .unwrap_or_else(|| template.allowed_countries.clone()),
        )
        .map(|spec| spec.on_source_redaction(policy))
    }
}

/// Attributes of an `inquiry-template` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct TemplateAttributes {
    pub name: String,
    pub required_fields: Vec<String>,
    pub required_verifications: Vec<RequiredVerification>,
    pub minimum_age: Option<u32>,
    pub allowed_countries: Option<Vec<String>>,
    /// Tessera extension: what happens to a copy checked against this template when the source
    /// organization redacts what it shared — `keep` it (the default; the copy is marked
    /// `source-status: redacted`) or `redact` it too.
    pub on_source_redaction: OnSourceRedaction,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An `inquiry-template` resource.
pub type TemplateResource = Resource<TemplateAttributes, NoRelationships>;

impl Template {
    pub fn to_resource(&self) -> TemplateResource {
        Resource::new(
            "inquiry-template",
            self.id.as_str(),
            TemplateAttributes {
                name: self.name.clone(),
                required_fields: self.required_fields.clone(),
                required_verifications: self.required_verifications.clone(),
                minimum_age: self.minimum_age,
                allowed_countries: self.allowed_countries.clone(),
                on_source_redaction: self.on_source_redaction,
                created_at: self.created_at,
            },
            NoRelationships {},
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> Template {
        Template {
            id: TemplateId::generate(),
            name: "KYC".into(),
            required_fields: vec!["name-first".into()],
            required_verifications: vec![RequiredVerification {
                kind: VerificationKind::GovernmentId,
                max_age_days: Some(365),
            }],
            minimum_age: Some(18),
            allowed_countries: Some(vec!["DE".into()]),
            on_source_redaction: OnSourceRedaction::Redact,
            created_at: Timestamp::from_millis(0),
        }
    }

    #[test]
    fn an_empty_patch_keeps_everything() {
        let t = template();
        let spec = TemplatePatch::default().apply_to(&t).unwrap();
        assert_eq!(spec.name, t.name);
        assert_eq!(spec.required_fields, t.required_fields);
        assert_eq!(spec.required_verifications, t.required_verifications);
        assert_eq!(spec.minimum_age, t.minimum_age);
        assert_eq!(spec.allowed_countries, t.allowed_countries);
        assert_eq!(spec.on_source_redaction, OnSourceRedaction::Redact);
        let spec = TemplatePatch {
            on_source_redaction: Some(OnSourceRedaction::Keep),
            ..TemplatePatch::default()
        }
        .apply_to(&t)
        .unwrap();
        assert_eq!(spec.on_source_redaction, OnSourceRedaction::Keep);
        assert_eq!(
            TemplatePatch::replacing(t.name.clone(), vec![], vec![], None, None)
                .apply_to(&t)
                .unwrap()
                .on_source_redaction,
            OnSourceRedaction::Redact,
            "a form that does not name the policy keeps it"
        );
    }

    #[test]
    fn a_patch_changes_and_clears_what_it_names_and_is_checked_like_a_create() {
        let t = template();
        let spec = TemplatePatch {
            required_fields: Some(vec!["birthdate".into(), "name_first".into()]),
            minimum_age: Some(None),
            allowed_countries: Some(Some(vec!["fr".into()])),
            ..TemplatePatch::default()
        }
        .apply_to(&t)
        .unwrap();
        assert_eq!(spec.name, "KYC");
        assert_eq!(spec.required_fields, ["birthdate", "name-first"]);
        assert_eq!(spec.required_verifications, t.required_verifications);
        assert_eq!(spec.minimum_age, None);
        assert_eq!(spec.allowed_countries, Some(vec!["FR".into()]));
        let e = TemplatePatch {
            required_verifications: Some(vec![RequiredVerification {
                kind: VerificationKind::Selfie,
                max_age_days: Some(0),
            }]),
            ..TemplatePatch::default()
        }
        .apply_to(&t)
        .unwrap_err();
        assert_eq!(
            e.location,
            Some(crate::error::Source::Attribute(
                "required-verifications/0/max-age-days".into()
            ))
        );
        let e = TemplatePatch {
            name: Some(" ".into()),
            ..TemplatePatch::default()
        }
        .apply_to(&t)
        .unwrap_err();
        assert_eq!(
            e.location,
            Some(crate::error::Source::Attribute("name".into()))
        );
    }
}
