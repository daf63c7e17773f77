//! Advancing a workflow run, one unit of work at a time (the worker runs them): each does the
//! next step's effect and records the step as finished with it, or records the start of an
//! `http-request` step (sent outside any transaction) and then its outcome. Every change of a
//! step's record commits in the unit of work that did the step's effect, so a run resumes at its
//! first unfinished step and never repeats a finished one. A run that finishes emits its
//! `workflow-run.completed` or `workflow-run.failed` event as the run.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tessera_core::event::names;
use tessera_core::id::{JobId, WorkflowRunId};
use tessera_core::inflect::Inflection;
use tessera_core::webhook::delivery_body;
use tessera_core::workflow::Step;
use tessera_core::workflow::run::{RunStatus, StepError, StepStatus};
use tessera_core::{Error, Timestamp};

use crate::ops::fanout::emit_as_run;
use crate::ops::workflow_runs::{Running, lock_unfinished, record, save};
use crate::ops::{events, jobs, manual_runs, workflow_steps, workflows};
use crate::tx::Tx;

/// Records that step `i` began an attempt at `started_at` (the run is `running` from then).
pub(crate) async fn start_step(
    tx: &mut Tx,
    r: &mut Running,
    i: usize,
    started_at: Timestamp,
) -> Result<(), Error> {
    let now = tx.now();
    let rec = record(&mut r.run, i)?;
    rec.status = StepStatus::Running;
    rec.started_at.get_or_insert(started_at);
    rec.attempts = rec.attempts.saturating_add(1);
    r.run.status = RunStatus::Running;
    r.run.updated_at = now;
    save(tx, &r.run).await
}

/// Records an attempt of step `i` that failed but will be tried again.
pub(crate) async fn note_step_error(
    tx: &mut Tx,
    r: &mut Running,
    i: usize,
    error: StepError,
) -> Result<(), Error> {
    let now = tx.now();
    record(&mut r.run, i)?.error = Some(error);
    r.run.updated_at = now;
    save(tx, &r.run).await
}

/// Records that step `i` finished with `output`; the run completes (with its event) when it was
/// the last step.
pub(crate) async fn finish_step(
    tx: &mut Tx,
    r: &mut Running,
    i: usize,
    output: Value,
) -> Result<(), Error> {
    let now = tx.now();
    let rec = record(&mut r.run, i)?;
    rec.status = StepStatus::Completed;
    rec.started_at.get_or_insert(now);
    rec.finished_at = Some(now);
    rec.output = Some(output);
    rec.error = None;
    r.run.status = RunStatus::Running;
    r.run.updated_at = now;
    if r.run.next_step().is_none() {
        r.run.status = RunStatus::Completed;
        r.run.completed_at = Some(now);
    }
    save(tx, &r.run).await?;
    if r.run.status == RunStatus::Completed {
        emit_as_run(tx, &r.scope.env, names::WORKFLOW_RUN_COMPLETED, &r.run).await?;
    }
    Ok(())
}

/// Completes a run that has nothing (left) to do, with its event.
pub(crate) async fn complete(tx: &mut Tx, r: &mut Running) -> Result<(), Error> {
    let now = tx.now();
    r.run.status = RunStatus::Completed;
    r.run.completed_at = Some(now);
    r.run.updated_at = now;
    save(tx, &r.run).await?;
    emit_as_run(tx, &r.scope.env, names::WORKFLOW_RUN_COMPLETED, &r.run).await
}

/// Records that step `i` failed: the later steps are `skipped`, the run `failed`, with its
/// event.
pub(crate) async fn fail_step(
    tx: &mut Tx,
    r: &mut Running,
    i: usize,
    error: StepError,
) -> Result<(), Error> {
    let now = tx.now();
    for (j, rec) in r.run.records.iter_mut().enumerate() {
        if j == i {
            rec.status = StepStatus::Failed;
            rec.started_at.get_or_insert(now);
            rec.finished_at = Some(now);
            rec.error = Some(error.clone());
        } else if j > i {
            rec.status = StepStatus::Skipped;
        }
    }
    r.run.status = RunStatus::Failed;
    r.run.completed_at = Some(now);
    r.run.updated_at = now;
    save(tx, &r.run).await?;
    emit_as_run(tx, &r.scope.env, names::WORKFLOW_RUN_FAILED, &r.run).await
}

