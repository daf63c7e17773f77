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
