//! What a redemption copies, decided before anything is written: [`plan`] picks, from the source
//! as it is now, the fields (after selective disclosure and field mappings), verifications and
//! documents that travel. The redemption writes that plan; the preview manifest shows it unwritten
//! with a dry run of the destination's checks. Both come from this one function, so the preview
//! cannot promise what the redemption does not do.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::ToSchema;

use crate::checks;
use crate::document::{Document, DocumentKind};
use crate::fields::Fields;
use crate::id::TemplateId;
use crate::mask::peek_field;
use crate::template::Template;
use crate::time::Timestamp;
use crate::verification::{Check, Verification, VerificationStatus};

use super::{FieldMapping, RedeemMode, ShareToken};

/// The data a redemption copies: source fields under their own (and mapped) names, the source's
/// verifications and documents as they are (the writer gives the copies new ids).
#[derive(Debug, Clone)]
pub struct Copy {
    pub fields: Fields,
    pub verifications: Vec<Verification>,
    pub documents: Vec<Document>,
}

/// The bytes of a copy's documents, in the order of [`Copy::documents`] (`None`: a document
/// without a file).
pub type DocumentBytes = Vec<Option<Vec<u8>>>;

/// Plans the copy of `token`'s source. `source_fields`, `verifications` and `documents` are the
/// source inquiry's, read now. A token sharing one verification copies that verification only; a
/// token sharing the inquiry copies what its disclosure allows: the fields, each under its own
/// name and, when a mapping names it, also under the mapped name unless a disclosed field of
/// that name is copied already (Persona's "mappings apply to fields not already matched by
/// name"); the verifications of allowed types; the documents of allowed kinds.
pub fn plan(
    token: &ShareToken,
    source_fields: &Fields,
    verifications: Vec<Verification>,
    documents: Vec<Document>,
    mappings: &[FieldMapping],
) -> Copy {
    if let Some((_, id)) = &token.source_verification {
        return Copy {
            fields: Fields::new(),
            verifications: verifications.into_iter().filter(|v| v.id == *id).collect(),
            documents: Vec::new(),
        };
    }
    let disclosure = &token.disclosure;
    let disclosed = disclosure.fields_of(source_fields);
    let mut by_source: HashMap<&str, Vec<&str>> = HashMap::new();
    for m in mappings {
        by_source
            .entry(m.source_field_name.as_str())
            .or_default()
            .push(m.destination_field_name.as_str());
    }
    let mut fields = disclosed.clone();
    for (name, value) in &disclosed {
        for to in by_source.get(name.as_str()).into_iter().flatten() {
            if !disclosed.contains_key(*to) {
                fields.insert((*to).to_owned(), value.clone());
            }
        }
    }
    Copy {
        fields,
        verifications: verifications
            .into_iter()
            .filter(|v| disclosure.allows_verification(v.kind))
            .collect(),
        documents: documents
            .into_iter()
            .filter(|d| disclosure.allows_document(d.kind))
            .collect(),
    }
}

/// What the destination already has when a hydrate fills one of its inquiries.
#[derive(Debug, Clone, Copy)]
pub struct Existing<'a> {
    pub fields: &'a Fields,
    pub verifications: &'a [Verification],
}

impl Copy {
    /// The destination inquiry's fields and verifications once the copy lands in it: `existing`
    /// (a hydrate's) overlaid with the copy.
    fn landed(&self, existing: Option<Existing<'_>>) -> (Fields, Vec<Verification>) {
        let mut fields = existing.map(|e| e.fields.clone()).unwrap_or_default();
        fields.extend(self.fields.iter().map(|(k, v)| (k.clone(), v.clone())));
        let mut verifications = existing
            .map(|e| e.verifications.to_vec())
            .unwrap_or_default();
        verifications.extend(self.verifications.iter().cloned());
        (fields, verifications)
    }

    /// The destination's checks of the landed copy at `now` (see [`checks::evaluate`]).
    pub fn checks(
        &self,
        template: Option<&Template>,
        existing: Option<Existing<'_>>,
        now: Timestamp,
    ) -> Vec<Check> {
        let (fields, verifications) = self.landed(existing);
        checks::evaluate(template, &fields, &verifications, now)
    }

    /// Exactly the data copied, as a document: the fields with their types and values; each
    /// verification's type, status, completed-at, checks and extracted attributes; each document's
    /// kind, content type, size and content hash. Ids and the time of the copy are not part of it,
    /// so the manifest and the redemption of unchanged source data give the same document.
    pub fn data(&self) -> Value {
        json!({
            "fields": self.fields,
            "verifications": self.verifications.iter().map(|v| json!({
                "type": v.kind,
                "status": v.status,
                "completed-at": v.completed_at,
                "checks": v.checks,
                "attributes": v.attributes,
            })).collect::<Vec<_>>(),
            "documents": self.documents.iter().map(|d| json!({
                "kind": d.kind,
                "content-type": d.content_type,
                "byte-size": d.byte_size,
                "sha256": d.sha256,
            })).collect::<Vec<_>>(),
        })
    }

