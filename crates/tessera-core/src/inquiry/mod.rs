//! Inquiries: one end user's verified data, and the status machine that governs them (its
//! statuses and transitions are in `status.rs`).

mod status;

use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

pub use status::{InquiryAction, InquiryStatus};

use crate::document::DocumentKind;
use crate::error::{Error, codes};
use crate::fields::Fields;
use crate::id::{DocumentId, InquiryId, OrganizationId, ShareTokenId, TemplateId, VerificationId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::source_status::SourceStatus;
use crate::time::Timestamp;
use crate::verification::VerificationKind;

/// Where a redeemed copy came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct SharedFrom {
    #[schema(value_type = String)]
    pub organization_id: OrganizationId,
    #[schema(value_type = String)]
    pub inquiry_id: InquiryId,
    #[schema(value_type = String)]
    pub share_token_id: ShareTokenId,
}

/// The `creator` of an inquiry made without a more specific one.
pub const DEFAULT_CREATOR: &str = "api";

/// An inquiry with the ids of its related objects.
#[derive(Debug, Clone)]
pub struct Inquiry {
    pub id: InquiryId,
    pub status: InquiryStatus,
    /// Who made it: an API key id, a dashboard user's email, the `creator-email-address` given
    /// at creation, or the share token whose redemption cloned it.
    pub creator: String,
    /// The `meta.comment` of the last approve or decline.
    pub reviewer_comment: Option<String>,
    /// Where the end user goes when done (kept for Persona clients; Tessera has no hosted flow).
    pub redirect_uri: Option<String>,
    pub started_at: Option<Timestamp>,
    pub expires_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub marked_for_review_at: Option<Timestamp>,
    pub template_id: Option<TemplateId>,
    pub reference_id: Option<String>,
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub fields: Fields,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub completed_at: Option<Timestamp>,
    pub decisioned_at: Option<Timestamp>,
    pub expired_at: Option<Timestamp>,
    pub redacted_at: Option<Timestamp>,
    pub shared_from: Option<SharedFrom>,
    pub share_token_id: Option<ShareTokenId>,
    pub verifications: Vec<(VerificationKind, VerificationId)>,
    pub documents: Vec<(DocumentKind, DocumentId)>,
    /// For a copy: what the source organization did to its source since (set by the notice
    /// job; `None` until then, shown as `current`).
    pub source_status: Option<SourceStatus>,
    pub source_status_changed_at: Option<Timestamp>,
}

impl Inquiry {
    /// A new `created` inquiry with nothing in it.
    pub fn new(id: InquiryId, creator: String, now: Timestamp) -> Self {
        Self {
            id,
            status: InquiryStatus::Created,
            creator,
            reviewer_comment: None,
            redirect_uri: None,
            started_at: None,
            expires_at: None,
            failed_at: None,
            marked_for_review_at: None,
            template_id: None,
            reference_id: None,
            note: None,
            tags: Vec::new(),
            fields: Fields::new(),
            created_at: now,
            updated_at: now,
            completed_at: None,
            decisioned_at: None,
            expired_at: None,
            redacted_at: None,
            shared_from: None,
            share_token_id: None,
            verifications: Vec::new(),
            documents: Vec::new(),
            source_status: None,
            source_status_changed_at: None,
        }
    }

    /// A copy's `source-status`: `current` until the source changes; `None` for an inquiry
    /// that is no copy.
    pub fn shown_source_status(&self) -> Option<SourceStatus> {
        self.shared_from
            .as_ref()
            .map(|_| self.source_status.unwrap_or(SourceStatus::Current))
    }

