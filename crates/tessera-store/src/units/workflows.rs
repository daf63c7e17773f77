//! Units of work on workflows: each runs the op of the same name in `crate::ops::workflows`
//! (reads) or `crate::ops::workflow_definitions` (create, update) as one transaction. The types
//! they take and return are re-exported from there.

pub use crate::ops::workflow_definitions::*;

use crate::ops::workflow_definitions as definitions;
use crate::ops::workflows as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::WorkflowId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::Workflow;

crate::work::units! { definitions;
    Write create(scope: Scope, new: NewWorkflow) -> Workflow = create(&scope, new);
    Write update(scope: Scope, id: WorkflowId, patch: WorkflowPatch) -> Workflow = update(&scope, &id, patch);
}

crate::work::units! { op;
    Read get(scope: Scope, id: WorkflowId) -> Workflow = get(&scope, &id);
    Read get_unscoped(id: WorkflowId) -> Workflow = get_unscoped(&id);
    Read list(scope: Scope, page: PageRequest) -> Page<Workflow> = list(&scope, &page);
}