/// Gives up on a run whose job kept failing for an internal reason: the step it was at fails.
/// (The cause is logged by the worker, never shown.)
pub(crate) async fn give_up(tx: &mut Tx, id: &WorkflowRunId) -> Result<(), Error> {
    let Some(mut r) = lock_unfinished(tx, id).await? else {
        return Ok(());
    };
    let i = r.run.next_step().unwrap_or(0);
    let error = StepError {
        status: 500,
        code: tessera_core::codes::INTERNAL.into(),
        details: "the step kept failing for an internal reason".into(),
    };
    fail_step(tx, &mut r, i, error).await
}

/// One attempt of an `http-request` step, planned in the unit that recorded its start; the
/// worker sends it (a request cannot sit in a transaction) and records its outcome with
/// [`crate::units::workflow_runs::record_http_outcome`].
#[derive(Debug, Clone)]
pub struct HttpPlan {
    /// The step's index in the run.
    pub index: usize,
    /// This attempt's number (1-based).
    pub attempt: u32,
    pub url: String,
    /// The document to send: the trigger event as a webhook receives it, or `{"data": …}`.
    pub body: Vec<u8>,
    /// The workflow's signing secret.
    pub secret: String,
    /// When the step's first attempt started (Persona-Webhook-First-Attempted-At).
    pub first_attempted_at: Option<Timestamp>,
}

/// What one unit of a run did, and so what the worker does next.
#[derive(Debug)]
pub enum Advance {
    /// Go on with the next step.
    Continue,
    /// The run is finished (or gone), or waits for a later attempt: this job run is over.
    Stop,
    /// A step's effect was applied and recorded as finished in this unit; `finished` when the run
    /// finished with it (its job is then completed: this job run is over).
    Applied { finished: bool },
    /// Send an `http-request` step (its start is recorded).
    Http(Box<HttpPlan>),
}

/// Which step's effect refused a unit of [`crate::units::workflow_runs::advance_run`], if one
/// did. The refused effect's unit rolls back as a whole, so the run is failed at that step by a
/// unit of its own ([`crate::units::workflow_runs::fail_step`]), which the worker runs when
/// [`RefusedStep::refused`] names the step.
#[derive(Debug, Clone, Default)]
pub struct RefusedStep(Arc<Mutex<Option<usize>>>);

impl RefusedStep {
    fn set(&self, i: usize) {
        if let Ok(mut f) = self.0.lock() {
            *f = Some(i);
        }
    }

    /// The step whose effect failed the unit with `e`, when `e` is a final refusal: an error the
    /// API would have answered (a 4xx), except a conflict with a concurrent change, which is
    /// worth retrying. `None`: the unit failed otherwise, and the job is retried.
    pub fn refused(&self, e: &Error) -> Option<usize> {
        let step = self.0.lock().ok().and_then(|mut f| f.take())?;
        (e.status.code() < 500 && !e.is(tessera_core::codes::CONFLICT)).then_some(step)
    }
}

/// One unit of a run's job: finishes the run if nothing is left, else does the next step's effect
/// and records it (or records the start of an `http-request` step and plans it). Keeps the job's
/// lease for `lease_ms` more; `started` is when the worker began the step.
pub(crate) async fn advance(
    tx: &mut Tx,
    run_id: &WorkflowRunId,
    job_id: &JobId,
    lease_ms: i64,
    started: Timestamp,
    refused: &RefusedStep,
) -> Result<Advance, Error> {
    let Some(mut r) = lock_unfinished(tx, run_id).await? else {
        jobs::complete(tx, job_id).await?;
        return Ok(Advance::Stop);
    };
    let Some(i) = r.run.next_step() else {
        complete(tx, &mut r).await?;
        jobs::complete(tx, job_id).await?;
        return Ok(Advance::Stop);
    };
    let until = tx.now().plus_millis(lease_ms);
    jobs::extend_lease(tx, job_id, until).await?;
    let step = r.run.steps.get(i).cloned().ok_or_else(|| {
        Error::internal(std::io::Error::other("a run's records outnumber its steps"))
    })?;
    if let Step::HttpRequest { url } = &step {
        start_step(tx, &mut r, i, started).await?;
        return Ok(Advance::Http(Box::new(http_plan(tx, &r, i, url).await?)));
    }
    tx.set_cause(Some(r.run.cause()));
    let output = match workflow_steps::apply(tx, &r, &step).await {
        Ok(output) => output,
        Err(e) => {
            refused.set(i);
            return Err(e);
        }
    };
    if let Some(rec) = r.run.records.get_mut(i) {
        rec.started_at.get_or_insert(started);
        rec.attempts = rec.attempts.saturating_add(1);
    }
    finish_step(tx, &mut r, i, output).await?;
    let finished = r.run.status.is_finished();
    if finished {
        jobs::complete(tx, job_id).await?;
    }
    Ok(Advance::Applied { finished })
}

