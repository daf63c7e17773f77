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
