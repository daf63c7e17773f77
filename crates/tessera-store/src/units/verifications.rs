//! Units of work on verifications: each runs the op of the same name in `crate::ops::verifications` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::verifications::*;

use crate::ops::verifications as op;
use tessera_core::id::{InquiryId, VerificationId};
use tessera_core::tenancy::Scope;
use tessera_core::verification::Verification;

crate::work::units! { op;
    Write record(scope: Scope, new: NewVerification) -> Verification = record(&scope, new);
    Read get(scope: Scope, id: VerificationId) -> Verification = get(&scope, &id);
    Read for_inquiry(scope: Scope, inquiry: InquiryId) -> Vec<Verification> = for_inquiry(&scope, &inquiry);
}

/// Persona's "Redact a Verification" ([`crate::ops::inquiry_redaction::redact_verification`]):
/// its extracted data and check details removed, the destinations of redeemed tokens that shared
/// it told; then, in the same transaction, its inquiry when `with_inquiry`.
pub fn redact_showing(
    scope: Scope,
    id: VerificationId,
    with_inquiry: bool,
) -> crate::Write<(Verification, Option<tessera_core::inquiry::Inquiry>)> {
    let s = scope.clone();
    crate::Write::new(move |tx| {
        Box::pin(
            async move { crate::ops::inquiry_redaction::redact_verification(tx, &s, &id).await },
        )
    })
    .with_parent_inquiry(scope, with_inquiry, |v| &v.inquiry_id)
}

/// Reads a verification with its inquiry when `with_inquiry` (`include=inquiry`).
pub fn show(
    scope: Scope,
    id: VerificationId,
    with_inquiry: bool,
) -> crate::Read<(Verification, Option<tessera_core::inquiry::Inquiry>)> {
    get(scope.clone(), id).with_parent_inquiry(scope, with_inquiry, |v| &v.inquiry_id)
}

/// Records a verification ([`record`]) and, in the same transaction, reads its inquiry when
/// `with_inquiry` (`include=inquiry`).
pub fn record_showing(
    scope: Scope,
    new: NewVerification,
    with_inquiry: bool,
) -> crate::Write<(Verification, Option<tessera_core::inquiry::Inquiry>)> {
    record(scope.clone(), new).with_parent_inquiry(scope, with_inquiry, |v| &v.inquiry_id)
}
