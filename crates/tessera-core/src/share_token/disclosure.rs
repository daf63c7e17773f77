//! Selective disclosure: the part of its source a share token lets the destination see and copy.
//! The source organization limits a token to some fields, verification types and document kinds
//! (`allowed-fields`, `allowed-verifications`, `allowed-documents`); a list left out allows
//! everything of its kind, an empty list nothing. The peek, the manifest, the copy and the copy's
//! events all go through [`Disclosure`], so none of them can show more than it allows.

use serde::{Deserialize, Serialize};

use crate::document::DocumentKind;
use crate::error::{Error, codes};
use crate::fields::{Fields, MAX_FIELDS, canonical_name, valid_name};
use crate::verification::VerificationKind;

use super::FieldMapping;

/// What a share token discloses. `None` in a member: everything of that kind.
/// Stored (and written in a workflow step) under the attribute names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    #[serde(
        rename = "allowed-fields",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub fields: Option<Vec<String>>,
    #[serde(
        rename = "allowed-verifications",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub verifications: Option<Vec<VerificationKind>>,
    #[serde(
        rename = "allowed-documents",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub documents: Option<Vec<DocumentKind>>,
}

/// The three lists as a client sends them (attribute names `allowed-fields`,
/// `allowed-verifications`, `allowed-documents`).
#[derive(Debug, Clone, Default)]
pub struct DisclosureInput {
    pub fields: Option<Vec<String>>,
    pub verifications: Option<Vec<String>>,
    pub documents: Option<Vec<String>>,
}

impl Disclosure {
    /// Checks and normalises what a client sent: field names as written field names (their
    /// canonical spelling), verification types a source can share (not `share-token`), document
    /// kinds; each list deduplicated and sorted. A bad entry is 422 `invalid_attribute` at
    /// `allowed-…/<index>`.
    pub fn parse(input: DisclosureInput) -> Result<Self, Error> {
        fn list<T: Ord>(
            values: Option<Vec<String>>,
            attribute: &str,
            max: usize,
            what: &str,
            parse: impl Fn(&str) -> Option<T>,
        ) -> Result<Option<Vec<T>>, Error> {
            let Some(values) = values else {
                return Ok(None);
            };
            if values.len() > max {
                return Err(Error::invalid(
                    codes::INVALID_ATTRIBUTE,
                    format!("at most {max} entries"),
                )
                .at(attribute));
            }
            let mut out = Vec::with_capacity(values.len());
            for (i, v) in values.iter().enumerate() {
                let parsed = parse(v).ok_or_else(|| {
                    Error::invalid(codes::INVALID_ATTRIBUTE, format!("{v:?} is not {what}"))
                        .at(format!("{attribute}/{i}"))
                })?;
                out.push(parsed);
            }
            out.sort();
            out.dedup();
            Ok(Some(out))
        }
        let fields = list(
            input.fields,
            "allowed-fields",
            MAX_FIELDS,
            "a field name (1 to 64 letters, digits, '-', '_' or '.')",
            |s| valid_name(s).then(|| canonical_name(s)),
        )?;
        let verifications = list(
            input.verifications,
            "allowed-verifications",
            VerificationKind::ALL.len(),
            "a verification type that can be shared",
            |s| VerificationKind::parse(s).filter(|k| *k != VerificationKind::ShareToken),
        )?;
        let documents = list(
            input.documents,
            "allowed-documents",
            DocumentKind::ALL.len(),
            "a document kind",
            DocumentKind::parse,
        )?;
        Ok(Self {
            fields,
            verifications,
            documents,
        })
    }

    /// Whether the token shares its whole source (no list was given).
    pub fn is_everything(&self) -> bool {
        self.fields.is_none() && self.verifications.is_none() && self.documents.is_none()
    }

    pub fn allows_field(&self, name: &str) -> bool {
        self.fields
            .as_ref()
            .is_none_or(|f| f.iter().any(|n| n == name))
    }

    pub fn allows_verification(&self, kind: VerificationKind) -> bool {
        self.verifications
            .as_ref()
            .is_none_or(|v| v.contains(&kind))
    }

    pub fn allows_document(&self, kind: DocumentKind) -> bool {
        self.documents.as_ref().is_none_or(|d| d.contains(&kind))
    }