    /// Moves the inquiry to `status`, stamping the matching timestamps. `started-at` is set by
    /// the first move to `pending` (or straight to `completed` or `failed`).
    pub fn set_status(&mut self, status: InquiryStatus, now: Timestamp) {
        self.status = status;
        self.updated_at = now;
        match status {
            InquiryStatus::Completed => self.completed_at = Some(now),
            InquiryStatus::Approved | InquiryStatus::Declined => self.decisioned_at = Some(now),
            InquiryStatus::Expired => self.expired_at = Some(now),
            InquiryStatus::Failed => self.failed_at = Some(now),
            InquiryStatus::NeedsReview => self.marked_for_review_at = Some(now),
            InquiryStatus::Created | InquiryStatus::Pending => {}
        }
        if self.started_at.is_none()
            && matches!(
                status,
                InquiryStatus::Pending | InquiryStatus::Completed | InquiryStatus::Failed
            )
        {
            self.started_at = Some(now);
        }
    }

    /// Refuses writes to a redacted inquiry.
    pub fn ensure_not_redacted(&self) -> Result<(), Error> {
        if self.redacted_at.is_some() {
            return Err(Error::conflict(
                codes::INQUIRY_REDACTED,
                "the inquiry has been redacted",
            ));
        }
        Ok(())
    }

    /// Refuses new verifications and documents unless the inquiry is open and not redacted.
    pub fn ensure_open(&self) -> Result<(), Error> {
        self.ensure_not_redacted()?;
        if !self.status.is_open() {
            return Err(Error::conflict(
                codes::INQUIRY_NOT_OPEN,
                format!(
                    "an inquiry in status {} takes no new verifications or documents",
                    self.status.as_str()
                ),
            ));
        }
        Ok(())
    }
}

/// Attributes of an `inquiry` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct InquiryAttributes {
    pub status: InquiryStatus,
    #[schema(required = true)]
    pub reference_id: Option<String>,
    #[schema(required = true)]
    pub note: Option<String>,
    /// Always null: Tessera computes no risk signals.
    #[schema(required = true, value_type = Option<Object>)]
    pub behaviors: Option<Value>,
    pub tags: Vec<String>,
    /// Who made the inquiry: an API key id (`api_…`), a dashboard user's email, the
    /// `creator-email-address` given at creation, or the redeemed share token (`cnst_…`).
    pub creator: String,
    /// The `meta.comment` of the last approve or decline.
    #[schema(required = true)]
    pub reviewer_comment: Option<String>,
    /// `name → {"type", "value"}`.
    #[schema(value_type = Object)]
    pub fields: Fields,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// The first move to `pending` (or straight to `completed` or `failed`).
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub started_at: Option<Timestamp>,
    /// From `meta.expiration-after-create-interval-seconds` at creation.
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<Timestamp>,
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub completed_at: Option<Timestamp>,
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub failed_at: Option<Timestamp>,
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub marked_for_review_at: Option<Timestamp>,
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub decisioned_at: Option<Timestamp>,
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub expired_at: Option<Timestamp>,
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub redacted_at: Option<Timestamp>,
    /// Always null: Tessera has no hosted flow.
    #[schema(required = true)]
    pub previous_step_name: Option<String>,
    /// Always null: Tessera has no hosted flow.
    #[schema(required = true)]
    pub next_step_name: Option<String>,
    /// Tessera extension: the `redirect-uri` given at creation or by PATCH.
    pub redirect_uri: Option<String>,
    pub shared_from: Option<SharedFrom>,
    /// Tessera extension, on a redeemed copy (null on any other inquiry): `current` until the
    /// source organization redacts what it shared (`redacted`) or deactivates the connection
    /// (`revoked`).
    #[schema(required = true)]
    pub source_status: Option<SourceStatus>,
    /// Tessera extension: when the source changed (null while `current`).
    #[schema(required = true, value_type = Option<String>, format = DateTime)]
    pub source_status_changed_at: Option<Timestamp>,
}

/// Relationships of an `inquiry` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct InquiryRelationships {
    pub inquiry_template: Relationship,
    pub verifications: Relationship,
    pub documents: Relationship,
    pub share_token: Relationship,
}

/// An `inquiry` resource.
pub type InquiryResource = Resource<InquiryAttributes, InquiryRelationships>;

