//! Documents: images and files attached to an inquiry. Bytes are stored durably beside the
//! metadata and removed by redaction.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::id::{DocumentId, FileId, InquiryId};
use crate::jsonapi::{Ref, Relationship, Resource};
use crate::time::Timestamp;

/// What a document shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DocumentKind {
    GovernmentIdFront,
    GovernmentIdBack,
    Selfie,
    ProofOfAddress,
    Other,
}

impl DocumentKind {
    pub const ALL: [DocumentKind; 5] = [
        DocumentKind::GovernmentIdFront,
        DocumentKind::GovernmentIdBack,
        DocumentKind::Selfie,
        DocumentKind::ProofOfAddress,
        DocumentKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DocumentKind::GovernmentIdFront => "government-id-front",
            DocumentKind::GovernmentIdBack => "government-id-back",
            DocumentKind::Selfie => "selfie",
            DocumentKind::ProofOfAddress => "proof-of-address",
            DocumentKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The JSON:API type, as Persona types documents: `document/government-id` for a side of a
    /// government id, `document/generic` for anything else.
    pub fn resource_type(self) -> &'static str {
        match self {
            DocumentKind::GovernmentIdFront | DocumentKind::GovernmentIdBack => {
                "document/government-id"
            }
            DocumentKind::Selfie | DocumentKind::ProofOfAddress | DocumentKind::Other => {
                "document/generic"
            }
        }
    }
}

/// Longest stored filename.
pub const MAX_FILENAME_LEN: usize = 255;

/// Cleans an uploaded filename: the last path segment, control characters removed, bounded.
pub fn clean_filename(raw: &str) -> Option<String> {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && *c != '"')
        .take(MAX_FILENAME_LEN)
        .collect();
    let cleaned = cleaned.trim().to_owned();
    (!cleaned.is_empty() && cleaned != "." && cleaned != "..").then_some(cleaned)
}

/// Whether a content type is a plain `type/subtype` (parameters allowed).
pub fn valid_content_type(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim();
    let mut parts = essence.split('/');
    let ok = |s: Option<&str>| {
        s.is_some_and(|s| {
            !s.is_empty()
                && s.len() <= 127
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&^_.+-".contains(&b))
        })
    };
    ok(parts.next())
        && ok(parts.next())
        && parts.next().is_none()
        && ct.len() <= 255
        && ct.is_ascii()
}

/// The hex SHA-256 of a document's bytes (its `sha256`).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}

/// A document's metadata.
#[derive(Debug, Clone)]
pub struct Document {
    pub id: DocumentId,
    pub inquiry_id: InquiryId,
    pub kind: DocumentKind,
    pub filename: Option<String>,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: Option<String>,
    pub file_id: Option<FileId>,
    pub created_at: Timestamp,
}

/// A file of a document, as Persona lists them in `files`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DocumentFile {
    /// Null after redaction (the file is then gone and `files` is empty).
    pub filename: Option<String>,
    /// Where the bytes are served (relative to the server).
    pub url: String,
    pub byte_size: i64,
}

/// Attributes of a `document/government-id` or `document/generic` resource.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub struct DocumentAttributes {
    /// Always `processed`: Tessera stores what it is given and does no processing of its own.
    pub status: &'static str,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub processed_at: Option<Timestamp>,
    pub processed_at_ts: Option<i64>,
    /// The uploaded file (none after redaction).
    pub files: Vec<DocumentFile>,
    pub kind: DocumentKind,
    /// Null after redaction.
    pub filename: Option<String>,
    pub content_type: String,
    pub byte_size: i64,
    /// Hex SHA-256 of the bytes; null after redaction.
    pub sha256: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// Relationships of a `document` resource.
#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentRelationships {
    pub inquiry: Relationship,
}

/// A document resource (`document/government-id` or `document/generic`).
pub type DocumentResource = Resource<DocumentAttributes, DocumentRelationships>;

impl Document {
    pub fn to_resource(&self) -> DocumentResource {
        let files = self
            .file_id
            .as_ref()
            .map(|_| DocumentFile {
                filename: self.filename.clone(),
                url: format!("/api/v1/documents/{}/file", self.id.as_str()),
                byte_size: self.byte_size,
            })
            .into_iter()
            .collect();
        Resource::new(
            self.kind.resource_type(),
            self.id.as_str(),
            DocumentAttributes {
                status: "processed",
                processed_at: Some(self.created_at),
                processed_at_ts: Some(self.created_at.unix_seconds()),
                files,
                kind: self.kind,
                filename: self.filename.clone(),
                content_type: self.content_type.clone(),
                byte_size: self.byte_size,
                sha256: self.sha256.clone(),
                created_at: self.created_at,
            },
            DocumentRelationships {
                inquiry: Relationship::one(Ref::new("inquiry", self.inquiry_id.as_str())),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filenames_are_cleaned() {
        assert_eq!(
            clean_filename("../../etc/passwd").as_deref(),
            Some("passwd")
        );
        assert_eq!(clean_filename("C:\\x\\id.png").as_deref(), Some("id.png"));
        assert_eq!(clean_filename("a\u{0}b\"c.jpg").as_deref(), Some("abc.jpg"));
        assert_eq!(clean_filename(".."), None);
        assert_eq!(clean_filename(""), None);
    }

    #[test]
    fn content_types_are_checked() {
        assert!(valid_content_type("image/png"));
        assert!(valid_content_type("application/pdf; charset=binary"));
        assert!(!valid_content_type("image"));
        assert!(!valid_content_type("image/png/x"));
        assert!(!valid_content_type("text/html\r\nX-Evil: 1"));
    }
}
