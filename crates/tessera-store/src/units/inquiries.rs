//! Units of work on inquiries: each runs the op of the same name in `crate::ops::inquiries`
//! (reads), `crate::ops::inquiry_changes` or `crate::ops::inquiry_redaction` as one transaction.
//! The types they take and return are re-exported from there.

pub use crate::ops::inquiries::*;
pub use crate::ops::inquiry_changes::*;

use crate::ops::inquiries as op;
use crate::ops::inquiry_changes as changes;
use crate::ops::inquiry_redaction as redaction;
use crate::paging::{Page, PageRequest};
use tessera_core::id::InquiryId;
use tessera_core::inquiry::{Inquiry, InquiryAction};
use tessera_core::tenancy::Scope;

crate::work::units! { op;
    Read get(scope: Scope, id: InquiryId) -> Inquiry = get(&scope, &id);
    Read list(scope: Scope, filter: InquiryFilter, page: PageRequest) -> Page<Inquiry> = list(&scope, &filter, &page);
}

crate::work::units! { changes;
    Write create(scope: Scope, new: NewInquiry) -> Inquiry = create(&scope, new);
    Write update(scope: Scope, id: InquiryId, patch: InquiryPatch) -> Inquiry = update(&scope, &id, patch);
    Write change_tags(scope: Scope, id: InquiryId, change: TagChange) -> Inquiry = change_tags(&scope, &id, change);
    Write transition(scope: Scope, id: InquiryId, action: InquiryAction) -> Inquiry = transition(&scope, &id, action);
    Write transition_with_comment(scope: Scope, id: InquiryId, action: InquiryAction, comment: Option<String>) -> Inquiry = transition_with_comment(&scope, &id, action, comment);
    Write sweep_expired(limit: i64) -> usize = sweep_expired(limit);
}

crate::work::units! { redaction;
    Write redact(scope: Scope, id: InquiryId) -> Inquiry = redact(&scope, &id);
}

/// Reads an inquiry with the related objects `include` asks for (its template, verifications,
/// documents).
pub fn show(
    scope: Scope,
    id: InquiryId,
    include: crate::units::related::InquiryIncludes,
) -> crate::Read<(Inquiry, Vec<crate::units::related::Related>)> {
    crate::Read::new(move |tx| {
        Box::pin(async move {
            let inquiry = op::get(tx, &scope, &id).await?;
            let included = crate::ops::related::of_inquiry(tx, &scope, &inquiry, include).await?;
            Ok((inquiry, included))
        })
    })
}

/// `unit` (a change to one inquiry), then, in the same transaction, the related objects of the
/// inquiry it returns that `include` asks for.
pub fn with_related(
    unit: crate::Write<Inquiry>,
    scope: Scope,
    include: crate::units::related::InquiryIncludes,
) -> crate::Write<(Inquiry, Vec<crate::units::related::Related>)> {
    crate::Write::new(move |tx| {
        Box::pin(async move {
            let inquiry = unit.run(tx).await?;
            let included = crate::ops::related::of_inquiry(tx, &scope, &inquiry, include).await?;
            Ok((inquiry, included))
        })
    })
}
