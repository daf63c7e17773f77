//! Units of work on workflow triggers: each runs the op of the same name in
//! `crate::ops::manual_runs` (a manual run and its object) or `crate::ops::workflow_triggers`
//! (chain budgets) as one transaction.

use crate::ops::manual_runs as manual;
use crate::ops::workflow_triggers as op;
use serde_json::Value;
use tessera_core::id::WorkflowId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::run::WorkflowRun;

crate::work::units! { manual;
    Read object(scope: Scope, id: String) -> Value = object(&scope, &id);
    Write trigger_manually(scope: Scope, id: WorkflowId, object_id: String) -> WorkflowRun = trigger_manually(&scope, &id, &object_id);
}

crate::work::units! { op;
    Write purge_chains(age_ms: i64) -> u64 = purge_chains(age_ms);
}