    /// Refuses a field mapping whose source field this does not disclose (422
    /// `field_not_disclosed` at `at/<index>/source-field-name`): a mapping cannot reach past the
    /// disclosure.
    pub fn check_mappings(&self, mappings: &[FieldMapping], at: &str) -> Result<(), Error> {
        match mappings
            .iter()
            .position(|m| !self.allows_field(&m.source_field_name))
        {
            None => Ok(()),
            Some(i) => Err(Error::invalid(
                codes::FIELD_NOT_DISCLOSED,
                format!(
                    "the share token does not disclose the field {}",
                    mappings[i].source_field_name
                ),
            )
            .at(format!("{at}/{i}/source-field-name"))),
        }
    }

    /// The fields it discloses of `fields`.
    pub fn fields_of(&self, fields: &Fields) -> Fields {
        fields
            .iter()
            .filter(|(name, _)| self.allows_field(name))
            .map(|(n, v)| (n.clone(), v.clone()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{FieldType, FieldValue};
    use serde_json::json;

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn nothing_given_discloses_everything() {
        let d = Disclosure::parse(DisclosureInput::default()).unwrap();
        assert!(d.is_everything());
        assert!(d.allows_field("anything"));
        assert!(d.allows_verification(VerificationKind::Selfie));
        assert!(d.allows_document(DocumentKind::Other));
        assert_eq!(serde_json::to_value(&d).unwrap(), json!({}));
    }

    #[test]
    fn lists_are_canonical_sorted_and_deduplicated() {
        let d = Disclosure::parse(DisclosureInput {
            fields: strings(&["name_last", "name-first", "nameFirst", "custom.x"]),
            verifications: strings(&["selfie", "government-id", "selfie"]),
            documents: Some(vec![]),
        })
        .unwrap();
        assert_eq!(
            d.fields,
            strings(&["custom.x", "name-first", "name-last"]),
            "standard names take their kebab spelling, others stay"
        );
        assert_eq!(
            d.verifications,
            Some(vec![
                VerificationKind::GovernmentId,
                VerificationKind::Selfie
            ])
        );
        assert!(!d.allows_document(DocumentKind::Selfie), "empty: nothing");
        assert!(d.allows_field("name-first") && !d.allows_field("birthdate"));
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"allowed-fields": ["custom.x", "name-first", "name-last"],
                   "allowed-verifications": ["government-id", "selfie"], "allowed-documents": []})
        );
    }

    #[test]
    fn bad_entries_are_refused_at_their_index() {
        let cases = [
            (
                DisclosureInput {
                    fields: strings(&["ok", "bad name"]),
                    ..Default::default()
                },
                "allowed-fields/1",
            ),
            (
                DisclosureInput {
                    verifications: strings(&["share-token"]),
                    ..Default::default()
                },
                "allowed-verifications/0",
            ),
            (
                DisclosureInput {
                    documents: strings(&["selfie", "passport"]),
                    ..Default::default()
                },
                "allowed-documents/1",
            ),
            (
                DisclosureInput {
                    fields: Some(vec!["a".into(); MAX_FIELDS + 1]),
                    ..Default::default()
                },
                "allowed-fields",
            ),
        ];
        for (input, at) in cases {
            let e = Disclosure::parse(input).unwrap_err();
            assert_eq!(e.code, codes::INVALID_ATTRIBUTE);
            assert_eq!(
                e.location,
                Some(crate::error::Source::Attribute(at.into())),
                "{at}"
            );
        }
    }

    #[test]
    fn fields_of_keeps_only_the_allowed() {
        let field = |v: &str| FieldValue {
            kind: FieldType::String,
            value: json!(v),
        };
        let all: Fields = [("name-first", "A"), ("name-last", "B"), ("birthdate", "C")]
            .into_iter()
            .map(|(n, v)| (n.to_owned(), field(v)))
            .collect();
        let d = Disclosure {
            fields: strings(&["name-first", "birthdate", "not-there"]),
            ..Default::default()
        };
        let kept: Vec<String> = d.fields_of(&all).into_keys().collect();
        assert_eq!(kept, ["birthdate", "name-first"]);
        assert_eq!(Disclosure::default().fields_of(&all), all);
    }
}