impl Inquiry {
    pub fn to_resource(&self) -> InquiryResource {
        Resource::new(
            "inquiry",
            self.id.as_str(),
            InquiryAttributes {
                status: self.status,
                reference_id: self.reference_id.clone(),
                note: self.note.clone(),
                behaviors: None,
                tags: self.tags.clone(),
                creator: self.creator.clone(),
                reviewer_comment: self.reviewer_comment.clone(),
                fields: self.fields.clone(),
                created_at: self.created_at,
                updated_at: self.updated_at,
                started_at: self.started_at,
                expires_at: self.expires_at,
                completed_at: self.completed_at,
                failed_at: self.failed_at,
                marked_for_review_at: self.marked_for_review_at,
                decisioned_at: self.decisioned_at,
                expired_at: self.expired_at,
                redacted_at: self.redacted_at,
                previous_step_name: None,
                next_step_name: None,
                redirect_uri: self.redirect_uri.clone(),
                shared_from: self.shared_from.clone(),
                source_status: self.shown_source_status(),
                source_status_changed_at: self.source_status_changed_at,
            },
            InquiryRelationships {
                inquiry_template: Relationship::optional(
                    self.template_id
                        .as_ref()
                        .map(|t| Ref::new("inquiry-template", t.as_str())),
                ),
                verifications: Relationship::many(
                    self.verifications
                        .iter()
                        .map(|(kind, id)| Ref::new(kind.resource_type(), id.as_str())),
                ),
                documents: Relationship::many(
                    self.documents
                        .iter()
                        .map(|(kind, d)| Ref::new(kind.resource_type(), d.as_str())),
                ),
                share_token: Relationship::optional(
                    self.share_token_id
                        .as_ref()
                        .map(|t| Ref::new("connect/share-token", t.as_str())),
                ),
            },
        )
    }
}

/// Most tags an inquiry may carry, and their longest length.
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_LEN: usize = 100;
/// Longest `reference-id` and `note`.
pub const MAX_REFERENCE_ID_LEN: usize = 255;
pub const MAX_NOTE_LEN: usize = 4096;

/// Checks a list of tags: trimmed, non-empty, bounded, deduplicated in order.
pub fn parse_tags(tags: &[String], pointer: &str) -> Result<Vec<String>, Error> {
    if tags.len() > MAX_TAGS {
        return Err(
            Error::invalid(codes::INVALID_ATTRIBUTE, format!("at most {MAX_TAGS} tags"))
                .at(pointer),
        );
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let t = t.trim();
        if t.is_empty() || t.chars().count() > MAX_TAG_LEN {
            return Err(Error::invalid(
                codes::INVALID_ATTRIBUTE,
                format!("a tag is 1 to {MAX_TAG_LEN} characters"),
            )
            .at(format!("{pointer}/{i}")));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    Ok(out)
}

/// Checks an optional text attribute's length.
pub fn check_len(value: &Option<String>, max: usize, pointer: &str) -> Result<(), Error> {
    if value.as_ref().is_some_and(|v| v.chars().count() > max) {
        return Err(Error::invalid(
            codes::INVALID_ATTRIBUTE,
            format!("at most {max} characters"),
        )
        .at(pointer));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use InquiryStatus as S;

    #[test]
    fn statuses_stamp_their_times() {
        let t0 = Timestamp::from_millis(1_000);
        let t1 = Timestamp::from_millis(2_000);
        let mut i = Inquiry::new(InquiryId::generate(), "api".into(), t0);
        i.set_status(S::Pending, t0);
        i.set_status(S::Failed, t1);
        assert_eq!((i.started_at, i.failed_at), (Some(t0), Some(t1)));
        i.set_status(S::NeedsReview, t1);
        assert_eq!(i.marked_for_review_at, Some(t1));
        let mut j = Inquiry::new(InquiryId::generate(), "api".into(), t0);
        j.set_status(S::Expired, t1);
        assert_eq!((j.started_at, j.expired_at), (None, Some(t1)));
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated() {
        let t = parse_tags(&[" a ".into(), "b".into(), "a".into()], "/t").unwrap_or_default();
        assert_eq!(t, vec!["a", "b"]);
        assert!(parse_tags(&["".into()], "/t").is_err());
    }
}
