//! A redemption's copy as it travels from the source's instance to the destination's: the
//! fields, the verifications, and the documents with their bytes (checked against their size and
//! hash when read back).

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::document::{Document, DocumentKind};
use crate::error::{Error, codes};
use crate::fields::Fields;
use crate::id::{DocumentId, InquiryId, VerificationId};
use crate::share_token::copy::{Copy, DocumentBytes};
use crate::time::Timestamp;
use crate::verification::{Check, Verification, VerificationKind, VerificationStatus};

/// A [`Copy`] as it travels: the fields, the verifications and the documents with their bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WireCopy {
    pub fields: Fields,
    pub verifications: Vec<WireVerification>,
    pub documents: Vec<WireDocument>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WireVerification {
    #[serde(rename = "type")]
    pub kind: VerificationKind,
    pub status: VerificationStatus,
    pub completed_at: Timestamp,
    pub checks: Vec<Check>,
    pub attributes: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct WireDocument {
    pub kind: DocumentKind,
    pub filename: Option<String>,
    pub content_type: String,
    pub byte_size: i64,
    pub sha256: Option<String>,
    /// The file's bytes, base64 (none for a document without a file).
    pub bytes: Option<String>,
}

impl WireCopy {
    /// The wire form of `copy`, whose documents' bytes are `bytes` (in order; `None` for a
    /// document without a file).
    pub fn of(copy: &Copy, bytes: &[Option<Vec<u8>>]) -> Self {
        Self {
            fields: copy.fields.clone(),
            verifications: copy
                .verifications
                .iter()
                .map(|v| WireVerification {
                    kind: v.kind,
                    status: v.status,
                    completed_at: v.completed_at,
                    checks: v.checks.clone(),
                    attributes: v.attributes.clone(),
                })
                .collect(),
            documents: copy
                .documents
                .iter()
                .zip(bytes.iter().map(Some).chain(std::iter::repeat(None)))
                .map(|(d, b)| WireDocument {
                    kind: d.kind,
                    filename: d.filename.clone(),
                    content_type: d.content_type.clone(),
                    byte_size: d.byte_size,
                    sha256: d.sha256.clone(),
                    bytes: b.and_then(|b| b.as_ref()).map(|b| B64.encode(b)),
                })
                .collect(),
        }
    }

    /// The copy again, for the destination `inquiry` at `now` (the writer gives the parts new
    /// ids), with each document's bytes. Refused (the message is bad) when a document's bytes are
    /// not base64 or do not have the size and hash it states.
    pub fn into_copy(
        self,
        inquiry: &InquiryId,
        now: Timestamp,
    ) -> Result<(Copy, DocumentBytes), Error> {
        let mut bytes = Vec::with_capacity(self.documents.len());
        let mut documents = Vec::with_capacity(self.documents.len());
        for d in self.documents {
            let b = match &d.bytes {
                Some(b64) => {
                    let b = B64.decode(b64).map_err(|_| bad_copy("document bytes"))?;
                    if i64::try_from(b.len()).ok() != Some(d.byte_size) {
                        return Err(bad_copy("a document's size"));
                    }
                    if let Some(sha) = &d.sha256
                        && *sha != crate::document::sha256_hex(&b)
                    {
                        return Err(bad_copy("a document's hash"));
                    }
                    Some(b)
                }
                None => None,
            };
            documents.push(Document {
                id: DocumentId::generate(),
                inquiry_id: inquiry.clone(),
                kind: d.kind,
                filename: d.filename,
                content_type: d.content_type,
                byte_size: d.byte_size,
                sha256: d.sha256,
                file_id: None,
                created_at: now,
            });
            bytes.push(b);
        }
        let copy = Copy {
            fields: self.fields,
            verifications: self
                .verifications
                .into_iter()
                .map(|v| Verification {
                    id: VerificationId::generate(),
                    inquiry_id: inquiry.clone(),
                    kind: v.kind,
                    status: v.status,
                    checks: v.checks,
                    attributes: v.attributes,
                    completed_at: v.completed_at,
                    created_at: now,
                })
                .collect(),
            documents,
        };
        Ok((copy, bytes))
    }
}

fn bad_copy(what: &str) -> Error {
    Error::invalid(
        codes::INVALID_ATTRIBUTE,
        format!("the copy in the message is not well formed: {what}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_copy_travels_with_the_same_digest_and_checked_bytes() {
        let now = Timestamp::from_millis(1_700_000_000_000);
        let inquiry = InquiryId::generate();
        let bytes = b"front of an id".to_vec();
        let copy = Copy {
            fields: serde_json::from_value(
                json!({"name-first": {"type": "string", "value": "Ada"}}),
            )
            .unwrap(),
            verifications: vec![Verification {
                id: VerificationId::generate(),
                inquiry_id: inquiry.clone(),
                kind: VerificationKind::GovernmentId,
                status: VerificationStatus::Passed,
                checks: Vec::new(),
                attributes: Map::new(),
                completed_at: now,
                created_at: now,
            }],
            documents: vec![Document {
                id: DocumentId::generate(),
                inquiry_id: inquiry.clone(),
                kind: DocumentKind::GovernmentIdFront,
                filename: Some("front.jpg".into()),
                content_type: "image/jpeg".into(),
                byte_size: bytes.len() as i64,
                sha256: Some(crate::document::sha256_hex(&bytes)),
                file_id: None,
                created_at: now,
            }],
        };
        let wire = WireCopy::of(&copy, &[Some(bytes.clone())]);
        let travelled: WireCopy =
            serde_json::from_value(serde_json::to_value(&wire).unwrap()).unwrap();
        let (back, got) = travelled
            .clone()
            .into_copy(&InquiryId::generate(), now)
            .unwrap();
        assert_eq!(back.digest(), copy.digest());
        assert_eq!(got, vec![Some(bytes)]);

        let mut tampered = travelled;
        tampered.documents[0].bytes = Some(B64.encode(b"front of an iD"));
        assert!(tampered.into_copy(&inquiry, now).is_err());
    }
}