    /// `sha256:<hex>` of the RFC 8785 (JCS) canonical form of [`Copy::data`] (what a receipt's
    /// `data-digest` states).
    pub fn digest(&self) -> String {
        crate::receipt::digest_of(&self.data())
    }

    /// The manifest of this copy: what it holds, and the dry run of the destination's checks as
    /// the redemption would record them at `now`.
    pub fn manifest(
        &self,
        redeem_mode: RedeemMode,
        template: Option<&Template>,
        existing: Option<Existing<'_>>,
        now: Timestamp,
    ) -> Manifest {
        let (landed_fields, landed_verifications) = self.landed(existing);
        let checks = checks::evaluate(template, &landed_fields, &landed_verifications, now);
        let expiration = checks::value_of("expiration-date", &landed_fields, &landed_verifications);
        Manifest {
            redeem_mode,
            inquiry_template_id: template.map(|t| t.id.clone()),
            fields: self
                .fields
                .iter()
                .map(|(name, f)| {
                    let peek = peek_field(name, f);
                    ManifestField {
                        name: name.clone(),
                        visibility: peek["visibility"].as_str().unwrap_or("presence").to_owned(),
                        value: peek["value"].clone(),
                        hint: peek.get("hint").cloned(),
                    }
                })
                .collect(),
            verifications: self
                .verifications
                .iter()
                .map(|v| ManifestVerification {
                    kind: v.kind.as_str().to_owned(),
                    status: v.status,
                    completed_at: v.completed_at,
                    age_days: (now.millis() - v.completed_at.millis()).div_euclid(86_400_000),
                })
                .collect(),
            documents: self
                .documents
                .iter()
                .map(|d| ManifestDocument {
                    kind: d.kind,
                    content_type: d.content_type.clone(),
                    byte_size: d.byte_size,
                    expires_on: matches!(
                        d.kind,
                        DocumentKind::GovernmentIdFront | DocumentKind::GovernmentIdBack
                    )
                    .then(|| expiration.clone())
                    .flatten(),
                })
                .collect(),
            dry_run: DryRun {
                status: if checks::all_pass(&checks) {
                    VerificationStatus::Passed
                } else {
                    VerificationStatus::Failed
                },
                checks,
            },
            digest: self.digest(),
            generated_at: now,
        }
    }
}

/// Attributes of a `connect/share-token-manifest` (Tessera extension): what redeeming the token
/// now would copy, and how the destination's template would judge it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct Manifest {
    /// `clone`, or `hydrate` when a `destination-id` was given.
    pub redeem_mode: RedeemMode,
    /// The template the dry run used (the given one, else the hydrated inquiry's); null: none.
    #[schema(value_type = Option<String>)]
    pub inquiry_template_id: Option<TemplateId>,
    /// Every field that would be copied (mapped names included), masked like the peek:
    /// `full` with the value, or `presence` with whether there is one (and a `hint`).
    pub fields: Vec<ManifestField>,
    pub verifications: Vec<ManifestVerification>,
    pub documents: Vec<ManifestDocument>,
    /// The `share-token` verification the redemption would record now.
    pub dry_run: DryRun,
    /// `sha256:` of the RFC 8785 canonical form of the data that would be copied; send it back
    /// as `meta.manifest-digest` when redeeming to have the token record whether it matched.
    pub digest: String,
    #[schema(value_type = String, format = DateTime)]
    pub generated_at: Timestamp,
}

/// One field of a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ManifestField {
    pub name: String,
    /// `full` or `presence`.
    pub visibility: String,
    /// The value (`full`) or whether there is one (`presence`).
    #[schema(value_type = Object)]
    pub value: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub hint: Option<Value>,
}

/// One verification of a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestVerification {
    #[serde(rename = "type")]
    pub kind: String,
    pub status: VerificationStatus,
    #[schema(value_type = String, format = DateTime)]
    pub completed_at: Timestamp,
    /// Whole days between `completed-at` and the manifest.
    pub age_days: i64,
}

/// One document of a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct ManifestDocument {
    pub kind: DocumentKind,
    pub content_type: String,
    pub byte_size: i64,
    /// For a side of a government id: the `expiration-date` the copy states, if any.
    pub expires_on: Option<String>,
}

/// The dry run of a manifest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DryRun {
    /// `passed` when no check would fail.
    pub status: VerificationStatus,
    pub checks: Vec<Check>,
}
