//! Units of work on workflows: each runs the op of the same name in `crate::ops::workflows` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::workflows::*;

use crate::ops::workflows as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::WorkflowId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::Workflow;

crate::work::units! { op;
    Write create(scope: Scope, new: NewWorkflow) -> Workflow = create(&scope, new);
    Read get(scope: Scope, id: WorkflowId) -> Workflow = get(&scope, &id);
    Read get_unscoped(id: WorkflowId) -> Workflow = get_unscoped(&id);
    Read list(scope: Scope, page: PageRequest) -> Page<Workflow> = list(&scope, &page);
    Write update(scope: Scope, id: WorkflowId, patch: WorkflowPatch) -> Workflow = update(&scope, &id, patch);
}
