//! Units of work on workflow runs: each runs the op of the same name in `crate::ops::workflow_runs` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::workflow_runs::*;

use crate::ops::workflow_runs as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::WorkflowRunId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::run::WorkflowRun;

crate::work::units! { op;
    Read get(scope: Scope, id: WorkflowRunId) -> WorkflowRun = get(&scope, &id);
    Read list(scope: Scope, filter: RunFilter, page: PageRequest) -> Page<WorkflowRun> = list(&scope, &filter, &page);
    Write give_up(id: WorkflowRunId) -> () = give_up(&id);
}
