//! Units of work on workflow triggers: each runs the op of the same name in `crate::ops::workflow_triggers` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::workflow_triggers::*;

use crate::ops::workflow_triggers as op;
use serde_json::Value;
use tessera_core::id::WorkflowId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::run::WorkflowRun;

crate::work::units! { op;
    Read object(scope: Scope, id: String) -> Value = object(&scope, &id);
    Write trigger_manually(scope: Scope, id: WorkflowId, object_id: String) -> WorkflowRun = trigger_manually(&scope, &id, &object_id);
    Write purge_chains(age_ms: i64) -> u64 = purge_chains(age_ms);
}