/// Fails step `i` of the run with `error` (if it is still the step the run is at) and ends the
/// job.
pub(crate) async fn fail_at(
    tx: &mut Tx,
    run_id: &WorkflowRunId,
    job_id: &JobId,
    i: usize,
    started: Timestamp,
    error: StepError,
) -> Result<(), Error> {
    if let Some(mut r) = lock_unfinished(tx, run_id).await?
        && r.run.next_step() == Some(i)
    {
        if let Some(rec) = r.run.records.get_mut(i) {
            rec.started_at.get_or_insert(started);
        }
        fail_step(tx, &mut r, i, error).await?;
    }
    jobs::complete(tx, job_id).await
}

/// The document an `http-request` step sends: the trigger event as a webhook receives it, or —
/// for a manual run, which has no event — `{"data": <the object as the organization sees it>}`.
async fn http_plan(tx: &mut Tx, r: &Running, index: usize, url: &str) -> Result<HttpPlan, Error> {
    let workflow = workflows::get_unscoped(tx, &r.run.workflow_id).await?;
    let body = match &r.run.trigger_event_id {
        Some(event) => {
            let event = events::get(tx, &r.scope, event).await?;
            delivery_body(&event, Inflection::Kebab)
        }
        None => {
            let object = manual_runs::object(tx, &r.scope, &r.run.object_id).await?;
            serde_json::to_vec(&json!({ "data": object })).map_err(Error::internal)?
        }
    };
    Ok(HttpPlan {
        index,
        attempt: r.run.records.get(index).map_or(1, |rec| rec.attempts),
        url: url.to_owned(),
        body,
        secret: workflow.secret,
        first_attempted_at: r.run.records.get(index).and_then(|rec| rec.started_at),
    })
}

/// What one sent attempt of an `http-request` step came to.
#[derive(Debug, Clone)]
pub struct HttpOutcome {
    /// The step's output when it succeeded (`{"response-status": …}`).
    pub output: Value,
    /// Why the attempt failed; `None` when it succeeded.
    pub error: Option<StepError>,
    /// When a failed attempt is tried again; `None` after the last attempt: the step fails.
    pub retry_at: Option<Timestamp>,
}

/// Records the outcome of an attempt of step `i`, an `http-request` step: the step finishes, or
/// notes its error and the job waits for the next attempt, or (out of attempts) fails the run.
pub(crate) async fn record_http_outcome(
    tx: &mut Tx,
    run_id: &WorkflowRunId,
    job_id: &JobId,
    i: usize,
    outcome: HttpOutcome,
) -> Result<Advance, Error> {
    let Some(mut r) = lock_unfinished(tx, run_id).await? else {
        jobs::complete(tx, job_id).await?;
        return Ok(Advance::Stop);
    };
    if r.run.next_step() != Some(i) {
        // Another worker recorded this step meanwhile.
        return Ok(Advance::Continue);
    }
    match (outcome.error, outcome.retry_at) {
        (None, _) => {
            finish_step(tx, &mut r, i, outcome.output).await?;
            if r.run.status.is_finished() {
                jobs::complete(tx, job_id).await?;
                return Ok(Advance::Stop);
            }
            Ok(Advance::Continue)
        }
        (Some(error), Some(at)) => {
            note_step_error(tx, &mut r, i, error).await?;
            jobs::reschedule(tx, job_id, at).await?;
            Ok(Advance::Stop)
        }
        (Some(error), None) => {
            fail_step(tx, &mut r, i, error).await?;
            jobs::complete(tx, job_id).await?;
            Ok(Advance::Stop)
        }
    }
}
