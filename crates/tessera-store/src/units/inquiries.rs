//! Units of work on inquiries: each runs the op of the same name in `crate::ops::inquiries` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::inquiries::*;

use crate::ops::inquiries as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::InquiryId;
use tessera_core::inquiry::{Inquiry, InquiryAction};
use tessera_core::tenancy::Scope;

crate::work::units! { op;
    Read get(scope: Scope, id: InquiryId) -> Inquiry = get(&scope, &id);
    Write create(scope: Scope, new: NewInquiry) -> Inquiry = create(&scope, new);
    Write update(scope: Scope, id: InquiryId, patch: InquiryPatch) -> Inquiry = update(&scope, &id, patch);
    Write change_tags(scope: Scope, id: InquiryId, change: TagChange) -> Inquiry = change_tags(&scope, &id, change);
    Write transition(scope: Scope, id: InquiryId, action: InquiryAction) -> Inquiry = transition(&scope, &id, action);
    Write transition_with_comment(scope: Scope, id: InquiryId, action: InquiryAction, comment: Option<String>) -> Inquiry = transition_with_comment(&scope, &id, action, comment);
    Write redact(scope: Scope, id: InquiryId) -> Inquiry = redact(&scope, &id);
    Write sweep_expired(limit: i64) -> usize = sweep_expired(limit);
    Read list(scope: Scope, filter: InquiryFilter, page: PageRequest) -> Page<Inquiry> = list(&scope, &filter, &page);
}
