//! Workflow runs: made in the transaction of their trigger (with their job and their
//! `workflow-run.created` event), then moved on step by step by the worker. Every change of a
//! step's record commits in the unit of work that did the step's effect, so a run resumes at its
//! first unfinished step and never repeats a finished one.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tessera_core::event::names;
use tessera_core::id::{EnvironmentId, EventId, JobId, WorkflowId, WorkflowRunId};
use tessera_core::inflect::Inflection;
use tessera_core::job::{Job, RunWorkflow};
use tessera_core::tenancy::Scope;
use tessera_core::webhook::delivery_body;
use tessera_core::workflow::run::{RunStatus, StepError, StepRecord, StepStatus, WorkflowRun};
use tessera_core::workflow::{Step, Workflow};
use tessera_core::{Error, Timestamp};

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::ops::{events, jobs, lock, tenancy, workflow_steps, workflow_triggers, workflows};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json as json_arg};

const COLUMNS: &str = "id, workflow_id, status, steps, step_records, object_type, object_id, trigger_event_id, chain_id, depth, created_at, updated_at, completed_at";

fn from_row(r: &Row) -> Result<WorkflowRun, Error> {
    Ok(WorkflowRun {
        id: WorkflowRunId::from_db(r.text("id")?),
        workflow_id: WorkflowId::from_db(r.text("workflow_id")?),
        status: RunStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown run status")))?,
        steps: r.json("steps")?,
        records: r.json("step_records")?,
        object_type: r.text("object_type")?,
        object_id: r.text("object_id")?,
        trigger_event_id: r.opt_text("trigger_event_id")?.map(EventId::from_db),
        chain: r.text("chain_id")?,
        depth: u32::try_from(r.i64("depth")?).unwrap_or(u32::MAX),
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
        completed_at: r.opt_time("completed_at")?,
    })
}

/// Emits an event about a run as the run itself: the run's own workflow never starts on it, and
/// other workflows that do are one level deeper in the run's chain.
async fn emit_as_run(
    tx: &mut Tx,
    env: &EnvironmentId,
    name: &str,
    run: &WorkflowRun,
) -> Result<(), Error> {
    let outer = tx.cause.replace(run.cause());
    let emitted = events::emit(tx, env, name, run.to_resource().to_value()).await;
    tx.cause = outer;
    emitted.map(|_| ())
}

/// What starts a run.
#[derive(Debug, Clone)]
pub struct Start {
    /// The object's resource type and id.
    pub object_type: String,
    pub object_id: String,
    /// `None` for a manual trigger.
    pub trigger_event_id: Option<EventId>,
    /// The chain the run joins; `None` starts a chain named after the run.
    pub chain: Option<String>,
    pub depth: u32,
}

/// Makes a `pending` run of a workflow with a snapshot of its steps, its job and its
/// `workflow-run.created` event.
pub(crate) async fn create(
    tx: &mut Tx,
    env: &EnvironmentId,
    workflow: &Workflow,
    start: Start,
) -> Result<WorkflowRun, Error> {
    let now = tx.now();
    let id = WorkflowRunId::generate();
    let run = WorkflowRun {
        chain: start.chain.unwrap_or_else(|| id.to_string()),
        id,
        workflow_id: workflow.id.clone(),
        status: RunStatus::Pending,
        steps: workflow.steps.clone(),
        records: workflow
            .steps
            .iter()
            .map(|_| StepRecord::pending())
            .collect(),
        object_type: start.object_type,
        object_id: start.object_id,
        trigger_event_id: start.trigger_event_id,
        depth: start.depth,
        created_at: now,
        updated_at: now,
        completed_at: None,
    };
    tx.execute(
        &format!("insert into workflow_runs ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"),
        args![
            &run.id,
            &run.workflow_id,
            run.status.as_str(),
            json_arg(&run.steps),
            json_arg(&run.records),
            &run.object_type,
            &run.object_id,
            run.trigger_event_id.as_ref(),
            &run.chain,
            run.depth,
            run.created_at,
            run.updated_at,
            run.completed_at,
            env
        ],
    )
    .await?;
    let job = Job::from(RunWorkflow {
        workflow_run_id: run.id.clone(),
    });
    jobs::enqueue(tx, &job, now).await?;
    emit_as_run(tx, env, names::WORKFLOW_RUN_CREATED, &run).await?;
    Ok(run)
}

/// Where workflow runs are stored, for the scoped fetch.
const RUNS: Table<WorkflowRun> = Table {
    table: "workflow_runs",
    columns: COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "workflow run",
    from_row,
};

/// A run of the scope, or 404.
pub(crate) async fn get(
    tx: &mut Tx,
    scope: &Scope,
    id: &WorkflowRunId,
) -> Result<WorkflowRun, Error> {
    RUNS.get(tx, scope, id).await
}

/// Filters of the run list.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub workflow_id: Option<WorkflowId>,
}

pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    filter: &RunFilter,
    page: &PageRequest,
) -> Result<Page<WorkflowRun>, Error> {
    let f = Filter::new()
        .and("environment_id = ?", &scope.env)
        .and_opt("workflow_id = ?", filter.workflow_id.clone());
    fetch_page(tx, "workflow_runs", COLUMNS, f, page)
        .await?
        .try_map(|r| from_row(&r))
}

/// A run being worked on, with the scope it acts in.
#[derive(Debug, Clone)]
pub struct Running {
    pub run: WorkflowRun,
    pub scope: Scope,
}

/// Locks a run for the worker: `None` when it is gone or finished.
pub(crate) async fn lock_unfinished(
    tx: &mut Tx,
    id: &WorkflowRunId,
) -> Result<Option<Running>, Error> {
    let suffix = lock(tx);
    let Some(row) = tx
        .fetch_optional(
            &format!("select {COLUMNS}, environment_id from workflow_runs where id = $1{suffix}"),
            args![id],
        )
        .await?
    else {
        return Ok(None);
    };
    let run = from_row(&row)?;
    if run.status.is_finished() {
        return Ok(None);
    }
    let env = EnvironmentId::from_db(row.text("environment_id")?);
    let scope = tenancy::scope_of_environment(tx, &env).await?;
    Ok(Some(Running { run, scope }))
}

async fn save(tx: &mut Tx, run: &WorkflowRun) -> Result<(), Error> {
    tx.execute(
        "update workflow_runs set status = $1, step_records = $2, updated_at = $3, completed_at = $4 where id = $5",
        args![
            run.status.as_str(),
            json_arg(&run.records),
            run.updated_at,
            run.completed_at,
            &run.id
        ],
    )
    .await?;
    Ok(())
}

fn record(run: &mut WorkflowRun, i: usize) -> Result<&mut StepRecord, Error> {
    run.records
        .get_mut(i)
        .ok_or_else(|| Error::internal(std::io::Error::other("no such step in the run")))
}

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
            let object = workflow_triggers::object(tx, &r.scope, &r.run.object_id).await?;
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
