//! Units of work on workflow runs: each runs the op of the same name in
//! `crate::ops::workflow_runs` (reads) or `crate::ops::workflow_advance` (advancing a run) as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::workflow_advance::*;
pub use crate::ops::workflow_runs::*;

use crate::ops::workflow_advance as advance;
use crate::ops::workflow_runs as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::WorkflowRunId;
use tessera_core::tenancy::Scope;
use tessera_core::workflow::run::WorkflowRun;

crate::work::units! { op;
    Read get(scope: Scope, id: WorkflowRunId) -> WorkflowRun = get(&scope, &id);
    Read list(scope: Scope, filter: RunFilter, page: PageRequest) -> Page<WorkflowRun> = list(&scope, &filter, &page);
}

crate::work::units! { advance;
    Write give_up(id: WorkflowRunId) -> () = give_up(&id);
}

/// One unit of a run's job (job `job`, run `run`): finishes the run when nothing is left, else
/// does the next step's effect and records the step as finished with it (acting for the run, so
/// its events carry the run's cause), or records the start of an `http-request` step and plans
/// it ([`Advance::Http`]: the worker sends it, then runs [`record_http_outcome`]). Keeps the
/// job's lease for `lease_ms` more; `started` is when the worker began the step.
///
/// When a step's effect fails, the whole unit rolls back and the returned [`RefusedStep`] names
/// the step if the error is a final refusal: the worker then fails the run with [`fail_step`].
pub fn advance_run(
    run: tessera_core::id::WorkflowRunId,
    job: tessera_core::id::JobId,
    lease_ms: i64,
    started: tessera_core::Timestamp,
) -> (crate::Write<Advance>, RefusedStep) {
    let refused = RefusedStep::default();
    let handle = refused.clone();
    let unit = crate::Write::new(move |tx| {
        Box::pin(async move { advance::advance(tx, &run, &job, lease_ms, started, &handle).await })
    });
    (unit, refused)
}

/// Fails step `step` of the run with `error` (whose effect was refused in [`advance_run`],
/// begun at `started`) if the run is still at that step, and ends job `job`.
pub fn fail_step(
    run: tessera_core::id::WorkflowRunId,
    job: tessera_core::id::JobId,
    step: usize,
    started: tessera_core::Timestamp,
    error: tessera_core::workflow::run::StepError,
) -> crate::Write<()> {
    crate::Write::new(move |tx| {
        Box::pin(async move { advance::fail_at(tx, &run, &job, step, started, error).await })
    })
}

/// Records the outcome of a sent attempt of step `step` (an `http-request` step) of the run: the
/// step finishes, or notes its error while job `job` waits for the next attempt (rescheduled to
/// `outcome.retry_at`), or — out of attempts — fails the run. Returns what the worker does next
/// ([`Advance::Continue`] or [`Advance::Stop`]).
pub fn record_http_outcome(
    run: tessera_core::id::WorkflowRunId,
    job: tessera_core::id::JobId,
    step: usize,
    outcome: HttpOutcome,
) -> crate::Write<Advance> {
    crate::Write::new(move |tx| {
        Box::pin(async move { advance::record_http_outcome(tx, &run, &job, step, outcome).await })
    })
}
