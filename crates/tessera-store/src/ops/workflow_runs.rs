//! Workflow runs: made in the transaction of their trigger (with their job; the trigger emits
//! their `workflow-run.created` event), read, and locked for the worker, which moves them on step
//! by step (`crate::ops::workflow_advance`).

use tessera_core::Error;
use tessera_core::id::{EnvironmentId, EventId, WorkflowId, WorkflowRunId};
use tessera_core::job::{Job, RunWorkflow};
use tessera_core::tenancy::Scope;
use tessera_core::workflow::Workflow;
use tessera_core::workflow::run::{RunStatus, StepRecord, WorkflowRun};

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::ops::{jobs, lock, tenancy};
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

/// Makes a `pending` run of a workflow with a snapshot of its steps, and its job. Its
/// `workflow-run.created` event is emitted as the run, by the trigger that made it (through
/// `crate::ops::fanout`), in the same unit of work.
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

/// Writes a run's status and step records back.
pub(crate) async fn save(tx: &mut Tx, run: &WorkflowRun) -> Result<(), Error> {
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

/// The record of step `i` of a run.
pub(crate) fn record(run: &mut WorkflowRun, i: usize) -> Result<&mut StepRecord, Error> {
    run.records
        .get_mut(i)
        .ok_or_else(|| Error::internal(std::io::Error::other("no such step in the run")))
}
