//! Units of work on documents: each runs the op of the same name in `crate::ops::documents` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::documents::*;

use crate::ops::documents as op;
use tessera_core::document::Document;
use tessera_core::id::{DocumentId, InquiryId};
use tessera_core::tenancy::Scope;

crate::work::units! { op;
    Write create(scope: Scope, inquiry_id: InquiryId, new: NewDocument) -> Document = create(&scope, &inquiry_id, new);
    Read get(scope: Scope, id: DocumentId) -> Document = get(&scope, &id);
    Read file(scope: Scope, id: DocumentId) -> (Document, Vec<u8>) = file(&scope, &id);
    Read for_inquiry(scope: Scope, inquiry: InquiryId) -> Vec<Document> = for_inquiry(&scope, &inquiry);
}

/// Tessera's document redaction ([`crate::ops::inquiry_redaction::redact_document`]): its file,
/// name and hash removed, the destinations of redeemed tokens that shared its inquiry told; then,
/// in the same transaction, its inquiry when `with_inquiry`.
pub fn redact_showing(
    scope: Scope,
    id: DocumentId,
    with_inquiry: bool,
) -> crate::Write<(Document, Option<tessera_core::inquiry::Inquiry>)> {
    let s = scope.clone();
    crate::Write::new(move |tx| {
        Box::pin(async move { crate::ops::inquiry_redaction::redact_document(tx, &s, &id).await })
    })
    .with_parent_inquiry(scope, with_inquiry, |d| &d.inquiry_id)
}

/// Reads a document's metadata with its inquiry when `with_inquiry` (`include=inquiry`).
pub fn show(
    scope: Scope,
    id: DocumentId,
    with_inquiry: bool,
) -> crate::Read<(Document, Option<tessera_core::inquiry::Inquiry>)> {
    get(scope.clone(), id).with_parent_inquiry(scope, with_inquiry, |d| &d.inquiry_id)
}

/// Stores a document on an inquiry ([`create`]) and, in the same transaction, reads the inquiry
/// when `with_inquiry` (`include=inquiry`).
pub fn create_showing(
    scope: Scope,
    inquiry_id: InquiryId,
    new: NewDocument,
    with_inquiry: bool,
) -> crate::Write<(Document, Option<tessera_core::inquiry::Inquiry>)> {
    create(scope.clone(), inquiry_id, new)
        .with_parent_inquiry(scope, with_inquiry, |d| &d.inquiry_id)
}
